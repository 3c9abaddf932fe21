export { SandboxWorld, AdmissionError } from './lib/world';
export type { WorldOptions, ProbeJob } from './lib/world';
export { compressedClock, ManualClock } from './lib/clock';
export type { SimClock } from './lib/clock';
export { startSandbox, SANDBOX_TOKEN } from './lib/sandbox';
export type { Sandbox, SandboxEndpoints } from './lib/sandbox';
export type { Fault, RequestLog, ApiName } from './lib/http';
