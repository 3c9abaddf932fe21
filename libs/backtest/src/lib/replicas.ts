import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import type { CapacitySource } from './capacity';
import type { Timeline } from './timeline';

/** What every policy's replicas share: the capacity record, prices, the delays and a seeded coin. */
export interface SimEnv {
  capacity: CapacitySource;
  catalog: GpuCatalog;
  timeline: Timeline;
  /** GPUs per replica (gpu.count). */
  gpuCount: number;
  /** Uniform [0, 1) draws, seeded: node events. */
  random: () => number;
  /** The nodes this policy holds: a record's count is what all of them together may have in a zone. */
  holdings: Holdings;
}

/** How many instances of `gpu` the record says can be had in `zone` at `minute` (a source without counts: unbounded when it has any). */
export function capacityCount(capacity: CapacitySource, zone: string, gpu: string, minute: number): number {
  if (capacity.count) return capacity.count(zone, gpu, minute);
  return capacity.has(zone, gpu, minute) ? Infinity : 0;
}

/**
 * The nodes one policy holds, per zone and GPU type. A record's value is how many instances could
 * be had (../SOURCES.md), so a zone with capacity N hosts at most N of the policy's replicas of that
 * GPU: a new node only while fewer are held, and when the count drops below what spot replicas
 * hold, the most recently started lose their nodes. On-demand nodes are never taken back ("resource
 * errors only apply to new resource requests in the zone and do not affect existing resources",
 * https://cloud.google.com/compute/docs/resource-error); whether a new one needs the record's
 * capacity is the timeline's onDemandCapacity.
 */
export class Holdings {
  private readonly held = new Map<string, Replica[]>();

  private key(zone: string, gpu: string): string {
    return `${zone}|${gpu}`;
  }

  add(r: Replica): void {
    const k = this.key(r.zone!, r.gpu!);
    this.held.set(k, [...(this.held.get(k) ?? []), r]);
  }

  remove(r: Replica): void {
    if (!r.zone || !r.gpu) return;
    const k = this.key(r.zone, r.gpu);
    this.held.set(
      k,
      (this.held.get(k) ?? []).filter((x) => x !== r),
    );
  }

  count(zone: string, gpu: string): number {
    return this.held.get(this.key(zone, gpu))?.length ?? 0;
  }

  /** Whether a new node of `gpu` (spot or on-demand) can be had in `zone` at `minute`. */
  free(env: Pick<SimEnv, 'capacity' | 'timeline'>, zone: string, gpu: string, spot: boolean, minute: number): boolean {
    if (!spot && env.timeline.onDemandCapacity === 'always') return true;
    return capacityCount(env.capacity, zone, gpu, minute) > this.count(zone, gpu);
  }

  /**
   * A spot replica past the zone's count (after the on-demand nodes, which keep theirs), the most
   * recently started first: it is preempted.
   */
  overCapacity(env: Pick<SimEnv, 'capacity'>, r: Replica, minute: number): boolean {
    const all = this.held.get(this.key(r.zone!, r.gpu!)) ?? [];
    const count = capacityCount(env.capacity, r.zone!, r.gpu!, minute);
    if (count === Infinity) return false;
    const spot = all
      .filter((x) => x.spot)
      .sort((a, b) => a.acquiredAt - b.acquiredAt || all.indexOf(a) - all.indexOf(b));
    const allowed = Math.max(0, count - (all.length - spot.length));
    return spot.indexOf(r) >= allowed;
  }
}

/** Zone of `region` where a new `gpu` node (spot unless `spot` is false) can be had at `minute`, in the catalog's zone order, or null. */
export function zoneWithCapacity(
  env: SimEnv,
  region: string,
  gpu: string,
  minute: number,
  spot = env.timeline.provisioning !== 'on-demand',
): string | null {
  for (const zone of env.catalog.zonesOffering(region, gpu))
    if (env.holdings.free(env, zone, gpu, spot, minute)) return zone;
  return null;
}

/** GPU-minutes and their cost held by replica sets, summed. */
export function heldTotals(sets: Iterable<RegionReplicas>): { gpuMinutes: number; gpuCost: number } {
  let gpuMinutes = 0;
  let gpuCost = 0;
  for (const s of sets) {
    gpuMinutes += s.gpuMinutes;
    gpuCost += s.cost;
  }
  return { gpuMinutes, gpuCost };
}

export type ReplicaPhase = 'pending' | 'starting' | 'ready';

