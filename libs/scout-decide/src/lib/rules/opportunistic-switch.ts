import type { PlanBuilder } from '../plan-builder';

/**
 * Rule 5, opportunistic switch: the weakest healthy serving region (past its dwell time) is replaced
 * by a candidate that scores better by more than placement.switchMargin — one at a time, and never
 * while another replacement is in progress. Make-before-break as for a bad cluster.
 */
export function switchOpportunistically(p: PlanBuilder): void {
  if (p.work.some((c) => c.mode === 'active' && c.replaces)) return;
  const weakest = p
    .activeWork()
    .filter((c) => p.isGood(c.name) && p.dwellOk(c.name))
    .map((c) => ({ c, cand: p.evaluate(c.region, [c.gpu], c.name) }))
    .sort((a, b) => a.cand.score - b.cand.score)[0];
  if (!weakest) return;
  const repl = p.bestReplacement(weakest.c, false);
  if (repl && repl.score > weakest.cand.score * (1 + p.policy.switchMargin)) {
    const gain = Math.round((repl.score / Math.max(weakest.cand.score, 1e-9) - 1) * 100);
    p.activate(
      repl,
      `scores ${repl.score.toFixed(2)} against ${weakest.cand.score.toFixed(2)} for ${weakest.c.name} (+${gain}% > switchMargin ${Math.round(p.policy.switchMargin * 100)}%); replaces it once ready`,
      weakest.c.name,
    );
  }
}
