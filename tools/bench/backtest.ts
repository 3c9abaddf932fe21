/**
 * Benchmark: the backtest (`region-scout backtest`) on the example fleet, honestly.
 * - Real capacity traces (tools/backtest/traces, AWS spot measurements mapped onto the example's
 *   candidate zones by each folder's traces.yaml): on-demand under both on-demand rules (always,
 *   the default; trace, a new on-demand node needs the record too), and spot.
 * - A synthetic month from the sandbox's stockout process.
 * - The scout with the example's merge setting (scout.proposal.autoMerge: off — a person merges
 *   every PR, 240 min) and with auto-merge of capacity-only PRs (add-capacity, 10 min).
 * Randomness (node events; synthetic capacity) is seeded: those rows are the median of 5 seeds.
 * Also the wall time of 30 simulated days for all policies (target < 60 s on 2 cores).
 *
 *   npm run bench:backtest            # print the tables
 *   npm run bench:backtest -- --write # also record them in docs/benchmarks.md
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import {
  loadTraceFolder,
  runBacktest,
  timelineFor,
  type CapacitySource,
  type Oracles,
  type PolicyName,
  type PolicyResult,
} from '@gpu-fleet/backtest';
import { loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { backtestRandom, sandboxEpoch, syntheticCapacity } from '@gpu-fleet/sandbox';
import { catalog, ROOT, SPEC } from './fleet';
import { recordInDocs } from './record';

const SEEDS = [1, 2, 3, 4, 5];
const BASELINES: PolicyName[] = ['static', 'in-region', 'failover', 'failover-same-region'];

function withAutoMerge(text: string): string {
  const doc = parseDocument(text);
  doc.setIn(['scout', 'proposal', 'autoMerge'], 'add-capacity');
  return doc.toString();
}

const synthetic = (seed: number) => syntheticCapacity(seed, loadFleetSpec(SPEC).spec, catalog);

interface Row extends PolicyResult {
  label: string;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const medianResult = (label: string, runs: PolicyResult[]): Row => {
  const m = (f: (r: PolicyResult) => number | null) => {
    const xs = runs.map(f).filter((x): x is number => x !== null);
    return xs.length ? median(xs) : null;
  };
  return {
    label,
    name: runs[0]!.name,
    availability: m((r) => r.availability)!,
    minServingAvailability: m((r) => r.minServingAvailability)!,
    targetReadyShare: m((r) => r.targetReadyShare)!,
    outages: m((r) => r.outages)!,
    outageMinutes: m((r) => r.outageMinutes)!,
    restoreP50Minutes: m((r) => r.restoreP50Minutes),
    restoreP95Minutes: m((r) => r.restoreP95Minutes),
    gpuHours: m((r) => r.gpuHours)!,
    cost: m((r) => r.cost)!,
    costBreakdown: {
      gpu: m((r) => r.costBreakdown.gpu)!,
      clusterFees: m((r) => r.costBreakdown.clusterFees)!,
      probes: m((r) => r.costBreakdown.probes)!,
      controller: m((r) => r.costBreakdown.controller)!,
    },
    changes: m((r) => r.changes)!,
    pullRequests: m((r) => r.pullRequests)!,
    probeGpuMinutes: m((r) => r.probeGpuMinutes)!,
    maxRegionsHolding: m((r) => r.maxRegionsHolding)!,
    log: [],
    demand: null,
  };
};

/** One scenario: baselines and the scout under both merge settings, median over the seeds given. */
async function scenario(
  title: string,
  source: (seed: number) => { capacity: CapacitySource; start: Date },
  provisioning: 'on-demand' | 'spot',
  seeds: number[],
  onDemandCapacity: 'always' | 'trace' = 'always',
): Promise<{ title: string; days: number; oracle: Oracles; rows: Row[] }> {
  const spec = loadFleetSpec(SPEC).spec;
  const byLabel = new Map<string, PolicyResult[]>();
  const oracles: Oracles[] = [];
  let days = 0;
  for (const seed of seeds) {
    const { capacity, start } = source(seed);
    const timeline = timelineFor(spec, { provisioning, onDemandCapacity });
    const common = { catalog, capacity, timeline, days: 30, seed, random: backtestRandom(seed), start };
    const base = await runBacktest({ ...common, specText: SPEC, policies: [...BASELINES, 'scout'] });
    const auto = await runBacktest({ ...common, specText: withAutoMerge(SPEC), policies: ['scout'] });
    oracles.push(base.oracle);
    days = base.period.days;
    for (const p of base.policies) {
      const label = p.name === 'scout' ? 'scout (a person merges, 240 min)' : p.name;
      byLabel.set(label, [...(byLabel.get(label) ?? []), p]);
    }
    const label = 'scout (auto-merge add-capacity, 10 min)';
    byLabel.set(label, [...(byLabel.get(label) ?? []), auto.policies[0]!]);
  }
  return {
    title,
    days,
    oracle: {
      availability: median(oracles.map((o) => o.availability)),
      withStartDelay: {
        all: median(oracles.map((o) => o.withStartDelay.all)),
        byGpu: Object.fromEntries(
          Object.keys(oracles[0]!.withStartDelay.byGpu).map((g) => [
            g,
            median(oracles.map((o) => o.withStartDelay.byGpu[g]!)),
          ]),
        ),
      },
      foresightCostFloor: median(oracles.map((o) => o.foresightCostFloor)),
    },
    rows: [...byLabel.entries()].map(([label, runs]) => medianResult(label, runs)),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const n = (x: number | null, d = 0) => (x === null ? '—' : x.toFixed(d));

function table(s: Awaited<ReturnType<typeof scenario>>): string[] {
  const o = s.oracle;
  const statics = s.rows.find((r) => r.label === 'static')!;
  const verdicts = s.rows
    .filter((r) => r.label.startsWith('scout'))
    .map(
      (r) =>
        `${r.label}: ${((r.gpuHours / statics.gpuHours - 1) * 100).toFixed(1)} % GPU-hours against static at ${((r.availability - statics.availability) * 100).toFixed(2)} pp availability`,
    );
  return [
    `**${s.title}** — ${s.days.toFixed(1)} days; oracles: spot capacity somewhere ${pct(o.availability)}, with the start delay ${pct(o.withStartDelay.all)}; foresight GPU cost floor $${o.foresightCostFloor.toFixed(0)}`,
    '',
    '| policy | availability | vs oracle w/ delay | target ready | min serving | outages | outage min | restore p50 / p95 min | GPU h | cost $ | GPU / clusters / probes / controller $ | changes/day | PRs | most regions holding |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...s.rows.map(
      (r) =>
        `| ${r.label} | ${pct(r.availability)} | ${((r.availability - o.withStartDelay.all) * 100).toFixed(2)} pp | ${pct(r.targetReadyShare)} | ${pct(r.minServingAvailability)} | ${n(r.outages)} | ${n(r.outageMinutes)} | ${n(r.restoreP50Minutes)} / ${n(r.restoreP95Minutes)} | ${n(r.gpuHours)} | ${n(r.cost)} | ${n(r.costBreakdown.gpu)} / ${n(r.costBreakdown.clusterFees)} / ${n(r.costBreakdown.probes)} / ${n(r.costBreakdown.controller)} | ${(r.changes / s.days).toFixed(2)} | ${n(r.pullRequests)} | ${n(r.maxRegionsHolding)} |`,
    ),
    '',
    ...verdicts.map((v) => `- ${v}`),
    '',
  ];
}

async function main() {
  const traces = (folder: string) => {
    const capacity = loadTraceFolder(join(ROOT, 'tools/backtest/traces', folder), catalog);
    return () => ({ capacity, start: sandboxEpoch(1) });
  };
  const t0 = performance.now();
  const timed = await runBacktest({
    specText: SPEC,
    catalog,
    ...synthetic(1),
    timeline: timelineFor(loadFleetSpec(SPEC).spec, { provisioning: 'spot' }),
    days: 30,
    seed: 1,
    random: backtestRandom(1),
    policies: [...BASELINES, 'scout'],
  });
  const wall = (performance.now() - t0) / 1000;

  const scenarios = [];
  for (const [provisioning, rule] of [
    ['on-demand', 'always'],
    ['on-demand', 'trace'],
    ['spot', 'always'],
  ] as const) {
    // Spot on a trace has no randomness (preemption follows the trace): one seed is the answer.
    const traceSeeds = provisioning === 'spot' ? [1] : SEEDS;
    const kind = provisioning === 'on-demand' ? `on-demand (on-demand capacity: ${rule})` : provisioning;
    scenarios.push(
      await scenario(`Real traces aws-10-26-2022, ${kind}`, traces('aws-10-26-2022'), provisioning, traceSeeds, rule),
    );
    scenarios.push(
      await scenario(
        `Real traces aws-08-27-2023-16node, ${kind}`,
        traces('aws-08-27-2023-16node'),
        provisioning,
        traceSeeds,
        rule,
      ),
    );
    scenarios.push(
      await scenario(`Synthetic month, ${kind} (median of 5 seeds)`, synthetic, provisioning, SEEDS, rule),
    );
  }
  const lines = [
    `${cpus().length} cores, Node ${process.version}. 30 simulated days, ${timed.policies.length} policies, spot, synthetic capacity: **${wall.toFixed(1)} s** wall time (target < 60 s; ${timed.period.minutes} minutes).`,
    '',
    `Delays (defaults, \`region-scout backtest --help\`): ${Object.entries(timed.period.timeline)
      .filter(([k]) => k !== 'provisioning')
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}. On-demand rows with node events are the median of seeds ${SEEDS.join(', ')}.`,
    '',
    ...scenarios.flatMap(table),
  ];
  const text = lines.join('\n').trimEnd();
  console.log(text);
  if (process.argv.includes('--write')) console.log(`recorded in ${recordInDocs('backtest', text)}`);
}

if (require.main === module) void main();
