export * from './lib/types';
export { decide, eligibilitySummary } from './lib/decide';
export type { DecideOptions, PlacementSignals } from './lib/decide';
export { FILTERS, SCORES, STOCKOUT_BLOCK_WEIGHT, PROBE_CONFIRM_WEIGHT, UNKNOWN_DISCOUNT, shortGpu } from './lib/plugins';
export type { FilterPlugin, ScorePlugin, PluginContext, ScoreContext } from './lib/plugins';
export { applyPlan, observedFromSignals } from './lib/state';
export { renderProposal } from './lib/proposal';
export type { FileStat, ProposalText } from './lib/proposal';
