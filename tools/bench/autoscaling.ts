/**
 * Benchmark: demand-driven scaling (spec.autoscaling) on the example fleet, through the backtest.
 * - Users: the sandbox's diurnal demand by continent (seeded; `--demand diurnal`), sized so that the
 *   example's always-on fleet (one L4 per serving region) is not overloaded at its busiest hour —
 *   the fleet as its owners run it, not a strawman.
 * - Capacity: the sandbox's synthetic month, on-demand (and one spot row on a real trace).
 * - Policies: static and the scout always-on (the spec as written: autoscaling off) against the
 *   scout with autoscaling on (`autoscaled`), then the autoscaling knobs one at a time and a lighter
 *   and a heavier demand. Medians of 5 seeds (3 for the variations).
 *
 *   npm run bench:autoscaling            # print the tables
 *   npm run bench:autoscaling -- --write # also record them in docs/benchmarks.md
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import {
  loadTraceFolder,
  runBacktest,
  timelineFor,
  type DemandSource,
  type PolicyName,
  type PolicyResult,
  type Timeline,
} from '@gpu-fleet/backtest';
import type { ProxyContinent } from '@gpu-fleet/fleet-spec';
import { backtestRandom, diurnalDemand, sandboxEpoch, syntheticCapacity } from '@gpu-fleet/sandbox';
import { catalog, ROOT, SPEC, spec } from './fleet';
import { recordInDocs } from './record';

/** The example spec with `autoscaling` fields set (autoscaling itself stays as the policy decides). */
function withSettings(settings: Record<string, unknown>): string {
  const doc = parseDocument(SPEC);
  for (const [k, v] of Object.entries(settings)) doc.setIn(['autoscaling', k], v);
  return doc.toString();
}

/** The sandbox's diurnal demand with every continent's peak scaled. */
function scaledDemand(seed: number, start: Date, factor: number): DemandSource {
  const base = diurnalDemand(seed, start);
  return {
    lengthMinutes: null,
    describe: () => `${base.describe()} × ${factor}`,
    rate: (c: ProxyContinent, m: number) => base.rate(c, m) * factor,
  };
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Row {
  label: string;
  availability: number;
  gpuHours: number;
  cost: number;
  served: number;
  failed: number;
  waitP95: number;
  remote: number;
  coldStarts: number;
  coldP50: number | null;
  coldP95: number | null;
  cutScaleDown: number;
  cutNodeLoss: number;
}

function summarise(label: string, runs: PolicyResult[]): Row {
  const m = (f: (r: PolicyResult) => number | null | undefined) => {
    const xs = runs.map(f).filter((x): x is number => typeof x === 'number');
    return xs.length ? median(xs) : null;
  };
  return {
    label,
    availability: m((r) => r.availability)!,
    gpuHours: m((r) => r.gpuHours)!,
    cost: m((r) => r.cost)!,
    served: m((r) => r.demand!.served / r.demand!.generations)!,
    failed: m((r) => r.demand!.failedNoRegion + r.demand!.timedOut)!,
    waitP95: m((r) => r.demand!.waitP95Minutes)!,
    remote: m((r) => r.demand!.remoteShare)!,
    coldStarts: m((r) => r.demand!.coldStarts)!,
    coldP50: m((r) => r.demand!.coldWaitP50Minutes),
    coldP95: m((r) => r.demand!.coldWaitP95Minutes),
    // Cuts are summed over the seeds: any one is a failure of the promise.
    cutScaleDown: runs.reduce((s, r) => s + r.demand!.cutByScaleDown, 0),
    cutNodeLoss: runs.reduce((s, r) => s + r.demand!.cutByNodeLoss, 0),
  };
}

interface Case {
  label: string;
  specText: string;
  policy: PolicyName;
  demandFactor?: number;
  /** Default: on-demand on the synthetic month, spot on a trace. */
  provisioning?: Timeline['provisioning'];
  spothedge?: { target: number; extra: number };
}

async function scenario(cases: Case[], seeds: number[], trace?: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of cases) {
    const runs: PolicyResult[] = [];
    for (const seed of seeds) {
      const source = trace
        ? { capacity: loadTraceFolder(join(ROOT, 'tools/backtest/traces', trace), catalog), start: sandboxEpoch(seed) }
        : syntheticCapacity(seed, spec, catalog);
      const r = await runBacktest({
        specText: c.specText,
        catalog,
        ...source,
        timeline: timelineFor(
          spec,
          c.provisioning ? { provisioning: c.provisioning } : trace ? { provisioning: 'spot' } : {},
        ),
        days: 30,
        seed,
        random: backtestRandom(seed),
        policies: [c.policy],
        ...(c.spothedge ? { spothedgeSizes: [c.spothedge] } : {}),
        demand: scaledDemand(seed, source.start, c.demandFactor ?? 1),
      });
      runs.push(r.policies[0]!);
    }
    rows.push(summarise(c.label, runs));
  }
  return rows;
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const n = (x: number | null, d = 0) => (x === null ? '—' : x.toFixed(d));

function table(title: string, rows: Row[], baseline: number): string[] {
  const cost0 = rows[0]!.cost;
  return [
    `**${title}**`,
    '',
    '| fleet | URL availability | GPU h | vs always-on | cost $ | cost vs first row | generations served | failed | wait p95 min | served remotely | cold starts | cold wait p50 / p95 min | cut by scale-down | cut by node loss |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${pct(r.availability)} | ${n(r.gpuHours)} | ${(((r.gpuHours - baseline) / baseline) * 100).toFixed(1)} % | ${n(r.cost)} | ${((r.cost / cost0) * 100).toFixed(0)} % | ${pct(r.served)} | ${n(r.failed)} | ${n(r.waitP95)} | ${pct(r.remote)} | ${n(r.coldStarts)} | ${n(r.coldP50)} / ${n(r.coldP95)} | ${r.cutScaleDown} | ${r.cutNodeLoss} |`,
    ),
    '',
  ];
}