/** A generation a pod holds: running (the first) or queued behind it, with when its user sent it. */
export interface Work {
  arrived: number;
  minutes: number;
  continent: string;
  /** Minute it started running (undefined while queued). */
  started?: number;
}

export interface Replica {
  phase: ReplicaPhase;
  /** On a spot node (preempted when its zone loses capacity) or an on-demand one. */
  spot: boolean;
  /** The running generation first, then those queued inside the WebUI (demand runs only). */
  work: Work[];
  /** Minute the load balancer last sent it a generation (it spreads requests over endpoints). */
  lastSent?: number;
  zone: string | null;
  gpu: string | null;
  /** Minute the pod became (or becomes, while starting) Ready. */
  readyAt: number;
  /** Minute the pod last started waiting for capacity. */
  pendingSince: number;
  /** Minute its node was had (the most recent holders lose spot capacity first). */
  acquiredAt: number;
}

/**
 * The cluster autoscaler's back-off of a node group after a failed scale-up (GKE's pods): 5 minutes
 * at first, doubling up to 30, forgotten after 3 hours without a failure — the defaults of
 * --initial-node-group-backoff-duration, --max-node-group-backoff-duration and
 * --node-group-backoff-reset-timeout (kubernetes/autoscaler cluster-autoscaler/FAQ.md, "What are the
 * parameters to CA?"). GKE runs the autoscaler for you and does not publish its settings: these are
 * the upstream defaults. While a GPU type is backed off, a pending pod does not get it even if the
 * record has capacity again.
 */
interface Backoff {
  until: number;
  level: number;
  lastFailure: number;
}

/**
 * The app's pods in one region, as Autopilot runs them: a pending pod gets a node as soon as a zone
 * of the region has one of its GPU types (in preference order, like a ComputeClass), then takes the
 * node provisioning and app start delays to be Ready. An on-demand pod keeps its node through a
 * stockout and loses it only to a node event; a spot pod is preempted when its zone has no capacity.
 */
export class RegionReplicas {
  readonly replicas: Replica[] = [];
  gpus: string[];
  /** GPU-minutes held (starting or ready), and their cost in USD. */
  gpuMinutes = 0;
  cost = 0;
  nodeEvents = 0;
  preemptions = 0;
  /** Pods removed while holding work: out of the load balancer, finishing it (the ready gate's drain). */
  readonly draining: Array<Replica & { killAt: number }> = [];
  /** Generations lost: a removed pod killed before finishing (grace over), or its node lost. */
  cutByScaleDown = 0;
  cutByNodeLoss = 0;
  /**
   * The ComputeClass's active migration (spot-then-on-demand, rendered only for clusters with two or
   * more replicas, see activeMigrationAllowed): an on-demand pod is moved back to spot once its region
   * has spot capacity, one pod at a time while the others are ready (the PodDisruptionBudget).
   * https://cloud.google.com/kubernetes-engine/docs/concepts/about-custom-compute-classes
   */
  migrateToSpot = false;
  migrations = 0;
  /** Called when a generation starts running: the minute and the work (wait statistics). */
  onStart: ((work: Work, minute: number, region: string) => void) | null = null;
  /**
   * GKE's pods: scale-ups go through the cluster autoscaler, with its back-off after a failed one
   * (see Backoff), and a failed one is what reports FailedScaleUp. Off for VMs a controller launches
   * itself (SpotHedge, failover).
   */
  autoscalerBackoff = true;
  private readonly backoff = new Map<string, Backoff>();
  /** Minute the cluster autoscaler last failed to find a node for this set's pods (FailedScaleUp), or null. */
  lastScaleUpFailure: number | null = null;

  constructor(
    readonly region: string,
    gpus: string[],
    private readonly env: SimEnv,
  ) {
    this.gpus = gpus;
  }

  /** `count` pods at minute 0, Ready where their region has capacity (see warm). */
  static warmStart(region: string, gpus: string[], env: SimEnv, count: number): RegionReplicas {
    const set = new RegionReplicas(region, gpus, env);
    set.scale(count, 0);
    set.warm(0);
    return set;
  }

