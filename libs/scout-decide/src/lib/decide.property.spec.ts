import fc from 'fast-check';
import type { ClusterSpec, FleetSpec } from '@gpu-fleet/fleet-spec';
import type { Observation } from '@gpu-fleet/scout-domain';
import { decide } from './decide';
import { applyPlan } from './state';
import { realChanges, type FleetState, type Health, type Plan, type SweepRecord } from './types';
import { at, baseSpec, catalog, observation, signals, type RegionSetup } from '../testing/world';

/**
 * Invariants of the decision engine over random fleets, evidence, observations and histories.
 * Each property names the safety rule it guards.
 */
const REGIONS = ['us-central1', 'us-east4', 'europe-west4', 'europe-west1', 'asia-northeast1', 'asia-southeast1'];
const GPUS = ['nvidia-l4', 'nvidia-tesla-t4'];
const NOW = 300;

const arbCluster = (region: string) =>
  fc.record({
    name: fc.constant(`sd-${region}`),
    region: fc.constant(region),
    mode: fc.constantFrom<ClusterSpec['mode']>('active', 'active', 'standby', 'draining'),
    gpu: fc.constantFrom(...GPUS.filter((g) => catalog.offers(region, g))),
    replicas: fc.integer({ min: 1, max: 3 }),
  });

const arbObservation: fc.Arbitrary<Observation> = fc
  .record({
    region: fc.constantFrom(...REGIONS),
    gpu: fc.constantFrom(...GPUS),
    outcome: fc.constantFrom<Observation['outcome']>('success', 'stockout', 'stockout', 'quota', 'rejected', 'timeout'),
    minute: fc.integer({ min: 0, max: NOW }),
    source: fc.constantFrom<Observation['source']>('probe', 'passive'),
  })
  .map((o) => observation(o.region, o.gpu, o.outcome, at(o.minute), o.source));

const arbSetup: fc.Arbitrary<RegionSetup> = fc.record(
  {
    offered: fc.subarray(GPUS),
    quota: fc.record({
      'nvidia-l4': fc.constantFrom<number | null>(null, 0, 1, 8),
      'nvidia-tesla-t4': fc.constantFrom<number | null>(null, 0, 1, 8),
    }),
    status: fc.constantFrom<'ok' | 'unknown'>('ok', 'ok', 'unknown'),
  },
  { requiredKeys: [] },
);

interface Scenario {
  spec: FleetSpec;
  obs: Observation[];
  setup: Record<string, RegionSetup>;
  fleet: FleetState;
}

const scenarios = ({ minDwell = 0, minHistory = 0, hedged = false } = {}): fc.Arbitrary<Scenario> =>
  fc
    .record({
      clusters: fc
        .uniqueArray(fc.constantFrom(...REGIONS), { minLength: 1, maxLength: 6 })
        .chain((rs) => fc.tuple(...rs.map(arbCluster))),
      min: fc.integer({ min: 1, max: 3 }),
      extra: fc.integer({ min: 0, max: 2 }),
      bad: fc.integer({ min: 1, max: 4 }),
      k: fc.integer({ min: 1, max: 3 }),
      margin: fc.constantFrom(0, 0.1, 0.2, 0.5),
      dwell: fc.constantFrom(0, 30, 60, 240).filter((d) => d >= minDwell),
      obs: fc.array(arbObservation, { maxLength: 25 }),
      setup: fc.dictionary(fc.constantFrom(...REGIONS), arbSetup),
      ready: fc.array(fc.constantFrom<number | null>(null, 0, 1, 2, 3), { minLength: 6, maxLength: 6 }),
      exists: fc.array(fc.constantFrom<boolean | null>(true, true, true, false, null), { minLength: 6, maxLength: 6 }),
      historyLen: fc.integer({ min: minHistory, max: 6 }),
      historyHealth: fc.array(fc.constantFrom<Health>('good', 'bad', 'bad', 'unknown', 'pending'), {
        minLength: 36,
        maxLength: 36,
      }),
      replaces: fc.option(fc.tuple(fc.nat(5), fc.nat(5)), { nil: undefined }),
      moveAfter: fc.constantFrom(0, 30, 60, 120),
    })
    .map((r) => {
      const base = baseSpec();
      const clusters: ClusterSpec[] = r.clusters.map((c) => ({ ...c }));
      if (r.replaces) {
        const [a, b] = [clusters[r.replaces[0] % clusters.length]!, clusters[r.replaces[1] % clusters.length]!];
        if (a !== b && a.mode === 'active' && b.mode === 'active') a.replaces = b.name;
      }
      const spec: FleetSpec = {
        ...base,
        ...(hedged
          ? {
              gpu: {
                ...base.gpu,
                provisioning: 'hedged' as const,
                acceptCutGenerations: true,
                hedge: { cooldownMinutes: 20, moveAfterMinutes: r.moveAfter, stage: 'hedge' as const },
              },
            }
          : {}),
        placement: {
          ...base.placement,
          candidateRegions: REGIONS,
          minServingRegions: r.min,
          maxServingRegions: r.min + r.extra,
          badSweepsBeforeDrop: r.bad,
          maxChangesPerSweep: r.k,
          switchMargin: r.margin,
          minDwellMinutes: r.dwell,
        },
        clusters,
      };
      const history: SweepRecord[] = Array.from({ length: r.historyLen }, (_, i) => ({
        id: `h${i}`,
        at: at(NOW - (r.historyLen - i) * 15).toISOString(),
        clusters: clusters.map((c, j) => ({
          name: c.name,
          mode: c.mode,
          gpu: c.gpu,
          health: c.mode === 'active' ? r.historyHealth[i * 6 + j]! : ('idle' as const),
        })),
      }));
      // A standby cluster runs no app pods (replicas render as 0).
      const fleet: FleetState = {
        observed: clusters.map((c, i) => ({
          name: c.name,
          exists: r.exists[i]!,
          readyReplicas: c.mode === 'standby' && r.ready[i] !== null ? 0 : r.ready[i]!,
        })),
        history,
      };
      // Hedged: the evidence that decides is about Spot.
      const obs = hedged ? r.obs.map((o) => ({ ...o, spot: true })) : r.obs;
      return { spec, obs, setup: r.setup, fleet };
    });

