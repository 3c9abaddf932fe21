import { decide } from './decide';
import { applyPlan } from './state';
import type { FleetState, SweepRecord } from './types';
import { appendHistory, at, baseSpec, catalog, fleet, observation, signals, withClusters } from '../testing/world';
import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import type { Observation } from '@gpu-fleet/scout-domain';

const run = (spec: FleetSpec, obs: Observation[], state: FleetState, minute: number, setup: Parameters<typeof signals>[3] = {}) =>
  decide(spec, signals(spec, at(minute), obs, setup), state, at(minute), { catalog, sweepId: `s${minute}` });

/** A history of `n` sweeps, 10 minutes apart, ending just before `minute`, where `bad` clusters were bad. */
function history(spec: FleetSpec, n: number, minute: number, bad: string[] = []): SweepRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `h${i}`,
    at: at(minute - (n - i) * 10).toISOString(),
    clusters: spec.clusters.map((c) => ({ name: c.name, mode: c.mode, gpu: c.gpu, health: c.mode !== 'active' ? ('idle' as const) : bad.includes(c.name) ? ('bad' as const) : ('good' as const) })),
  }));
}

const stockout = (region: string, gpu: string, minute: number) => observation(region, gpu, 'stockout', at(minute), 'passive');
const L4 = 'nvidia-l4';
const T4 = 'nvidia-tesla-t4';

describe('decide: steady state', () => {
  it('changes nothing when every serving region is healthy', () => {
    const spec = baseSpec();
    const plan = run(spec, [], fleet(spec, {}, history(spec, 6, 100)), 100);
    expect(plan.changes).toEqual([]);
    expect(plan.clusters).toEqual(spec.clusters);
    expect(plan.summary).toMatch(/^No change: 2 region\(s\) serve: us-central1 \(L4\), europe-west4 \(L4\); 6\/6 regions eligible\.$/);
    expect(plan.health.map((h) => h.health)).toEqual(['good', 'good', 'idle']);
  });

  it('reports every filter and score part with a reason', () => {
    const spec = baseSpec();
    const plan = run(spec, [], fleet(spec), 0);
    const east = plan.candidates.find((c) => c.region === 'us-east4')!;
    expect(east.filters.map((f) => f.filter)).toEqual(['excluded', 'candidate', 'offered', 'autopilot', 'rejected', 'quota', 'stockout', 'cluster']);
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
    const plan = run(spec, obs, fleet(spec, { 'sd-us-central1': 0 }, history(spec, 1, 100, ['sd-us-central1'])), 100, setup);
    expect(plan.health[0]).toMatchObject({ health: 'bad', badSweeps: 2 });
    expect(plan.changes).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(/sd-us-central1: bad for 2\/3 sweeps/);
  });

  it('then activates a replacement while the failing region keeps serving', () => {
    const plan = run(spec, obs, fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])), 100, setup);
    expect(plan.changes).toHaveLength(1);
    const ch = plan.changes[0]!;
    expect(ch).toMatchObject({ replaces: 'sd-us-central1', addsCapacity: true, to: { mode: 'active' } });
    expect(['activate', 'add-cluster']).toContain(ch.kind);
    // The failing cluster stays active: nothing is drained before the replacement is ready.
    expect(plan.clusters.find((c) => c.name === 'sd-us-central1')!.mode).toBe('active');
    expect(plan.clusters.find((c) => c.name === ch.cluster)).toMatchObject({ mode: 'active', replaces: 'sd-us-central1' });
    // The best-scoring eligible region that does not serve yet.
    const best = plan.candidates.filter((c) => c.eligible && !['us-central1', 'europe-west4'].includes(c.region)).sort((a, b) => b.score - a.score)[0]!;
    expect(ch.cluster).toBe(best.cluster);
    expect(ch.reason).toMatch(/failing in us-central1 for 3 sweeps/);
  });

  it('drains the failing region only once the replacement has ready replicas, then stands it by', () => {
    const first = run(spec, obs, fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])), 100, setup);
    const merged = applyPlan(spec, first);
    const repl = first.changes[0]!.cluster;
    let hist = appendHistory(history(spec, 2, 100, ['sd-us-central1']), first.record);

    // Replacement still starting: no drain.
    const starting = run(merged, obs, fleet(merged, { 'sd-us-central1': 0, [repl]: 0 }, hist), 110, setup);
    expect(starting.changes).toEqual([]);
    expect(starting.notes.join('\n')).toContain(`sd-us-central1 keeps serving until its replacement ${repl} has ready replicas`);
    hist = appendHistory(hist, starting.record);

    // Replacement ready: drain the failing one and clear the marker.
    const ready = run(merged, obs, fleet(merged, { 'sd-us-central1': 0 }, hist), 120, setup);
    expect(ready.changes.map((c) => [c.cluster, c.kind])).toEqual([
      ['sd-us-central1', 'drain'],
      [repl, 'tidy'],
    ]);
    const drained = applyPlan(merged, ready);
    expect(drained.clusters.find((c) => c.name === repl)!.replaces).toBeUndefined();
    hist = appendHistory(hist, ready.record);

    // Draining: standby only once the longest request has ended (connection draining covers backendTimeoutSec: 900 s = 15 min).
    const soon = run(drained, obs, fleet(drained, {}, appendHistory(hist, { ...ready.record, id: 'x', at: at(125).toISOString(), clusters: drained.clusters.map((c) => ({ name: c.name, mode: c.mode, gpu: c.gpu, health: 'idle' as const })) })), 130, setup);
    expect(soon.changes).toEqual([]);
    expect(soon.notes.join('\n')).toMatch(/sd-us-central1 draining for 5\/15 min/);
    const later = run(drained, obs, fleet(drained, {}, appendHistory(hist, { ...ready.record, id: 'x', at: at(125).toISOString(), clusters: drained.clusters.map((c) => ({ name: c.name, mode: c.mode, gpu: c.gpu, health: 'idle' as const })) })), 142, setup);
    expect(later.changes.map((c) => [c.cluster, c.kind])).toEqual([['sd-us-central1', 'standby']]);
  });
});

