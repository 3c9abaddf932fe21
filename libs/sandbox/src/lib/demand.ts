import { PROXY_CONTINENTS, type ProxyContinent } from '@gpu-fleet/fleet-spec';
import { keyedRng } from './rng';

/**
 * Demand for the WebUI by continent (the load balancer's `proxy_continent` values), the sandbox's
 * model of users, shaped like the backtest's DemandSource: expected generations started per minute.
 */
export interface SandboxDemand {
  describe(): string;
  rate(continent: ProxyContinent, minute: number): number;
  readonly lengthMinutes: null;
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
  peakPerMinute: Record<ProxyContinent, number> = { America: 0.6, Europe: 0.5, Asia: 0.25 },
): SandboxDemand {
  // UTC offset of each continent's users (hours): central US, central Europe, China/Japan.
  const offset: Record<ProxyContinent, number> = { America: -6, Europe: 1, Asia: 8.5 };
  const t0 = start.getTime();
  const dayFactor = new Map<string, number>();
  return {
    lengthMinutes: null,
    describe: () =>
      `synthetic diurnal demand (seed ${seed}; peak generations/min ${PROXY_CONTINENTS.map((c) => `${c} ${peakPerMinute[c]}`).join(', ')})`,
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