const arbScenario = scenarios();

const decideOn = (s: Scenario, spec = s.spec): Plan =>
  decide(spec, signals(spec, at(NOW), s.obs, s.setup), s.fleet, at(NOW), { catalog, sweepId: 'p' });

const readyActive = (s: Scenario, clusters: ClusterSpec[]) =>
  clusters.filter((c) => {
    const observedCluster = s.fleet.observed.find((x) => x.name === c.name);
    return (
      c.mode === 'active' &&
      observedCluster?.exists !== false &&
      observedCluster?.readyReplicas !== null &&
      observedCluster !== undefined &&
      observedCluster.readyReplicas! >= c.replicas
    );
  }).length;

const RUNS = {
  numRuns: Number(process.env.FC_RUNS ?? 400),
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}),
};

describe('decide: properties', () => {
  it('is deterministic: the same input gives the same plan', () => {
    fc.assert(
      fc.property(arbScenario, (s) => expect(decideOn(s)).toEqual(decideOn(s))),
      RUNS,
    );
  });

  it('makes at most placement.maxChangesPerSweep changes', () => {
    fc.assert(
      fc.property(arbScenario, (s) => realChanges(decideOn(s).changes).length <= s.spec.placement.maxChangesPerSweep),
      RUNS,
    );
  });

  it('never leaves fewer ready serving regions than the minimum (make-before-break)', () => {
    fc.assert(
      fc.property(arbScenario, (s) => {
        const plan = decideOn(s);
        const before = readyActive(s, s.spec.clusters);
        return readyActive(s, plan.clusters) >= Math.min(s.spec.placement.minServingRegions, before);
      }),
      RUNS,
    );
  });

  it('never drains or changes a healthy or unseen serving cluster unless a ready replacement was merged for it', () => {
    fc.assert(
      fc.property(arbScenario, (s) => {
        const plan = decideOn(s);
        for (const c of s.spec.clusters.filter((x) => x.mode === 'active')) {
          const observedCluster = s.fleet.observed.find((x) => x.name === c.name)!;
          const healthyOrUnknown =
            observedCluster.readyReplicas === null ||
            (observedCluster.exists !== false && observedCluster.readyReplicas >= c.replicas);
          if (!healthyOrUnknown) continue;
          const replacedByMerge = s.spec.clusters.some((x) => x.mode === 'active' && x.replaces === c.name);
          const after = plan.clusters.find((x) => x.name === c.name)!;
          if (!replacedByMerge && (after.mode !== 'active' || after.gpu !== c.gpu)) return false;
        }
        return true;
      }),
      RUNS,
    );
  });

  // The scout always has its previous sweep in the history, and a dwell time; with minDwellMinutes 0
  // a cluster the plan just stood by may be picked again by the next sweep (the policy allows it).
  it('is idempotent: applying the plan and deciding again on the same evidence changes nothing more than held-back changes and make-before-break completions', () => {
    fc.assert(
      fc.property(scenarios({ minDwell: 30, minHistory: 1 }), (s) => {
        const first = decideOn(s);
        const second = decideOn(s, applyPlan(s.spec, first));
        // The only follow-ups: the very changes the budget held back, and make-before-break
        // completions (the replacement now serves, so the cluster it replaces drains).
        const applied = applyPlan(s.spec, first);
        const activation = (k: string) => k === 'activate' || k === 'add-cluster';
        for (const ch of realChanges(second.changes)) {
          const completion =
            (ch.kind === 'drain' || ch.kind === 'standby') &&
            applied.clusters.some((c) => c.mode === 'active' && c.replaces === ch.cluster);
          const heldBack = first.heldBack.some((h) =>
            h.cluster === null
              ? activation(ch.kind)
              : h.cluster === ch.cluster && (h.kind === ch.kind || (activation(h.kind) && activation(ch.kind))),
          );
          // (the change is named so a counterexample says which one)
          if (!completion)
            expect({ change: `${ch.cluster} ${ch.kind}`, heldBack }).toEqual({
              change: `${ch.cluster} ${ch.kind}`,
              heldBack: true,
            });
        }
        // Never undoes what it just proposed.
        for (const ch of realChanges(second.changes)) {
          const undo = realChanges(first.changes).find(
            (f) => f.cluster === ch.cluster && f.from && f.from.mode === ch.to.mode && f.from.gpu === ch.to.gpu,
          );
          expect(undo).toBeUndefined();
        }
      }),
      RUNS,
    );
  });
});

