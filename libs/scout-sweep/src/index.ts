export { runSweep, changedFiles } from './lib/sweep';
export type { ProbeRun, SweepDeps, SweepOptions, SweepResult, SweepStep } from './lib/sweep';
