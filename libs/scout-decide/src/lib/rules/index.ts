import type { PlanBuilder } from '../plan-builder';
import { standDrained } from './drained-to-standby';
import { fillMinimum } from './fill-minimum';
import { finishReplacements } from './make-before-break';
import { switchOpportunistically } from './opportunistic-switch';
import { replaceBadClusters } from './replace-bad';

export type PlacementRule = (plan: PlanBuilder) => void;

/**
 * The placement rules in the order they apply (README, "How a sweep decides"). Every change goes
 * through PlanBuilder.change, which enforces the change budget (placement.maxChangesPerSweep) and
 * records what it held back; health is assessed before any rule runs (../health).
 */
export const RULES: ReadonlyArray<{ name: string; apply: PlacementRule }> = [
  { name: 'make-before-break', apply: finishReplacements },
  { name: 'replace bad clusters', apply: replaceBadClusters },
  { name: 'fill the minimum', apply: fillMinimum },
  { name: 'drained to standby', apply: standDrained },
  { name: 'opportunistic switch', apply: switchOpportunistically },
];

export { finishReplacements, replaceBadClusters, fillMinimum, standDrained, switchOpportunistically };
