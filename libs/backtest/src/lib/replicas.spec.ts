import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { backtestRandom } from '@gpu-fleet/sandbox';
import { Holdings, RegionReplicas } from './replicas';
import { timelineFor } from './timeline';

const catalog = GpuCatalog.bundled();
const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;

describe('spot-then-on-demand replicas (the ComputeClass)', () => {
  // us-central1 loses spot capacity from minute 10 to 60.
  const env = {
    capacity: {
      has: (zone: string, _gpu: string, m: number) => !(zone.startsWith('us-central1') && m >= 10 && m < 60),
      lengthMinutes: null,
      describe: () => 'test',
    },
    catalog,
    timeline: timelineFor(spec, {
      provisioning: 'spot-then-on-demand',
      nodeEventsPerMonth: 0,
      onDemandCapacity: 'always',
    }),
    gpuCount: 1,
    random: backtestRandom(1)('r'),
    holdings: new Holdings(),
  };
  const run = (migrate: boolean) => {
    const set = RegionReplicas.warmStart('us-central1', ['nvidia-l4'], env, 2);
    set.migrateToSpot = migrate;
    const spotAt: boolean[][] = [];
    const readyAt: number[] = [];
    for (let m = 0; m < 120; m++) {
      set.step(m);
      spotAt.push(set.replicas.map((r) => r.spot));
      readyAt.push(set.ready());
    }
    return { set, spotAt, readyAt };
  };

  it('a preempted pod falls back to an on-demand node in the same region, without leaving it', () => {
    const { set, spotAt } = run(false);
    expect(spotAt[5]).toEqual([true, true]);
    expect(spotAt[30]).toEqual([false, false]);
    // without active migration it stays on on-demand after spot returns
    expect(spotAt[119]).toEqual([false, false]);
    expect(set.preemptions).toBe(2);
  });

  it('with active migration (two replicas), pods go back to spot one at a time once spot returns', () => {
    const { set, spotAt, readyAt } = run(true);
    expect(spotAt[30]).toEqual([false, false]);
    expect(spotAt[119]).toEqual([true, true]);
    expect(set.migrations).toBe(2);
    // one at a time (the PodDisruptionBudget): while migrating, the other pod serves
    for (let m = 60; m < 120; m++) expect(readyAt[m]).toBeGreaterThanOrEqual(1);
  });
});
