import { loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';

import { parseDocument } from 'yaml';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EagerFailoverPolicy, FailoverPolicy, StaticPolicy } from './baselines';
import { CONTROLLER_VM, GKE_CLUSTER_FEE_PER_HOUR, totalCost, type CostBreakdown } from './costs';
import type { CapacitySource } from './capacity';
import type { LogEntry, Member, Policy, PolicyName } from './policy';
import { Holdings, type SimEnv } from './replicas';
import { demandArrivals, type DemandSource } from './demand';
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

/**
 * Replay a capacity record through the policies minute by minute. Every policy sees the same
 * capacity, the same delays and the same start (the spec's fleet, warm where capacity allows).
 */
export async function runBacktest(o: BacktestOptions): Promise<BacktestResult> {
  const { spec } = loadFleetSpec(o.specText, { catalog: o.catalog });
  // Every policy and the oracle ask about the same minute: answer each (zone, GPU) once per minute.
  const source = o.capacity;
  let memoMinute = -1;
  const memo = new Map<string, boolean>();
  const capacity: CapacitySource = {
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
  const minutes = Math.min(o.days * 1440, capacity.lengthMinutes ?? Infinity, o.demand?.lengthMinutes ?? Infinity);
  if (!(minutes > 0)) throw new Error(`backtest: nothing to replay (${capacity.describe()} holds no minute)`);
  const env = (name: string): SimEnv => ({
    capacity,
    catalog: o.catalog,
    timeline: o.timeline,
    gpuCount: spec.gpu.count,
    random: o.random(name),
    holdings: new Holdings(),
  });
  const policies: Policy[] = o.policies.flatMap((name): Policy[] => {
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
  const arrivals = o.demand
    ? demandArrivals(o.demand, o.random('demand'), Math.ceil(spec.ingress.backendTimeoutSec / 60))
    : null;
  // Autoscaled fleets follow their load even with no users (down to the warm minimum).
  const users = policies.map(() => new DemandSim(spec, o.catalog, o.timeline));

  const regions = spec.placement.candidateRegions.filter((r) =>
    spec.gpu.preferences.some((g) => o.catalog.offers(r, g)),
  );
  const zones = regions.flatMap((r) =>
    spec.gpu.preferences.flatMap((g) => o.catalog.zonesOffering(r, g).map((z) => ({ region: r, zone: z, gpu: g }))),
  );
  const capacityByRegion = new Map(regions.map((r) => [r, new IntervalRecorder()]));
  const serving = policies.map(() => new Map(regions.map((r) => [r, new IntervalRecorder()])));
  const up = policies.map(() => new IntervalRecorder());
  const servedMinutes = policies.map(() => 0);
  const targetMinutes = policies.map(() => 0);
  const maxHolding = policies.map(() => 0);
  const target = spotHedgeTarget(spec);
  const oracles = new OracleTracker(spec, o.catalog, o.timeline, capacity, zones);
  const minServedMinutes = policies.map(() => 0);
  let oracleMinutes = 0;

  for (let minute = 0; minute < minutes; minute++) {
    const generations = arrivals?.(minute) ?? [];
    const withCapacity = new Set(zones.filter((z) => capacity.has(z.zone, z.gpu, minute)).map((z) => z.region));
    if (withCapacity.size) oracleMinutes++;
    oracles.step(minute);
    for (const r of regions) capacityByRegion.get(r)!.record(minute, withCapacity.has(r));
    for (const [i, p] of policies.entries()) {
      await p.step(minute);
      users[i]!.step(minute, p.members(minute), generations);
      const now = new Set(p.servingRegions(minute));
      if (now.size) servedMinutes[i]!++;
      if (now.size >= spec.placement.minServingRegions) minServedMinutes[i]!++;
      up[i]!.record(minute, now.size > 0);
      const members = p.members(minute);
      maxHolding[i] = Math.max(maxHolding[i]!, regionsHolding(members));
      if (servingReplicas(members, minute) >= target) targetMinutes[i]!++;
      for (const r of regions) serving[i]!.get(r)!.record(minute, now.has(r));
    }
    if (o.onProgress && (minute % 1440 === 1439 || minute === minutes - 1)) o.onProgress(minute + 1, minutes);
  }

  const upIntervals = policies.map((_, i) => up[i]!.close(minutes));
  const results = policies.map((p, i): PolicyResult => {
    const ups = upIntervals[i]!;
    const outages: number[] = [];
    let cursor = 0;
    for (const [from, to] of ups) {
      if (from > cursor) outages.push(from - cursor);
      cursor = to;
    }
    if (cursor < minutes) outages.push(minutes - cursor);
    const totals = p.totals();
    const costBreakdown: CostBreakdown = {
      gpu: totals.gpuCost,
      clusterFees: (totals.clusterMinutes / 60) * GKE_CLUSTER_FEE_PER_HOUR,
      probes: totals.probeCost,
      controller: (totals.controllerMinutes / 60) * CONTROLLER_VM.usdPerHour,
    };
    return {
      name: p.name,
      availability: servedMinutes[i]! / minutes,
      minServingAvailability: minServedMinutes[i]! / minutes,
      targetReadyShare: targetMinutes[i]! / minutes,
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
      maxRegionsHolding: maxHolding[i]!,
      log: (p.log?.() ?? []).map((e) => ({
        at: new Date(o.start.getTime() + e.minute * 60_000).toISOString(),
        change: e.change,
        reason: e.reason,
      })),
      demand: o.demand ? users[i]!.result() : null,
    };
  });

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
    oracle: { availability: oracleMinutes / minutes, ...oracles.result(minutes) },
    policies: results,
    timelines: {
      regions,
      capacity: Object.fromEntries(regions.map((r) => [r, capacityByRegion.get(r)!.close(minutes)])),
      up: Object.fromEntries(policies.map((p, i) => [p.name, upIntervals[i]!])),
      serving: Object.fromEntries(
        policies.map((p, i) => [
          p.name,
          Object.fromEntries(regions.map((r) => [r, serving[i]!.get(r)!.close(minutes)])),
        ]),
      ),
    },
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