const always = SPEC;

/** The autoscaling knobs, one at a time against the always-on fleet. */
const KNOB_CASES: Case[] = [
  { label: 'always-on', specText: always, policy: 'scout' },
  { label: 'autoscaled, defaults (wake 1 req/s, idle 15 min, 1 warm)', specText: always, policy: 'autoscaled' },
  {
    label: 'wakeRequestsPerSecond 0 (wake on any visit)',
    specText: withSettings({ wakeRequestsPerSecond: 0 }),
    policy: 'autoscaled',
  },
  {
    label: 'wakeRequestsPerSecond 1000 (only when the warm region is full)',
    specText: withSettings({ wakeRequestsPerSecond: 1000 }),
    policy: 'autoscaled',
  },
  { label: 'idleMinutesBeforeZero 5', specText: withSettings({ idleMinutesBeforeZero: 5 }), policy: 'autoscaled' },
  {
    label: 'idleMinutesBeforeZero 60',
    specText: withSettings({ idleMinutesBeforeZero: 60 }),
    policy: 'autoscaled',
  },
  { label: 'warmRegions 2 (both regions warm)', specText: withSettings({ warmRegions: 2 }), policy: 'autoscaled' },
];

/** Half and double the demand, always-on against autoscaled. */
const LOAD_CASES: Case[] = [
  { label: 'always-on, demand × 0.5', specText: always, policy: 'scout', demandFactor: 0.5 },
  { label: 'autoscaled, demand × 0.5', specText: always, policy: 'autoscaled', demandFactor: 0.5 },
  { label: 'always-on, demand × 2', specText: always, policy: 'scout', demandFactor: 2 },
  { label: 'autoscaled, demand × 2', specText: always, policy: 'autoscaled', demandFactor: 2 },
];