  /**
   * Scale to `count` pods: new ones pending from `minute`. Removed ones free their nodes at once
   * unless they hold work: those leave the load balancer and finish it first (the preStop drain),
   * killed at most terminationGraceMinutes later.
   */
  scale(count: number, minute: number): void {
    while (this.replicas.length < count)
      this.replicas.push({
        phase: 'pending',
        spot: false,
        work: [],
        zone: null,
        gpu: null,
        readyAt: Infinity,
        pendingSince: minute,
        acquiredAt: Infinity,
      });
    // The ReplicaSet deletes unscheduled, then not-ready pods before ready ones, then the most
    // recently ready (https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#scaling-a-replicaset).
    this.replicas.sort((a, b) => rank(a) - rank(b) || (a.readyAt === b.readyAt ? 0 : a.readyAt - b.readyAt));
    const removed = this.replicas.splice(Math.max(0, count));
    for (const r of removed) {
      // A draining pod keeps its node until its work is done.
      if (r.work.length)
        this.draining.push(Object.assign(r, { killAt: minute + this.env.timeline.terminationGraceMinutes }));
      else this.release(r);
    }
  }

  /** The pod takes a node: from now on it counts against the zone's capacity. */
  private acquire(
    r: Replica,
    zone: string,
    gpu: string,
    spot: boolean,
    minute: number,
    readyAt: number,
    phase: ReplicaPhase = 'starting',
  ): void {
    this.release(r);
    Object.assign(r, { phase, spot, zone, gpu, readyAt, acquiredAt: minute });
    this.env.holdings.add(r);
  }

  /** The pod gives its node back (lost, removed, or its drain finished). */
  private release(r: Replica): void {
    if (r.zone && r.phase !== 'pending') this.env.holdings.remove(r);
  }

  /** Run the pods' work this minute: finished generations leave, the next queued one starts. */
  private work(r: Replica, minute: number): void {
    while (r.work.length) {
      const head = r.work[0]!;
      if (head.started === undefined) {
        head.started = minute;
        this.onStart?.(head, minute, this.region);
      }
      if (minute < head.started + head.minutes) return;
      r.work.shift();
    }
  }

  /** Load the autoscaler's gauge reports: running + queued generations in this region's pods. */
  load(): number {
    let n = 0;
    for (const r of this.replicas) n += r.work.length;
    for (const r of this.draining) n += r.work.length;
    return n;
  }

  /**
   * The fleet was running before the record starts, as the record allows: an on-demand pod had its
   * node before and keeps it (a stockout does not affect existing VMs), so it starts Ready — where
   * the record has room for it if any zone has, else in the region's first zone; a spot pod starts
   * Ready only where the record has spot capacity at `minute`, else pending. Every policy starts this way.
   */
  warm(minute: number): void {
    const onDemand = this.env.timeline.provisioning === 'on-demand';
    for (const r of this.replicas) {
      if (r.phase !== 'pending') continue;
      const gpu = this.gpus.find((g) => this.zoneWith(g, minute) !== null);
      if (gpu) this.acquire(r, this.zoneWith(gpu, minute)!, gpu, !onDemand, minute, -1440, 'ready');
      else if (onDemand) {
        const first = this.gpus.find((g) => this.env.catalog.zonesOffering(this.region, g).length);
        if (first)
          this.acquire(r, this.env.catalog.zonesOffering(this.region, first)[0]!, first, false, minute, -1440, 'ready');
      }
    }
  }

  /** Zone of this region where a new `gpu` node (of the fleet's provisioning, or `spot`) can be had now, or null. */
  zoneWith(gpu: string, minute: number, spot = this.env.timeline.provisioning !== 'on-demand'): string | null {
    return zoneWithCapacity(this.env, this.region, gpu, minute, spot);
  }

  /** Whether any of the region's GPU types can be had now (spot or, where the fleet falls back to it, on-demand). */
  obtainable(minute: number): boolean {
    const fallback = this.env.timeline.provisioning === 'spot-then-on-demand';
    return this.gpus.some(
      (g) => this.zoneWith(g, minute) !== null || (fallback && this.zoneWith(g, minute, false) !== null),
    );
  }

  /** The cluster autoscaler backs `gpu`'s node groups off after a failed scale-up (see Backoff). */
  private backedOff(gpu: string, minute: number): boolean {
    return this.autoscalerBackoff && (this.backoff.get(gpu)?.until ?? -Infinity) > minute;
  }

  /**
   * A scale-up found no node: the failure is known scaleUpFailureMinutes later (the FailedScaleUp
   * event a sweep can read), and the node group is backed off from then.
   */
  private failedScaleUp(gpu: string, minute: number): void {
    if (!this.autoscalerBackoff) return;
    const known = minute + this.env.timeline.scaleUpFailureMinutes;
    const b = this.backoff.get(gpu);
    const level = b && known - b.lastFailure < 180 ? b.level + 1 : 0;
    this.backoff.set(gpu, { until: known + Math.min(5 * 2 ** level, 30), level, lastFailure: known });
    this.lastScaleUpFailure = known;
  }

