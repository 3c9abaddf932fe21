import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { PlanBuilder, type DecideOptions, type PlacementSignals } from './plan-builder';
import { RULES } from './rules';
import type { FleetState, Plan } from './types';

export type { DecideOptions, PlacementSignals } from './plan-builder';
export { eligibilitySummary } from './plan-builder';

/**
 * Decide the placement: filter → score → select, each step with reasons. Pure: the same input gives
 * the same plan. The health of every cluster is assessed first (./health); then the rules apply in
 * order (./rules), each through the plan builder, which keeps the change budget:
 * 1. make-before-break: a cluster activated to replace another (`replaces`) must have every replica
 *    ready before the replaced one goes to draining;
 * 2. a bad serving cluster (N consecutive bad sweeps) first tries another preferred GPU in its own
 *    region, then a replacement region; it is drained without one only if the others still make the
 *    minimum; never below minServingRegions on the scout's own judgement;
 * 3. below the minimum, the best eligible regions are activated;
 * 4. draining goes to standby after the drain time;
 * 5. a healthy region is switched only for a candidate better by switchMargin, after minDwellMinutes;
 * and at most maxChangesPerSweep cluster changes in all; unknown signals never count as unavailable.
 * A replacement that fails before it was ever ready is withdrawn, and a region added to reach the
 * minimum replaces the failed one it stands in for: the fleet never grows by a region per incident
 * (the spec itself refuses more than maxServingRegions active regions besides replacements in flight).
 */
export function decide(
  spec: FleetSpec,
  signals: PlacementSignals,
  fleet: FleetState,
  now: Date,
  opts: DecideOptions,
): Plan {
  const plan = new PlanBuilder(spec, signals, fleet, now, opts);
  for (const rule of RULES) rule.apply(plan);
  return plan.build();
}
