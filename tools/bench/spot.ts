/**
 * Benchmark: spot GPUs without losing the URL — the scout against SkyServe's SpotHedge and SkyPilot's
 * failover on the same capacity records. Each row is one policy under one provisioning model, on the
 * real traces (tools/backtest/traces) and the sandbox's synthetic month; SpotHedge at several sizes
 * so no policy wins by sizing alone. "vs on-demand" compares full cost (GPUs, cluster fees, probes,
 * controller) with the spec's fleet on on-demand nodes around the clock (the first row). Each record
 * runs under both on-demand rules (--on-demand-capacity always, the default, and trace).
 *
 *   npm run bench:spot            # print the tables
 *   npm run bench:spot -- --write # also record them in docs/benchmarks.md
 */
import { parseDocument } from 'yaml';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  loadTraceFolder,
  runBacktest,
  timelineFor,
  type CapacitySource,
  type PolicyName,
  type PolicyResult,
  type Timeline,
} from '@gpu-fleet/backtest';
import { backtestRandom, sandboxEpoch, syntheticCapacity } from '@gpu-fleet/sandbox';
import { catalog, ROOT, SPEC, spec } from './fleet';
import { recordInDocs } from './record';

type Provisioning = Timeline['provisioning'];

/** The spec with two replicas in every active cluster: the rendered ComputeClass then migrates pods back to spot. */
function twoReplicas(text: string): string {
  const doc = parseDocument(text);
  const clusters = doc.get('clusters') as {
    items: Array<{ get(k: string): unknown; set(k: string, v: unknown): void }>;
  };
  for (const c of clusters.items) if (c.get('mode') === 'active') c.set('replicas', 2);
  return doc.toString();
}

const TARGET = spec.clusters.filter((c) => c.mode === 'active').reduce((n, c) => n + c.replicas, 0);
// The sizes the hedged fleet is measured against (issue: 2+1, 2+0, 1+1 for a 2-replica fleet).
const SIZES = [
  { target: TARGET, extra: 0 },
  { target: TARGET, extra: 1 },
  { target: Math.max(1, TARGET - 1), extra: 1 },
];

interface Row {
  label: string;
  policy: PolicyName;
  provisioning: Provisioning;
  two?: boolean;
}
const ROWS: Row[] = [
  { label: 'static, on-demand (always-on)', policy: 'static', provisioning: 'on-demand' },
  { label: 'static, spot', policy: 'static', provisioning: 'spot' },
  { label: 'failover (EAGER_NEXT_REGION), spot', policy: 'failover', provisioning: 'spot' },
  { label: 'failover-same-region, spot', policy: 'failover-same-region', provisioning: 'spot' },
  { label: 'SpotHedge', policy: 'spothedge', provisioning: 'spot' },
  { label: 'scout, spot', policy: 'scout', provisioning: 'spot' },
  { label: 'scout, spot-then-on-demand (ComputeClass)', policy: 'scout', provisioning: 'spot-then-on-demand' },
  { label: '**scout, hedged** (Spot slots + on-demand hedge)', policy: 'scout', provisioning: 'hedged' },
  { label: 'static, on-demand, 2 replicas per region', policy: 'static', provisioning: 'on-demand', two: true },
  {
    label: 'scout, spot-then-on-demand, 2 replicas per region (migrates back to spot)',
    policy: 'scout',
    provisioning: 'spot-then-on-demand',
    two: true,
  },
];

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

