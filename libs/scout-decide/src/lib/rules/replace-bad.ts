import type { PlanBuilder } from '../plan-builder';

/**
 * Rule 2, replace bad clusters: a serving cluster bad for placement.badSweepsBeforeDrop consecutive
 * sweeps (hysteresis) first tries another preferred GPU type in its own region — only on positive
 * evidence, since its ComputeClass already tries every preferred type there — then a replacement
 * region (make-before-break: it keeps serving until the replacement is ready). Without a
 * replacement it is drained only if the others still make the minimum; otherwise it stays.
 */
export function replaceBadClusters(p: PlanBuilder): void {
  for (const c of p.activeWork()) {
    const h = p.healthOf(c.name)!;
    if (p.isTouched(c.name) || h.health !== 'bad') continue;
    if (h.badSweeps < p.policy.badSweepsBeforeDrop) {
      p.notes.push(
        `${c.name}: bad for ${h.badSweeps}/${p.policy.badSweepsBeforeDrop} sweeps (${h.reason}); waiting before acting (placement.badSweepsBeforeDrop)`,
      );
      continue;
    }
    if (p.replacedSoon(c.name)) continue; // a replacement is on its way (rule 1)
    if (!c.replaces && p.hedgeWaits(c)) {
      p.notes.push(
        `${c.name}: Spot missing (${h.reason}); the hedge's on-demand replicas cover it; it moves only once Spot was missing for most of gpu.hedge.moveAfterMinutes (${p.spec.gpu.hedge.moveAfterMinutes} min)`,
      );
      continue;
    }
    // A replacement that fails before it was ever ready is withdrawn, not replaced in turn: a
    // replacement of the replacement would leave the original without one, so once the original
    // recovered the fleet would keep it, the second replacement and the rest — one region more per
    // such chain (on-demand, where a pod keeps its node, for good). The original gets another
    // replacement on the next sweep.
    const original = c.replaces ? p.byName(c.replaces) : undefined;
    if (original?.mode === 'active') {
      if (
        p.retire(
          c,
          `replacement for ${original.name} failing for ${h.badSweeps} sweeps (${h.reason}) before it was ever ready: withdrawn; ${original.name} gets another replacement`,
          { replaces: null },
        )
      )
        p.defer(
          null,
          'add-cluster',
          `${original.name}: its replacement ${c.name} was withdrawn; the next sweep picks another replacement (this one already changed the plan's view of ${original.name})`,
        );
      continue;
    }
    // In-region fallback: another preferred GPU type here beats moving the region — but only with
    // gpu.selection node-selector, where the pods ask for the cluster's type alone, and only on
    // positive evidence (a probe or pods got it). With a ComputeClass the pods already try every
    // preferred type the region offers, in order: failing pods mean those failed too, and switching
    // the cluster's type would only reorder the same list (however recent a probe's success was).
    if (p.spec.gpu.selection === 'node-selector') {
      const fallback = p.evaluate(
        c.region,
        p.prefs.filter((g) => g !== c.gpu),
      );
      const confirmed = (p.evidenceOf(c.region, fallback.gpu)?.capacity ?? 0) > 0;
      if (fallback.eligible && !confirmed)
        p.notes.push(
          `${c.name}: ${fallback.gpu} in ${c.region} is not confirmed by a probe; moving region instead of switching GPU type`,
        );
      if (fallback.eligible && confirmed) {
        p.change(
          c,
          'switch-gpu',
          { gpu: fallback.gpu },
          `${c.gpu} failing in ${c.region} for ${h.badSweeps} sweeps (${h.reason}); ${fallback.gpu} is eligible there, so the cluster changes GPU type instead of moving region`,
        );
        continue;
      }
    }
    const remaining = p.readyOthers(c.name);
    const belowMin = remaining < p.policy.minServingRegions;
    const repl = p.bestReplacement(c, belowMin, p.movesSlot(c));
    if (!repl && p.bestReplacement(c, belowMin)) {
      // Hedged only (movesSlot accepts every candidate otherwise).
      p.notes.push(
        `${c.name}: Spot missing for ${h.badSweeps} sweeps (${h.reason}); the hedge's on-demand replicas cover it and no candidate's learned uptime beats ${c.region}'s ${p.uptimeOf(c.region, c.gpu).toFixed(2)} by placement.switchMargin ${p.policy.switchMargin}: the slot stays`,
      );
      continue;
    }
    if (repl) {
      p.activate(
        repl,
        `replaces ${c.name}: ${c.gpu} failing in ${c.region} for ${h.badSweeps} sweeps (${h.reason}); ${repl.region} scores ${repl.score.toFixed(2)} on ${repl.gpu}. ${c.name} is drained only once ${repl.cluster} is ready`,
        c.name,
      );
    } else if (remaining >= p.policy.minServingRegions) {
      p.retire(
        c,
        `failing for ${h.badSweeps} sweeps (${h.reason}) and no eligible replacement; ${remaining} other region(s) still serve (min ${p.policy.minServingRegions})`,
      );
    } else {
      p.notes.push(
        `${c.name} stays active although failing (${h.reason}): no eligible replacement (${p.eligibilityLine()}) and draining it would leave ${remaining} serving region(s), below the minimum of ${p.policy.minServingRegions}`,
      );
    }
  }
}
