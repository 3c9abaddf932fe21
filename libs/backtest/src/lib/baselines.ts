import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { clusterGpuOrder } from '@gpu-fleet/manifests';
import type { Member, Policy, PolicyName, PolicyTotals } from './policy';
import { heldTotals, RegionReplicas, type SimEnv } from './replicas';

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
 * What single-shot provisioners do (SkyPilot's failover): each of the spec's serving slots runs in
 * one region; when it loses its capacity and its region has none, it relaunches in the next candidate
 * region in price order, one attempt at a time, each waiting for its outcome (a node provisioning
 * time), with no memory across attempts. It acts at once — no pull request, no sweep interval.
 */
export class FailoverPolicy implements Policy {
  readonly name = 'failover' as const;
  private readonly slots: Array<{ set: RegionReplicas; attemptUntil: number; replicas: number }>;
  private readonly order: string[];
  private readonly retired: RegionReplicas[] = [];
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
