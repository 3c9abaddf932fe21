import { assessHealth, coldClusters } from './health';
import { baseSpec, builder, fleet, history, L4, stockout } from '../testing/world';
import { replaceBadClusters } from './rules/replace-bad';

const spec = baseSpec(); // us-central1 and europe-west4 serve L4, asia-northeast1 stands by
const autoscaled = { ...spec, autoscaling: { ...spec.autoscaling, enabled: true, warmRegions: 1 } };
const NOW = new Date('2026-11-23T12:00:00Z');

describe('the scout and the autoscaler agree', () => {
  it('cold clusters are the active ones after the first warmRegions, none when autoscaling is off', () => {
    expect([...coldClusters(spec)]).toEqual([]);
    expect([...coldClusters(autoscaled)]).toEqual(['sd-europe-west4']);
    expect([...coldClusters({ ...autoscaled, autoscaling: { ...autoscaled.autoscaling, warmRegions: 2 } })]).toEqual(
      [],
    );
    // A cluster replacing another stays warm: make-before-break waits for it to be ready.
    const replacing = {
      ...autoscaled,
      clusters: autoscaled.clusters.map((c) =>
        c.name === 'sd-europe-west4' ? { ...c, replaces: 'sd-us-central1' } : c,
      ),
    };
    expect([...coldClusters(replacing)]).toEqual([]);
  });

  it('a cold region at zero with nothing pending is idle, even with old stockout evidence; pods that cannot get a node are bad as before', () => {
    const evidence = {
      stockoutWeight: 5,
      capacity: -1,
      quotaWeight: 0,
      rejectedWeight: 0,
      observations: [{ ...stockout('europe-west4', L4, 90), weight: 1 }],
    };
    const health = (observed: { readyReplicas: number | null; pendingPods?: number | null }) =>
      assessHealth(
        autoscaled.clusters,
        { observed: [{ name: 'sd-europe-west4', exists: true, ...observed }], history: [] },
        () => evidence as never,
        NOW,
        coldClusters(autoscaled),
      ).find((h) => h.cluster === 'sd-europe-west4')!;
    expect(health({ readyReplicas: 0, pendingPods: 0 })).toMatchObject({
      health: 'idle',
      reason: 'scaled to zero (no demand)',
      badSweeps: 0,
    });
    expect(health({ readyReplicas: 0, pendingPods: 1 }).health).toBe('bad');
    // Woken by demand: one ready replica serves, whatever the spec's replicas say (the autoscaler sizes it).
    expect(health({ readyReplicas: 1, pendingPods: 0 })).toMatchObject({
      health: 'good',
      reason: '1 ready (woken by demand)',
    });
    // Unknown pending count: not taken for idle.
    expect(health({ readyReplicas: 0, pendingPods: null }).health).toBe('bad');
    // The warm region is never idle at zero.
    const warm = assessHealth(
      autoscaled.clusters,
      { observed: [{ name: 'sd-us-central1', exists: true, readyReplicas: 0, pendingPods: 0 }], history: [] },
      () => evidence as never,
      NOW,
      coldClusters(autoscaled),
    ).find((h) => h.cluster === 'sd-us-central1')!;
    expect(warm.health).toBe('bad');
  });

  it('a cold region at zero for many sweeps is never replaced', () => {
    const observed = fleet(autoscaled, { 'sd-europe-west4': 0 }, history(autoscaled, 5, 100));
    observed.observed = observed.observed.map((o) => ({ ...o, pendingPods: 0 }));
    const p = builder(autoscaled, [stockout('europe-west4', L4, 90)], observed, 100);
    replaceBadClusters(p);
    expect(p.changes).toEqual([]);
    expect(p.healthOf('sd-europe-west4')).toMatchObject({ health: 'idle', badSweeps: 0 });
  });
});
