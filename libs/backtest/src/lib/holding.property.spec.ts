import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { backtestRandom } from '@gpu-fleet/sandbox';
import { runBacktest } from './backtest';
import type { CapacitySource } from './capacity';
import { timelineFor } from './timeline';

/**
 * Over random capacity records: no policy the spec governs ever holds GPUs in more regions than
 * placement.maxServingRegions plus one make-before-break replacement in flight — the bound that
 * keeps an on-demand fleet from growing by a region per incident. (SpotHedge is sized by replicas,
 * target + over-provisioning spread over zones, not by the spec's regions: its count is reported,
 * not bounded.)
 */
const catalog = GpuCatalog.bundled();
const REGIONS = ['us-central1', 'us-east4', 'europe-west4', 'europe-west1', 'asia-northeast1', 'asia-southeast1'];
const doc = parseDocument(EXAMPLE_FLEET_YAML);
doc.setIn(['placement', 'candidateRegions'], REGIONS);
const specText = doc.toString();
const spec = loadFleetSpec(specText).spec;
const ZONES = REGIONS.flatMap((r) =>
  spec.gpu.preferences.flatMap((g) => catalog.zonesOffering(r, g).map((z) => `${z}|${g}`)),
);
const DAYS = 3;

/** Per zone and GPU: alternating runs of capacity and none, from a random first state. */
const arbRecord = fc
  .array(fc.tuple(fc.boolean(), fc.array(fc.integer({ min: 30, max: 1440 }), { minLength: 1, maxLength: 8 })), {
    minLength: ZONES.length,
    maxLength: ZONES.length,
  })
  .map((perZone): CapacitySource => {
    const series = new Map(
      perZone.map(([first, runs], i) => {
        const on: Array<[number, number]> = [];
        let t = 0;
        let state = first;
        for (let k = 0; t < DAYS * 1440; k++) {
          const len = runs[k % runs.length]!;
          if (state) on.push([t, t + len]);
          t += len;
          state = !state;
        }
        return [ZONES[i]!, on] as const;
      }),
    );
    return {
      lengthMinutes: null,
      describe: () => 'random record',
      has: (zone, gpu, m) => (series.get(`${zone}|${gpu}`) ?? []).some(([a, b]) => m >= a && m < b),
    };
  });

jest.setTimeout(300_000);

it.each(['on-demand', 'spot'] as const)(
  '%s: every policy holds GPUs in at most maxServingRegions + 1 regions at any minute',
  async (provisioning) => {
    await fc.assert(
      fc.asyncProperty(arbRecord, async (capacity) => {
        const r = await runBacktest({
          specText,
          catalog,
          capacity,
          timeline: timelineFor(spec, { provisioning, nodeEventsPerMonth: 0, personMergeMinutes: 60 }),
          days: DAYS,
          seed: 1,
          random: backtestRandom(1),
          policies: ['static', 'in-region', 'failover', 'scout'],
          start: new Date('2026-03-02T00:00:00Z'),
        });
        for (const p of r.policies)
          expect([p.name, p.maxRegionsHolding]).toEqual([
            p.name,
            Math.min(p.maxRegionsHolding, spec.placement.maxServingRegions + 1),
          ]);
      }),
      { numRuns: 6, seed: 21, endOnFailure: true },
    );
  },
);
