import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { compressedClock } from './clock';
import { startSandbox, type EmbeddedSandbox } from './sandbox';
import { SandboxWorld } from './world';
import type { Fault } from './http';

export interface EmbeddedOptions {
  spec: FleetSpec;
  seed?: number;
  /** Simulated seconds per real second. */
  timeFactor?: number;
  /** Simulated start time (default: now). */
  start?: Date;
  faults?: Fault[];
  /** Files on the sandbox GitHub repository's default branch. */
  githubFiles?: Record<string, string>;
  /** Lifetime of issued access tokens, real seconds (default 3599, as Google's). */
  tokenLifetimeSeconds?: number;
}

/** The embedded default: a seeded world over the spec and its loopback servers, ready for the adapters. */
export async function startEmbeddedSandbox(opts: EmbeddedOptions): Promise<EmbeddedSandbox> {
  const clock = compressedClock(opts.start ?? new Date(), opts.timeFactor ?? 120);
  const world = new SandboxWorld({ seed: opts.seed ?? 1, clock, spec: opts.spec });
  const sandbox = await startSandbox(world, { faults: opts.faults, githubFiles: opts.githubFiles, tokenLifetimeSeconds: opts.tokenLifetimeSeconds });
  return { sandbox, world, connection: { project: world.project, endpoints: sandbox.endpoints, refreshToken: sandbox.refreshToken }, close: () => sandbox.close() };
}
