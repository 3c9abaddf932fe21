import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { at, baseSpec, builder, fleet, history, L4, observation, withClusters } from '../../testing/world';
import { switchOpportunistically } from './opportunistic-switch';

// Only price counts: us-central1 (L4 $0.56, probed) scores +28 % over asia-northeast1 ($0.72).
const spec = (switchMargin: number, replaces?: string): FleetSpec => {
  const s = withClusters(baseSpec(), [
    { name: 'sd-asia-northeast1', region: 'asia-northeast1', mode: 'active' },
    { name: 'sd-europe-west4', region: 'europe-west4', mode: 'active', ...(replaces ? { replaces } : {}) },
    { name: 'sd-us-central1', region: 'us-central1', mode: 'standby' },
  ]);
  return {
    ...s,
    placement: {
      ...s.placement,
      candidateRegions: ['asia-northeast1', 'europe-west4', 'us-central1'],
      switchMargin,
      weights: { capacity: 0, price: 1, spread: 0, stickiness: 0, probe: 0, preference: 0 },
    },
  };
};
const obs = [observation('us-central1', L4, 'success', at(95))];

describe('rule: opportunistic switch', () => {
  it('replaces the weakest healthy region by a candidate better by more than the margin', () => {
    const s = spec(0.25);
    const p = builder(s, obs, fleet(s, {}, history(s, 9, 100)), 100);
    switchOpportunistically(p);
    expect(p.changes.map((c) => [c.cluster, c.kind, c.replaces, c.reason])).toEqual([
      [
        'sd-us-central1',
        'activate',
        'sd-asia-northeast1',
        'scores 0.63 against 0.49 for sd-asia-northeast1 (+28% > switchMargin 25%); replaces it once ready',
      ],
    ]);
  });

  it('keeps the placement within the margin', () => {
    const s = spec(0.3);
    const p = builder(s, obs, fleet(s, {}, history(s, 9, 100)), 100);
    switchOpportunistically(p);
    expect(p.changes).toEqual([]);
  });

  it('never starts a switch while a replacement is in progress', () => {
    const s = spec(0, 'sd-other');
    const p = builder(s, obs, fleet(s, {}, history(s, 9, 100)), 100);
    switchOpportunistically(p);
    expect(p.changes).toEqual([]);
  });
});
