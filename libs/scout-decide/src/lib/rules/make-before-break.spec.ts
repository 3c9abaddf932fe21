import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { baseSpec, builder, fleet, history, withClusters } from '../../testing/world';
import { finishReplacements } from './make-before-break';

// sd-asia-northeast1 was activated to replace sd-us-central1 (make-before-break in progress).
const replacing = (min = 2): FleetSpec => {
  const spec = withClusters(baseSpec(), [
    { name: 'sd-us-central1', region: 'us-central1', mode: 'active' },
    { name: 'sd-europe-west4', region: 'europe-west4', mode: 'active' },
    { name: 'sd-asia-northeast1', region: 'asia-northeast1', mode: 'active', replaces: 'sd-us-central1' },
  ]);
  return { ...spec, placement: { ...spec.placement, minServingRegions: min } };
};

describe('rule: make-before-break', () => {
  it('drains the replaced cluster once every replica of its replacement is ready, and tidies the marker', () => {
    const spec = replacing();
    // Replaced for an opportunity, not for failing: its replica is ready and may have requests in flight.
    const p = builder(spec, [], fleet(spec, {}, history(spec, 2, 100)), 100);
    finishReplacements(p);
    expect(p.changes.map((c) => [c.cluster, c.kind, c.to.mode])).toEqual([
      ['sd-us-central1', 'drain', 'draining'],
      ['sd-asia-northeast1', 'tidy', 'active'],
    ]);
    expect(p.byName('sd-asia-northeast1')!.replaces).toBeUndefined();
  });

  it('stands the replaced cluster by at once when none of its replicas is ready (no backend, nothing in flight)', () => {
    const spec = replacing();
    const p = builder(spec, [], fleet(spec, { 'sd-us-central1': 0 }, history(spec, 2, 100)), 100);
    finishReplacements(p);
    expect(p.changes.map((c) => [c.cluster, c.kind, c.to.mode])).toEqual([
      ['sd-us-central1', 'standby', 'standby'],
      ['sd-asia-northeast1', 'tidy', 'active'],
    ]);
  });

  it('keeps the old cluster serving while the replacement is not ready', () => {
    const spec = replacing();
    const p = builder(spec, [], fleet(spec, { 'sd-asia-northeast1': 0 }, history(spec, 2, 100)), 100);
    finishReplacements(p);
    expect(p.changes).toEqual([]);
    expect(p.notes).toEqual([
      'sd-us-central1 keeps serving until its replacement sd-asia-northeast1 has ready replicas (0/1 ready, starting)',
    ]);
  });

  it('does not drain when that would leave fewer ready regions than the minimum', () => {
    const spec = replacing(3);
    const p = builder(spec, [], fleet(spec, { 'sd-europe-west4': 0 }, history(spec, 2, 100)), 100);
    finishReplacements(p);
    expect(p.changes).toEqual([]);
    expect(p.notes[0]).toBe(
      'sd-us-central1 keeps serving: sd-asia-northeast1 is ready, but draining sd-us-central1 would leave 1 ready region(s), below the minimum of 3',
    );
  });

  it('only tidies the marker when the replaced cluster no longer serves', () => {
    const spec = replacing();
    spec.clusters[0]!.mode = 'standby';
    const p = builder(spec, [], fleet(spec, {}, history(spec, 2, 100)), 100);
    finishReplacements(p);
    expect(p.changes.map((c) => [c.cluster, c.kind])).toEqual([['sd-asia-northeast1', 'tidy']]);
  });
});
