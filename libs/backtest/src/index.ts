export { runBacktest, percentile, withAutoscaling } from './lib/backtest';
export type { BacktestOptions, BacktestResult, Interval, Oracles, PolicyResult } from './lib/backtest';
export { TimelineSchema, TimelineError, timelineFor, cronStepMinutes } from './lib/timeline';
export type { Timeline } from './lib/timeline';
export {
  TraceCapacity,
  TraceError,
  TraceMapSchema,
  TraceFileSchema,
  parseTraceFile,
  parseTraceMap,
} from './lib/capacity';
export type { CapacitySource, TraceFile, TraceMap } from './lib/capacity';
export { POLICY_NAMES } from './lib/policy';
export type { Policy, PolicyName, PolicyTotals } from './lib/policy';
export { RegionReplicas } from './lib/replicas';
export type { SimEnv } from './lib/replicas';
export { loadTraceFolder } from './lib/io/traces';
export { renderReport, reportRows, REPORT_COLUMNS, demandRows, DEMAND_COLUMNS } from './lib/report';
export { DemandSim } from './lib/traffic';
export type { DemandResult } from './lib/traffic';
export { parseDemandCsv, DemandError } from './lib/demand-file';
export type { Member } from './lib/policy';
export { demandArrivals } from './lib/demand';
export type { DemandSource, Generation } from './lib/demand';
export { KedaAutoscaler } from './lib/autoscaler';
export type { ScaledObjectModel, AutoscalerSignals } from './lib/autoscaler';
