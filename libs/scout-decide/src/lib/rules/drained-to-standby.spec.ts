import { at, baseSpec, builder, fleet, history, withClusters } from '../../testing/world';
import { standDrained } from './drained-to-standby';

// backendTimeoutSec defaults to 900 s: a drained cluster waits 15 minutes.
const spec = withClusters(baseSpec(), [
  { name: 'sd-us-central1', region: 'us-central1', mode: 'draining' },
  { name: 'sd-europe-west4', region: 'europe-west4', mode: 'active' },
]);

describe('rule: drained to standby', () => {
  it('stands a cluster by once it has drained for the longest request', () => {
    const p = builder(spec, [], fleet(spec, {}, history(spec, 2, 100)), 100); // draining since minute 80
    standDrained(p);
    expect(p.changes.map((c) => [c.cluster, c.kind, c.reason])).toEqual([
      [
        'sd-us-central1',
        'standby',
        'drained for 20 min (≥ 15 min: the longest request, which connection draining covers)',
      ],
    ]);
  });

  it('waits while the drain time has not passed', () => {
    const hist = history(spec, 2, 100).map((h, i) =>
      i === 0
        ? {
            ...h,
            clusters: h.clusters.map((c) => (c.name === 'sd-us-central1' ? { ...c, mode: 'active' as const } : c)),
          }
        : h,
    );
    const p = builder(spec, [], fleet(spec, {}, hist), 100); // draining since minute 90
    standDrained(p);
    expect(p.changes).toEqual([]);
    expect(p.notes).toEqual(['sd-us-central1 draining for 10/15 min before standby']);
    expect(hist[1]!.at).toBe(at(90).toISOString());
  });

  it('waits for a sweep to have seen it draining when there is no history', () => {
    const p = builder(spec, [], fleet(spec), 100);
    standDrained(p);
    expect(p.changes).toEqual([]);
    expect(p.notes).toEqual(['sd-us-central1 draining; standby once the history shows it drained for 15 min']);
  });
});
