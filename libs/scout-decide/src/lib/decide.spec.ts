import { decide } from './decide';
import { applyPlan } from './state';
import type { FleetState } from './types';
import {
  appendHistory,
  at,
  baseSpec,
  catalog,
  fleet,
  history,
  L4,
  observation,
  signals,
  stockout,
  T4,
  withClusters,
} from '../testing/world';
import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import type { Observation } from '@gpu-fleet/scout-domain';

const run = (
  spec: FleetSpec,
  obs: Observation[],
  state: FleetState,
  minute: number,
  setup: Parameters<typeof signals>[3] = {},
) => decide(spec, signals(spec, at(minute), obs, setup), state, at(minute), { catalog, sweepId: `s${minute}` });

describe('decide: steady state', () => {
  it('changes nothing when every serving region is healthy', () => {
    const spec = baseSpec();
    const plan = run(spec, [], fleet(spec, {}, history(spec, 6, 100)), 100);
    expect(plan.changes).toEqual([]);
    expect(plan.clusters).toEqual(spec.clusters);
    expect(plan.summary).toMatch(
      /^No change: 2 region\(s\) serve: us-central1 \(L4\), europe-west4 \(L4\); 6\/6 regions eligible\.$/,
    );
    expect(plan.health.map((h) => h.health)).toEqual(['good', 'good', 'idle']);
  });

  it('reports every filter and score part with a reason', () => {
    const spec = baseSpec();
    const plan = run(spec, [], fleet(spec), 0);
    const east = plan.candidates.find((c) => c.region === 'us-east4')!;
    expect(east.filters.map((f) => f.filter)).toEqual([
      'excluded',
      'candidate',
      'offered',
      'autopilot',
      'rejected',
      'quota',
      'stockout',
      'cluster',
    ]);
    expect(east.parts.map((p) => p.name)).toEqual(['capacity', 'price', 'spread', 'stickiness', 'probe', 'preference']);
    expect(east.filters.every((f) => f.reason.length > 0) && east.parts.every((p) => p.reason.length > 0)).toBe(true);
    expect(east).toMatchObject({ cluster: 'sd-us-east4', newCluster: true, gpu: L4 });
  });
});

