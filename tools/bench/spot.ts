/**
 * Benchmark: spot GPUs without losing the URL — the scout against SkyServe's SpotHedge on the same
 * capacity records (issue: "Spot GPUs at half the price"). Each row is one policy under one
 * provisioning model, on the real traces (tools/backtest/traces) and the sandbox's synthetic month.
 * "vs on-demand" compares the cost with the spec's fleet on on-demand nodes around the clock (static,
 * on-demand), the always-on price the target halves.
 *
 *   npm run bench:spot            # print the tables
 *   npm run bench:spot -- --write # also record them in docs/benchmarks.md
 */
import { parseDocument } from 'yaml';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { loadTraceFolder, runBacktest, timelineFor, type CapacitySource, type PolicyName } from '@gpu-fleet/backtest';
import { backtestRandom, sandboxEpoch, syntheticCapacity } from '@gpu-fleet/sandbox';
import { catalog, ROOT, SPEC, spec } from './fleet';
import { recordInDocs } from './record';

type Provisioning = 'on-demand' | 'spot' | 'spot-then-on-demand';

/** The spec with two replicas in every active cluster: the rendered ComputeClass then migrates pods back to spot. */
function twoReplicas(text: string): string {
  const doc = parseDocument(text);
  const clusters = doc.get('clusters') as {
    items: Array<{ get(k: string): unknown; set(k: string, v: unknown): void }>;
  };
  for (const c of clusters.items) if (c.get('mode') === 'active') c.set('replicas', 2);
  return doc.toString();
}

const ROWS: Array<[string, PolicyName, Provisioning, string?]> = [
  ['static, on-demand (always-on)', 'static', 'on-demand'],
  ['static, spot', 'static', 'spot'],
  ['failover (SkyPilot-style), spot', 'failover', 'spot'],
  ['SpotHedge (SkyServe), spot + on-demand fallback', 'spothedge', 'spot'],
  ['scout, spot', 'scout', 'spot'],
  ['scout, spot-then-on-demand (ComputeClass)', 'scout', 'spot-then-on-demand'],
  ['static, on-demand, 2 replicas per region', 'static', 'on-demand', 'two'],
  ['scout, spot-then-on-demand, 2 replicas per region (migrates back to spot)', 'scout', 'spot-then-on-demand', 'two'],
];

async function scenario(title: string, source: { capacity: CapacitySource; start: Date }): Promise<string[]> {
  const rows: string[] = [];
  let oracle = 0;
  let baseline = 0;
  let days = 0;
  for (const [label, policy, provisioning, variant] of ROWS) {
    const r = await runBacktest({
      specText: variant === 'two' ? twoReplicas(SPEC) : SPEC,
      catalog,
      ...source,
      timeline: timelineFor(spec, { provisioning }),
      days: 30,
      seed: 1,
      random: backtestRandom(1),
      policies: [policy],
    });
    const p = r.policies[0]!;
    oracle = r.oracle.availability;
    days = r.period.days;
    if (!baseline) baseline = p.cost;
    rows.push(
      `| ${label} | ${(p.availability * 100).toFixed(2)} % | ${((p.availability - oracle) * 100).toFixed(2)} pp | ${p.outages} | ${p.gpuHours.toFixed(0)} | ${p.cost.toFixed(0)} | ${((p.cost / baseline) * 100).toFixed(0)} % |`,
    );
  }
  return [
    `**${title}** — ${days.toFixed(1)} days; oracle (some candidate zone has spot capacity) ${(oracle * 100).toFixed(2)} %`,
    '',
    '| policy | URL availability | vs oracle | outages | GPU h | cost $ | vs on-demand |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ];
}

async function main() {
  const t0 = performance.now();
  const traces = (folder: string) => ({
    capacity: loadTraceFolder(join(ROOT, 'tools/backtest/traces', folder), catalog),
    start: sandboxEpoch(1),
  });
  const tables = [
    ...(await scenario('Real traces aws-10-26-2022', traces('aws-10-26-2022'))),
    ...(await scenario('Real traces aws-08-27-2023-16node', traces('aws-08-27-2023-16node'))),
    ...(await scenario('Synthetic month (seed 1)', syntheticCapacity(1, spec, catalog))),
  ];
  const wall = (performance.now() - t0) / 1000;
  const text = [
    `${cpus().length} cores, Node ${process.version}; ${wall.toFixed(0)} s. SpotHedge: target = the spec's serving replicas (${spec.clusters.filter((c) => c.mode === 'active').reduce((n, c) => n + c.replicas, 0)}), over-provisioning 1, dynamic on-demand fallback, base 0; on-demand capacity assumed obtainable for SpotHedge's fallback and the ComputeClass's alike (the traces record spot capacity only). "outages": gaps with no region serving; "vs on-demand": against the first row (one replica per region on on-demand), so the 2-replica rows show what the second replica costs.`,
    '',
    ...tables,
  ]
    .join('\n')
    .trimEnd();
  console.log(text);
  if (process.argv.includes('--write')) console.log(`recorded in ${recordInDocs('spot', text)}`);
}

if (require.main === module) void main();
