import { baseSpec, builder, fleet, history, L4, observation, at, stockout, T4 } from '../../testing/world';
import { replaceBadClusters } from './replace-bad';

const spec = baseSpec(); // us-central1 and europe-west4 serve L4 (min 2), asia-northeast1 stands by on T4
const onlyL4 = { 'us-central1': { offered: [L4] } };

describe('rule: replace bad clusters', () => {
  it('waits while a cluster has been bad for fewer sweeps than badSweepsBeforeDrop', () => {
    const p = builder(
      spec,
      [stockout('us-central1', L4, 99)],
      fleet(spec, { 'sd-us-central1': 0 }, history(spec, 1, 100, ['sd-us-central1'])),
      100,
      onlyL4,
    );
    replaceBadClusters(p);
    expect(p.changes).toEqual([]);
    expect(p.notes).toEqual([
      expect.stringMatching(
        /^sd-us-central1: bad for 2\/3 sweeps \(0\/1 ready, nvidia-l4 stockout \(passive, 1 min ago\)\); waiting before acting/,
      ),
    ]);
  });

  it('with node selectors, switches the GPU type in the region when another preferred type is confirmed there', () => {
    const bySelector = { ...spec, gpu: { ...spec.gpu, selection: 'node-selector' as const } };
    const obs = [stockout('us-central1', L4, 99), observation('us-central1', T4, 'success', at(97))];
    const p = builder(
      bySelector,
      obs,
      fleet(bySelector, { 'sd-us-central1': 0 }, history(bySelector, 2, 100, ['sd-us-central1'])),
      100,
    );
    replaceBadClusters(p);
    expect(p.changes.map((c) => [c.cluster, c.kind, c.to.gpu])).toEqual([['sd-us-central1', 'switch-gpu', T4]]);
  });

  it('with a ComputeClass (which already tries every preferred type there), moves the region instead, whatever a probe said', () => {
    const obs = [stockout('us-central1', L4, 99), observation('us-central1', T4, 'success', at(97))];
    const p = builder(spec, obs, fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])), 100);
    replaceBadClusters(p);
    expect(p.changes.map((c) => [c.cluster, c.kind])).toEqual([['sd-asia-northeast1', 'activate']]);
  });

  it('activates a replacement region otherwise, the failing cluster still serving (make-before-break)', () => {
    const p = builder(
      spec,
      [stockout('us-central1', L4, 99)],
      fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100, ['sd-us-central1'])),
      100,
      onlyL4,
    );
    replaceBadClusters(p);
    expect(p.changes.map((c) => [c.cluster, c.kind, c.replaces])).toEqual([
      ['sd-asia-northeast1', 'activate', 'sd-us-central1'],
    ]);
    expect(p.byName('sd-us-central1')!.mode).toBe('active');
  });

  it('drains without a replacement only when the other regions still make the minimum', () => {
    const lowMin = {
      ...spec,
      placement: { ...spec.placement, minServingRegions: 1, candidateRegions: ['us-central1', 'europe-west4'] },
    };
    const p = builder(
      lowMin,
      [stockout('us-central1', L4, 99)],
      fleet(lowMin, { 'sd-us-central1': 0 }, history(lowMin, 2, 100, ['sd-us-central1'])),
      100,
      onlyL4,
    );
    replaceBadClusters(p);
    // No replica ready: no backend had traffic, so it goes to standby in one step.
    expect(p.changes.map((c) => [c.cluster, c.kind, c.to.mode])).toEqual([['sd-us-central1', 'standby', 'standby']]);
  });

  it('keeps a failing cluster active when there is no replacement and draining would go below the minimum', () => {
    const few = { ...spec, placement: { ...spec.placement, candidateRegions: ['us-central1', 'europe-west4'] } };
    const p = builder(
      few,
      [stockout('us-central1', L4, 99)],
      fleet(few, { 'sd-us-central1': 0 }, history(few, 2, 100, ['sd-us-central1'])),
      100,
      onlyL4,
    );
    replaceBadClusters(p);
    expect(p.changes).toEqual([]);
    expect(p.notes.at(-1)).toMatch(
      /^sd-us-central1 stays active although failing .*draining it would leave 1 serving region\(s\), below the minimum of 2$/,
    );
  });
});

describe('rule: replace bad clusters — a replacement that fails before it was ever ready', () => {
  it('is withdrawn (to standby: it never served), not replaced in turn, so the original gets a new replacement and the fleet does not grow', () => {
    // sd-asia-northeast1 was activated to replace sd-us-central1; both have been bad since.
    const inFlight = {
      ...spec,
      clusters: spec.clusters.map((c) =>
        c.name === 'sd-asia-northeast1' ? { ...c, mode: 'active' as const, replaces: 'sd-us-central1' } : c,
      ),
    };
    const p = builder(
      inFlight,
      [stockout('us-central1', L4, 99), stockout('asia-northeast1', T4, 99), stockout('asia-northeast1', L4, 99)],
      fleet(
        inFlight,
        { 'sd-us-central1': 0, 'sd-asia-northeast1': 0 },
        history(inFlight, 3, 100, ['sd-us-central1', 'sd-asia-northeast1']),
      ),
      100,
      onlyL4,
    );
    replaceBadClusters(p);
    expect(p.changes.map((c) => [c.cluster, c.kind])).toEqual([['sd-asia-northeast1', 'standby']]);
    expect(p.changes[0]!.reason).toMatch(
      /^replacement for sd-us-central1 failing for \d+ sweeps .* before it was ever ready: withdrawn; sd-us-central1 gets another replacement; no replica was ready/,
    );
    expect(p.byName('sd-asia-northeast1')!.replaces).toBeUndefined();
    expect(p.byName('sd-us-central1')!.mode).toBe('active');
  });
});
