import type { PlanBuilder } from '../plan-builder';

/**
 * Rule 3, fill the minimum: while fewer than placement.minServingRegions regions serve, activate the
 * best eligible ones. Unknown and starting clusters count as serving (fail-static), and so does a
 * bad one within the hysteresis window; a cluster being replaced does not (its replacement counts).
 */
export function fillMinimum(p: PlanBuilder): void {
  const failed = (name: string) => {
    const h = p.healthOf(name);
    return !p.isTouched(name) && h?.health === 'bad' && h.badSweeps >= p.policy.badSweepsBeforeDrop;
  };
  const counting = () => p.activeWork().filter((c) => !failed(c.name) && !p.replacedSoon(c.name)).length;
  while (counting() < p.policy.minServingRegions && p.budgetLeft() > 0) {
    const cand = p.bestReplacement(undefined, true);
    if (!cand) {
      p.notes.push(
        `only ${counting()} serving region(s), below the minimum of ${p.policy.minServingRegions}, and nothing to add: ${p.eligibilityLine()}`,
      );
      break;
    }
    // One for one: a failed cluster nobody replaces yet is what this region stands in for, so it is
    // drained once this one is ready (rule 1) instead of staying on beside it when it recovers.
    const standsFor = p.activeWork().find((c) => failed(c.name) && !p.replacedSoon(c.name));
    if (
      !p.activate(
        cand,
        `only ${counting()} region(s) serve, below placement.minServingRegions (${p.policy.minServingRegions}); ${cand.region} is the best eligible region (score ${cand.score.toFixed(2)})${standsFor ? `; it replaces ${standsFor.name}` : ''}`,
        standsFor?.name,
      )
    )
      break;
  }
  if (counting() < p.policy.minServingRegions && p.budgetLeft() <= 0) {
    p.holdBack(
      null,
      'activate',
      `${p.policy.minServingRegions - counting()} more region(s)`,
      `needed to reach placement.minServingRegions (${p.policy.minServingRegions}); the next sweep continues`,
    );
  }
}
