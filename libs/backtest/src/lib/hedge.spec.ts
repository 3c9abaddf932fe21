import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, hedgeTarget, loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { backtestRandom } from '@gpu-fleet/sandbox';
import { HEDGE_METRIC_MINUTES, HedgeModel } from './hedge';
import { Holdings } from './replicas';
import { timelineFor } from './timeline';

/** The fast loop as rendered: on-demand replicas sized to the Spot replicas missing, released after the cooldown. */
const catalog = GpuCatalog.bundled();
const base = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
const spec: FleetSpec = {
  ...base,
  gpu: {
    ...base.gpu,
    provisioning: 'hedged',
    acceptCutGenerations: true,
    hedge: { cooldownMinutes: 20, moveAfterMinutes: 120, stage: 'hedge' as const },
  },
};
const timeline = timelineFor(spec, { provisioning: 'hedged', nodeEventsPerMonth: 0 });
const model = () =>
  new HedgeModel({
    capacity: { has: () => true, lengthMinutes: null, describe: () => 'always' },
    catalog,
    timeline,
    gpuCount: 1,
    random: backtestRandom(1)('hedge'),
    holdings: new Holdings(),
  });
const gpus = () => ['nvidia-l4'];
const exists = () => true;

describe('HedgeModel (KEDA ScaledObject on the Spot replicas serving)', () => {
  it('starts on-demand replicas for the missing Spot ones once the metric shows it, and releases them one a minute only after the cooldown', () => {
    const h = model();
    const target = hedgeTarget(spec);
    expect(target).toBe(3); // the example fleet's serving replicas
    // Spot: all serving until minute 10, none from 10 to 60, all again from 60.
    const spot = (m: number) => (m >= 10 && m < 60 ? 0 : target);
    const wanted: number[] = [];
    for (let m = 0; m < 120; m++) {
      h.step(m, spec, spot(m), gpus, exists);
      wanted.push(h.current()!.replicas.length);
    }
    expect(wanted[9 + HEDGE_METRIC_MINUTES]).toBe(0);
    expect(wanted[10 + HEDGE_METRIC_MINUTES]).toBe(target);
    // Spot is back at 60, seen at 62: the last higher recommendation (minute 61) leaves the 20-minute
    // window at 81; from then on one replica goes a minute.
    const back = 60 + HEDGE_METRIC_MINUTES;
    expect(wanted.slice(back, back + 19)).toEqual(Array(19).fill(target));
    expect(wanted.slice(back + 19, back + 19 + target + 1)).toEqual([2, 1, 0, 0]);
    // The hedge cluster is the cheapest active one (us-central1's L4 on-demand beats europe-west4's).
    expect(h.current()!.region).toBe('us-central1');
  });

  it('a second preemption within the cooldown keeps the replicas it has (the window restarts)', () => {
    const h = model();
    const target = hedgeTarget(spec);
    // All Spot replicas until 10, none until 30, all again until 40, then one short for good.
    const spot = (m: number) => (m < 10 || (m >= 30 && m < 40) ? target : m < 30 ? 0 : target - 1);
    const seen: number[] = [];
    for (let m = 0; m < 70; m++) {
      h.step(m, spec, spot(m), gpus, exists);
      seen.push(h.current()!.replicas.length);
    }
    // Back at 30, one lost again at 40 before the 20-minute cooldown ran out: never below the 1 missing.
    expect(Math.min(...seen.slice(12, 70))).toBeGreaterThanOrEqual(1);
    expect(seen[69]).toBe(1);
  });

  it('never starts more than gpu.hedge.maxOnDemandReplicas', () => {
    const h = model();
    const capped: FleetSpec = { ...spec, gpu: { ...spec.gpu, hedge: { ...spec.gpu.hedge, maxOnDemandReplicas: 1 } } };
    for (let m = 0; m < 30; m++) h.step(m, capped, 0, gpus, exists);
    expect(h.current()!.replicas.length).toBe(1);
  });
});
