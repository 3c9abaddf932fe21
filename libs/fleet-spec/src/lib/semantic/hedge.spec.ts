import { EXAMPLE_FLEET_YAML, formatIssue, loadFleetSpec, parseFleetSpec } from '../../index';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { hedgeCluster, hedgeTarget, kedaNeeded, slotsOnSpot } from '../derived';

const withGpu = (extra: string) => EXAMPLE_FLEET_YAML.replace('  count: 1\n', `  count: 1\n${extra}`);
const issues = (text: string) => {
  const r = parseFleetSpec(text, { file: 'fleet.yaml' });
  return r.ok ? [] : r.issues.map(formatIssue);
};

describe('gpu.provisioning hedged and gpu.hedge', () => {
  it('defaults: a 20-minute cooldown (SkyServe’s downscale delay), no pinned cluster; Spot slots and KEDA', () => {
    const { spec } = loadFleetSpec(withGpu('  provisioning: hedged\n  acceptCutGenerations: true\n'));
    expect(spec.gpu.hedge).toEqual({ cooldownMinutes: 20, moveAfterMinutes: 120, stage: 'install-keda' });
    expect(slotsOnSpot(spec)).toBe(true);
    expect(kedaNeeded(spec)).toBe(true);
    expect(kedaNeeded(loadFleetSpec(EXAMPLE_FLEET_YAML).spec)).toBe(false);
  });

  it('needs acceptCutGenerations (Spot pods), a ComputeClass, and a cluster of clusters when one is pinned', () => {
    expect(issues(withGpu('  provisioning: hedged\n'))).toEqual([
      expect.stringMatching(/^gpu\.provisioning: "hedged" runs pods on Spot VMs.*set gpu\.acceptCutGenerations: true/),
    ]);
    expect(
      issues(withGpu('  provisioning: hedged\n  acceptCutGenerations: true\n  selection: node-selector\n')),
    ).toEqual([expect.stringMatching(/^gpu\.provisioning: "hedged" needs gpu\.selection "compute-class"/)]);
    expect(
      issues(
        withGpu('  provisioning: hedged\n  acceptCutGenerations: true\n  hedge:\n    onDemandCluster: sd-us-centrl1\n'),
      ),
    ).toEqual([
      expect.stringMatching(
        /^gpu\.hedge\.onDemandCluster: "sd-us-centrl1" is not a cluster of clusters; did you mean "sd-us-central1"\?/,
      ),
    ]);
  });

  it('is refused with any other provisioning, naming the field', () => {
    expect(issues(withGpu('  hedge:\n    cooldownMinutes: 30\n'))).toEqual([
      expect.stringMatching(
        /^gpu\.hedge\.cooldownMinutes: is read only with gpu\.provisioning "hedged" \(it is "on-demand"\); remove gpu\.hedge\.cooldownMinutes or set provisioning hedged/,
      ),
    ]);
  });
});

describe('hedgeTarget and hedgeCluster (the renderer and the backtest share them)', () => {
  const hedged = (clusters: string) =>
    loadFleetSpec(
      withGpu('  provisioning: hedged\n  acceptCutGenerations: true\n')
        .replace(
          'candidateRegions: [us-central1, europe-west4, asia-northeast1]',
          'candidateRegions: [us-central1, europe-west4, asia-northeast1, us-east4]',
        )
        .replace(/\nclusters:\n[\s\S]*$/, `\nclusters:\n${clusters}`),
    ).spec;
  const catalog = GpuCatalog.bundled();
  const c = (name: string, region: string, mode: string, extra = '') =>
    `  - name: ${name}\n    region: ${region}\n    mode: ${mode}\n    gpu: nvidia-l4\n    replicas: 1\n${extra}`;

  it('the target counts each serving slot once: a replacement in flight and the cluster it replaces are one slot', () => {
    const spec = hedged(
      c('sd-us-central1', 'us-central1', 'active') +
        c('sd-europe-west4', 'europe-west4', 'active') +
        c('sd-asia-northeast1', 'asia-northeast1', 'active', '    replaces: sd-us-central1\n'),
    );
    expect(hedgeTarget(spec)).toBe(2);
  });

  it('the hedge runs in the cheapest active cluster, keeps a cluster being replaced, skips a replacement in flight, and follows a pin', () => {
    // L4 on-demand: us-central1 $0.56, europe-west4 $0.59, us-east4 $0.56 (cheaper by a fraction), asia-northeast1 $0.72.
    const price = (r: string) => catalog.pricePerGpuHour(r, 'nvidia-l4', false)!;
    expect(price('us-east4')).toBeLessThan(price('us-central1'));
    const spec = hedged(
      c('sd-us-central1', 'us-central1', 'active') +
        c('sd-europe-west4', 'europe-west4', 'active') +
        c('sd-us-east4', 'us-east4', 'active', '    replaces: sd-us-central1\n'),
    );
    expect(hedgeCluster(spec, catalog)?.name).toBe('sd-us-central1');
    const settled = { ...spec, clusters: spec.clusters.map((x) => ({ ...x, replaces: undefined })) };
    expect(hedgeCluster(settled, catalog)?.name).toBe('sd-us-east4');
    const pinned = { ...spec, gpu: { ...spec.gpu, hedge: { ...spec.gpu.hedge, onDemandCluster: 'sd-europe-west4' } } };
    expect(hedgeCluster(pinned, catalog)?.name).toBe('sd-europe-west4');
    const none = { ...spec, clusters: spec.clusters.map((x) => ({ ...x, mode: 'standby' as const })) };
    expect(hedgeCluster(none, catalog)).toBeNull();
  });
});
