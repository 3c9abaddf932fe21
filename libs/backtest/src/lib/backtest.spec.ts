import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { backtestRandom } from '@gpu-fleet/sandbox';
import { percentile, runBacktest, type BacktestOptions } from './backtest';
import type { CapacitySource } from './capacity';
import { loadTraceFolder } from './io/traces';
import { timelineFor, type Timeline } from './timeline';

const catalog = GpuCatalog.bundled();
const specText = EXAMPLE_FLEET_YAML;
const spec = loadFleetSpec(specText).spec;
const START = new Date('2026-03-02T00:00:00Z');

/** Capacity from a rule: (zone, gpu, minute) → has. */
const capacity = (has: CapacitySource['has'], lengthMinutes: number | null = null): CapacitySource => ({
  has,
  lengthMinutes,
  describe: () => 'test capacity',
});
const regionOf = (zone: string) => zone.replace(/-[a-z]$/, '');

const run = (o: Partial<BacktestOptions> & { capacity: CapacitySource }, timeline: Partial<Timeline> = {}) =>
  runBacktest({
    specText,
    catalog,
    timeline: timelineFor(spec, { nodeEventsPerMonth: 0, ...timeline }),
    days: 1,
    seed: 1,
    random: backtestRandom(1),
    policies: ['static', 'in-region', 'failover', 'scout'],
    start: START,
    ...o,
  });

