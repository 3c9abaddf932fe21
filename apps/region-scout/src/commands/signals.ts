import { gatherSignals, type RegionSignals, type SignalsReport } from '@gpu-fleet/scout-domain';
import { readSpec, type Io, type Workspace } from '../context';
import { EXIT } from '../errors';
import type { Logger } from '@gpu-fleet/scout-domain';
import { openCloudSession, sandboxBanner, type CloudOptions } from '../session';
import { table } from '../table';
import { progress } from '../progress';

export interface SignalsOptions extends CloudOptions {
  json?: boolean;
  allRegions?: boolean;
}

/** Gather every signal once and print a table per region (or JSON). */
export async function signalsCommand(ws: Workspace, io: Io, logger: Logger, options: SignalsOptions): Promise<number> {
  const spec = readSpec(ws);
  const session = await openCloudSession(ws, spec, io, logger, options);
  try {
    const bar = progress(io, `gathering signals from ${session.description}`);
    const regions = options.allRegions ? ws.catalog.regions().map((r) => r.region) : undefined;
    const report = await gatherSignals(spec, session.adapters.ports, session.ledger, {
      regions,
      sweepId: `signals-${session.clock.now().getTime()}`,
    });
    bar.done();
    await session.saveEvidence();
    if (options.json) io.out(JSON.stringify({ source: session.mode, ...report }));
    else
      for (const line of [
        ...[sandboxBanner(session)].filter((l): l is string => l !== null),
        ...formatSignals(report, session.description),
      ])
        io.out(line);
    return EXIT.ok;
  } finally {
    await session.close();
  }
}

const age = (iso: string | null, now: Date) => {
  if (!iso) return '';
  const min = Math.round((now.getTime() - Date.parse(iso)) / 60_000);
  return min < 60 ? `${min}m ago` : min < 48 * 60 ? `${Math.round(min / 60)}h ago` : `${Math.round(min / 1440)}d ago`;
};

function evidenceCell(r: RegionSignals, gpu: string, now: Date): string {
  const ev = r.evidence.filter((e) => e.gpu === gpu);
  const latest = ev.flatMap((e) => e.observations).sort((a, b) => b.at.localeCompare(a.at))[0];
  if (!latest) return '-';
  const cap = ev.reduce((s, e) => s + e.capacity, 0) / ev.length;
  return `${latest.outcome} ${age(latest.at, now)} (${latest.source}); capacity ${cap >= 0 ? '+' : ''}${cap.toFixed(2)}`;
}

export function formatSignals(report: SignalsReport, source: string): string[] {
  const now = new Date(report.at);
  const rows: string[][] = [];
  for (const r of report.regions) {
    const gpus = r.offered.length
      ? r.offered
      : [
          {
            gpu: '(none of gpu.preferences)',
            zones: [],
            source: 'api' as const,
            onDemandUsdPerHour: null,
            spotUsdPerHour: null,
          },
        ];
    gpus.forEach((offering, i) => {
      const quotas = r.quota
        .filter((q) => q.gpu === offering.gpu)
        .map((q) => (q.headroom === null ? '?' : `${q.headroom}${q.spot ? ' spot' : ''}`));
      const price =
        offering.onDemandUsdPerHour === null
          ? '-'
          : `${offering.onDemandUsdPerHour.toFixed(2)}${offering.spotUsdPerHour !== null ? ` (${offering.spotUsdPerHour.toFixed(2)})` : ''}`;
      const cluster = r.clusters[i];
      rows.push([
        i === 0 ? r.region : '',
        i === 0 ? r.status : '',
        offering.gpu,
        String(offering.zones.length) + (offering.source === 'bundled' ? '*' : ''),
        price,
        quotas.join(', ') || '-',
        cluster
          ? `${cluster.name} ${cluster.mode} ${cluster.status} sync ${cluster.syncCode}${cluster.pendingPods ? `, ${cluster.pendingPods} pending` : ''}`
          : '',
        evidenceCell(r, offering.gpu, now),
      ]);
    });
  }
  const out = [
    `signals · ${source} · ${report.at}`,
    ...table(['REGION', 'STATUS', 'GPU', 'ZONES', '$/GPU-h (spot)', 'QUOTA LEFT', 'CLUSTER', 'EVIDENCE'], rows),
  ];
  const unknown = report.regions.filter((r) => r.status === 'unknown');
  for (const r of unknown) for (const p of r.problems) out.push(`  ${r.region}: ${p}`);
  for (const p of report.problems) out.push(`  ! ${p}`);
  if (report.regions.some((r) => r.offered.some((o) => o.source === 'bundled')))
    out.push('  * zones from the bundled catalog (Compute could not be read); treated as unknown, not unavailable');
  out.push(
    `${report.regions.length} regions, ${unknown.length} unknown, ${report.newObservations.length} new observation(s) recorded`,
  );
  return out;
}
