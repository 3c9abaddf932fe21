export { SandboxWorld, AdmissionError } from './lib/world';
export { SandboxStorage } from './lib/storage/storage';
export { SandboxMonitoring } from './lib/monitoring/monitoring';
export type { RecordedPoint, WrittenSeries } from './lib/monitoring/monitoring';
export type { WorldOptions, ProbeJob } from './lib/world';
export { compressedClock, ManualClock } from './lib/clock';
export type { SimClock } from './lib/clock';
export { startSandbox, SandboxTokens, SANDBOX_REFRESH_TOKEN } from './lib/sandbox';
export type { Sandbox, SandboxEndpoints, SandboxGitHubTarget, SandboxOptions } from './lib/sandbox';
export { SandboxGitHub, GitHubRefusal } from './lib/github/repository';
export type {
  BranchProtection,
  CheckRun,
  MergeMethod,
  MergeRecord,
  MergeableState,
  SandboxCommit,
  SandboxPull,
} from './lib/github/repository';
export type { Fault, RequestLog, ApiName } from './lib/http';
export { sandboxEpoch, startEmbeddedSandbox } from './lib/embedded';
export type { EmbeddedOptions } from './lib/embedded';
export type { EmbeddedSandbox } from './lib/sandbox';
export { syntheticCapacity, backtestRandom } from './lib/backtest-inputs';
export { diurnalDemand } from './lib/demand';
export type { SandboxDemand } from './lib/demand';
export { evaluatePromql, alertFiring, PromqlError, parseDuration } from './lib/monitoring/promql';
export type { Sample as PromqlSample, Series as PromqlSeries } from './lib/monitoring/promql';
