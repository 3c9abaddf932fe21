import { baseSpec, builder, fleet, history } from '../testing/world';

describe('PlanBuilder: the change budget and one change per cluster', () => {
  const spec = { ...baseSpec(), placement: { ...baseSpec().placement, maxChangesPerSweep: 1 } };

  it('makes at most maxChangesPerSweep changes and records each one it holds back', () => {
    const p = builder(spec, [], fleet(spec, {}, history(spec, 2, 100)), 100);
    expect(p.change(p.byName('sd-asia-northeast1')!, 'activate', { mode: 'active' }, 'first')).toBe(true);
    expect(p.change(p.byName('sd-us-central1')!, 'drain', { mode: 'draining' }, 'second')).toBe(false);
    expect(p.byName('sd-us-central1')!.mode).toBe('active');
    expect(p.heldBack).toEqual([{ cluster: 'sd-us-central1', kind: 'drain' }]);
    expect(p.notes).toEqual(['held back by placement.maxChangesPerSweep (1): sd-us-central1 drain — second']);
    expect(p.budgetLeft()).toBe(0);
  });

  it('always allows a tidy (bookkeeping), which does not count', () => {
    const p = builder(spec, [], fleet(spec, {}, history(spec, 2, 100)), 100);
    p.change(p.byName('sd-asia-northeast1')!, 'activate', { mode: 'active', replaces: 'sd-us-central1' }, 'first');
    expect(p.change(p.byName('sd-asia-northeast1')!, 'tidy', { replaces: null }, 'done')).toBe(true);
    expect(p.budgetLeft()).toBe(0);
    expect(p.build().changes.map((c) => c.kind)).toEqual(['activate', 'tidy']);
  });

  it('a changed cluster no longer counts as good serving for later rules', () => {
    const p = builder(
      { ...spec, placement: { ...spec.placement, maxChangesPerSweep: 3 } },
      [],
      fleet(spec, {}, history(spec, 2, 100)),
      100,
    );
    expect(p.isGood('sd-us-central1')).toBe(true);
    expect(p.readyOthers('sd-europe-west4')).toBe(1);
    p.change(p.byName('sd-us-central1')!, 'switch-gpu', { gpu: 'nvidia-tesla-t4' }, 'test');
    expect(p.isGood('sd-us-central1')).toBe(false);
    expect(p.readyOthers('sd-europe-west4')).toBe(0);
  });
});
