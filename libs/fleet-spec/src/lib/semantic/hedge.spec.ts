import { EXAMPLE_FLEET_YAML, formatIssue, loadFleetSpec, parseFleetSpec } from '../../index';
import { kedaNeeded, slotsOnSpot } from '../derived';

const withGpu = (extra: string) => EXAMPLE_FLEET_YAML.replace('  count: 1\n', `  count: 1\n${extra}`);
const issues = (text: string) => {
  const r = parseFleetSpec(text, { file: 'fleet.yaml' });
  return r.ok ? [] : r.issues.map(formatIssue);
};

describe('gpu.provisioning hedged and gpu.hedge', () => {
  it('defaults: a 20-minute cooldown (SkyServe’s downscale delay), no pinned cluster; Spot slots and KEDA', () => {
    const { spec } = loadFleetSpec(withGpu('  provisioning: hedged\n  acceptCutGenerations: true\n'));
    expect(spec.gpu.hedge).toEqual({ cooldownMinutes: 20 });
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
