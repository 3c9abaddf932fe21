import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { backtestRandom } from '@gpu-fleet/sandbox';
import type { CapacitySource } from './capacity';
import { Holdings } from './replicas';
import { SpotHedgePolicy } from './spothedge';
import { timelineFor } from './timeline';

const catalog = GpuCatalog.bundled();
const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec; // target: 1 + 2 replicas, L4 first
const capacity = (has: CapacitySource['has']): CapacitySource => ({ has, lengthMinutes: null, describe: () => 'test' });
const policy = (has: CapacitySource['has']) =>
  new SpotHedgePolicy(
    spec,
    {
      capacity: capacity(has),
      catalog,
      timeline: timelineFor(spec, { provisioning: 'spot', nodeEventsPerMonth: 0 }),
      gpuCount: 1,
      random: backtestRandom(1)('spothedge'),
      holdings: new Holdings(),
    },
    { overprovision: 1 },
  );
const spotZones = (p: SpotHedgePolicy) =>
  p
    .members()
    .filter((m) => m.set.replicas[0]?.spot)
    .map((m) => m.set.replicas[0]!.zone!);

describe('SpotHedge (SkyServe) baseline', () => {
  it('spreads target + 1 spot replicas over distinct zones, cheapest first, and needs no on-demand while they serve', () => {
    const p = policy(() => true);
    const zones = spotZones(p);
    expect(zones).toHaveLength(4);
    expect(new Set(zones).size).toBe(4);
    const price = (z: string) => catalog.pricePerGpuHour(z.replace(/-[a-z]$/, ''), 'nvidia-l4', true)!;
    const others = spec.placement.candidateRegions
      .flatMap((r) => catalog.zonesOffering(r, 'nvidia-l4'))
      .filter((z) => !zones.includes(z));
    for (const z of zones) for (const o of others) expect(price(z)).toBeLessThanOrEqual(price(o));
    for (let m = 0; m < 30; m++) p.step(m);
    expect(p.members().filter((m) => !m.set.replicas[0]?.spot)).toEqual([]);
  });

  it('a preemption: the zone is remembered as preempted, on-demand covers the gap until spot is ready elsewhere, then goes', () => {
    let lost: string | null = null;
    const p = policy((zone, _gpu, m) => !(lost && zone === lost && m >= 10));
    lost = spotZones(p)[0]!;
    for (let m = 0; m < 12; m++) p.step(m);
    // the replacement avoids the preempted zone; on-demand launched meanwhile
    expect(spotZones(p)).not.toContain(lost);
    expect(p.members().some((m) => !m.set.replicas[0]?.spot)).toBe(true);
    const t = timelineFor(spec);
    for (let m = 12; m < 12 + t.nodeProvisionMinutes + t.appStartMinutes + 5; m++) p.step(m);
    expect(p.members().filter((m) => !m.set.replicas[0]?.spot)).toEqual([]);
  });

  it('when fewer than two zones are left active, every zone is active again (the placer reset)', () => {
    const all = spec.placement.candidateRegions.flatMap((r) => catalog.zonesOffering(r, 'nvidia-l4'));
    // Two zones have capacity, the rest refuse every launch: two stay ACTIVE, so no reset, and the
    // replicas pack into those two.
    const two = all.slice(-2);
    const p = policy((zone) => two.includes(zone));
    for (let m = 0; m < 5; m++) p.step(m);
    expect(spotZones(p).every((z) => two.includes(z))).toBe(true);
    expect(spotZones(p)).toHaveLength(4);
    expect(p.resets).toBe(0);
    // One zone has capacity: marking the others would leave one ACTIVE, so all become ACTIVE again.
    const one = policy((zone) => zone === all.at(-1));
    for (let m = 0; m < 5; m++) one.step(m);
    expect(one.resets).toBeGreaterThan(0);
    expect(spotZones(one).every((z) => z === all.at(-1))).toBe(true);
  });
});