describe('percentile (nearest rank)', () => {
  it('picks the ranked value, null for nothing', () => {
    expect(percentile([30, 10, 20, 40], 50)).toBe(20);
    expect(percentile([30, 10, 20, 40], 95)).toBe(40);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('runBacktest', () => {
  it('with capacity everywhere, every policy and the oracle serve all the time and nothing changes', async () => {
    const r = await run({ capacity: capacity(() => true) });
    expect(r.oracle.availability).toBe(1);
    expect(r.period).toMatchObject({ minutes: 1440, days: 1, start: START.toISOString() });
    for (const p of r.policies)
      expect({ name: p.name, availability: p.availability, outages: p.outages, changes: p.changes }).toEqual({
        name: p.name,
        availability: 1,
        outages: 0,
        changes: 0,
      });
  });

  it('ends with the capacity record when it is shorter than the period', async () => {
    const r = await run({ capacity: capacity(() => true, 600), days: 30, policies: ['static'] });
    expect(r.period.minutes).toBe(600);
  });

  it('spot: a stockout of the serving regions preempts static fleets; failover (EAGER_NEXT_REGION) relaunches where capacity is in one launch, failover-same-region walks the price order one attempt at a time', async () => {
    // From minute 60 only asia-northeast1 (the priciest candidate) has L4s.
    const cap = capacity((zone, gpu, m) => m < 60 || (regionOf(zone) === 'asia-northeast1' && gpu === 'nvidia-l4'));
    const t = timelineFor(spec, { provisioning: 'spot' });
    const r = await run(
      { capacity: cap, policies: ['static', 'failover', 'failover-same-region'] },
      { provisioning: 'spot' },
    );
    const [statics, eager, cautious] = r.policies;
    expect(r.oracle.availability).toBe(1);
    // Static never gets capacity back: one outage from minute 60 (+ the health check) to the end.
    expect(statics).toMatchObject({ outages: 1, outageMinutes: 1440 - 60, changes: 0 });
    // EAGER_NEXT_REGION: the slots that lost their region start in asia-northeast1 at once.
    expect(eager!.name).toBe('failover');
    expect(eager!.outages).toBe(1);
    expect(eager!.outageMinutes).toBeLessThanOrEqual(t.nodeProvisionMinutes + t.appStartMinutes + 2);
    // The cautious one: each failed attempt costs one node provisioning time before the next region.
    const order = ['us-central1', 'europe-west4', 'asia-northeast1'];
    expect(cautious!.name).toBe('failover-same-region');
    expect(cautious!.outages).toBe(1);
    expect(cautious!.outageMinutes).toBeGreaterThanOrEqual(t.nodeProvisionMinutes * 2 + t.appStartMinutes);
    expect(cautious!.outageMinutes).toBeLessThanOrEqual(t.nodeProvisionMinutes * order.length + t.appStartMinutes + 2);
    expect(r.timelines.serving['failover']!['asia-northeast1']!.at(-1)![1]).toBe(1440);
  });

  it('SpotHedge at several sizes, each its own policy named by size', async () => {
    const r = await run(
      {
        capacity: capacity(() => true),
        policies: ['spothedge'],
        spothedgeSizes: [
          { target: 3, extra: 0 },
          { target: 3, extra: 1 },
        ],
      },
      { provisioning: 'spot' },
    );
    expect(r.policies.map((p) => p.name)).toEqual(['spothedge-3+0', 'spothedge-3+1']);
    const [plain, extra] = r.policies;
    expect(extra!.gpuHours).toBeCloseTo((plain!.gpuHours * 4) / 3, 0);
  });

  it('the real scout moves the fleet to where capacity is, through pull requests merged after the delay', async () => {
    const cap = capacity((zone, gpu, m) => m < 60 || (regionOf(zone) === 'asia-northeast1' && gpu === 'nvidia-l4'));
    const timeline = { provisioning: 'spot' as const, personMergeMinutes: 30, autoMergeMinutes: 10 };
    const r = await run({ capacity: cap, policies: ['static', 'scout'], days: 1 }, timeline);
    const [statics, scout] = r.policies;
    expect(scout!.pullRequests).toBeGreaterThanOrEqual(1);
    expect(scout!.changes).toBeGreaterThanOrEqual(1);
    expect(scout!.availability).toBeGreaterThan(statics!.availability);
    // It serves from asia-northeast1 at the end, after sweep + merge + cluster creation + provisioning.
    const served = r.timelines.serving['scout']!['asia-northeast1']!;
    expect(served.at(-1)![1]).toBe(1440);
    const t = timelineFor(spec, timeline);
    expect(served[0]![0]).toBeGreaterThanOrEqual(
      60 + t.autoMergeMinutes + t.clusterCreateMinutes + t.nodeProvisionMinutes + t.appStartMinutes,
    );
  });

  it('is deterministic for one seed', async () => {
    const cap = capacity((zone, _gpu, m) => m % 240 < 120 !== zone.startsWith('europe'));
    const a = await run({ capacity: cap }, { provisioning: 'spot', nodeEventsPerMonth: 10 });
    const b = await run({ capacity: cap }, { provisioning: 'spot', nodeEventsPerMonth: 10 });
    expect(a).toEqual(b);
  });
});

describe('the bundled real traces', () => {
  it('load (every mapped zone offers its GPU) and last as long as their shortest file', () => {
    const root = join(__dirname, '../../../../tools/backtest/traces');
    const first = loadTraceFolder(join(root, 'aws-10-26-2022'), catalog);
    expect(first.lengthMinutes).toBe(3895 * 10);
    expect(first.pairs()).toHaveLength(8);
    const second = loadTraceFolder(join(root, 'aws-08-27-2023-16node'), catalog);
    // us-east-2b's 3247 five-minute ticks are the shortest.
    expect(second.lengthMinutes).toBe(3247 * 5);
    expect(readFileSync(join(root, 'SOURCES.md'), 'utf8')).toContain('skypilot-org/spot-traces');
  });
});

describe('the scout does not grow the fleet by a region per incident (on-demand)', () => {
  it('a serving region without capacity for the first half day, and a first replacement that fails before it is ready: the scout ends where static is, in GPU-hours and regions', async () => {
    // us-central1 has nothing for 13 h; asia-northeast1 (the standby the scout reaches for first)
    // has capacity only for the first two hours — long enough for a probe, not for the replacement.
    const cap = capacity((zone, _gpu, m) =>
      zone.startsWith('us-central1')
        ? m >= 13 * 60
        : zone.startsWith('asia-northeast1')
          ? m < 120 || m >= 16 * 60
          : true,
    );
    const doc = parseDocument(specText);
    doc.setIn(
      ['placement', 'candidateRegions'],
      ['us-central1', 'us-east4', 'europe-west4', 'europe-west1', 'asia-northeast1', 'asia-southeast1'],
    );
    const r = await run(
      { specText: doc.toString(), capacity: cap, policies: ['static', 'scout'], days: 6 },
      { provisioning: 'on-demand' },
    );
    const [statics, scout] = r.policies;
    expect(scout!.availability).toBeGreaterThanOrEqual(statics!.availability);
    expect(scout!.gpuHours).toBeLessThanOrEqual(statics!.gpuHours * 1.05);
    expect(scout!.maxRegionsHolding).toBeLessThanOrEqual(spec.placement.maxServingRegions + 1);
  });
});

describe('full cost', () => {
  it('costBreakdown sums to cost: GKE cluster fees for every cluster that exists (standby and the config cluster too), the controller VM of SkyPilot-run policies, probe GPU time', async () => {
    const r = await run({ capacity: capacity(() => true), policies: ['static', 'spothedge', 'scout'], days: 1 });
    const [statics, spothedge, scout] = r.policies;
    for (const p of r.policies) {
      const b = p.costBreakdown;
      expect(p.cost).toBeCloseTo(b.gpu + b.clusterFees + b.probes + b.controller, 6);
    }
    const active = spec.clusters.filter((c) => c.mode === 'active').length;
    expect(statics!.costBreakdown).toMatchObject({ probes: 0, controller: 0 });
    expect(statics!.costBreakdown.clusterFees).toBeCloseTo((active + 1) * 24 * 0.1, 6);
    // the scout keeps its standby cluster, which GKE charges for too
    expect(scout!.costBreakdown.clusterFees).toBeCloseTo((spec.clusters.length + 1) * 24 * 0.1, 6);
    expect(scout!.costBreakdown.probes).toBeGreaterThan(0);
    expect(spothedge!.costBreakdown).toMatchObject({ clusterFees: 0, probes: 0 });
    expect(spothedge!.costBreakdown.controller).toBeCloseTo(24 * 0.19424, 6);
  });
});

describe('measures that matter', () => {
  it('target-ready share, oracles with the start delay per GPU type, the foresight cost floor, and a log of why each policy changed', async () => {
    // From minute 60 only asia-northeast1 has L4s (and no T4 anywhere).
    const cap = capacity(
      (zone, gpu, m) =>
        (m < 60 && gpu === 'nvidia-l4') || (regionOf(zone) === 'asia-northeast1' && gpu === 'nvidia-l4'),
    );
    const r = await run(
      { capacity: cap, policies: ['static', 'failover', 'scout'] },
      { provisioning: 'spot', personMergeMinutes: 30, autoMergeMinutes: 10 },
    );
    const t = timelineFor(spec, { provisioning: 'spot' });
    // A spot fleet that knew where to be: L4 ready from the start delay on; T4 never.
    expect(r.oracle.withStartDelay.byGpu['nvidia-tesla-t4']).toBe(0);
    const delay = t.nodeProvisionMinutes + t.appStartMinutes + Math.ceil(t.healthCheckSeconds / 60);
    expect(r.oracle.withStartDelay.all).toBeCloseTo((1440 - delay - 1) / 1440, 2);
    expect(r.oracle.withStartDelay.byGpu['nvidia-l4']).toBe(r.oracle.withStartDelay.all);
    // The floor: one L4 at the cheapest spot price obtainable each minute.
    const cheapest = Math.min(
      ...spec.placement.candidateRegions.map((reg) => catalog.pricePerGpuHour(reg, 'nvidia-l4', true) ?? Infinity),
    );
    const asia = catalog.pricePerGpuHour('asia-northeast1', 'nvidia-l4', true)!;
    expect(r.oracle.foresightCostFloor).toBeCloseTo((60 * cheapest + (1440 - 60) * asia) / 60, 4);
    for (const p of r.policies) {
      expect(p.targetReadyShare).toBeLessThanOrEqual(p.availability);
      expect(p.costBreakdown.gpu).toBeGreaterThan(0);
    }
    const [statics, failover, scout] = r.policies;
    expect(statics!.log).toEqual([]);
    expect(failover!.log[0]).toMatchObject({
      change: expect.stringMatching(/^slot-\d: .* → asia-northeast1$/),
      reason: expect.stringMatching(/EAGER_NEXT_REGION/),
    });
    expect(Date.parse(failover!.log[0]!.at)).toBeGreaterThanOrEqual(START.getTime() + 60 * 60_000);
    expect(
      scout!.log.some((e) => /^activate sd-asia-northeast1/.test(e.change) && /pull request #\d+/.test(e.reason)),
    ).toBe(true);
  });
});