describe('decide: in-region GPU fallback', () => {
  it('prefers changing the GPU type of the cluster over moving the region', () => {
    const spec = baseSpec();
    const obs = [stockout('us-central1', L4, 99), observation('us-central1', T4, 'success', at(97))];
    const plan = run(spec, obs, fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])), 100);
    expect(plan.changes).toEqual([expect.objectContaining({ cluster: 'sd-us-central1', kind: 'switch-gpu', from: expect.objectContaining({ gpu: L4 }), to: expect.objectContaining({ gpu: T4, mode: 'active' }) })]);
    expect(plan.changes[0]!.reason).toMatch(/changes GPU type instead of moving region/);
  });

  it('does not switch GPU type on no evidence: the ComputeClass already tried it; moves region instead', () => {
    const spec = baseSpec();
    const plan = run(spec, [stockout('us-central1', L4, 99)], fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])), 100);
    expect(plan.changes.map((c) => c.kind)).not.toContain('switch-gpu');
    expect(plan.changes[0]).toMatchObject({ replaces: 'sd-us-central1' });
    expect(plan.notes.join('\n')).toMatch(/nvidia-tesla-t4 in us-central1 is not confirmed by a probe/);
  });
});

describe('decide: quota-zero region', () => {
  it('does not move into a region without quota; asks for quota instead', () => {
    const spec = baseSpec();
    const setup = { 'us-central1': { offered: [L4] }, 'us-east4': { quota: { [L4]: 0, [T4]: 0 } } };
    const plan = run(spec, [stockout('us-central1', L4, 99)], fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])), 100, setup);
    expect(plan.changes.map((c) => c.region)).not.toContain('us-east4');
    expect(plan.quotaRequests).toEqual([expect.objectContaining({ region: 'us-east4', gpu: L4, metric: 'NVIDIA_L4_GPUS', limit: 0 })]);
    // The replacement needs as many GPUs as the busiest active cluster runs.
    const needed = spec.gpu.count * Math.max(...spec.clusters.filter((c) => c.mode === 'active').map((c) => c.replicas));
    expect(plan.quotaRequests[0]!.needed).toBe(needed);
    expect(plan.quotaRequests[0]!.note).toContain(`request ≥ ${needed}`);
  });
});

