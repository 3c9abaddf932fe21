export * from './lib/types';
export { decide, eligibilitySummary } from './lib/decide';
export type { DecideOptions, PlacementSignals } from './lib/decide';
export { PlanBuilder } from './lib/plan-builder';
export { RULES } from './lib/rules';
export type { PlacementRule } from './lib/rules';
export {
  FILTERS,
  SCORES,
  STOCKOUT_BLOCK_WEIGHT,
  PROBE_CONFIRM_WEIGHT,
  UNKNOWN_DISCOUNT,
  shortGpu,
} from './lib/plugins';
export type { FilterPlugin, ScorePlugin, PluginContext, ScoreContext } from './lib/plugins';
export { applyPlan, observedFromSignals } from './lib/state';
export { renderProposal } from './lib/proposal';
export type { FileStat, ProposalOptions, ProposalText } from './lib/proposal';
export { reviewSpecChange, formatReview, REVIEW_MARKER } from './lib/review';
export type { SpecReview } from './lib/review';
export { quotaPlan, quotaVerdict, quotaPreferenceId } from './lib/quota-plan';
export type { QuotaNeed, QuotaPlan, QuotaReading, QuotaVerdict } from './lib/quota-plan';
export { fleetFacts, factsToMetricPoints } from './lib/facts';
export type { FleetFacts } from './lib/facts';