async function scenario(
  title: string,
  source: { capacity: CapacitySource; start: Date },
  onDemandCapacity: Timeline['onDemandCapacity'],
): Promise<string[]> {
  const lines: string[] = [];
  let baseline = 0;
  let oracle: Awaited<ReturnType<typeof runBacktest>>['oracle'] | null = null;
  let days = 0;
  const line = (label: string, p: PolicyResult) => {
    const b = p.costBreakdown;
    return `| ${label} | ${pct(p.availability)} | ${pct(p.targetReadyShare)} | ${((p.availability - oracle!.withStartDelay.all) * 100).toFixed(2)} pp | ${p.outages} | ${p.gpuHours.toFixed(0)} | ${p.cost.toFixed(0)} | ${((p.cost / baseline) * 100).toFixed(0)} % | ${b.gpu.toFixed(0)} / ${b.clusterFees.toFixed(0)} / ${b.probes.toFixed(0)} / ${b.controller.toFixed(0)} | ${(p.pullRequests / days).toFixed(2)} |`;
  };
  for (const row of ROWS) {
    const r = await runBacktest({
      specText: row.two ? twoReplicas(SPEC) : SPEC,
      catalog,
      ...source,
      timeline: timelineFor(spec, { provisioning: row.provisioning, onDemandCapacity }),
      days: 30,
      seed: 1,
      random: backtestRandom(1),
      policies: [row.policy],
      ...(row.policy === 'spothedge' ? { spothedgeSizes: SIZES } : {}),
    });
    oracle = r.oracle;
    days = r.period.days;
    for (const p of r.policies) {
      if (!baseline) baseline = p.cost;
      lines.push(line(row.policy === 'spothedge' ? `${p.name} (SkyServe), spot + on-demand fallback` : row.label, p));
    }
  }
  const o = oracle!;
  return [
    `**${title}, on-demand ${onDemandCapacity}** — ${days.toFixed(1)} days; oracles: spot capacity somewhere ${pct(o.availability)}, with the start delay ${pct(o.withStartDelay.all)} (${Object.entries(
      o.withStartDelay.byGpu,
    )
      .map(([g, x]) => `${g.replace('nvidia-', '').replace('tesla-', '')} ${pct(x)}`)
      .join(', ')}); foresight GPU cost floor $${o.foresightCostFloor.toFixed(0)} (spot)`,
    '',
    '| policy | URL availability | target ready | vs oracle with start delay | outages | GPU h | cost $ | vs on-demand | GPU / clusters / probes / controller $ | PRs/day |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
    '',
  ];
}

async function main() {
  const t0 = performance.now();
  const traces = (folder: string) => ({
    capacity: loadTraceFolder(join(ROOT, 'tools/backtest/traces', folder), catalog),
    start: sandboxEpoch(1),
  });
  const records: Array<[string, { capacity: CapacitySource; start: Date }]> = [
    ['Real traces aws-10-26-2022', traces('aws-10-26-2022')],
    ['Real traces aws-08-27-2023-16node', traces('aws-08-27-2023-16node')],
    ['Synthetic month (seed 1)', syntheticCapacity(1, spec, catalog)],
  ];
  const tables: string[] = [];
  for (const [title, source] of records)
    for (const rule of ['always', 'trace'] as const) tables.push(...(await scenario(title, source, rule)));
  const wall = (performance.now() - t0) / 1000;
  const text = [
    `${cpus().length} cores, Node ${process.version}; ${wall.toFixed(0)} s. SpotHedge sizes: target + over-provisioning ${SIZES.map((s) => `${s.target}+${s.extra}`).join(', ')} (the spec serves ${TARGET} replicas; SkyServe's default over-provisioning is 0), dynamic on-demand fallback, base 0. "target ready": share of time at least ${TARGET} replicas serve. "vs oracle with start delay": URL availability against a spot fleet that knew where capacity would last the node and app start. "outages": gaps with no region serving. cost: GPUs at list prices + GKE's $0.10 per cluster-hour (standby and config clusters too) + the scout's probes + SkyPilot's controller VM; "vs on-demand": against the first row.`,
    '',
    ...tables,
  ]
    .join('\n')
    .trimEnd();
  console.log(text);
  if (process.argv.includes('--write')) console.log(`recorded in ${recordInDocs('spot', text)}`);
}

if (require.main === module) void main();