/**
 * gpu.provisioning hedged: the same safety rules hold; the one exception to the change budget is a
 * Spot slot with no ready replica stood by in the same change as its replacement (it serves nothing).
 */
describe('decide (hedged): properties', () => {
  const hedgedScenario = scenarios({ hedged: true });
  const observedReady = (s: Scenario, name: string) => s.fleet.observed.find((o) => o.name === name)?.readyReplicas;

  it('is deterministic', () => {
    fc.assert(
      fc.property(hedgedScenario, (s) => expect(decideOn(s)).toEqual(decideOn(s))),
      RUNS,
    );
  });

  it('never leaves fewer ready serving regions than the minimum', () => {
    fc.assert(
      fc.property(hedgedScenario, (s) => {
        const before = readyActive(s, s.spec.clusters);
        return readyActive(s, decideOn(s).clusters) >= Math.min(s.spec.placement.minServingRegions, before);
      }),
      RUNS,
    );
  });

  it('stays within placement.maxChangesPerSweep but for slots with no ready replica swapped out with their replacement', () => {
    fc.assert(
      fc.property(hedgedScenario, (s) => {
        const changes = realChanges(decideOn(s).changes);
        // Swapped out with a replacement (PlanBuilder.activate): idle, and named so in the reason.
        const swappedOut = changes.filter((c) => c.kind === 'standby' && /in the same change/.test(c.reason));
        for (const c of swappedOut) expect(observedReady(s, c.cluster)).toBe(0);
        if (swappedOut.length)
          expect(changes.some((x) => x.kind === 'activate' || x.kind === 'add-cluster')).toBe(true);
        return changes.length - swappedOut.length <= s.spec.placement.maxChangesPerSweep;
      }),
      RUNS,
    );
  });

  it('never stands by or changes a serving cluster that had a ready replica, unless a ready replacement was merged for it', () => {
    fc.assert(
      fc.property(hedgedScenario, (s) => {
        const plan = decideOn(s);
        for (const c of s.spec.clusters.filter((x) => x.mode === 'active')) {
          const ready = observedReady(s, c.name);
          if (ready === 0) continue;
          const healthyOrUnknown = ready === null || ready === undefined || ready >= c.replicas;
          if (!healthyOrUnknown) continue;
          const replacedByMerge = s.spec.clusters.some((x) => x.mode === 'active' && x.replaces === c.name);
          const after = plan.clusters.find((x) => x.name === c.name)!;
          if (!replacedByMerge && (after.mode !== 'active' || after.gpu !== c.gpu)) return false;
        }
        return true;
      }),
      RUNS,
    );
  });

  it('converges: on unchanged evidence, deciding on its own merged plans reaches a placement it keeps', () => {
    fc.assert(
      fc.property(scenarios({ hedged: true, minDwell: 30, minHistory: 1 }), (s) => {
        let spec = s.spec;
        for (let i = 0; i < 12; i++) {
          const plan = decideOn(s, spec);
          if (!realChanges(plan.changes).length) return true;
          spec = applyPlan(spec, plan);
        }
        return false;
      }),
      { ...RUNS, numRuns: Math.min(RUNS.numRuns, 200) },
    );
  });
});