describe('decide: a serving region stocks out (hysteresis, make-before-break)', () => {
  // Only L4 in us-central1 so the in-region fallback does not apply.
  const setup = { 'us-central1': { offered: [L4] } };
  const spec = baseSpec();
  const obs = [stockout('us-central1', L4, 95), stockout('us-central1', L4, 99)];

  it('waits for badSweepsBeforeDrop consecutive bad sweeps', () => {
    const plan = run(
      spec,
      obs,
      fleet(spec, { 'sd-us-central1': 0 }, history(spec, 1, 100, ['sd-us-central1'])),
      100,
      setup,
    );
    expect(plan.health[0]).toMatchObject({ health: 'bad', badSweeps: 2 });
    expect(plan.changes).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(/sd-us-central1: bad for 2\/3 sweeps/);
  });

  it('then activates a replacement while the failing region keeps serving', () => {
    const plan = run(
      spec,
      obs,
      fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])),
      100,
      setup,
    );
    expect(plan.changes).toHaveLength(1);
    const ch = plan.changes[0]!;
    // The standby cluster in asia-northeast1 (0.63) beats a new one in us-east4 (0.52): a fixed fixture.
    expect(ch).toMatchObject({
      cluster: 'sd-asia-northeast1',
      kind: 'activate',
      region: 'asia-northeast1',
      replaces: 'sd-us-central1',
      addsCapacity: true,
      to: { mode: 'active', gpu: L4 },
    });
    // The failing cluster stays active: nothing is drained before the replacement is ready.
    expect(plan.clusters.find((c) => c.name === 'sd-us-central1')!.mode).toBe('active');
    expect(plan.clusters.find((c) => c.name === ch.cluster)).toMatchObject({
      mode: 'active',
      replaces: 'sd-us-central1',
    });
    expect(plan.candidates.map((c) => [c.region, c.eligible, c.score])).toEqual([
      ['asia-northeast1', true, 0.6339],
      ['asia-southeast1', true, 0.3648],
      ['europe-west1', true, 0.3759],
      ['europe-west4', true, 0.9264],
      ['us-central1', false, 0.4773],
      ['us-east4', true, 0.5231],
    ]);
    expect(ch.reason).toMatch(/failing in us-central1 for 3 sweeps/);
  });

  it('drains the failing region only once the replacement has ready replicas, then stands it by', () => {
    // Two replicas, one still ready: that backend may have requests in flight, so it drains first.
    const spec = {
      ...baseSpec(),
      clusters: baseSpec().clusters.map((c) => (c.name === 'sd-us-central1' ? { ...c, replicas: 2 } : c)),
    };
    const first = run(
      spec,
      obs,
      fleet(spec, { 'sd-us-central1': 1 }, history(spec, 2, 100, ['sd-us-central1'])),
      100,
      setup,
    );
    const merged = applyPlan(spec, first);
    const repl = first.changes[0]!.cluster;
    let hist = appendHistory(history(spec, 2, 100, ['sd-us-central1']), first.record);

    // Replacement still starting: no drain.
    const starting = run(merged, obs, fleet(merged, { 'sd-us-central1': 1, [repl]: 0 }, hist), 110, setup);
    expect(starting.changes).toEqual([]);
    expect(starting.notes.join('\n')).toContain(
      `sd-us-central1 keeps serving until its replacement ${repl} has ready replicas`,
    );
    hist = appendHistory(hist, starting.record);

    // Replacement ready: drain the failing one and clear the marker.
    const ready = run(merged, obs, fleet(merged, { 'sd-us-central1': 1 }, hist), 120, setup);
    expect(ready.changes.map((c) => [c.cluster, c.kind])).toEqual([
      ['sd-us-central1', 'drain'],
      [repl, 'tidy'],
    ]);
    const drained = applyPlan(merged, ready);
    expect(drained.clusters.find((c) => c.name === repl)!.replaces).toBeUndefined();
    hist = appendHistory(hist, ready.record);

    // Draining: standby only once the longest request has ended (connection draining covers backendTimeoutSec: 900 s = 15 min).
    // The sweep at minute 125 saw the drain applied.
    const afterDrain = fleet(
      drained,
      {},
      appendHistory(hist, {
        ...ready.record,
        id: 'x',
        at: at(125).toISOString(),
        clusters: drained.clusters.map((c) => ({ name: c.name, mode: c.mode, gpu: c.gpu, health: 'idle' as const })),
      }),
    );
    const soon = run(drained, obs, afterDrain, 130, setup);
    expect(soon.changes).toEqual([]);
    expect(soon.notes.join('\n')).toMatch(/sd-us-central1 draining for 5\/15 min/);
    const later = run(drained, obs, afterDrain, 142, setup);
    expect(later.changes.map((c) => [c.cluster, c.kind])).toEqual([['sd-us-central1', 'standby']]);
  });

  it('stands a failing region by at once when none of its replicas is ready: nothing is in flight to drain', () => {
    const first = run(
      spec,
      obs,
      fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])),
      100,
      setup,
    );
    const merged = applyPlan(spec, first);
    const repl = first.changes[0]!.cluster;
    const hist = appendHistory(history(spec, 2, 100, ['sd-us-central1']), first.record);
    const ready = run(merged, obs, fleet(merged, { 'sd-us-central1': 0 }, hist), 120, setup);
    expect(ready.changes.map((c) => [c.cluster, c.kind, c.to.mode])).toEqual([
      ['sd-us-central1', 'standby', 'standby'],
      [repl, 'tidy', 'active'],
    ]);
    expect(ready.changes[0]!.reason).toMatch(/no replica was ready, so nothing is in flight to drain/);
    // One pull request, not two: nothing is left for a later sweep to stand by.
    const after = applyPlan(merged, ready);
    expect(after.clusters.find((c) => c.name === 'sd-us-central1')).toMatchObject({ mode: 'standby' });
    expect(after.clusters.some((c) => c.mode === 'draining')).toBe(false);
  });
});

