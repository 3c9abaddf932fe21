export { runSweep, changedFiles } from './lib/sweep';
export type { CheckoutPort, ProbeRun, SweepDeps, SweepOptions, SweepResult, SweepStep } from './lib/sweep';
