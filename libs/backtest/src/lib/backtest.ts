import { loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';

import { parseDocument } from 'yaml';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EagerFailoverPolicy, FailoverPolicy, StaticPolicy } from './baselines';
import { CONTROLLER_VM, GKE_CLUSTER_FEE_PER_HOUR, totalCost, type CostBreakdown } from './costs';
import type { CapacitySource } from './capacity';
import type { LogEntry, Member, Policy, PolicyName, PolicyTotals } from './policy';
import { Holdings, type SimEnv } from './replicas';
import { demandArrivals, type DemandSource, type Generation } from './demand';
import { ScoutPolicy } from './scout-policy';
import { SpotHedgePolicy } from './spothedge';
import { percentile } from './stats';
import type { Timeline } from './timeline';
import { DemandSim, type DemandResult } from './traffic';

export interface BacktestOptions {
  specText: string;
  catalog: GpuCatalog;
  capacity: CapacitySource;
  timeline: Timeline;
  days: number;
  /** Recorded in the result: the seed of `random` (and, without traces, of the capacity the caller built). */
  seed: number;
  /** Seeded uniform draws in [0, 1), one independent stream per name (each policy's node events). */
  random: (stream: string) => () => number;
  policies: readonly PolicyName[];
  /**
   * SpotHedge's sizes, each run as its own policy named spothedge-<target>+<extra> (default: the
   * spec's serving replicas, SkyServe's default over-provisioning of 0).
   */
  spothedgeSizes?: ReadonlyArray<{ target: number; extra: number }>;
  /** Wall-clock instant minute 0 stands for (evidence timestamps). */
  start: Date;
  /** Users by continent (--demand); null: none — availability and GPU-hours only. */
  demand?: DemandSource | null;
  onProgress?: (done: number, total: number) => void;
}

/** [from, to) in minutes. */
export type Interval = [number, number];

/**
 * What was possible, to read the policies against. None is reachable by a real policy; each is a
 * bound in one direction only.
 * - availability: some candidate zone has spot capacity this minute (no start delay) — neither an
 *   upper bound for fleets using on-demand nor reachable by spot-only ones.
 * - withStartDelay: some zone has had spot capacity for the node and app start time (node
 *   provisioning + app start + health check), for every preferred GPU together (`all`) and per GPU
 *   type: what a spot fleet that knew where to be could serve.
 * - foresightCostFloor: the GPU cost (USD) of keeping one replica up at the cheapest price obtainable
 *   each minute (spot where the record has it, on-demand per the run's provisioning and
 *   onDemandCapacity), knowing the future and ignoring start delays, clusters and controllers: no
 *   schedule that keeps the URL up costs less in GPUs.
 */
export interface Oracles {
  availability: number;
  withStartDelay: { all: number; byGpu: Record<string, number> };
  foresightCostFloor: number;
}

export interface PolicyResult {
  /** The policy, with its size where it has one (spothedge-2+1). */
  name: string;
  /** Fraction of minutes at least one region serves with a Ready replica in the load balancer. */
  availability: number;
  /** Fraction of minutes with at least placement.minServingRegions serving. */
  minServingAvailability: number;
  /** Fraction of minutes with at least the target replicas (the spec's serving replicas) serving. */
  targetReadyShare: number;
  outages: number;
  outageMinutes: number;
  restoreP50Minutes: number | null;
  restoreP95Minutes: number | null;
  gpuHours: number;
  /** Everything the policy costs, USD: the sum of costBreakdown. */
  cost: number;
  costBreakdown: CostBreakdown;
  changes: number;
  pullRequests: number;
  probeGpuMinutes: number;
  /** Most regions in which the policy held GPUs at one minute (pods with a node, or draining their work). */
  maxRegionsHolding: number;
  /** What the policy changed and why, in order: {at, change, reason}. */
  log: LogEntry[];
  /** What users saw (demand runs only). */
  demand: DemandResult | null;
}

export interface BacktestResult {
  period: {
    start: string;
    end: string;
    days: number;
    minutes: number;
    capacity: string;
    demand: string | null;
    seed: number;
    timeline: Timeline;
  };
  oracle: Oracles;
  policies: PolicyResult[];
  /** For the report: capacity per candidate region (any preferred GPU), when each policy's URL was up, serving intervals per policy and region. */
  timelines: {
    regions: string[];
    capacity: Record<string, Interval[]>;
    up: Record<string, Interval[]>;
    serving: Record<string, Record<string, Interval[]>>;
  };
}

