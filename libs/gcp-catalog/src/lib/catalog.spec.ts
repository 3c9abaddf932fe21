import { computeQuotaId, GpuCatalog, resourceQuotaItemProblem } from '../index';

const catalog = GpuCatalog.bundled();

describe('GpuCatalog (bundled data)', () => {
  it('knows where L4 and T4 are offered, from the real catalog', () => {
    expect(catalog.offers('us-central1', 'nvidia-l4')).toBe(true);
    expect(catalog.offers('europe-west4', 'nvidia-l4')).toBe(true);
    // australia-southeast1 only has T4 in the bundled catalog
    expect(catalog.gpusInRegion('australia-southeast1')).toContain('nvidia-tesla-t4');
    expect(catalog.offers('australia-southeast1', 'nvidia-l4')).toBe(false);
  });

  it('lists zones per region and GPU, each zone belonging to the region', () => {
    const zones = catalog.zonesOffering('us-central1', 'nvidia-l4');
    expect(zones.length).toBeGreaterThan(0);
    for (const z of zones) expect(z.startsWith('us-central1-')).toBe(true);
    for (const offering of catalog.offerings()) expect(catalog.region(offering.region)?.zones).toContain(offering.zone);
  });

  it('has Autopilot support facts with an explicit unknown state', () => {
    expect(catalog.gpu('nvidia-l4')?.autopilotSupported).toBe(true);
    expect(catalog.gpu('nvidia-b200')?.autopilotSupported).toBeNull();
    expect(catalog.autopilotGpuTypes()).toContain('nvidia-tesla-t4');
    expect(catalog.autopilotGpuTypes()).not.toContain('nvidia-b200');
  });

  it('returns the cheapest price across the region and distinguishes spot', () => {
    const od = catalog.pricePerGpuHour('us-central1', 'nvidia-l4', false);
    const spot = catalog.pricePerGpuHour('us-central1', 'nvidia-l4', true);
    expect(od).toBeGreaterThan(0);
    expect(spot).toBeGreaterThan(0);
    expect(catalog.pricePerGpuHour('us-central1', 'nvidia-not-a-gpu', false)).toBeNull();
  });

  it('names quota metrics, including types missing from the bundled mapping', () => {
    expect(catalog.quotaMetric('nvidia-tesla-t4', false)).toBe('NVIDIA_T4_GPUS');
    expect(catalog.quotaMetric('nvidia-tesla-t4', true)).toBe('PREEMPTIBLE_NVIDIA_T4_GPUS');
    expect(catalog.quotaMetric('nvidia-l4', false)).toBe('NVIDIA_L4_GPUS');
    expect(catalog.quotaMetric('nvidia-l4', true)).toBe('PREEMPTIBLE_NVIDIA_L4_GPUS');
    expect(catalog.quotaMetric('nvidia-h100-mega-80gb', false)).toBe('NVIDIA_H100_MEGA_GPUS');
  });

  it('has coordinates and a continent for every region', () => {
    expect(catalog.regions().length).toBeGreaterThanOrEqual(40);
    for (const r of catalog.regions()) {
      expect(Math.abs(r.latitude)).toBeLessThanOrEqual(90);
      expect(r.continent).toMatch(/^(africa|asia|europe|middle-east|north-america|oceania|south-america)$/);
    }
  });
});

describe('platform rules', () => {
  it.each([
    ['requests.nvidia.com/gpu', null],
    ['limits.nvidia.com/gpu', 'extended'],
    ['nvidia.com/gpu', 'extended'],
    ['limits.example.com/widget', 'extended'],
    ['count/jobs.batch', null],
    ['pods', null],
    ['limits.memory', null],
    ['requests.ephemeral-storage', null],
    ['gold.storageclass.storage.k8s.io/requests.storage', null],
    ['limits.hugepages-2Mi', null],
  ])('ResourceQuota item %s', (item, expected) => {
    const problem = resourceQuotaItemProblem(item);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(/accepts only the requests\. prefix \(use "requests\./);
  });
});

describe('computeQuotaId', () => {
  // Compute's own quota error names the metric and its limit name (the Cloud Quotas quota ID) together.
  // Reported at https://github.com/GoogleCloudPlatform/pubsec-declarative-toolkit/issues/625
  const real =
    "Quota 'N2_CPUS' exceeded.  Limit: 8.0 in region northamerica-northeast1.\n\tmetric name = compute.googleapis.com/n2_cpus\n\tlimit name = N2-CPUS-per-project-region";

  it('derives the limit name Compute reports from the metric', () => {
    const metric = /Quota '([A-Z0-9_]+)'/.exec(real)![1]!;
    const limit = /limit name = (\S+)/.exec(real)![1]!;
    expect(computeQuotaId(metric, 'region')).toBe(limit);
  });

  it('names regional GPU quotas per project and region, GPUS_ALL_REGIONS per project', () => {
    expect(computeQuotaId(catalog.quotaMetric('nvidia-l4', false), 'region')).toBe('NVIDIA-L4-GPUS-per-project-region');
    expect(computeQuotaId(catalog.quotaMetric('nvidia-tesla-t4', true), 'region')).toBe(
      'PREEMPTIBLE-NVIDIA-T4-GPUS-per-project-region',
    );
    expect(computeQuotaId('GPUS_ALL_REGIONS', 'project')).toBe('GPUS-ALL-REGIONS-per-project');
  });

  it('refuses what is not a Compute metric name', () => {
    expect(() => computeQuotaId('nvidia-l4', 'region')).toThrow(/"nvidia-l4" is not a Compute quota metric/);
  });

  it('confirms the per-model metric of the bundled mapping, L4 and T4, not of newer families', () => {
    expect(catalog.quotaMetricConfirmed('nvidia-l4')).toBe(true);
    expect(catalog.quotaMetricConfirmed('nvidia-tesla-a100')).toBe(true);
    expect(catalog.quotaMetricConfirmed('nvidia-h100-80gb')).toBe(false);
  });
});
