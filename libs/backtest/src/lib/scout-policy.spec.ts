import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { backtestRandom } from '@gpu-fleet/sandbox';
import { withProvisioning } from './backtest';
import { Holdings } from './replicas';
import { ScoutPolicy } from './scout-policy';
import { timelineFor } from './timeline';

/** The scout in the backtest gets its answers when the platform would give them, not at sweep time. */
const catalog = GpuCatalog.bundled();
const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
const START = new Date('2026-03-02T00:00:00Z');
const minuteOf = (iso: string) => (Date.parse(iso) - START.getTime()) / 60_000;

function scout(has: (zone: string, gpu: string, m: number) => boolean) {
  const timeline = timelineFor(spec, { provisioning: 'spot', nodeEventsPerMonth: 0 });
  const env = {
    capacity: { has, lengthMinutes: null, describe: () => 'test' },
    catalog,
    timeline,
    gpuCount: 1,
    random: backtestRandom(1)('scout'),
    holdings: new Holdings(),
  };
  return { policy: new ScoutPolicy(withProvisioning(EXAMPLE_FLEET_YAML, timeline), env, START), timeline };
}

describe('the scout policy: probe answers and passive evidence at their real times', () => {
  it('a probe that gets a GPU answers after node provisioning; one that finds none answers stockout at its deadline', async () => {
    // The standby asia-northeast1 is probed at the first sweep: L4 from minute 4, T4 never.
    const { policy, timeline } = scout(
      (zone, gpu, m) => !zone.startsWith('asia-northeast1') || (gpu === 'nvidia-l4' && m >= 4),
    );
    for (let m = 0; m < 30; m++) await policy.step(m);
    const probes = policy.evidence().filter((o) => o.source === 'probe' && o.region === 'asia-northeast1');
    const l4 = probes.find((o) => o.gpu === 'nvidia-l4');
    expect(l4).toMatchObject({ outcome: 'success' });
    expect(minuteOf(l4!.at)).toBe(4 + timeline.nodeProvisionMinutes);
    const t4 = probes.find((o) => o.gpu === 'nvidia-tesla-t4');
    if (t4) {
      expect(t4.outcome).toBe('stockout');
      expect(minuteOf(t4.at)).toBe(Math.ceil(spec.scout.probeDeadlineSeconds / 60));
    }
  });

  it('FailedScaleUp evidence appears only after a scale-up failed, not the minute a pod went pending', async () => {
    // Every zone of us-central1 loses its capacity at minute 30.
    const { policy, timeline } = scout((zone, _gpu, m) => !(zone.startsWith('us-central1') && m >= 30));
    for (let m = 0; m < 60; m++) await policy.step(m);
    // (A cluster with every replica ready records a passive success each sweep: the uptime's good side.)
    const passive = policy
      .evidence()
      .filter((o) => o.source === 'passive' && o.region === 'us-central1' && o.outcome !== 'success');
    expect(passive.length).toBeGreaterThan(0);
    for (const o of passive) expect(minuteOf(o.at)).toBeGreaterThanOrEqual(30 + timeline.scaleUpFailureMinutes);
  });
});