export { percentile } from './stats';

/** Runs of minutes where `on` holds, as intervals. */
class IntervalRecorder {
  readonly intervals: Interval[] = [];
  private from: number | null = null;
  record(minute: number, on: boolean): void {
    if (on && this.from === null) this.from = minute;
    if (!on && this.from !== null) {
      this.intervals.push([this.from, minute]);
      this.from = null;
    }
  }
  close(end: number): Interval[] {
    if (this.from !== null) this.intervals.push([this.from, end]);
    this.from = null;
    return this.intervals;
  }
}

/** A candidate zone offering one of the spec's preferred GPUs. */
interface Zone {
  region: string;
  zone: string;
  gpu: string;
}

/** What a backtest replays: the policies, the users each serves, and where capacity could be. */
interface Replay {
  spec: FleetSpec;
  capacity: CapacitySource;
  minutes: number;
  policies: Policy[];
  /** One per policy, in the same order. */
  users: DemandSim[];
  arrivals: ((minute: number) => Generation[]) | null;
  regions: string[];
  zones: Zone[];
  /** Replicas that count as the target (targetReadyShare). */
  target: number;
}

/** What the replay counts minute by minute; the per-policy arrays are in the policies' order. */
interface Tally {
  oracleMinutes: number;
  oracles: OracleTracker;
  capacityByRegion: Map<string, IntervalRecorder>;
  up: IntervalRecorder[];
  serving: Array<Map<string, IntervalRecorder>>;
  servedMinutes: number[];
  minServedMinutes: number[];
  targetMinutes: number[];
  maxHolding: number[];
}

/**
 * Replay a capacity record through the policies minute by minute. Every policy sees the same
 * capacity, the same delays and the same start (the spec's fleet, warm where capacity allows).
 */
export async function runBacktest(o: BacktestOptions): Promise<BacktestResult> {
  const replay = setUpReplay(o);
  const tally = startTally(o, replay);
  const { minutes } = replay;
  for (let minute = 0; minute < minutes; minute++) {
    await replayMinute(replay, tally, minute);
    if (o.onProgress && (minute % 1440 === 1439 || minute === minutes - 1)) o.onProgress(minute + 1, minutes);
  }
  return assembleResult(o, replay, tally);
}

/**
 * The world every policy runs in: the spec, the capacity, how long the replay lasts, the policies
 * (their random streams drawn in the order given) and the users.
 */
function setUpReplay(o: BacktestOptions): Replay {
  const { spec } = loadFleetSpec(o.specText, { catalog: o.catalog });
  const capacity = memoizedCapacity(o.capacity);
  const minutes = Math.min(o.days * 1440, capacity.lengthMinutes ?? Infinity, o.demand?.lengthMinutes ?? Infinity);
  if (!(minutes > 0)) throw new Error(`backtest: nothing to replay (${capacity.describe()} holds no minute)`);
  const policies = createPolicies(o, spec, capacity);
  const arrivals = o.demand
    ? demandArrivals(o.demand, o.random('demand'), Math.ceil(spec.ingress.backendTimeoutSec / 60))
    : null;
  // Autoscaled fleets follow their load even with no users (down to the warm minimum).
  const users = policies.map(() => new DemandSim(spec, o.catalog, o.timeline));
  const { regions, zones } = candidateZones(spec, o.catalog);
  return { spec, capacity, minutes, policies, users, arrivals, regions, zones, target: spotHedgeTarget(spec) };
}

/** The capacity source, asked about each (zone, GPU) once per minute. */
function memoizedCapacity(source: CapacitySource): CapacitySource {
  // Every policy and the oracle ask about the same minute: answer each (zone, GPU) once per minute.
  let memoMinute = -1;
  const memo = new Map<string, boolean>();
  return {
    lengthMinutes: source.lengthMinutes,
    describe: () => source.describe(),
    has(zone, gpu, minute) {
      if (minute !== memoMinute) {
        memo.clear();
        memoMinute = minute;
      }
      const key = `${zone}|${gpu}`;
      let has = memo.get(key);
      if (has === undefined) memo.set(key, (has = source.has(zone, gpu, minute)));
      return has;
    },
  };
}

