export { runSweep, changedFiles, rendererSkew } from './lib/sweep';
export type { CheckoutPort, ProbeRun, SweepDeps, SweepOptions, SweepResult, SweepStep } from './lib/sweep';
