import type { PlanBuilder } from '../plan-builder';

/**
 * Rule 1, make-before-break: a cluster activated to replace another (`replaces`) must have every
 * replica ready before the replaced one drains, and the drain must not leave fewer ready regions
 * than placement.minServingRegions. A replacement whose old cluster no longer serves is tidied.
 */
export function finishReplacements(p: PlanBuilder): void {
  for (const x of p.activeWork().filter((c) => c.replaces)) {
    const old = p.byName(x.replaces!);
    if (!old || old.mode !== 'active') {
      p.change(x, 'tidy', { replaces: null }, `${x.replaces} no longer serves; replacement finished`);
      continue;
    }
    const remaining = p.readyOthers(old.name);
    if (p.isGood(x.name) && remaining < p.policy.minServingRegions) {
      p.notes.push(
        `${old.name} keeps serving: ${x.name} is ready, but draining ${old.name} would leave ${remaining} ready region(s), below the minimum of ${p.policy.minServingRegions}`,
      );
    } else if (p.isGood(x.name)) {
      const h = p.healthOf(x.name)!;
      if (
        p.retire(
          old,
          `replaced by ${x.name} (${x.region}), which has ${h.readyReplicas}/${x.replicas} ready replicas: make-before-break`,
          { replaces: null },
        )
      ) {
        p.change(x, 'tidy', { replaces: null }, `replacement of ${old.name} complete`);
      }
    } else {
      p.notes.push(
        `${old.name} keeps serving until its replacement ${x.name} has ready replicas (${p.healthOf(x.name)?.reason ?? 'not seen yet'})`,
      );
    }
  }
}
