import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { ManualClock } from './clock';
import { sandboxEpoch } from './embedded';
import { keyedRng } from './rng';
import { SandboxWorld } from './world';

/**
 * The sandbox's stockout process (alternating available and stocked-out periods per zone and GPU,
 * seeded) as a capacity record for `region-scout backtest` without traces: minute m is m minutes after
 * the seed's fixed epoch. Shaped like the backtest's CapacitySource.
 */
export function syntheticCapacity(
  seed: number,
  spec: FleetSpec,
  catalog?: GpuCatalog,
): {
  start: Date;
  capacity: { has(zone: string, gpu: string, minute: number): boolean; lengthMinutes: null; describe(): string };
} {
  const start = sandboxEpoch(seed);
  const world = new SandboxWorld({ seed, clock: new ManualClock(start), spec, catalog });
  const t0 = start.getTime();
  return {
    start,
    capacity: {
      has: (zone, gpu, minute) => world.stockoutSince(zone, gpu, t0 + minute * 60_000) === null,
      lengthMinutes: null,
      describe: () => `synthetic capacity (the sandbox's stockout process, seed ${seed})`,
    },
  };
}

/** Seeded uniform draws for the backtest's own randomness (node events), one stream per name. */
export const backtestRandom =
  (seed: number) =>
  (stream: string): (() => number) =>
    keyedRng(seed, 'backtest', stream);
