import { EXAMPLE_FLEET_YAML, formatIssue, loadFleetSpec, parseFleetSpec } from '../../index';

const withAutoscaling = (section: string) =>
  EXAMPLE_FLEET_YAML.replace('clusters:\n', `autoscaling:\n${section}clusters:\n`);
const issues = (text: string) => {
  const r = parseFleetSpec(text, { file: 'fleet.yaml' });
  return r.ok ? [] : r.issues.map(formatIssue);
};

describe('autoscaling section', () => {
  it('defaults: off, one warm region, two replicas at most, one generation per replica, 15 idle minutes', () => {
    expect(loadFleetSpec(EXAMPLE_FLEET_YAML).spec.autoscaling).toEqual({
      enabled: false,
      warmRegions: 1,
      maxReplicasPerRegion: 2,
      targetGenerationsPerReplica: 1,
      idleMinutesBeforeZero: 15,
      wakeRequestsPerSecond: 1,
      replicasOwner: 'config-sync',
      kedaVersion: '2.20.2',
    });
  });

  it('refuses an idle window shorter than the load balancer metrics can see, and more warm regions than the serving minimum', () => {
    expect(issues(withAutoscaling('  idleMinutesBeforeZero: 2\n  warmRegions: 3\n'))).toEqual([
      expect.stringMatching(/^autoscaling\.idleMinutesBeforeZero: .*(>=5|at least 5|5).*\(line \d+\)$/),
    ]);
    expect(issues(withAutoscaling('  warmRegions: 3\n'))).toEqual([
      expect.stringMatching(
        /^autoscaling\.warmRegions: 3 exceeds placement\.minServingRegions \(2\): only regions the scout keeps serving can be warm; lower warmRegions or raise the minimum/,
      ),
    ]);
  });

  it('enabled: accepted on the example; every problem of an impossible combination is reported', () => {
    expect(issues(withAutoscaling('  enabled: true\n'))).toEqual([]);
    expect(
      issues(
        withAutoscaling('  enabled: true\n  maxReplicasPerRegion: 1\n').replace(
          '  modelStorage:\n',
          '  probes: {readiness: {mode: http-path}}\n  modelStorage:\n',
        ),
      ).sort(),
    ).toEqual([
      expect.stringMatching(
        /^app\.probes\.readiness\.mode: http-path gives the autoscaler no load signal: .*set it to generation/,
      ),
      expect.stringMatching(
        /^clusters\[1\]\.replicas: 2 exceeds autoscaling\.maxReplicasPerRegion \(1\); lower it or raise the maximum \(line \d+\)$/,
      ),
    ]);
  });

  it('refuses the replicas handover without autoscaling, and an unknown owner', () => {
    expect(issues(withAutoscaling('  replicasOwner: autoscaler\n'))).toEqual([
      expect.stringMatching(
        /^autoscaling\.replicasOwner: autoscaler needs autoscaling\.enabled: true .*set it back to config-sync/,
      ),
    ]);
    expect(issues(withAutoscaling('  replicasOwner: nobody\n'))).toEqual([
      expect.stringMatching(/^autoscaling\.replicasOwner: .*config-sync.*autoscaler/),
    ]);
  });
});