describe('decide: in-region GPU fallback', () => {
  it('with node selectors, prefers changing the GPU type of the cluster over moving the region', () => {
    const base = baseSpec();
    const spec = { ...base, gpu: { ...base.gpu, selection: 'node-selector' as const } };
    const obs = [stockout('us-central1', L4, 99), observation('us-central1', T4, 'success', at(97))];
    const plan = run(spec, obs, fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])), 100);
    expect(plan.changes).toEqual([
      expect.objectContaining({
        cluster: 'sd-us-central1',
        kind: 'switch-gpu',
        from: expect.objectContaining({ gpu: L4 }),
        to: expect.objectContaining({ gpu: T4, mode: 'active' }),
      }),
    ]);
    expect(plan.changes[0]!.reason).toMatch(/changes GPU type instead of moving region/);
  });

  it('with node selectors, does not switch GPU type on no evidence; moves region instead', () => {
    const base = baseSpec();
    const spec = { ...base, gpu: { ...base.gpu, selection: 'node-selector' as const } };
    const plan = run(
      spec,
      [stockout('us-central1', L4, 99)],
      fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])),
      100,
    );
    expect(plan.changes.map((c) => c.kind)).not.toContain('switch-gpu');
    expect(plan.changes[0]).toMatchObject({ replaces: 'sd-us-central1' });
    expect(plan.notes.join('\n')).toMatch(/nvidia-tesla-t4 in us-central1 is not confirmed by a probe/);
  });

  it('with a ComputeClass, never switches the type (it already tries them all): moves region, even after a probe saw the other type', () => {
    const spec = baseSpec();
    const obs = [stockout('us-central1', L4, 99), observation('us-central1', T4, 'success', at(97))];
    const plan = run(spec, obs, fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])), 100);
    expect(plan.changes.map((c) => c.kind)).not.toContain('switch-gpu');
    expect(plan.changes[0]).toMatchObject({ replaces: 'sd-us-central1' });
  });
});

describe('decide: quota-zero region', () => {
  it('does not move into a region without quota; asks for quota instead', () => {
    const spec = baseSpec();
    const setup = { 'us-central1': { offered: [L4] }, 'us-east4': { quota: { [L4]: 0, [T4]: 0 } } };
    const plan = run(
      spec,
      [stockout('us-central1', L4, 99)],
      fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])),
      100,
      setup,
    );
    expect(plan.changes.map((c) => c.region)).not.toContain('us-east4');
    expect(plan.quotaRequests).toEqual([
      expect.objectContaining({ region: 'us-east4', gpu: L4, metric: 'NVIDIA_L4_GPUS', limit: 0 }),
    ]);
    // The replacement needs as many GPUs as the busiest active cluster runs.
    const needed =
      spec.gpu.count * Math.max(...spec.clusters.filter((c) => c.mode === 'active').map((c) => c.replicas));
    expect(plan.quotaRequests[0]!.needed).toBe(needed);
    expect(plan.quotaRequests[0]!.note).toContain(`request ≥ ${needed}`);
  });
});

describe('decide: total outage', () => {
  it('proposes nothing unsafe and explains in one line', () => {
    const spec = baseSpec();
    const obs = spec.placement.candidateRegions.flatMap((r) => [stockout(r, L4, 98), stockout(r, T4, 98)]);
    const setup = { 'us-east4': { quota: { [L4]: 0, [T4]: 0 } }, 'europe-west1': { quota: { [L4]: 0, [T4]: 0 } } };
    const plan = run(
      spec,
      obs,
      fleet(
        spec,
        { 'sd-us-central1': 0, 'sd-europe-west4': 0 },
        history(spec, 5, 100, ['sd-us-central1', 'sd-europe-west4']),
      ),
      100,
      setup,
    );
    expect(plan.changes).toEqual([]);
    expect(plan.clusters).toEqual(spec.clusters);
    expect(plan.eligibility).toBe('0/6 regions eligible: 4 stockout (last 2m), 2 quota 0');
    expect(plan.notes.join('\n')).toMatch(
      /stays active although failing .*0\/6 regions eligible.*below the minimum of 2/,
    );
  });
});

describe('decide: fail-static', () => {
  it('keeps a serving region the scout cannot see', () => {
    const spec = baseSpec();
    const plan = run(spec, [], fleet(spec, { 'sd-us-central1': null }, history(spec, 5, 100)), 100, {
      'us-central1': { status: 'unknown', quota: { [L4]: null, [T4]: null } },
    });
    expect(plan.health[0]).toMatchObject({ health: 'unknown', badSweeps: 0 });
    expect(plan.changes).toEqual([]);
  });

  it('unknown sweeps neither count towards nor reset the bad run', () => {
    const spec = baseSpec();
    const hist = history(spec, 3, 100, ['sd-us-central1']);
    hist[1]!.clusters[0]!.health = 'unknown';
    const plan = run(spec, [stockout('us-central1', L4, 99)], fleet(spec, { 'sd-us-central1': 0 }, hist), 100, {
      'us-central1': { offered: [L4] },
    });
    expect(plan.health[0]!.badSweeps).toBe(3);
  });
});