/** The policies named in the options, in their order (spothedge once per size). */
function createPolicies(o: BacktestOptions, spec: FleetSpec, capacity: CapacitySource): Policy[] {
  const env = (name: string): SimEnv => ({
    capacity,
    catalog: o.catalog,
    timeline: o.timeline,
    gpuCount: spec.gpu.count,
    random: o.random(name),
    holdings: new Holdings(),
  });
  return o.policies.flatMap((name): Policy[] => {
    switch (name) {
      case 'static':
      case 'in-region':
        return [new StaticPolicy(name, spec, env(name))];
      case 'failover':
        return [new EagerFailoverPolicy(spec, env(name))];
      case 'failover-same-region':
        return [new FailoverPolicy(spec, env(name))];
      case 'spothedge':
        return (o.spothedgeSizes ?? [{ target: spotHedgeTarget(spec), extra: 0 }]).map(
          (size) =>
            new SpotHedgePolicy(spec, env(`spothedge-${size.target}+${size.extra}`), {
              target: size.target,
              overprovision: size.extra,
            }),
        );
      case 'scout':
        return [new ScoutPolicy(withProvisioning(o.specText, o.timeline), env(name), o.start)];
      case 'autoscaled':
        return [
          new ScoutPolicy(withAutoscaling(withProvisioning(o.specText, o.timeline)), env(name), o.start, 'autoscaled'),
        ];
    }
  });
}

/** The candidate regions offering a preferred GPU, and their zones offering each. */
function candidateZones(spec: FleetSpec, catalog: GpuCatalog): { regions: string[]; zones: Zone[] } {
  const regions = spec.placement.candidateRegions.filter((r) => spec.gpu.preferences.some((g) => catalog.offers(r, g)));
  const zones = regions.flatMap((r) =>
    spec.gpu.preferences.flatMap((g) => catalog.zonesOffering(r, g).map((z) => ({ region: r, zone: z, gpu: g }))),
  );
  return { regions, zones };
}

/** Nothing counted yet: a recorder per region (and per policy), zero minutes everywhere. */
function startTally(o: BacktestOptions, { spec, capacity, policies, regions, zones }: Replay): Tally {
  const byRegion = () => new Map(regions.map((r) => [r, new IntervalRecorder()]));
  return {
    oracleMinutes: 0,
    oracles: new OracleTracker(spec, o.catalog, o.timeline, capacity, zones),
    capacityByRegion: byRegion(),
    up: policies.map(() => new IntervalRecorder()),
    serving: policies.map(() => byRegion()),
    servedMinutes: policies.map(() => 0),
    minServedMinutes: policies.map(() => 0),
    targetMinutes: policies.map(() => 0),
    maxHolding: policies.map(() => 0),
  };
}

/** One minute: the users arriving, the capacity and the oracles, then each policy in turn. */
async function replayMinute(replay: Replay, tally: Tally, minute: number): Promise<void> {
  const { capacity, regions } = replay;
  const generations = replay.arrivals?.(minute) ?? [];
  const withCapacity = new Set(replay.zones.filter((z) => capacity.has(z.zone, z.gpu, minute)).map((z) => z.region));
  if (withCapacity.size) tally.oracleMinutes++;
  tally.oracles.step(minute);
  for (const r of regions) tally.capacityByRegion.get(r)!.record(minute, withCapacity.has(r));
  for (const i of replay.policies.keys()) await stepPolicy(replay, tally, i, minute, generations);
}

/** Policy i's minute: it acts, its users are served, and what it serves is counted. */
async function stepPolicy(
  replay: Replay,
  tally: Tally,
  i: number,
  minute: number,
  generations: Generation[],
): Promise<void> {
  const p = replay.policies[i]!;
  await p.step(minute);
  replay.users[i]!.step(minute, p.members(minute), generations);
  const now = new Set(p.servingRegions(minute));
  if (now.size) tally.servedMinutes[i]!++;
  if (now.size >= replay.spec.placement.minServingRegions) tally.minServedMinutes[i]!++;
  tally.up[i]!.record(minute, now.size > 0);
  const members = p.members(minute);
  tally.maxHolding[i] = Math.max(tally.maxHolding[i]!, regionsHolding(members));
  if (servingReplicas(members, minute) >= replay.target) tally.targetMinutes[i]!++;
  for (const r of replay.regions) tally.serving[i]!.get(r)!.record(minute, now.has(r));
}

