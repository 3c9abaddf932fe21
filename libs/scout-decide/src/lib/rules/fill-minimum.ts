import type { PlanBuilder } from '../plan-builder';

/**
 * Rule 3, fill the minimum: while fewer than placement.minServingRegions regions serve, activate the
 * best eligible ones. Unknown and starting clusters count as serving (fail-static), and so does a
 * bad one within the hysteresis window; a cluster being replaced does not (its replacement counts).
 */
export function fillMinimum(p: PlanBuilder): void {
  const failed = (name: string) => {
    const h = p.healthOf(name);
    return (
      !p.isTouched(name) &&
      h?.health === 'bad' &&
      h.badSweeps >= p.policy.badSweepsBeforeDrop &&
      // Hedged: a slot the hedge covers counts until it may move (rule 2 says so in its notes).
      !p.hedgeWaits(p.byName(name)!)
    );
  };
  const counting = () => p.activeWork().filter((c) => !failed(c.name) && !p.replacedSoon(c.name)).length;
  // Hedged: a failed Spot slot the hedge covers is replaced only by a region clearly likelier to have
  // Spot (PlanBuilder.movesSlot), as rule 2 does; it stays a slot, so it counts.
  const covered = new Set<string>();
  while (counting() + covered.size < p.policy.minServingRegions && p.budgetLeft() > 0) {
    // One for one: a failed cluster nobody replaces yet is what this region stands in for, so it is
    // drained once this one is ready (rule 1) instead of staying on beside it when it recovers.
    const standsFor = p.activeWork().find((c) => failed(c.name) && !p.replacedSoon(c.name) && !covered.has(c.name));
    const cand = p.bestReplacement(undefined, true, p.movesSlot(standsFor));
    if (!cand && standsFor && p.bestReplacement(undefined, true)) {
      covered.add(standsFor.name);
      p.notes.push(
        `${standsFor.name}: Spot missing; the hedge's on-demand replicas cover it and no candidate's learned uptime beats ${standsFor.region}'s ${p.uptimeOf(standsFor.region, standsFor.gpu).toFixed(2)} by placement.switchMargin ${p.policy.switchMargin}: the slot stays`,
      );
      continue;
    }
    if (!cand) {
      const later = p.nextSweepCandidate();
      if (later)
        p.defer(
          null,
          'activate',
          `only ${counting()} serving region(s), below placement.minServingRegions (${p.policy.minServingRegions}); the eligible ${later.region} (${later.cluster}) was changed by this plan, so the next sweep may take it`,
        );
      else
        p.notes.push(
          `only ${counting()} serving region(s), below the minimum of ${p.policy.minServingRegions}, and nothing to add: ${p.eligibilityLine()}`,
        );
      break;
    }
    if (
      !p.activate(
        cand,
        `only ${counting()} region(s) serve, below placement.minServingRegions (${p.policy.minServingRegions}); ${cand.region} is the best eligible region (score ${cand.score.toFixed(2)})${standsFor ? `; it replaces ${standsFor.name}` : ''}`,
        standsFor?.name,
      )
    )
      break;
  }
  if (counting() + covered.size < p.policy.minServingRegions && p.budgetLeft() <= 0) {
    p.holdBack(
      null,
      'activate',
      `${p.policy.minServingRegions - counting() - covered.size} more region(s)`,
      `needed to reach placement.minServingRegions (${p.policy.minServingRegions}); the next sweep continues`,
    );
  }
}
