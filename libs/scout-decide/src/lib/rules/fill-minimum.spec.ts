import { baseSpec, builder, fleet, history, L4, stockout, T4, withClusters } from '../../testing/world';
import { fillMinimum } from './fill-minimum';

const one = withClusters(baseSpec(), [{ name: 'sd-europe-west4', region: 'europe-west4', mode: 'active' }]);
const needs = (min: number, budget = 3) => ({
  ...one,
  placement: { ...one.placement, minServingRegions: min, maxServingRegions: 3, maxChangesPerSweep: budget },
});

describe('rule: fill the minimum', () => {
  it('activates the best eligible regions until the minimum serves', () => {
    const spec = needs(3);
    const p = builder(spec, [], fleet(spec), 0);
    fillMinimum(p);
    expect(p.changes.map((c) => c.kind)).toEqual(['add-cluster', 'add-cluster']);
    expect(p.activeWork()).toHaveLength(3);
    expect(p.changes[0]!.reason).toMatch(/^only 1 region\(s\) serve, below placement.minServingRegions \(3\); /);
  });

  it('holds back what the change budget does not allow, for the next sweep', () => {
    const spec = needs(3, 1);
    const p = builder(spec, [], fleet(spec), 0);
    fillMinimum(p);
    expect(p.changes).toHaveLength(1);
    expect(p.heldBack).toEqual([{ cluster: null, kind: 'activate' }]);
    expect(p.notes).toEqual([
      expect.stringMatching(/^held back by placement.maxChangesPerSweep \(1\): 1 more region\(s\)/),
    ]);
  });

  it('says why when nothing is eligible', () => {
    const spec = needs(2);
    const obs = spec.placement.candidateRegions.flatMap((r) => [stockout(r, L4, 0), stockout(r, T4, 0)]);
    const p = builder(spec, obs, fleet(spec), 1);
    fillMinimum(p);
    expect(p.changes).toEqual([]);
    expect(p.notes).toEqual([
      expect.stringMatching(
        /^only 1 serving region\(s\), below the minimum of 2, and nothing to add: 0\/6 regions eligible: /,
      ),
    ]);
  });

  it('does nothing at the minimum', () => {
    const spec = needs(1);
    const p = builder(spec, [], fleet(spec), 0);
    fillMinimum(p);
    expect(p.changes).toEqual([]);
  });
});

it('a region added while a failed cluster has no replacement replaces it (one for one), so it is drained once the new one is ready', () => {
  const two = withClusters(baseSpec(), [
    { name: 'sd-europe-west4', region: 'europe-west4', mode: 'active' },
    { name: 'sd-us-central1', region: 'us-central1', mode: 'active' },
  ]);
  const spec = { ...two, placement: { ...two.placement, minServingRegions: 2, maxServingRegions: 3 } };
  const p = builder(
    spec,
    [stockout('us-central1', L4, 99), stockout('us-central1', T4, 99)],
    fleet(spec, { 'sd-us-central1': 0 }, history(spec, 3, 100, ['sd-us-central1'])),
    100,
  );
  fillMinimum(p);
  expect(p.changes).toHaveLength(1);
  expect(p.changes[0]).toMatchObject({ replaces: 'sd-us-central1' });
  expect(p.changes[0]!.reason).toMatch(/; it replaces sd-us-central1$/);
});
