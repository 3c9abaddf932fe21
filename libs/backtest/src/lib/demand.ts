import { PROXY_CONTINENTS, type ProxyContinent } from '@gpu-fleet/fleet-spec';

/**
 * Users of the WebUI by continent (the load balancer's `proxy_continent` values): generations
 * started per minute. The sandbox's diurnal model (`--demand diurnal`) and a CSV (`--demand file`)
 * both have this shape.
 */
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

/** Poisson draw (Knuth; the rates here are small). */
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
 * The generations started at each minute, drawn from `source` with seeded draws; called once per
 * minute in order, so every policy meets the same users. A generation keeps its GPU for 1 minute,
 * longer with probability 0.25 per extra minute (batches, large images), never beyond `maxMinutes`
 * (the load balancer's backend timeout).
 */
export function demandArrivals(
  source: DemandSource,
  random: () => number,
  maxMinutes: number,
): (minute: number) => Generation[] {
  return (minute) => {
    const out: Generation[] = [];
    for (const continent of PROXY_CONTINENTS) {
      const n = poisson(random, source.rate(continent, minute));
      for (let i = 0; i < n; i++) {
        let minutes = 1;
        while (minutes < maxMinutes && random() < 0.25) minutes++;
        out.push({ continent, minutes });
      }
    }
    return out;
  };
}
