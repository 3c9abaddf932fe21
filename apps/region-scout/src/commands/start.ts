import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basename } from 'node:path';
import { parse } from 'yaml';
import { ALERT_POLICIES_DIR, renderTree, writeTree, type AlertPolicy } from '@gpu-fleet/manifests';
import { certificateNames, type FleetSpec } from '@gpu-fleet/fleet-spec';
import type { Logger } from '@gpu-fleet/scout-domain';
import type { SweepResult } from '@gpu-fleet/scout-sweep';
import { parseDuration, type SandboxMonitoring, type SimClock } from '@gpu-fleet/sandbox';
import { readSpecDocument, type Io, type Workspace } from '../context';
import { openSession } from '../session';
import { CliError } from '../errors';
import { describeDrift } from './render';
import { formatOutcome, formatPlan, sweepExit, sweepOnce, writeSweepMetrics } from './sweep';

/** The demo's simulated morning: fixed, so a second `npm start` finds the same plan already proposed. */
export const DEMO_START = new Date('2026-11-23T08:00:00Z');
const SWEEP_EVERY_MIN = 10;

export interface StartOptions {
  sandbox?: boolean;
  /** The sandbox clock (tests inject a ManualClock; default: compressed real time). */
  clock?: SimClock;
  seed?: number;
  timeFactor?: number;
}

/**
 * The demo, only with --sandbox (`npm start` passes it): a complete sweep cycle against the embedded
 * sandbox. GPUs run out in the first serving region; the scout sweeps every 10 simulated minutes
 * (clock compressed) until hysteresis lets it act, then proposes the new placement as a branch of
 * this repository.
 */
export async function start(ws: Workspace, io: Io, logger: Logger, options: StartOptions): Promise<number> {
  const t0 = performance.now();
  if (!options.sandbox) {
    throw new CliError(
      'start runs a scripted incident on the embedded sandbox (a simulated cloud) and commits its proposal to a local branch: pass --sandbox (`npm start` does). To sweep your real fleet, use `region-scout sweep` (Google, with Application Default Credentials).',
    );
  }
  const { spec, document } = readSpecDocument(ws);
  io.out(
    `SANDBOX — simulated cloud, not Google (seed ${options.seed ?? 1}) · gpu-fleet · project ${spec.project} · spec ${ws.specLabel}`,
  );
  const tree = renderTree(spec, ws.catalog);
  io.out(describeDrift(writeTree(ws.root, tree), tree.files.size));

  const evidenceDir = mkdtempSync(join(tmpdir(), 'gpu-fleet-demo-'));
  const session = await openSession(ws, spec, {
    sandbox: true,
    seed: options.seed ?? 1,
    timeFactor: options.timeFactor ?? 120,
    start: DEMO_START,
    clock: options.clock,
    evidence: join(evidenceDir, 'evidence.json'),
    logger,
    onWarning: (m) => io.err(`warning: ${m}`),
  });
  try {
    const world = session.sandbox!.world;
    const victim = spec.clusters.find((c) => c.mode === 'active');
    if (victim) {
      // The incident: every preferred GPU type runs out in the first serving region.
      for (const gpu of spec.gpu.preferences)
        world.forceStockout(
          victim.region,
          gpu,
          new Date(DEMO_START.getTime() - 15 * 60_000),
          new Date(DEMO_START.getTime() + 6 * 3600_000),
        );
      io.out(
        `sandbox: ${session.description}; scenario: ${spec.gpu.preferences.join(' and ')} stocked out in ${victim.region} since ${new Date(DEMO_START.getTime() - 15 * 60_000).toISOString().slice(11, 16)}Z (simulated)`,
      );
    }
    const rounds = Math.max(1, spec.placement.badSweepsBeforeDrop);
    let last: SweepResult | undefined;
    let metrics: string | null = null;
    for (let i = 1; i <= rounds; i++) {
      if (i > 1) await world.clock.sleep(SWEEP_EVERY_MIN * 60_000);
      const final = i === rounds;
      last = await sweepOnce(ws, spec, document, session, logger, {
        dryRun: !final,
        probes: true,
        proposal: 'local',
        sweepId: `demo-${i}`,
        onStep: final ? (s, d) => io.err(`  · ${s}: ${d}`) : undefined,
      });
      const victimHealth = last.plan.health.find((h) => h.cluster === victim?.name);
      io.out(
        `sweep ${i}/${rounds} at ${session.clock.now().toISOString().slice(11, 16)}Z: ${last.plan.summary}${victimHealth ? ` [${victim!.name}: ${victimHealth.health}${victimHealth.badSweeps ? ` ${victimHealth.badSweeps}/${spec.placement.badSweepsBeforeDrop}` : ''}]` : ''}`,
      );
      for (const p of last.probes)
        io.out(`  probe ${p.cluster} ${p.gpu}: ${p.result ? p.result.outcome : `skipped (${p.skipped})`}`);
      // Earlier rounds are dry runs, but their verdicts are the history hysteresis counts.
      if (!final) session.ledger.recordSweep(last.plan.record);
      // Every round writes its numbers, as each scheduled sweep does: the alerts below judge the series.
      metrics = await writeSweepMetrics(spec, session, last, logger, ws.catalog);
    }
    const r = last!;
    for (const line of [...formatPlan(spec, r.plan), ...formatOutcome(r)]) io.out(line);
    if (r.proposal) {
      for (const line of [
        '',
        'pull request preview (also in .gpu-fleet/proposal.md):',
        '─'.repeat(72),
        ...r.proposal.body
          .split('\n')
          .slice(0, 14)
          .map((l) => `  ${l}`),
        '  …',
        '─'.repeat(72),
      ])
        io.out(line);
    }
    // Where a real sweep's numbers go (docs/operate.md); here the sandbox's Cloud Monitoring records them.
    if (metrics) io.out(metrics.replace('→ Cloud Monitoring', '→ Cloud Monitoring (sandbox)'));
    for (const line of alertLines(tree.files, session.sandbox!.sandbox.monitoring, session.clock.now())) io.out(line);
    io.out('');
    io.out(`Global URL: ${globalUrl(spec)}`);
    io.out(
      `done in ${((performance.now() - t0) / 1000).toFixed(1)} s. Next: \`git diff ${spec.configSync.branch}...${spec.scout.proposal.branch}\`; \`npm run scout -- --help\` for every command.`,
    );
    return sweepExit(r);
  } finally {
    await session.close();
    rmSync(evidenceDir, { recursive: true, force: true });
  }
}

