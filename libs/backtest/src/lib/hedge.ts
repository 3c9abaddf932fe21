import { hedgeCluster, hedgeTarget, type ClusterSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { RegionReplicas, type SimEnv } from './replicas';

/**
 * The hedge's fast loop, as rendered for gpu.provisioning hedged (docs/hedging.md): every active
 * cluster runs its replicas on Spot only; the hedge cluster (hedgeCluster) has a second Deployment
 * of on-demand replicas that a KEDA ScaledObject sizes to the fleet's missing Spot replicas —
 * target − Spot replicas serving, seen through Managed Service for Prometheus — at once when that
 * grows, and only after it has stayed lower for gpu.hedge.cooldownMinutes when it shrinks (the HPA's
 * scale-down stabilisation window), one pod a minute. Its pods stop as any scale-down does: their
 * work drains first.
 */

/**
 * Minutes from a Spot replica leaving service to the ScaledObject seeing it: the ready gate's gauge
 * is scraped every 30 s (the rendered PodMonitoring), the query keeps only samples of the last minute
 * (max_over_time[1m], so a pod that stopped reporting drops out without Prometheus' 5-minute
 * lookback), and KEDA polls every 30 s (pollingInterval).
 */
export const HEDGE_METRIC_MINUTES = 2;

/** The on-demand Deployment of the hedge cluster and its ScaledObject, minute by minute. */
export class HedgeModel {
  /** Current on-demand replicas by cluster (the hedge cluster's; an old one's drain to 0 when it moves). */
  readonly sets = new Map<string, RegionReplicas>();
  private readonly desiredSeen: number[] = [];
  private readonly spotServing: number[] = [];
  private clusterName: string | null = null;
  /** Where the on-demand replicas moved, and how many were serving then (the policy's log). */
  readonly moves: Array<{ minute: number; from: string | null; to: string | null; serving: number }> = [];

  constructor(private readonly env: SimEnv) {}

  /**
   * One minute: record the Spot replicas serving, size the on-demand replicas from what the metric
   * shows, and let their pods move.
   */
  step(
    minute: number,
    spec: FleetSpec,
    spotServing: number,
    gpusOf: (c: ClusterSpec) => string[],
    exists: (c: ClusterSpec) => boolean,
  ): void {
    this.spotServing.push(spotServing);
    const anchor = hedgeCluster(spec, this.env.catalog);
    const name = anchor && exists(anchor) ? anchor.name : null;
    // The hedge moved (a merged PR changed the active clusters): the old Deployment is gone from Git.
    if (name !== this.clusterName) {
      const old = this.clusterName ? this.sets.get(this.clusterName) : undefined;
      this.moves.push({ minute, from: this.clusterName, to: name, serving: old?.serving(minute) ?? 0 });
      old?.scale(0, minute);
      this.clusterName = name;
      this.desiredSeen.length = 0;
    }
    if (anchor && name) {
      let set = this.sets.get(name);
      if (!set) {
        set = new RegionReplicas(anchor.region, gpusOf(anchor), {
          ...this.env,
          timeline: { ...this.env.timeline, provisioning: 'on-demand' },
        });
        this.sets.set(name, set);
      }
      const seen = this.spotServing[Math.max(0, this.spotServing.length - 1 - HEDGE_METRIC_MINUTES)]!;
      const max = spec.gpu.hedge.maxOnDemandReplicas ?? hedgeTarget(spec);
      const desired = Math.min(max, Math.max(0, hedgeTarget(spec) - seen));
      this.desiredSeen.push(desired);
      const window = this.desiredSeen.slice(-spec.gpu.hedge.cooldownMinutes);
      const stable = Math.max(...window);
      const current = set.replicas.length;
      if (desired > current) set.scale(desired, minute);
      else if (stable < current) set.scale(current - 1, minute);
    }
    for (const set of this.sets.values()) set.step(minute);
  }

  /** The on-demand replicas' sets that serve (the hedge cluster's). */
  current(): RegionReplicas | null {
    return this.clusterName ? (this.sets.get(this.clusterName) ?? null) : null;
  }
}
