import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { clusterGpuOrder } from '@gpu-fleet/manifests';
import type { Member, Policy, PolicyLogEntry, PolicyName, PolicyTotals } from './policy';
import { heldTotals, RegionReplicas, zoneWithCapacity, type SimEnv } from './replicas';

/**
 * Hand-run fleets: the spec's active clusters, never changed. `static` pins each cluster's own GPU
 * (a plain node selector); `in-region` lets each cluster fall back through every preferred GPU its
 * region offers, in order — what a ComputeClass alone gives.
 */
export class StaticPolicy implements Policy {
  private readonly sets: RegionReplicas[];
  private readonly names: string[];
  private minutes = 0;

  constructor(
    readonly name: Extract<PolicyName, 'static' | 'in-region'>,
    spec: FleetSpec,
    env: SimEnv,
  ) {
    const active = spec.clusters.filter((c) => c.mode === 'active');
    this.names = active.map((c) => c.name);
    this.sets = active.map((c) => {
      const gpus = name === 'static' ? [c.gpu] : clusterGpuOrder(spec, c, env.catalog);
      return RegionReplicas.warmStart(c.region, gpus, env, c.replicas);
    });
  }

  step(minute: number): void {
    this.minutes = minute + 1;
    for (const s of this.sets) s.step(minute);
  }

  servingRegions(minute: number): string[] {
    return this.sets.filter((s) => s.serving(minute) > 0).map((s) => s.region);
  }

  totals(): PolicyTotals {
    return {
      ...heldTotals(this.sets),
      changes: 0,
      pullRequests: 0,
      probeGpuMinutes: 0,
      probeCost: 0,
      // Its GKE clusters and the config cluster the MultiClusterIngress needs.
      clusterMinutes: (this.sets.length + 1) * this.minutes,
      controllerMinutes: 0,
    };
  }

  members(): Member[] {
    return this.sets.map((set, i) => ({
      name: this.names[i]!,
      region: set.region,
      set,
      serving: true,
      autoscale: null,
    }));
  }
}

/**
 * A cautious failover (`failover-same-region`): each of the spec's serving slots runs in one region;
 * when it loses its capacity and its region has none, it relaunches in the next candidate region in
 * price order, one attempt at a time, each waiting for its outcome (a node provisioning time), with
 * no memory across attempts. It acts at once — no pull request, no sweep interval. Kept beside
 * `failover` (SkyPilot's default) as the pessimistic end.
 */
export class FailoverPolicy implements Policy {
  readonly name: string = 'failover-same-region';
  private readonly slots: Array<{ set: RegionReplicas; attemptUntil: number; replicas: number }>;
  private readonly order: string[];
  private readonly retired: RegionReplicas[] = [];
  private readonly entries: PolicyLogEntry[] = [];
  private changes = 0;
  private minutes = 0;

  constructor(
    private readonly spec: FleetSpec,
    private readonly env: SimEnv,
  ) {
    const spot = env.timeline.provisioning !== 'on-demand';
    const cheapest = (region: string) =>
      Math.min(...spec.gpu.preferences.map((g) => env.catalog.pricePerGpuHour(region, g, spot) ?? Infinity));
    this.order = spec.placement.candidateRegions
      .filter((r) => spec.gpu.preferences.some((g) => env.catalog.offers(r, g)))
      .sort((a, b) => cheapest(a) - cheapest(b) || a.localeCompare(b));
    this.slots = spec.clusters
      .filter((c) => c.mode === 'active')
      .map((c) => {
        const set = RegionReplicas.warmStart(c.region, this.gpusIn(c.region), env, c.replicas);
        // VMs SkyPilot launches itself: no cluster autoscaler, no back-off.
        set.autoscalerBackoff = false;
        return { set, attemptUntil: env.timeline.nodeProvisionMinutes, replicas: c.replicas };
      });
  }

  private gpusIn(region: string): string[] {
    return this.spec.gpu.preferences.filter((g) => this.env.catalog.offers(region, g));
  }

  step(minute: number): void {
    this.minutes = minute + 1;
    for (const slot of this.slots) {
      const lost = slot.set.replicas.every((r) => r.phase === 'pending');
      if (!lost) {
        slot.attemptUntil = minute + this.env.timeline.nodeProvisionMinutes;
      } else if (minute >= slot.attemptUntil && !slot.set.obtainable(minute)) {
        // This attempt failed: the next region in price order not held by another slot.
        const taken = new Set(this.slots.map((s) => s.set.region));
        const from = this.order.indexOf(slot.set.region);
        const next = [...this.order.slice(from + 1), ...this.order.slice(0, from + 1)].find((r) => !taken.has(r));
        if (next) {
          this.entries.push({
            minute,
            change: `slot-${this.slots.indexOf(slot)}: ${slot.set.region} → ${next}`,
            reason: `no capacity in ${slot.set.region} after an attempt of ${this.env.timeline.nodeProvisionMinutes} min; the next candidate region in price order`,
          });
          this.retired.push(slot.set);
          slot.set = new RegionReplicas(next, this.gpusIn(next), this.env);
          slot.set.autoscalerBackoff = false;
          slot.set.scale(slot.replicas, minute);
          this.changes++;
        }
        slot.attemptUntil = minute + this.env.timeline.nodeProvisionMinutes;
      }
      slot.set.step(minute);
    }
  }

