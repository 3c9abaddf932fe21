import { PROXY_CONTINENTS, type ProxyContinent } from '@gpu-fleet/fleet-spec';
import type { DemandSource } from './demand';

export class DemandError extends Error {
  override name = 'DemandError';
}

/**
 * `--demand file`: a CSV of generations started per minute, by hour from the start of the run,
 * for each of the load balancer's continents:
 *
 *   hour,America,Europe,Asia
 *   0,0.1,0.8,0.05
 *   …
 *
 * Exactly 24 rows repeat every day; any other number of rows is the whole record (the run ends with
 * it). Errors name the line, the field, the value and the fix.
 */
export function parseDemandCsv(text: string, file: string): DemandSource {
  const lines = text
    .split(/\r?\n/)
    .map((l, i) => ({ n: i + 1, l: l.trim() }))
    .filter((x) => x.l && !x.l.startsWith('#'));
  const expected = ['hour', ...PROXY_CONTINENTS].join(',');
  const head = lines.shift();
  if (!head || head.l.replace(/\s+/g, '') !== expected)
    throw new DemandError(
      `${file}:${head?.n ?? 1}: header is ${JSON.stringify(head?.l ?? '')}; the first line must be exactly "${expected}"`,
    );
  const rows: Array<Record<ProxyContinent, number>> = [];
  for (const { n, l } of lines) {
    const cells = l.split(',').map((c) => c.trim());
    if (cells.length !== PROXY_CONTINENTS.length + 1)
      throw new DemandError(
        `${file}:${n}: ${cells.length} fields; each row needs ${PROXY_CONTINENTS.length + 1} (${expected})`,
      );
    const hour = Number(cells[0]);
    if (!Number.isInteger(hour) || hour !== rows.length)
      throw new DemandError(
        `${file}:${n}: hour is ${JSON.stringify(cells[0])}; hours must count up from 0 without gaps (expected ${rows.length})`,
      );
    const row = {} as Record<ProxyContinent, number>;
    PROXY_CONTINENTS.forEach((c, i) => {
      const v = Number(cells[i + 1]);
      if (cells[i + 1] === '' || !Number.isFinite(v) || v < 0 || v > 1000)
        throw new DemandError(
          `${file}:${n}: ${c} is ${JSON.stringify(cells[i + 1])}; give generations started per minute, a number from 0 to 1000`,
        );
      row[c] = v;
    });
    rows.push(row);
  }
  if (!rows.length)
    throw new DemandError(`${file}: no rows after the header; add one row per hour (24 rows repeat daily)`);
  const daily = rows.length === 24;
  return {
    lengthMinutes: daily ? null : rows.length * 60,
    describe: () => `demand from ${file} (${daily ? '24 hours, repeated daily' : `${rows.length} hours`})`,
    rate: (continent, minute) => {
      const h = Math.floor(minute / 60);
      const row = daily ? rows[h % 24] : rows[h];
      return row ? row[continent] : 0;
    },
  };
}