export function globalUrl(spec: FleetSpec): string {
  const https = certificateNames(spec).length > 0;
  const host =
    spec.ingress.domains[0] ?? spec.ingress.staticIp.address ?? '(ephemeral IP assigned by the load balancer)';
  const via = spec.ingress.staticIp.address
    ? ` (anycast ${spec.ingress.staticIp.address}${spec.ingress.iap.enabled ? ', IAP' : ''})`
    : '';
  return `${https ? 'https' : 'http'}://${host}/${via}`;
}

/**
 * The rendered alert policies (fleet-config/monitoring/alert-policies/, what infra/ creates),
 * evaluated by the sandbox's Cloud Monitoring over the series the sweeps wrote: FIRING when the
 * condition held for its whole duration, PENDING when it holds now but not yet that long.
 */
export function alertLines(files: ReadonlyMap<string, string>, monitoring: SandboxMonitoring, at: Date): string[] {
  const policies = [...files]
    .filter(([path]) => path.startsWith(`${ALERT_POLICIES_DIR}/`))
    .map(([path, text]) => ({ id: basename(path, '.yaml'), policy: parse(text) as AlertPolicy }));
  if (!policies.length) return [];
  const rows = policies.map(({ id, policy }) => {
    const c = policy.conditions[0]!.conditionPrometheusQueryLanguage;
    const state = monitoring.firing(c, at).length
      ? 'FIRING'
      : monitoring.evaluate(c.query, at).length
        ? 'PENDING'
        : 'ok';
    return { id, state, severity: policy.severity, title: policy.conditions[0]!.displayName, after: c.duration };
  });
  const quiet = rows.filter((r) => r.state === 'ok').map((r) => r.id);
  return [
    `alerts (${ALERT_POLICIES_DIR}/, evaluated by the sandbox's Cloud Monitoring):`,
    ...rows
      .filter((r) => r.state !== 'ok')
      .map(
        (r) =>
          `  ${r.state.padEnd(7)} ${r.severity.padEnd(8)} ${r.id}: ${r.title}${r.state === 'PENDING' ? ` (fires once it has held ${parseDuration(r.after) / 60_000} min)` : ''}`,
      ),
    ...(quiet.length ? [`  ok      ${quiet.join(', ')}`] : []),
  ];
}