/** The result: the period, the oracles, each policy's measures and the timelines for the report. */
function assembleResult(o: BacktestOptions, replay: Replay, tally: Tally): BacktestResult {
  const { capacity, minutes, policies, regions } = replay;
  const upIntervals = policies.map((_, i) => tally.up[i]!.close(minutes));
  const results = policies.map((p, i) => policyResult(o, replay, tally, i, upIntervals[i]!));
  return {
    period: {
      start: o.start.toISOString(),
      end: new Date(o.start.getTime() + minutes * 60_000).toISOString(),
      days: minutes / 1440,
      minutes,
      capacity: capacity.describe(),
      demand: o.demand?.describe() ?? null,
      seed: o.seed,
      timeline: o.timeline,
    },
    oracle: { availability: tally.oracleMinutes / minutes, ...tally.oracles.result(minutes) },
    policies: results,
    timelines: {
      regions,
      capacity: Object.fromEntries(regions.map((r) => [r, tally.capacityByRegion.get(r)!.close(minutes)])),
      up: Object.fromEntries(policies.map((p, i) => [p.name, upIntervals[i]!])),
      serving: Object.fromEntries(
        policies.map((p, i) => [
          p.name,
          Object.fromEntries(regions.map((r) => [r, tally.serving[i]!.get(r)!.close(minutes)])),
        ]),
      ),
    },
  };
}

/** Policy i's measures, from what the replay counted and the policy's own totals and log. */
function policyResult(o: BacktestOptions, replay: Replay, tally: Tally, i: number, ups: Interval[]): PolicyResult {
  const { minutes } = replay;
  const p = replay.policies[i]!;
  const outages = outageDurations(ups, minutes);
  const totals = p.totals();
  const costBreakdown = costBreakdownOf(totals);
  return {
    name: p.name,
    availability: tally.servedMinutes[i]! / minutes,
    minServingAvailability: tally.minServedMinutes[i]! / minutes,
    targetReadyShare: tally.targetMinutes[i]! / minutes,
    outages: outages.length,
    outageMinutes: outages.reduce((s, d) => s + d, 0),
    restoreP50Minutes: percentile(outages, 50),
    restoreP95Minutes: percentile(outages, 95),
    gpuHours: totals.gpuMinutes / 60,
    cost: totalCost(costBreakdown),
    costBreakdown,
    changes: totals.changes,
    pullRequests: totals.pullRequests,
    probeGpuMinutes: totals.probeGpuMinutes,
    maxRegionsHolding: tally.maxHolding[i]!,
    log: (p.log?.() ?? []).map((e) => ({
      at: new Date(o.start.getTime() + e.minute * 60_000).toISOString(),
      change: e.change,
      reason: e.reason,
    })),
    demand: o.demand ? replay.users[i]!.result() : null,
  };
}

/** The lengths of the gaps between the up intervals, within [0, minutes). */
function outageDurations(ups: readonly Interval[], minutes: number): number[] {
  const outages: number[] = [];
  let cursor = 0;
  for (const [from, to] of ups) {
    if (from > cursor) outages.push(from - cursor);
    cursor = to;
  }
  if (cursor < minutes) outages.push(minutes - cursor);
  return outages;
}

/** What a policy's totals cost, USD, by item. */
function costBreakdownOf(totals: PolicyTotals): CostBreakdown {
  return {
    gpu: totals.gpuCost,
    clusterFees: (totals.clusterMinutes / 60) * GKE_CLUSTER_FEE_PER_HOUR,
    probes: totals.probeCost,
    controller: (totals.controllerMinutes / 60) * CONTROLLER_VM.usdPerHour,
  };
}

/** The replicas the spec's fleet serves with: SpotHedge's default target. */
export const spotHedgeTarget = (spec: FleetSpec): number =>
  spec.clusters.filter((c) => c.mode === 'active').reduce((n, c) => n + c.replicas, 0);

