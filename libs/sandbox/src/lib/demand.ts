import type { ProxyContinent } from '@gpu-fleet/fleet-spec';
import { hash32, keyedRng, rng } from './rng';

/**
 * Demand for the WebUI by continent, the sandbox's model of users: generations started per minute.
 * The continents are the load balancer's `proxy_continent` values (fleet-spec proxyContinent).
 */
export const CONTINENTS: readonly ProxyContinent[] = ['America', 'Europe', 'Asia'];

export interface DemandSource {
  describe(): string;
  /** Expected generations started per minute by users of `continent` at `minute` of the run. */
  rate(continent: ProxyContinent, minute: number): number;
  /** Minutes the record covers (null: unbounded). */
  readonly lengthMinutes: number | null;
}

/** One generation a user starts: where they are and how many minutes it keeps a GPU busy. */
export interface Generation {
  continent: ProxyContinent;
  minutes: number;
}

/**
 * The sandbox's users: an internal tool's day on each continent — a smooth daily cycle peaking
 * mid-afternoon local time, near zero at night, weekends at a third, every day scaled by a seeded
 * factor in [0.7, 1.3]. Peak rates (generations started per minute) are chosen, not measured: a team
 * of a few dozen active users per continent. `start` anchors minute 0 in UTC (the weekday and hour).
 */
export function diurnalDemand(
  seed: number,
  start: Date,
  peakPerMinute: Record<ProxyContinent, number> = { America: 1.2, Europe: 0.9, Asia: 0.4 },
): DemandSource {
  // UTC offset of each continent's users (hours): central US, central Europe, China/Japan.
  const offset: Record<ProxyContinent, number> = { America: -6, Europe: 1, Asia: 8.5 };
  const t0 = start.getTime();
  const dayFactor = new Map<string, number>();
  return {
    lengthMinutes: null,
    describe: () =>
      `synthetic diurnal demand (seed ${seed}; peak generations/min ${CONTINENTS.map((c) => `${c} ${peakPerMinute[c]}`).join(', ')})`,
    rate(continent, minute) {
      const local = new Date(t0 + minute * 60_000 + offset[continent] * 3_600_000);
      const hour = local.getUTCHours() + local.getUTCMinutes() / 60;
      const weekend = local.getUTCDay() === 0 || local.getUTCDay() === 6;
      const dayKey = `${continent}|${Math.floor((t0 + minute * 60_000 + offset[continent] * 3_600_000) / 86_400_000)}`;
      let f = dayFactor.get(dayKey);
      if (f === undefined) dayFactor.set(dayKey, (f = 0.7 + 0.6 * keyedRng(seed, 'demand-day', dayKey)()));
      // Raised cosine around 14:00, zero outside 06:00–22:00.
      const phase = (hour - 14) / 8;
      const shape = Math.abs(phase) >= 1 ? 0 : (0.5 + 0.5 * Math.cos(Math.PI * phase)) ** 1.5;
      return peakPerMinute[continent] * shape * f * (weekend ? 1 / 3 : 1);
    },
  };
}

/** Poisson draw (Knuth; rates here are small). */
function poisson(next: () => number, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  let p = next();
  while (p > limit) {
    k++;
    p *= next();
  }
  return k;
}

/**
 * The generations started at each minute, drawn from `source`: the same seed gives the same users
 * to every policy. A generation keeps its GPU for 1 minute, longer with probability 0.25 per extra
 * minute (batches, large images), never beyond `maxMinutes` (the load balancer's backend timeout).
 */
export function demandArrivals(
  seed: number,
  source: DemandSource,
  maxMinutes: number,
): (minute: number) => Generation[] {
  return (minute) => {
    const next = rng(hash32(`${seed}|arrivals|${minute}`));
    const out: Generation[] = [];
    for (const continent of CONTINENTS) {
      const n = poisson(next, source.rate(continent, minute));
      for (let i = 0; i < n; i++) {
        let minutes = 1;
        while (minutes < maxMinutes && next() < 0.25) minutes++;
        out.push({ continent, minutes });
      }
    }
    return out;
  };
}