  /** A pending pod's scale-up: the fleet's GPU types in order (a ComputeClass's priorities), each not backed off. */
  private schedule(r: Replica, minute: number): void {
    const { timeline } = this.env;
    const start = timeline.nodeProvisionMinutes + timeline.appStartMinutes;
    const spot = timeline.provisioning !== 'on-demand';
    for (const gpu of this.gpus) {
      if (this.backedOff(gpu, minute)) continue;
      const zone = this.zoneWith(gpu, minute, spot);
      if (zone) return this.acquire(r, zone, gpu, spot, minute, minute + start);
      // spot-then-on-demand: no spot of this type → the ComputeClass's on-demand rule in the same
      // region (https://cloud.google.com/kubernetes-engine/docs/concepts/about-custom-compute-classes).
      if (timeline.provisioning === 'spot-then-on-demand') {
        const od = this.zoneWith(gpu, minute, false);
        if (od) return this.acquire(r, od, gpu, false, minute, minute + start);
      }
      this.failedScaleUp(gpu, minute);
    }
  }

  step(minute: number): void {
    const { timeline } = this.env;
    const eventChance = timeline.nodeEventsPerMonth / (30 * 1440);
    for (const r of this.replicas) {
      if (r.phase !== 'pending') {
        const lost = r.spot
          ? this.env.holdings.overCapacity(this.env, r, minute)
          : eventChance > 0 && this.env.random() < eventChance;
        if (lost) {
          if (r.spot) this.preemptions++;
          else this.nodeEvents++;
          this.cutByNodeLoss += r.work.length;
          this.release(r);
          Object.assign(r, {
            phase: 'pending',
            work: [],
            zone: null,
            gpu: null,
            readyAt: Infinity,
            pendingSince: minute,
            acquiredAt: Infinity,
          });
        }
      }
      if (r.phase === 'pending') this.schedule(r, minute);
      if (r.phase === 'starting' && minute >= r.readyAt) r.phase = 'ready';
      if (
        this.migrateToSpot &&
        timeline.provisioning === 'spot-then-on-demand' &&
        r.phase === 'ready' &&
        !r.spot &&
        r.work.length === 0 &&
        this.replicas.every((o) => o === r || o.phase === 'ready')
      ) {
        for (const gpu of this.gpus) {
          const zone = this.zoneWith(gpu, minute, true);
          if (!zone) continue;
          // Evicted (idle, so nothing is cut) and recreated on a spot node.
          this.acquire(r, zone, gpu, true, minute, minute + timeline.nodeProvisionMinutes + timeline.appStartMinutes);
          this.migrations++;
          break;
        }
      }
      if (r.phase === 'ready') this.work(r, minute);
      if (r.phase !== 'pending') this.hold(r);
    }
    for (let i = this.draining.length - 1; i >= 0; i--) {
      const r = this.draining[i]!;
      this.work(r, minute);
      if (r.work.length && minute >= r.killAt) this.cutByScaleDown += r.work.length;
      if (!r.work.length || minute >= r.killAt) {
        this.draining.splice(i, 1);
        this.release(r);
      } else this.hold(r);
    }
  }

  /** One minute of a pod's GPUs, at its zone's price. */
  private hold(r: Replica): void {
    this.gpuMinutes += this.env.gpuCount;
    const price = this.env.catalog.pricePerGpuHour(this.region, r.gpu!, r.spot) ?? 0;
    this.cost += (price * this.env.gpuCount) / 60;
  }

  /** Pods the load balancer sends traffic to: Ready for at least the health check's time. */
  serving(minute: number): number {
    return this.servingPods(minute).length;
  }

  servingPods(minute: number): Replica[] {
    const hc = Math.ceil(this.env.timeline.healthCheckSeconds / 60);
    return this.replicas.filter((r) => r.phase === 'ready' && minute >= r.readyAt + hc);
  }

  ready(): number {
    return this.replicas.filter((r) => r.phase === 'ready').length;
  }

  pending(): Replica[] {
    return this.replicas.filter((r) => r.phase === 'pending');
  }
}

const rank = (r: Replica) => (r.phase === 'ready' ? 0 : r.phase === 'starting' ? 1 : 2);
