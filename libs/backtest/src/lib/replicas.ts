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
}

/** Zone of `region` where `gpu` can be obtained at `minute` (the catalog's zone order), or null. */
export function zoneWithCapacity(env: SimEnv, region: string, gpu: string, minute: number): string | null {
  for (const zone of env.catalog.zonesOffering(region, gpu)) if (env.capacity.has(zone, gpu, minute)) return zone;
  return null;
}

/** GPU-minutes and cost held by replica sets, summed. */
export function heldTotals(sets: Iterable<RegionReplicas>): { gpuMinutes: number; cost: number } {
  let gpuMinutes = 0;
  let cost = 0;
  for (const s of sets) {
    gpuMinutes += s.gpuMinutes;
    cost += s.cost;
  }
  return { gpuMinutes, cost };
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
      });
    // The ReplicaSet deletes unscheduled, then not-ready pods before ready ones, then the most
    // recently ready (https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#scaling-a-replicaset).
    this.replicas.sort((a, b) => rank(a) - rank(b) || (a.readyAt === b.readyAt ? 0 : a.readyAt - b.readyAt));
    const removed = this.replicas.splice(Math.max(0, count));
    for (const r of removed)
      if (r.work.length) this.draining.push({ ...r, killAt: minute + this.env.timeline.terminationGraceMinutes });
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
   * The fleet was running before the record starts: pods whose region has capacity at `minute` start
   * Ready and in the load balancer, the others pending. Every policy starts this way.
   */
  warm(minute: number): void {
    for (const r of this.replicas) {
      if (r.phase !== 'pending') continue;
      const gpu = this.gpus.find((g) => this.zoneWith(g, minute) !== null);
      if (gpu)
        Object.assign(r, {
          phase: 'ready',
          spot: this.env.timeline.provisioning !== 'on-demand',
          gpu,
          zone: this.zoneWith(gpu, minute),
          readyAt: -1440,
        });
    }
  }

  /** Zone of this region where `gpu` can be obtained now, or null. */
  zoneWith(gpu: string, minute: number): string | null {
    return zoneWithCapacity(this.env, this.region, gpu, minute);
  }

  /** Whether any of the region's GPU types can be obtained now. */
  obtainable(minute: number): boolean {
    return this.gpus.some((g) => this.zoneWith(g, minute) !== null);
  }

  step(minute: number): void {
    const { timeline, capacity } = this.env;
    const eventChance = timeline.nodeEventsPerMonth / (30 * 1440);
    for (const r of this.replicas) {
      if (r.phase !== 'pending') {
        const lost = r.spot
          ? !capacity.has(r.zone!, r.gpu!, minute)
          : eventChance > 0 && this.env.random() < eventChance;
        if (lost) {
          if (r.spot) this.preemptions++;
          else this.nodeEvents++;
          this.cutByNodeLoss += r.work.length;
          Object.assign(r, {
            phase: 'pending',
            work: [],
            zone: null,
            gpu: null,
            readyAt: Infinity,
            pendingSince: minute,
          });
        }
      }
      if (r.phase === 'pending') {
        const start = timeline.nodeProvisionMinutes + timeline.appStartMinutes;
        for (const gpu of this.gpus) {
          const zone = this.zoneWith(gpu, minute);
          if (zone) {
            Object.assign(r, {
              phase: 'starting',
              spot: timeline.provisioning !== 'on-demand',
              zone,
              gpu,
              readyAt: minute + start,
            });
            break;
          }
        }
        // spot-then-on-demand: no spot in the region → the ComputeClass's on-demand rule, same region,
        // first GPU type (on-demand assumed obtainable; see the timeline's provisioning).
        if (r.phase === 'pending' && timeline.provisioning === 'spot-then-on-demand') {
          const gpu = this.gpus[0]!;
          const zone = this.env.catalog.zonesOffering(this.region, gpu)[0] ?? null;
          if (zone) Object.assign(r, { phase: 'starting', spot: false, zone, gpu, readyAt: minute + start });
        }
      }
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
          const zone = this.zoneWith(gpu, minute);
          if (!zone) continue;
          // Evicted (idle, so nothing is cut) and recreated on a spot node.
          Object.assign(r, {
            phase: 'starting',
            spot: true,
            zone,
            gpu,
            readyAt: minute + timeline.nodeProvisionMinutes + timeline.appStartMinutes,
          });
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
      if (!r.work.length || minute >= r.killAt) this.draining.splice(i, 1);
      else this.hold(r);
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
