import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { compressedClock, type SimClock } from './clock';
import { startSandbox, type EmbeddedSandbox } from './sandbox';
import { SandboxWorld } from './world';
import type { Fault } from './http';

export interface EmbeddedOptions {
  spec: FleetSpec;
  seed?: number;
  /** Simulated seconds per real second. */
  timeFactor?: number;
  /** Simulated start time (default: sandboxEpoch(seed), never the real date, so a seed replays the same). */
  start?: Date;
  /** A clock to run on instead (tests: a ManualClock, so no run depends on the machine's speed). */
  clock?: SimClock;
  faults?: Fault[];
  /** Files on the sandbox GitHub repository's default branch. */
  githubFiles?: Record<string, string>;
  /** Lifetime of issued access tokens, real seconds (default 3599, as Google's). */
  tokenLifetimeSeconds?: number;
}

/**
 * Where a seed's simulated time starts: a fixed instant, so one seed gives the same world, the same
 * evidence timestamps and the same output on any day. Seeds spread the start over a week of hours
 * (time of day and weekday can matter to capacity).
 */
export function sandboxEpoch(seed: number): Date {
  return new Date(Date.UTC(2026, 10, 23, 0, 0, 0) + (Math.abs(Math.trunc(seed)) % 168) * 3_600_000);
}

/** The embedded default: a seeded world over the spec and its loopback servers, ready for the adapters. */
export async function startEmbeddedSandbox(opts: EmbeddedOptions): Promise<EmbeddedSandbox> {
  const clock = opts.clock ?? compressedClock(opts.start ?? sandboxEpoch(opts.seed ?? 1), opts.timeFactor ?? 120);
  const world = new SandboxWorld({ seed: opts.seed ?? 1, clock, spec: opts.spec });
  const sandbox = await startSandbox(world, {
    faults: opts.faults,
    githubFiles: opts.githubFiles,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds,
  });
  return {
    sandbox,
    world,
    connection: sandbox.connection,
    close: () => sandbox.close(),
  };
}
