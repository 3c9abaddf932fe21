import { show } from '../issues';
import type { SemanticContext } from './context';

/** placement: candidate regions that exist and offer a preferred GPU; a consistent serving range. */
export function checkPlacement(ctx: SemanticContext): void {
  const { add, catalog, placement, checkRegion, validPrefs, candidates } = ctx;
  if (placement) {
    placement.candidateRegions.forEach((r, i) => {
      const path = ['placement', 'candidateRegions', i];
      if (candidates.has(r)) return add(path, `${show(r)} is listed twice`);
      candidates.add(r);
      if (!checkRegion(path, r)) return;
      if (validPrefs.length && !validPrefs.some((g) => catalog.offers(r, g))) {
        add(
          path,
          `${show(r)} offers none of gpu.preferences (${validPrefs.join(', ')}); it offers: ${catalog.gpusInRegion(r).join(', ') || 'no GPUs'}`,
        );
      }
    });
    if (placement.minServingRegions > placement.maxServingRegions) {
      add(
        ['placement', 'minServingRegions'],
        `${placement.minServingRegions} is greater than placement.maxServingRegions (${placement.maxServingRegions}); lower it or raise the maximum`,
      );
    }
    if (placement.maxServingRegions > candidates.size) {
      add(
        ['placement', 'maxServingRegions'],
        `${placement.maxServingRegions} exceeds the number of candidate regions (${candidates.size}); add candidates or lower it`,
      );
    }
  }
}
