import fc from 'fast-check';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec, type ProxyContinent } from '@gpu-fleet/fleet-spec';
import { backtestRandom, diurnalDemand } from '@gpu-fleet/sandbox';
import { KedaAutoscaler } from './autoscaler';
import { runBacktest, withAutoscaling, type BacktestOptions } from './backtest';
import type { CapacitySource } from './capacity';
import { demandArrivals, type DemandSource } from './demand';
import { DemandError, parseDemandCsv } from './demand-file';
import { timelineFor, type Timeline } from './timeline';

const catalog = GpuCatalog.bundled();
const specText = EXAMPLE_FLEET_YAML;
const spec = loadFleetSpec(specText).spec;
const START = new Date('2026-03-02T00:00:00Z'); // a Monday
const everywhere: CapacitySource = { has: () => true, lengthMinutes: null, describe: () => 'capacity everywhere' };

/** Demand from a rule: (continent, minute) → generations per minute. */
const demand = (rate: DemandSource['rate']): DemandSource => ({
  rate,
  lengthMinutes: null,
  describe: () => 'test demand',
});

const run = (o: Partial<BacktestOptions>, timeline: Partial<Timeline> = {}) =>
  runBacktest({
    specText,
    catalog,
    capacity: everywhere,
    timeline: timelineFor(spec, { nodeEventsPerMonth: 0, ...timeline }),
    days: 1,
    seed: 1,
    random: backtestRandom(1),
    policies: ['scout', 'autoscaled'],
    start: START,
    ...o,
  });

describe('KEDA/HPA model', () => {
  const scaler = (min: number, idleMinutes = 15) => new KedaAutoscaler({ min, max: 3, target: 1, idleMinutes });

  it('scales up at once, down only after the whole stabilisation window and one pod a minute', () => {
    const s = scaler(0, 5);
    expect(s.step(0, { load: 2.5, wake: false })).toBe(3);
    // load gone: the window still holds the 3
    for (let i = 0; i < 4; i++) expect(s.step(3, { load: 0, wake: false })).toBe(3);
    expect(s.step(3, { load: 0, wake: false })).toBe(2);
    expect(s.step(2, { load: 0, wake: false })).toBe(1);
    expect(s.step(1, { load: 0, wake: false })).toBe(0);
  });

  it('a wake trigger asks for one replica; a warm minimum is kept', () => {
    expect(scaler(0).step(0, { load: 0, wake: true })).toBe(1);
    expect(scaler(1).step(1, { load: 0, wake: false })).toBe(1);
  });

  it('property: never outside [min, max], never down while the window asked for more, at most one pod down a minute', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.record({ load: fc.double({ min: 0, max: 6, noNaN: true }), wake: fc.boolean() }), {
          maxLength: 80,
        }),
        (min, idleMinutes, signals) => {
          const s = new KedaAutoscaler({ min, max: 3, target: 1, idleMinutes });
          let current = min;
          const raw: number[] = [];
          for (const sig of signals) {
            raw.push(Math.min(3, Math.max(min, Math.ceil(sig.load), sig.wake ? 1 : 0)));
            const next = s.step(current, sig);
            expect(next).toBeGreaterThanOrEqual(min);
            expect(next).toBeLessThanOrEqual(3);
            if (next < current) {
              expect(current - next).toBe(1);
              expect(Math.max(...raw.slice(-idleMinutes))).toBeLessThan(current);
            }
            current = next;
          }
        },
      ),
    );
  });
});

describe('demand', () => {
  it('diurnal (sandbox): quiet at local night, busy mid-afternoon, weekends lower, the same for the same seed', () => {
    const d = diurnalDemand(7, START);
    const at = (c: ProxyContinent, hourUtc: number, day = 0) => d.rate(c, day * 1440 + hourUtc * 60);
    // Europe (UTC+1): 03:00 local is quiet, 14:00 local busy
    expect(at('Europe', 2)).toBe(0);
    expect(at('Europe', 13)).toBeGreaterThan(0.3);
    // America (UTC−6): busy at 20:00 UTC, quiet at 08:00 UTC
    expect(at('America', 20)).toBeGreaterThan(0.3);
    expect(at('America', 8)).toBe(0);
    // Saturday (day 5) is a third of a weekday with the same daily factor at most
    expect(at('Europe', 13, 5)).toBeLessThan(at('Europe', 13, 0));
    expect(diurnalDemand(7, START).rate('Asia', 300)).toBe(d.rate('Asia', 300));
  });

  it('arrivals: the same draws give the same users; durations within the backend timeout', () => {
    const d = demand(() => 2);
    const a = demandArrivals(d, backtestRandom(3)('demand'), 4);
    const b = demandArrivals(d, backtestRandom(3)('demand'), 4);
    const minutes = Array.from({ length: 200 }, (_, m) => a(m));
    expect(Array.from({ length: 200 }, (_, m) => b(m))).toEqual(minutes);
    const all = minutes.flat();
    // 3 continents × 2/min × 200 min
    expect(all.length).toBeGreaterThan(1000);
    expect(all.length).toBeLessThan(1400);
    expect(Math.max(...all.map((g) => g.minutes))).toBeLessThanOrEqual(4);
    expect(all.filter((g) => g.minutes === 1).length / all.length).toBeCloseTo(0.75, 1);
  });

  it('file: 24 rows repeat daily, other lengths end the run; errors name line, field, value and fix', () => {
    const rows = (n: number) => Array.from({ length: n }, (_, h) => `${h},${h},0.5,0`).join('\n');
    const daily = parseDemandCsv(`hour,America,Europe,Asia\n${rows(24)}\n`, 'd.csv');
    expect(daily.lengthMinutes).toBeNull();
    expect(daily.rate('America', 1440 + 5 * 60 + 30)).toBe(5);
    const short = parseDemandCsv(`# two hours\nhour,America,Europe,Asia\n${rows(2)}`, 's.csv');
    expect(short.lengthMinutes).toBe(120);
    expect(() => parseDemandCsv('hour,Europe,America,Asia\n0,1,1,1', 'x.csv')).toThrow(
      /^x\.csv:1: header is "hour,Europe,America,Asia"; the first line must be exactly "hour,America,Europe,Asia"$/,
    );
    expect(() => parseDemandCsv('hour,America,Europe,Asia\n0,1,-2,1', 'x.csv')).toThrow(
      /^x\.csv:2: Europe is "-2"; give generations started per minute, a number from 0 to 1000$/,
    );
    expect(() => parseDemandCsv('hour,America,Europe,Asia\n0,1,1,1\n2,1,1,1', 'x.csv')).toThrow(
      /^x\.csv:3: hour is "2"; hours must count up from 0 without gaps \(expected 1\)$/,
    );
    expect(() => parseDemandCsv('hour,America,Europe,Asia\n0,1,1', 'x.csv')).toThrow(DemandError);
  });
});