describe('decide: total outage', () => {
  it('proposes nothing unsafe and explains in one line', () => {
    const spec = baseSpec();
    const obs = spec.placement.candidateRegions.flatMap((r) => [stockout(r, L4, 98), stockout(r, T4, 98)]);
    const setup = { 'us-east4': { quota: { [L4]: 0, [T4]: 0 } }, 'europe-west1': { quota: { [L4]: 0, [T4]: 0 } } };
    const plan = run(spec, obs, fleet(spec, { 'sd-us-central1': 0, 'sd-europe-west4': 0 }, history(spec, 5, 100, ['sd-us-central1', 'sd-europe-west4'])), 100, setup);
    expect(plan.changes).toEqual([]);
    expect(plan.clusters).toEqual(spec.clusters);
    expect(plan.eligibility).toBe('0/6 regions eligible: 4 stockout (last 2m), 2 quota 0');
    expect(plan.notes.join('\n')).toMatch(/stays active although failing .*0\/6 regions eligible.*below the minimum of 2/);
  });
});

describe('decide: fail-static', () => {
  it('keeps a serving region the scout cannot see', () => {
    const spec = baseSpec();
    const plan = run(spec, [], fleet(spec, { 'sd-us-central1': null }, history(spec, 5, 100)), 100, { 'us-central1': { status: 'unknown', quota: { [L4]: null, [T4]: null } } });
    expect(plan.health[0]).toMatchObject({ health: 'unknown', badSweeps: 0 });
    expect(plan.changes).toEqual([]);
  });

  it('unknown sweeps neither count towards nor reset the bad run', () => {
    const spec = baseSpec();
    const hist = history(spec, 3, 100, ['sd-us-central1']);
    hist[1]!.clusters[0]!.health = 'unknown';
    const plan = run(spec, [stockout('us-central1', L4, 99)], fleet(spec, { 'sd-us-central1': 0 }, hist), 100, { 'us-central1': { offered: [L4] } });
    expect(plan.health[0]!.badSweeps).toBe(3);
  });
});

describe('decide: recovery without flapping (dwell, margin)', () => {
  const spec = withClusters(baseSpec(), [
    { name: 'sd-us-east4', region: 'us-east4', mode: 'active' },
    { name: 'sd-europe-west4', region: 'europe-west4', mode: 'active' },
    { name: 'sd-us-central1', region: 'us-central1', mode: 'standby' },
  ]);
  // us-central1 recovered and a probe confirms it; us-east4 is more expensive... but just took over.
  const obs = [observation('us-central1', L4, 'success', at(95)), observation('us-central1', L4, 'success', at(98))];

  it('does not switch back before the dwell time', () => {
    const hist = history(spec, 3, 100); // the new placement is only 30 minutes old
    const plan = run(spec, obs, fleet(spec, {}, hist), 100, { 'us-east4': {} });
    expect(plan.changes).toEqual([]);
  });

  it('needs the switch margin even after the dwell time', () => {
    const hist = history(spec, 9, 100); // 90 minutes
    const plan = run(spec, obs, fleet(spec, {}, hist), 100);
    const east = plan.candidates.find((c) => c.region === 'us-east4')!;
    const central = plan.candidates.find((c) => c.region === 'us-central1')!;
    const better = central.score > east.score * (1 + spec.placement.switchMargin);
    expect(plan.changes.length > 0).toBe(better);
    if (better) expect(plan.changes[0]).toMatchObject({ cluster: 'sd-us-central1', kind: 'activate', replaces: 'sd-us-east4' });
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
    const ex = { ...spec, placement: { ...spec.placement, minServingRegions: 2, excludedRegions: ['us-east4', 'us-central1'] } };
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
