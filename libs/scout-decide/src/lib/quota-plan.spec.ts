import fc from 'fast-check';
import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { quotaPlan, quotaPreferenceId, quotaVerdict, type QuotaNeed } from './quota-plan';
import { decide } from './decide';
import { at, baseSpec, catalog, signals } from '../testing/world';

const need = (needs: QuotaNeed[], region: string | null, metric: string) =>
  needs.find((n) => n.region === region && n.metric === metric);

describe('quotaPlan', () => {
  const spec = baseSpec();
  const plan = quotaPlan(spec, catalog);

  it('asks, per candidate region and offered GPU type, for the replicas a cluster there runs plus a rollout surge and the probe quota', () => {
    // sd-us-central1 runs 1 replica: (1 + 1 surge) × 1 GPU + 1 probe GPU.
    expect(need(plan.needs, 'us-central1', 'NVIDIA_L4_GPUS')).toMatchObject({
      needed: 3,
      quotaId: 'NVIDIA-L4-GPUS-per-project-region',
      hasCluster: true,
      confirmed: true,
    });
    // sd-europe-west4 runs 2 replicas.
    expect(need(plan.needs, 'europe-west4', 'NVIDIA_L4_GPUS')!.needed).toBe(4);
    // No cluster in us-east4 yet: the scout would activate it with the largest serving replica count (2).
    expect(need(plan.needs, 'us-east4', 'NVIDIA_L4_GPUS')).toMatchObject({ needed: 4, hasCluster: false });
    // Every preferred type the region offers, because the ComputeClass may fall back to it.
    for (const region of spec.placement.candidateRegions) {
      for (const gpu of spec.gpu.preferences.filter((g) => catalog.offers(region, g)))
        expect(need(plan.needs, region, catalog.quotaMetric(gpu, false))).toBeDefined();
    }
  });

  it('asks for GPUS_ALL_REGIONS across the regions that can hold pods at once, plus one sweep of probes', () => {
    const all = need(plan.needs, null, 'GPUS_ALL_REGIONS')!;
    expect(all.quotaId).toBe('GPUS-ALL-REGIONS-per-project');
    // min(6 usable regions, maxServingRegions 3 + maxChangesPerSweep 1) × largest app peak (2 + 1) + 2 probes × 1 GPU.
    expect(all.needed).toBe(4 * 3 + 2);
  });

  it('uses the PREEMPTIBLE_ metrics for Spot and both for spot-then-on-demand', () => {
    const spot = quotaPlan({ ...spec, gpu: { ...spec.gpu, provisioning: 'spot' } }, catalog);
    expect(
      spot.needs.filter((n) => n.scope === 'region').every((n) => n.spot && n.metric.startsWith('PREEMPTIBLE_')),
    ).toBe(true);
    const both = quotaPlan({ ...spec, gpu: { ...spec.gpu, provisioning: 'spot-then-on-demand' } }, catalog);
    expect(
      both.needs
        .filter((n) => n.region === 'us-central1')
        .map((n) => n.metric)
        .sort(),
    ).toEqual(['NVIDIA_L4_GPUS', 'NVIDIA_T4_GPUS', 'PREEMPTIBLE_NVIDIA_L4_GPUS', 'PREEMPTIBLE_NVIDIA_T4_GPUS']);
  });

  it('scales with gpu.count and probeMaxGpus', () => {
    const big = quotaPlan(
      { ...spec, gpu: { ...spec.gpu, count: 2 }, scout: { ...spec.scout, probeMaxGpus: 4 } },
      catalog,
    );
    expect(need(big.needs, 'europe-west4', 'NVIDIA_L4_GPUS')!.needed).toBe((2 + 1) * 2 + 4);
  });

  it('with autoscaling, sizes each region for what KEDA may scale it to (maxReplicasPerRegion), not for replicas', () => {
    const scaled = quotaPlan(
      { ...spec, autoscaling: { ...spec.autoscaling, enabled: true, maxReplicasPerRegion: 4 } },
      catalog,
    );
    // sd-us-central1 declares 1 replica but may run 4: (4 + 1 surge) × 1 GPU + 1 probe GPU
    expect(need(scaled.needs, 'us-central1', 'NVIDIA_L4_GPUS')).toMatchObject({
      needed: 6,
      why: expect.stringContaining('autoscaling.maxReplicasPerRegion'),
    });
    expect(need(scaled.needs, 'us-east4', 'NVIDIA_L4_GPUS')!.needed).toBe(6);
    // project-wide: 4 regions with pods × (4 + 1) + 2 probes
    expect(need(scaled.needs, null, 'GPUS_ALL_REGIONS')!.needed).toBe(4 * 5 + 2);
    // off: the declared replicas, as before
    expect(need(plan.needs, 'us-central1', 'NVIDIA_L4_GPUS')!.needed).toBe(3);
  });

  it('skips excluded regions without clusters and regions offering none of the preferences, saying why', () => {
    const bare = catalog
      .regions()
      .map((r) => r.region)
      .find((r) => !spec.gpu.preferences.some((g) => catalog.offers(r, g)))!;
    expect(bare).toBeDefined();
    const s: FleetSpec = {
      ...spec,
      placement: {
        ...spec.placement,
        candidateRegions: [...spec.placement.candidateRegions, bare],
        excludedRegions: ['us-east4'],
      },
    };
    const p = quotaPlan(s, catalog);
    expect(p.needs.some((n) => n.region === 'us-east4')).toBe(false);
    expect(p.skipped).toContainEqual({ region: 'us-east4', reason: expect.stringContaining('excludedRegions') });
    expect(p.skipped).toContainEqual({
      region: bare,
      reason: expect.stringContaining('offers none of gpu.preferences'),
    });
  });

  it('keeps the quota of a cluster left running in an excluded region, for its own GPU type only', () => {
    const p = quotaPlan({ ...spec, placement: { ...spec.placement, excludedRegions: ['europe-west4'] } }, catalog);
    expect(p.needs.filter((n) => n.region === 'europe-west4').map((n) => n.metric)).toEqual(['NVIDIA_L4_GPUS']);
  });

  it('marks metrics that only follow the naming pattern as unconfirmed', () => {
    const h100 = quotaPlan({ ...spec, gpu: { ...spec.gpu, preferences: ['nvidia-h100-80gb'] }, clusters: [] }, catalog);
    expect(h100.needs.filter((n) => n.scope === 'region').length).toBeGreaterThan(0);
    expect(h100.needs.filter((n) => n.scope === 'region').every((n) => !n.confirmed)).toBe(true);
  });

  it('covers every cluster a decision can leave holding pods (property)', () => {
    const regions = spec.placement.candidateRegions;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...regions), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.constantFrom('active' as const, 'standby' as const, 'draining' as const), {
          minLength: 6,
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: 4 }),
        (rs, replicas, modes, count) => {
          const s: FleetSpec = {
            ...spec,
            gpu: { ...spec.gpu, count },
            placement: { ...spec.placement, minServingRegions: 1, maxServingRegions: 3, minDwellMinutes: 0 },
            clusters: rs.map((region, i) => ({
              name: `sd-${region}`,
              region,
              mode: modes[i]!,
              gpu: spec.gpu.preferences.find((g) => catalog.offers(region, g))!,
              replicas: replicas[i]!,
            })),
          };
          const p = quotaPlan(s, catalog);
          const after = decide(
            s,
            signals(s, at(60), []),
            {
              observed: s.clusters.map((c) => ({ name: c.name, exists: true, readyReplicas: c.replicas })),
              history: [],
            },
            at(60),
            { catalog, sweepId: 'q' },
          );
          for (const c of after.clusters.filter((x) => x.mode !== 'standby')) {
            const n = need(p.needs, c.region, catalog.quotaMetric(c.gpu, false));
            expect(n).toBeDefined();
            expect(n!.needed).toBeGreaterThanOrEqual((c.replicas + 1) * count + s.scout.probeMaxGpus);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('quotaVerdict', () => {
  const n = quotaPlan(baseSpec(), catalog).needs[0]!;
  it('is ok at or above the need, a request below it, unknown when Compute reports no limit', () => {
    expect(quotaVerdict(n, { limit: n.needed, usage: 0 })).toBe('ok');
    expect(quotaVerdict(n, { limit: n.needed - 1, usage: 0 })).toBe('request');
    expect(quotaVerdict(n, undefined)).toBe('unknown');
    expect(quotaVerdict(n, { limit: null, usage: null })).toBe('unknown');
  });
});

describe('quotaPreferenceId', () => {
  it('is stable, distinct per quota and region, lowercase and at most 63 characters', () => {
    const ids = quotaPlan(baseSpec(), catalog).needs.map(quotaPreferenceId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-z0-9-]{0,62}$/);
    expect(ids).toContain('gpu-fleet-nvidia-l4-gpus-per-project-region-us-central1');
  });
});

describe('quotaPlan (hedged)', () => {
  it('asks Spot quota for the slots and probes, on-demand quota for the hedge only, and the hedge on top project-wide', () => {
    const base = baseSpec();
    const spec = {
      ...base,
      gpu: {
        ...base.gpu,
        provisioning: 'hedged' as const,
        acceptCutGenerations: true,
        hedge: { cooldownMinutes: 20, moveAfterMinutes: 120, stage: 'hedge' as const, maxOnDemandReplicas: 2 },
      },
    };
    const plan = quotaPlan(spec, catalog);
    const l4 = (spot: boolean) =>
      plan.needs.find((n) => n.region === 'us-central1' && n.gpu === 'nvidia-l4' && n.spot === spot)!;
    expect(l4(false)).toMatchObject({ needed: 3, why: expect.stringMatching(/the hedge's 2 on-demand replica/) });
    expect(l4(true).needed).toBe(
      quotaPlan(base, catalog).needs.find((n) => n.region === 'us-central1' && n.gpu === 'nvidia-l4')!.needed,
    );
    const project = (p: typeof plan) => p.needs.find((n) => n.scope === 'project')!.needed;
    expect(project(plan)).toBe(project(quotaPlan(base, catalog)) + 2);
  });
});