describe('decide: recovery without flapping (dwell, margin)', () => {
  // Only price counts: asia-northeast1 serves L4 at $0.72/GPU-hour; us-central1 offers it at $0.56
  // and probes confirm it there, so us-central1 scores +28 %: a switch at margin 25 %, none at 30 %.
  const base = withClusters(baseSpec(), [
    { name: 'sd-asia-northeast1', region: 'asia-northeast1', mode: 'active' },
    { name: 'sd-europe-west4', region: 'europe-west4', mode: 'active' },
    { name: 'sd-us-central1', region: 'us-central1', mode: 'standby' },
  ]);
  const priceOnly = (switchMargin: number): FleetSpec => ({
    ...base,
    placement: {
      ...base.placement,
      candidateRegions: ['asia-northeast1', 'europe-west4', 'us-central1'],
      switchMargin,
      minDwellMinutes: 60,
      weights: { capacity: 0, price: 1, spread: 0, stickiness: 0, probe: 0, preference: 0 },
    },
  });
  const obs = [observation('us-central1', L4, 'success', at(95)), observation('us-central1', L4, 'success', at(98))];
  const switchTo = [
    expect.objectContaining({ cluster: 'sd-us-central1', kind: 'activate', replaces: 'sd-asia-northeast1' }),
  ];

  it('switches to a better-scoring region only beyond the switch margin (both sides of the threshold)', () => {
    const hist = history(base, 9, 100); // 90 minutes: past the dwell time
    const below = run(priceOnly(0.25), obs, fleet(base, {}, hist), 100);
    // Fixed fixtures from the bundled price list (cheapest compared GPU-hour / the region's).
    expect(below.candidates.find((c) => c.region === 'us-central1')!.score).toBe(0.625);
    expect(below.candidates.find((c) => c.region === 'asia-northeast1')!.score).toBe(0.4867);
    expect(below.changes).toEqual(switchTo);
    expect(run(priceOnly(0.3), obs, fleet(base, {}, hist), 100).changes).toEqual([]);
  });

  it('does not switch before the dwell time, even beyond the margin', () => {
    // sd-asia-northeast1 became active `minutesAgo` ago: standby in the sweeps before that.
    const activeFor = (minutesAgo: number) =>
      history(base, 12, 100).map((h) => ({
        ...h,
        clusters: h.clusters.map((c) =>
          c.name === 'sd-asia-northeast1' && Date.parse(h.at) < at(100 - minutesAgo).getTime()
            ? { ...c, mode: 'standby' as const, health: 'idle' as const }
            : c,
        ),
      }));
    expect(run(priceOnly(0.25), obs, fleet(base, {}, activeFor(30)), 100).changes).toEqual([]);
    expect(run(priceOnly(0.25), obs, fleet(base, {}, activeFor(50)), 100).changes).toEqual([]);
    expect(run(priceOnly(0.25), obs, fleet(base, {}, activeFor(70)), 100).changes).toEqual(switchTo);
  });
});

describe('decide: bounds', () => {
  it('makes at most maxChangesPerSweep changes and says what it held back', () => {
    const spec = withClusters(baseSpec(), [{ name: 'sd-europe-west4', region: 'europe-west4', mode: 'active' }]);
    const lowMin = { ...spec, placement: { ...spec.placement, minServingRegions: 3, maxChangesPerSweep: 1 } };
    const plan = run(lowMin, [], fleet(lowMin), 0);
    expect(plan.changes).toHaveLength(1);
    expect(plan.notes.join('\n')).toMatch(/held back by placement.maxChangesPerSweep \(1\)/);
  });

  it('never activates excluded regions', () => {
    const spec = withClusters(baseSpec(), [{ name: 'sd-europe-west4', region: 'europe-west4', mode: 'active' }]);
    const ex = {
      ...spec,
      placement: { ...spec.placement, minServingRegions: 2, excludedRegions: ['us-east4', 'us-central1'] },
    };
    const plan = run(ex, [], fleet(ex), 0);
    expect(plan.changes.map((c) => c.region)).not.toEqual(expect.arrayContaining(['us-east4']));
    expect(plan.candidates.find((c) => c.region === 'us-east4')!.filters.find((f) => !f.pass)!.filter).toBe('excluded');
  });

  it('names new clusters after the existing ones', () => {
    const spec = withClusters(baseSpec(), [{ name: 'gpu-europe-west4-a', region: 'europe-west4', mode: 'active' }]);
    const plan = run({ ...spec, placement: { ...spec.placement, minServingRegions: 2 } }, [], fleet(spec), 0);
    expect(plan.changes[0]!.cluster).toMatch(/^gpu-[a-z]+-[a-z]+\d-a$/);
  });
});
