import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import type { Observation } from '@gpu-fleet/scout-domain';
import { decide } from '../decide';
import { applyPlan } from '../state';
import { realChanges, type FleetState, type Health, type SweepRecord } from '../types';
import { at, baseSpec, catalog, observation, signals } from '../../testing/world';

/**
 * gpu.provisioning hedged, the slow loop: a Spot slot the hedge's on-demand replicas cover moves only
 * once Spot was missing for most of gpu.hedge.moveAfterMinutes, only to a region whose learned uptime
 * is clearly better, and — when it serves nothing — in one pull request with its replacement.
 */
const L4 = 'nvidia-l4';
const NOW = 600;

const hedgedSpec = (over: Partial<FleetSpec['gpu']['hedge']> = {}): FleetSpec => {
  const base = baseSpec();
  return {
    ...base,
    gpu: {
      ...base.gpu,
      provisioning: 'hedged',
      acceptCutGenerations: true,
      hedge: { cooldownMinutes: 20, moveAfterMinutes: 120, stage: 'hedge' as const, ...over },
    },
  };
};

const spotObs = (region: string, outcome: Observation['outcome'], minute: number, source: Observation['source']) => ({
  ...observation(region, L4, outcome, at(minute), source),
  spot: true,
  details: `${outcome} ${source} ${minute}`,
});

/** One sweep every 10 minutes before NOW; `health(i)` is sd-us-central1's at sweep i (0 = oldest). */
function historyOf(spec: FleetSpec, n: number, health: (i: number) => Health): SweepRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `h${i}`,
    at: at(NOW - (n - i) * 10).toISOString(),
    clusters: spec.clusters.map((c) => ({
      name: c.name,
      mode: c.mode,
      gpu: c.gpu,
      health: c.mode !== 'active' ? ('idle' as const) : c.name === 'sd-us-central1' ? health(i) : ('good' as const),
    })),
  }));
}

const state = (spec: FleetSpec, history: SweepRecord[], centralReady = 0): FleetState => ({
  observed: spec.clusters.map((c) => ({
    name: c.name,
    exists: true,
    readyReplicas: c.name === 'sd-us-central1' ? centralReady : c.mode === 'active' ? c.replicas : 0,
  })),
  history,
});

/** us-central1's Spot keeps failing (passive stockouts, every 10 min of the last `minutes`). */
const failing = (minutes: number) =>
  Array.from({ length: minutes / 10 }, (_, i) => spotObs('us-central1', 'stockout', NOW - 1 - i * 10, 'passive'));
/** asia-northeast1 (the standby cluster) answered Spot probes with a GPU. */
const asiaProbed = [NOW - 30, NOW - 90, NOW - 150].map((m) => spotObs('asia-northeast1', 'success', m, 'probe'));

const run = (spec: FleetSpec, obs: Observation[], fleet: FleetState, minute = NOW) =>
  decide(spec, signals(spec, at(minute), obs), fleet, at(minute), { catalog, sweepId: `s${minute}` });

