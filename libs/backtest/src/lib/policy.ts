import type { RegionReplicas } from './replicas';
/** What the backtest reads from a policy each simulated minute. */
export interface Policy {
  /** The policy, and its size where it has one (e.g. spothedge-2+1). */
  readonly name: string;
  /** Act (a sweep, a merge, a relaunch) and let the replicas move: one simulated minute. */
  step(minute: number): Promise<void> | void;
  /** Regions the load balancer sends traffic to at this minute. */
  servingRegions(minute: number): string[];
  totals(): PolicyTotals;
  /** The pods behind the load balancer and, for an autoscaled fleet, what each cluster may scale to. */
  members(minute: number): Member[];
  /** What it changed and why (none: it never changes anything). */
  log?(): PolicyLogEntry[];
}

/** One change a policy made: the minute, what, and why in its own words. */
export interface PolicyLogEntry {
  minute: number;
  change: string;
  reason: string;
}

/** A change as the result reports it: when (ISO), what, why. */
export interface LogEntry {
  at: string;
  change: string;
  reason: string;
}

/** One cluster of a policy's fleet as the demand simulation sees it. */
export interface Member {
  name: string;
  region: string;
  set: RegionReplicas;
  /** In the load balancer (an active cluster that exists). */
  serving: boolean;
  /** Autoscaled (autoscaling.enabled): the ScaledObject's bounds; null: replicas fixed by the policy. */
  autoscale: { role: 'warm' | 'cold'; min: number; max: number; target: number; idleMinutes: number } | null;
}

export const POLICY_NAMES = [
  'static',
  'in-region',
  'failover',
  'failover-same-region',
  'spothedge',
  'scout',
  'autoscaled',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface PolicyTotals {
  gpuMinutes: number;
  /** The replicas' GPU time at list prices, USD. */
  gpuCost: number;
  /** Placement changes applied: a region activated, drained, moved to another GPU, or a relaunch elsewhere. */
  changes: number;
  pullRequests: number;
  probeGpuMinutes: number;
  /** The probes' GPU time at list prices, USD. */
  probeCost: number;
  /** GKE cluster-minutes: every cluster that existed (standby too) and the config cluster. */
  clusterMinutes: number;
  /** Controller VM minutes (SkyServe's, SkyPilot's jobs controller). */
  controllerMinutes: number;
}