describe('users meeting the fleets', () => {
  it('no demand: no users table; the autoscaled fleet keeps only the warm region (cold ones go to zero)', async () => {
    const r = await run({ demand: null });
    expect(r.policies.map((p) => p.demand)).toEqual([null, null]);
    const [always, auto] = r.policies;
    // example: us-central1 (1) warm, europe-west4 (2) cold → after the idle window only 1 GPU
    expect(always!.gpuHours).toBe(24 * 3);
    expect(auto!.gpuHours).toBeLessThan(24 + 2);
    expect(auto!.availability).toBe(1);
  });

  it('European users wake the cold European region after the metric delay and a cold start; it serves them locally', async () => {
    // Only Europe, from hour 2 (the idle window has taken the region to zero by then), steadily
    // above the wake threshold (1 request/s ≈ one generation in flight).
    const r = await run({ demand: demand((c, m) => (c === 'Europe' && m >= 120 ? 1.2 : 0)) });
    const auto = r.policies.find((p) => p.name === 'autoscaled')!.demand!;
    const t = timelineFor(spec);
    expect(auto.coldStarts).toBeGreaterThanOrEqual(1);
    // demand → metric visible → KEDA → node → model load → health check
    expect(auto.coldWaitP50Minutes!).toBeGreaterThanOrEqual(
      t.requestMetricMinutes + t.nodeProvisionMinutes + t.appStartMinutes,
    );
    expect(auto.remoteShare).toBeLessThan(0.3);
    expect(auto.failedNoRegion + auto.timedOut).toBe(0);
  });

  it('a warm region that loses its pods wakes the cold one, so the URL comes back without waiting for the scout', async () => {
    // Spot: us-central1 (the warm region) loses all capacity at minute 240 and never gets it back.
    const usGone: CapacitySource = {
      has: (zone, _gpu, minute) => !(zone.startsWith('us-central1') && minute >= 240),
      lengthMinutes: null,
      describe: () => 'us-central1 gone at 240',
    };
    const r = await run({ capacity: usGone, policies: ['autoscaled'] }, { provisioning: 'spot' });
    const serving = r.timelines.serving['autoscaled']!;
    expect(serving['us-central1']).toEqual([[0, 240]]);
    // Europe had gone to zero (idle); it serves again after the stale sample, KEDA and a cold start.
    const europe = serving['europe-west4']!;
    const back = europe.find(([from]) => from > 240)!;
    const t = timelineFor(spec);
    expect(back[0] - 240).toBeGreaterThanOrEqual(5 + t.nodeProvisionMinutes + t.appStartMinutes);
    expect(back[0] - 240).toBeLessThanOrEqual(5 + t.loadMetricMinutes + t.nodeProvisionMinutes + t.appStartMinutes + 2);
    expect(back[1]).toBe(1440);
  });

  it('scale-down never cuts a generation: removed pods drain; a grace shorter than the work would cut', async () => {
    // Busy hours and calmer ones: the autoscaler scales up, then down while pods still have work.
    const bursts = demand((c, m) => (c === 'America' ? (Math.floor(m / 60) % 2 === 0 ? 1.2 : 0.5) : 0));
    const safe = await run({ demand: bursts, policies: ['autoscaled'] });
    const d = safe.policies[0]!.demand!;
    expect(d.generations).toBeGreaterThan(1000);
    expect(d.cutByScaleDown).toBe(0);
    const cut = await run({ demand: bursts, policies: ['autoscaled'] }, { terminationGraceMinutes: 0 });
    expect(cut.policies[0]!.demand!.cutByScaleDown).toBeGreaterThan(0);
  });

  it('the spec for the autoscaled policy: autoscaling on, the autoscaler owns replicas, comments kept', () => {
    const text = withAutoscaling(specText);
    expect(loadFleetSpec(text).spec.autoscaling).toMatchObject({ enabled: true, replicasOwner: 'autoscaler' });
    expect(text).toContain('# the scout edits this list');
  });
});