  servingRegions(minute: number): string[] {
    return this.slots.filter((s) => s.set.serving(minute) > 0).map((s) => s.set.region);
  }

  members(): Member[] {
    return this.slots.map((s, i) => ({
      name: `slot-${i}`,
      region: s.set.region,
      set: s.set,
      serving: true,
      autoscale: null,
    }));
  }

  log(): PolicyLogEntry[] {
    return this.entries;
  }

  totals(): PolicyTotals {
    return {
      ...heldTotals([...this.retired, ...this.slots.map((s) => s.set)]),
      changes: this.changes,
      pullRequests: 0,
      probeGpuMinutes: 0,
      probeCost: 0,
      // VMs it launches itself, from a controller (SkyPilot's jobs controller: see costs.ts).
      clusterMinutes: 0,
      controllerMinutes: this.minutes,
    };
  }
}

/**
 * SkyPilot's default recovery, EAGER_NEXT_REGION (sky/jobs/recovery_strategy.py; `default=True`):
 * when a slot's VMs are preempted, it relaunches at once with the preempted region blocked, and the
 * launch's failover walks the other candidate regions cheapest first within that one launch (a
 * refused zone answers fast); only when none can be had does it retry everywhere, the preempted
 * region included, after SkyPilot's 60 s gap. The jobs controller checks a job every 15–20 s, so a
 * preemption is acted on within the simulated minute. Each slot holds one region of its own.
 */
export class EagerFailoverPolicy implements Policy {
  readonly name = 'failover';
  private readonly slots: Array<{ set: RegionReplicas; replicas: number }>;
  private readonly order: string[];
  private readonly retired: RegionReplicas[] = [];
  private readonly entries: PolicyLogEntry[] = [];
  private changes = 0;
  private minutes = 0;

  constructor(
    private readonly spec: FleetSpec,
    private readonly env: SimEnv,
  ) {
    const spot = env.timeline.provisioning !== 'on-demand';
    const cheapest = (region: string) =>
      Math.min(...spec.gpu.preferences.map((g) => env.catalog.pricePerGpuHour(region, g, spot) ?? Infinity));
    this.order = spec.placement.candidateRegions
      .filter((r) => spec.gpu.preferences.some((g) => env.catalog.offers(r, g)))
      .sort((a, b) => cheapest(a) - cheapest(b) || a.localeCompare(b));
    this.slots = spec.clusters
      .filter((c) => c.mode === 'active')
      .map((c) => {
        const set = RegionReplicas.warmStart(c.region, this.gpusIn(c.region), env, c.replicas);
        set.autoscalerBackoff = false;
        return { set, replicas: c.replicas };
      });
  }

  private gpusIn(region: string): string[] {
    return this.spec.gpu.preferences.filter((g) => this.env.catalog.offers(region, g));
  }

  step(minute: number): void {
    this.minutes = minute + 1;
    for (const slot of this.slots) {
      const lost = slot.set.replicas.length > 0 && slot.set.replicas.every((r) => r.phase === 'pending');
      if (lost && !slot.set.obtainable(minute)) {
        const taken = new Set(this.slots.map((s) => s.set.region));
        const next = this.order.find(
          (r) => !taken.has(r) && this.gpusIn(r).some((g) => zoneWithCapacity(this.env, r, g, minute) !== null),
        );
        if (next) {
          this.entries.push({
            minute,
            change: `slot-${this.slots.indexOf(slot)}: ${slot.set.region} → ${next}`,
            reason: `its VMs in ${slot.set.region} were lost and the region has no capacity; EAGER_NEXT_REGION relaunches in the cheapest other region with capacity`,
          });
          this.retired.push(slot.set);
          slot.set.scale(0, minute);
          slot.set = new RegionReplicas(next, this.gpusIn(next), this.env);
          slot.set.autoscalerBackoff = false;
          slot.set.scale(slot.replicas, minute);
          this.changes++;
        }
        // else: nothing anywhere; the pending VMs retry (their own region included) each minute.
      }
      slot.set.step(minute);
    }
  }

  servingRegions(minute: number): string[] {
    return this.slots.filter((s) => s.set.serving(minute) > 0).map((s) => s.set.region);
  }

  members(): Member[] {
    return this.slots.map((s, i) => ({
      name: `slot-${i}`,
      region: s.set.region,
      set: s.set,
      serving: true,
      autoscale: null,
    }));
  }

  log(): PolicyLogEntry[] {
    return this.entries;
  }

  totals(): PolicyTotals {
    return {
      ...heldTotals([...this.retired, ...this.slots.map((s) => s.set)]),
      changes: this.changes,
      pullRequests: 0,
      probeGpuMinutes: 0,
      probeCost: 0,
      clusterMinutes: 0,
      controllerMinutes: this.minutes,
    };
  }
}
