import { decide, fleetFacts, observedFromSignals } from '@gpu-fleet/scout-decide';
import { CONFIGMAP_EVIDENCE_BUDGET } from '@gpu-fleet/scout-gcp';
import { gatherSignals, type Logger } from '@gpu-fleet/scout-domain';
import { readSpec, type Io, type Workspace } from '../context';
import { EXIT } from '../errors';
import { openCloudSession, sandboxBanner, type CloudOptions } from '../session';
import { table } from '../table';

export interface StatusOptions extends CloudOptions {
  json?: boolean;
}

/** Each cluster's mode, GPU, GKE and Config Sync state, ready pods and serving health. Writes nothing. */
export async function statusCommand(ws: Workspace, io: Io, logger: Logger, options: StatusOptions): Promise<number> {
  const spec = readSpec(ws);
  const session = await openCloudSession(ws, spec, io, logger, options);
  try {
    const report = await gatherSignals(spec, session.adapters.ports, session.ledger, {
      sweepId: `status-${session.clock.now().getTime()}`,
    });
    const plan = decide(
      spec,
      report,
      { observed: observedFromSignals(report.regions), history: [...session.ledger.sweeps()] },
      session.clock.now(),
      { catalog: ws.catalog },
    );
    const clusters = report.regions.flatMap((r) => r.clusters.map((c) => ({ region: r.region, ...c })));
    const rows = spec.clusters.map((c) => {
      const s = clusters.find((x) => x.name === c.name);
      const h = plan.health.find((x) => x.cluster === c.name)!;
      return {
        cluster: c.name,
        region: c.region,
        mode: c.mode,
        gpu: c.gpu,
        gke: s?.status ?? 'UNKNOWN',
        sync: s ? `${s.syncCode}${s.syncToken ? ` @${s.syncToken.slice(0, 7)}` : ''}` : 'UNKNOWN',
        ready: s?.readyPods ?? null,
        desired: c.mode === 'standby' ? 0 : c.replicas,
        serving: c.mode === 'active' && h.health === 'good',
        health: h.health,
        reason: h.reason,
      };
    });
    // The facts alerts are made of (docs/operate.md): serving regions vs the minimum, the last sweep's
    // age, probe budget, evidence size against its store's budget.
    const facts = fleetFacts(
      spec,
      plan.health,
      session.ledger,
      session.clock.now(),
      spec.scout.evidenceStore.kind === 'configmap' ? CONFIGMAP_EVIDENCE_BUDGET : null,
      ws.catalog,
    );
    if (options.json)
      io.out(
        JSON.stringify({
          source: session.mode,
          at: report.at,
          clusters: rows,
          problems: report.problems,
          facts: { ...facts, clusters: undefined },
        }),
      );
    else {
      const banner = sandboxBanner(session);
      if (banner) io.out(banner);
      io.out(`status · ${session.description} · ${report.at}`);
      io.out('');
      for (const l of table(
        ['CLUSTER', 'REGION', 'MODE', 'GPU', 'GKE', 'CONFIG SYNC', 'READY', 'SERVING', 'HEALTH'],
        rows.map((r) => [
          r.cluster,
          r.region,
          r.mode,
          r.gpu,
          r.gke,
          r.sync,
          `${r.ready ?? '?'}/${r.desired}`,
          r.serving ? 'yes' : 'no',
          `${r.health}: ${r.reason}`,
        ]),
      ))
        io.out(l);
      const serving = rows.filter((r) => r.serving).length;
      io.out('');
      io.out(
        `${serving} of ${rows.filter((r) => r.mode === 'active').length} active cluster(s) serving (min ${spec.placement.minServingRegions})`,
      );
      io.out(
        `last sweep: ${facts.lastSweep ? `${facts.lastSweep.id}, ${facts.lastSweep.ageMinutes} min ago${facts.sweepsStopped ? ' — no sweep for 3 intervals: the scout has stopped' : ''}` : 'none recorded'} · probe budget today: ${facts.probeBudget.probesLeft} probe(s), ${facts.probeBudget.gpuMinutesLeft} GPU-min left · evidence: ${facts.evidence.observations} observations, ${Math.round(facts.evidence.bytes / 1024)} KiB${facts.evidence.share !== null ? ` (${Math.round(100 * facts.evidence.share)} % of the ConfigMap's budget)` : ' (Cloud Storage)'}`,
      );
      for (const p of report.problems) io.out(`warning: ${p}`);
    }
    return rows.filter((r) => r.serving).length >= spec.placement.minServingRegions ? EXIT.ok : EXIT.checkFailed;
  } finally {
    await session.close();
  }
}