// gpu.provisioning hedged with users (issue 23): the warm region's floor on Spot with the on-demand
// hedge, cold regions waking on Spot first; against the always-on fleet on on-demand and SkyServe.
const HEDGED_CASES: Case[] = [
  { label: 'static always-on, on-demand', specText: always, policy: 'static', provisioning: 'on-demand' },
  { label: 'scout always-on, hedged', specText: always, policy: 'scout', provisioning: 'hedged' },
  { label: '**scout autoscaled, hedged**', specText: always, policy: 'autoscaled', provisioning: 'hedged' },
  ...[
    { target: 2, extra: 0 },
    { target: 2, extra: 1 },
    { target: 1, extra: 1 },
  ].map((size): Case => ({
    label: `SpotHedge ${size.target}+${size.extra} (SkyServe), spot + on-demand fallback`,
    specText: always,
    policy: 'spothedge',
    provisioning: 'spot',
    spothedge: size,
  })),
];

interface Results {
  main: Row[];
  knobs: Row[];
  load: Row[];
  spot: Row[];
  hedged: Row[][];
}

async function main() {
  const t0 = performance.now();
  const results: Results = {
    main: await scenario(
      [
        { label: 'static (always-on)', specText: always, policy: 'static' },
        { label: 'scout, always-on (autoscaling off)', specText: always, policy: 'scout' },
        { label: 'scout, autoscaling on (defaults)', specText: always, policy: 'autoscaled' },
      ],
      [1, 2, 3, 4, 5],
    ),
    knobs: await scenario(KNOB_CASES, [1, 2, 3]),
    load: await scenario(LOAD_CASES, [1, 2, 3]),
    spot: await scenario(
      [
        { label: 'scout always-on, spot', specText: always, policy: 'scout' },
        { label: 'scout autoscaled, spot', specText: always, policy: 'autoscaled' },
      ],
      [1],
      'aws-10-26-2022',
    ),
    hedged: [
      await scenario(HEDGED_CASES, [1], 'aws-10-26-2022'),
      await scenario(HEDGED_CASES, [1], 'aws-08-27-2023-16node'),
    ],
  };
  const text = report(results, (performance.now() - t0) / 1000);
  console.log(text);
  if (process.argv.includes('--write')) console.log(`recorded in ${recordInDocs('autoscaling', text)}`);
}

/** The Markdown recorded in docs/benchmarks.md: the set-up in one paragraph, then a table per scenario. */
function report({ main, knobs, load, spot, hedged }: Results, wall: number): string {
  const d = diurnalDemand(1, sandboxEpoch(1));
  const lines = [
    `${cpus().length} cores, Node ${process.version}; ${wall.toFixed(0)} s for every table below. Users: ${d.describe()} — a weekday cycle per continent peaking at 14:00 local, nothing from 22:00 to 06:00, weekends at a third; each generation holds a GPU 1 min (+1 min with probability 0.25, repeatedly). Capacity: the sandbox's synthetic month, on-demand, node events 1 per GPU node per month. GPU h: GPUs held (starting, serving, draining). "vs always-on": against the first row of each table.`,
    '',
    ...table(
      'Example fleet (us-central1 and europe-west4 active, one L4 each), 30 days, median of 5 seeds',
      main,
      main[0]!.gpuHours,
    ),
    ...table('Autoscaling knobs, one at a time (3 seeds)', knobs, knobs[0]!.gpuHours),
    ...table(
      'Lighter and heavier demand (3 seeds; compare each autoscaled row with the always-on row above it)',
      load,
      load[0]!.gpuHours,
    ),
    ...table(
      'Spot on the real trace aws-10-26-2022 (27 days, spot preemptions from the trace)',
      spot,
      spot[0]!.gpuHours,
    ),
    ...table(
      'Hedged with the diurnal demand, real trace aws-10-26-2022 (27 days; cost vs the always-on on-demand fleet in the first row)',
      hedged[0]!,
      hedged[0]![0]!.gpuHours,
    ),
    ...table(
      'Hedged with the diurnal demand, real trace aws-08-27-2023-16node (11 days)',
      hedged[1]!,
      hedged[1]![0]!.gpuHours,
    ),
  ];
  return lines.join('\n').trimEnd();
}

if (require.main === module) void main();
