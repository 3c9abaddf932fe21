/** What the backtest reads from a policy each simulated minute. */
export interface Policy {
  readonly name: PolicyName;
  /** Act (a sweep, a merge, a relaunch) and let the replicas move: one simulated minute. */
  step(minute: number): Promise<void> | void;
  /** Regions the load balancer sends traffic to at this minute. */
  servingRegions(minute: number): string[];
  totals(): PolicyTotals;
}

export const POLICY_NAMES = ['static', 'in-region', 'failover', 'scout'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface PolicyTotals {
  gpuMinutes: number;
  cost: number;
  /** Placement changes applied: a region activated, drained, moved to another GPU, or a relaunch elsewhere. */
  changes: number;
  pullRequests: number;
  probeGpuMinutes: number;
}