describe('hedged: a Spot slot the hedge covers', () => {
  it('stays while Spot was missing for less than most of gpu.hedge.moveAfterMinutes, however long the last run of bad sweeps', () => {
    const spec = hedgedSpec();
    // Bad for the last 5 sweeps (50 min) of a 120-minute window: fewer than half.
    const plan = run(
      spec,
      [...failing(50), ...asiaProbed],
      state(
        spec,
        historyOf(spec, 13, (i) => (i >= 9 ? 'bad' : 'good')),
      ),
    );
    expect(plan.changes).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(
      /sd-us-central1: Spot missing .*the hedge's on-demand replicas cover it; it moves only once Spot was missing for most of gpu\.hedge\.moveAfterMinutes \(120 min\)/,
    );
  });

  it('moves once Spot was missing for most of the window, to a region with clearly better learned uptime, in one pull request when it serves nothing', () => {
    const spec = hedgedSpec();
    const plan = run(
      spec,
      [...failing(130), ...asiaProbed],
      state(
        spec,
        historyOf(spec, 13, () => 'bad'),
      ),
    );
    expect(realChanges(plan.changes).map((c) => [c.cluster, c.kind, c.to.mode])).toEqual([
      ['sd-asia-northeast1', 'activate', 'active'],
      ['sd-us-central1', 'standby', 'standby'],
    ]);
    // The swap is outside the change budget (placement.maxChangesPerSweep 1): the slot served nothing.
    expect(spec.placement.maxChangesPerSweep).toBe(1);
    const after = applyPlan(spec, plan);
    expect(after.clusters.find((c) => c.name === 'sd-asia-northeast1')!.replaces).toBeUndefined();
    expect(after.clusters.filter((c) => c.mode === 'active').map((c) => c.name)).toEqual([
      'sd-europe-west4',
      'sd-asia-northeast1',
    ]);
    expect(plan.changes.find((c) => c.kind === 'standby')!.reason).toMatch(
      /in the same change: no replica of it was ready/,
    );
  });

  it('is replaced make-before-break when it still has a ready replica (requests may be in flight)', () => {
    const base = hedgedSpec();
    const spec = {
      ...base,
      clusters: base.clusters.map((c) => (c.name === 'sd-us-central1' ? { ...c, replicas: 2 } : c)),
    };
    const plan = run(
      spec,
      [...failing(130), ...asiaProbed],
      state(
        spec,
        historyOf(spec, 13, () => 'bad'),
        1,
      ),
    );
    expect(realChanges(plan.changes).map((c) => [c.cluster, c.kind])).toEqual([['sd-asia-northeast1', 'activate']]);
    expect(applyPlan(spec, plan).clusters.find((c) => c.name === 'sd-asia-northeast1')!.replaces).toBe(
      'sd-us-central1',
    );
  });

  it('does not move to a region no likelier to have Spot: every candidate failed as often as it did', () => {
    const spec = hedgedSpec();
    const everywhere = ['us-east4', 'europe-west1', 'asia-northeast1', 'asia-southeast1'].flatMap((r) =>
      [L4, 'nvidia-tesla-t4'].flatMap((gpu) =>
        Array.from({ length: 13 }, (_, i) => ({ ...spotObs(r, 'stockout', NOW - 125 - i * 10, 'probe'), gpu })),
      ),
    );
    const plan = run(
      spec,
      [...failing(130), ...everywhere],
      state(
        spec,
        historyOf(spec, 13, () => 'bad'),
      ),
    );
    expect(realChanges(plan.changes)).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(
      /no candidate's learned uptime beats us-central1's 0\.\d\d by placement\.switchMargin 0\.2: the slot stays/,
    );
  });

  it('does not flap under alternating capacity: Spot that moves between two regions every three hours for two days', () => {
    // us-central1 has Spot for three hours while asia-northeast1 has none, then the other way round.
    const moves = (provisioning: 'hedged' | 'spot') => {
      const base = hedgedSpec();
      let spec: FleetSpec = {
        ...base,
        gpu: { ...base.gpu, provisioning, preferences: [L4] },
        placement: { ...base.placement, candidateRegions: ['us-central1', 'europe-west4', 'asia-northeast1'] },
        clusters: base.clusters.map((c) => (c.name === 'sd-asia-northeast1' ? { ...c, gpu: L4 } : c)),
      };
      const has = (region: string, minute: number) =>
        region === 'europe-west4' || (Math.floor(minute / 180) % 2 === 0) === (region === 'us-central1');
      let history: SweepRecord[] = [];
      const obs: Observation[] = [];
      let count = 0;
      for (let minute = 0; minute < 48 * 60; minute += 20) {
        for (const c of spec.clusters) {
          const ok = has(c.region, minute);
          obs.push(
            spotObs(c.region, ok ? 'success' : 'stockout', minute - 1, c.mode === 'active' ? 'passive' : 'probe'),
          );
        }
        const fleet: FleetState = {
          observed: spec.clusters.map((c) => ({
            name: c.name,
            exists: true,
            readyReplicas: c.mode === 'active' && has(c.region, minute - 15) ? c.replicas : 0,
          })),
          history,
        };
        const plan = decide(spec, signals(spec, at(minute), obs), fleet, at(minute), {
          catalog,
          sweepId: `s${minute}`,
        });
        count += realChanges(plan.changes).filter((c) => c.kind === 'activate' || c.kind === 'add-cluster').length;
        spec = applyPlan(spec, plan);
        history = [...history, plan.record].slice(-96);
      }
      return count;
    };
    // Spot alone must chase the capacity (nothing else serves the slot); the hedge need not.
    expect(moves('spot')).toBeGreaterThanOrEqual(4);
    expect(moves('hedged')).toBeLessThanOrEqual(1);
  });

  it('other modes keep their rules: on spot the same failing slot is replaced after badSweepsBeforeDrop', () => {
    const base = hedgedSpec();
    const spec: FleetSpec = { ...base, gpu: { ...base.gpu, provisioning: 'spot' } };
    const plan = run(
      spec,
      [...failing(30), ...asiaProbed],
      state(
        spec,
        historyOf(spec, 3, () => 'bad'),
      ),
    );
    expect(realChanges(plan.changes).map((c) => [c.cluster, c.kind])).toEqual([['sd-asia-northeast1', 'activate']]);
  });
});