/** Replicas the load balancer sends traffic to, across the serving members. */
function servingReplicas(members: readonly Member[], minute: number): number {
  let n = 0;
  for (const m of members) if (m.serving) n += m.set.serving(minute);
  return n;
}

/** The oracles, minute by minute (see Oracles). */
class OracleTracker {
  private readonly delay: number;
  private readonly runs = new Map<string, number>();
  private readonly upAll = { minutes: 0 };
  private readonly upByGpu = new Map<string, number>();
  private floor = 0;

  constructor(
    private readonly spec: FleetSpec,
    private readonly catalog: GpuCatalog,
    private readonly timeline: Timeline,
    private readonly capacity: CapacitySource,
    private readonly zones: ReadonlyArray<{ region: string; zone: string; gpu: string }>,
  ) {
    this.delay = timeline.nodeProvisionMinutes + timeline.appStartMinutes + Math.ceil(timeline.healthCheckSeconds / 60);
    for (const g of spec.gpu.preferences) this.upByGpu.set(g, 0);
  }

  step(minute: number): void {
    const ready = new Set<string>();
    let cheapest = Infinity;
    const spotAllowed = this.timeline.provisioning !== 'on-demand';
    const odAllowed = this.timeline.provisioning !== 'spot';
    for (const z of this.zones) {
      const key = `${z.zone}|${z.gpu}`;
      const has = this.capacity.has(z.zone, z.gpu, minute);
      const run = has ? (this.runs.get(key) ?? 0) + 1 : 0;
      this.runs.set(key, run);
      if (run > this.delay) ready.add(z.gpu);
      if (spotAllowed && has)
        cheapest = Math.min(cheapest, this.catalog.pricePerGpuHour(z.region, z.gpu, true) ?? Infinity);
      if (odAllowed && (has || this.timeline.onDemandCapacity === 'always'))
        cheapest = Math.min(cheapest, this.catalog.pricePerGpuHour(z.region, z.gpu, false) ?? Infinity);
    }
    if (ready.size) this.upAll.minutes++;
    for (const g of ready) this.upByGpu.set(g, this.upByGpu.get(g)! + 1);
    if (cheapest < Infinity) this.floor += (cheapest * this.spec.gpu.count) / 60;
  }

  result(minutes: number): Omit<Oracles, 'availability'> {
    return {
      withStartDelay: {
        all: this.upAll.minutes / minutes,
        byGpu: Object.fromEntries([...this.upByGpu].map(([g, n]) => [g, n / minutes])),
      },
      foresightCostFloor: this.floor,
    };
  }
}

/** Regions where these members hold GPUs: a pod with a node, or a removed pod still finishing its work. */
export function regionsHolding(members: readonly Member[]): number {
  return new Set(
    members
      .filter((m) => m.set.replicas.some((r) => r.phase !== 'pending') || m.set.draining.length > 0)
      .map((m) => m.region),
  ).size;
}

/**
 * The spec as the simulated fleet runs: gpu.provisioning is the timeline's (a run with --provisioning
 * spot simulates a spot fleet, so the scout must read spot evidence and probe for spot nodes), with
 * acceptCutGenerations, which the spec requires for spot.
 */
export function withProvisioning(specText: string, timeline: Pick<Timeline, 'provisioning'>): string {
  const doc = parseDocument(specText);
  if (doc.getIn(['gpu', 'provisioning']) === timeline.provisioning) return specText;
  doc.setIn(['gpu', 'provisioning'], timeline.provisioning);
  if (timeline.provisioning !== 'on-demand') doc.setIn(['gpu', 'acceptCutGenerations'], true);
  // The hedge as it runs once KEDA is installed (step 2; docs/hedging.md).
  if (timeline.provisioning === 'hedged') doc.setIn(['gpu', 'hedge', 'stage'], 'hedge');
  return doc.toString();
}

/**
 * The spec with autoscaling on and the autoscaler owning replicas (the `autoscaled` policy: the
 * scout with demand-driven scaling, every other setting of the spec's autoscaling section kept).
 */
export function withAutoscaling(specText: string): string {
  const doc = parseDocument(specText);
  doc.setIn(['autoscaling', 'enabled'], true);
  doc.setIn(['autoscaling', 'replicasOwner'], 'autoscaler');
  return doc.toString();
}
