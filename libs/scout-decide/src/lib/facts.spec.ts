import { EvidenceLedger } from '@gpu-fleet/scout-domain';
import { cronIntervalMinutes } from '@gpu-fleet/fleet-spec';
import { factsToMetricPoints, fleetFacts } from './facts';
import { baseSpec } from '../testing/world';
import type { ClusterHealth } from './types';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';

const NOW = new Date('2026-11-23T12:00:00Z');
const health = (cluster: string, h: ClusterHealth['health']) => ({ cluster, health: h }) as ClusterHealth;

describe('fleetFacts: what an alert is made of', () => {
  const spec = baseSpec(); // sd-us-central1 and sd-europe-west4 active, sd-asia-northeast1 standby; minimum 2
  const [a, b] = spec.clusters.filter((c) => c.mode === 'active').map((c) => c.name);

  it('counts regions whose active cluster is fully ready, against the minimum', () => {
    const ok = fleetFacts(spec, [health(a!, 'good'), health(b!, 'good')], new EvidenceLedger(), NOW, 921600);
    expect(ok).toMatchObject({ servingRegions: 2, minServingRegions: 2, belowMinimum: false });
    const lost = fleetFacts(spec, [health(a!, 'good'), health(b!, 'bad')], new EvidenceLedger(), NOW, 921600);
    expect(lost).toMatchObject({ servingRegions: 1, belowMinimum: true });
  });

  it('calls sweeps stopped after 3 intervals without one (or with none recorded)', () => {
    expect(cronIntervalMinutes('*/20 * * * *')).toBe(20);
    expect(cronIntervalMinutes('0 * * * *')).toBe(60);
    expect(cronIntervalMinutes('5 4 * * 1')).toBeNull();
    const ledger = new EvidenceLedger();
    expect(fleetFacts(spec, [], ledger, NOW, null).sweepsStopped).toBe(true);
    ledger.recordSweep({ id: 's1', at: new Date(NOW.getTime() - 59 * 60_000).toISOString(), clusters: [] });
    expect(fleetFacts(spec, [], ledger, NOW, null)).toMatchObject({
      lastSweep: { id: 's1', ageMinutes: 59 },
      sweepsStopped: false,
    });
    expect(fleetFacts(spec, [], ledger, new Date(NOW.getTime() + 2 * 60_000), null).sweepsStopped).toBe(true);
  });

  it('reports the probe budget left today and the evidence share of a budgeted store', () => {
    const ledger = new EvidenceLedger(
      Array.from({ length: spec.scout.probeBudget.maxProbesPerDay }, (_, i) => ({
        source: 'probe' as const,
        region: 'us-east4',
        zone: null,
        gpu: 'nvidia-l4',
        spot: false,
        outcome: 'success' as const,
        at: new Date(NOW.getTime() - (i + 1) * 60_000).toISOString(),
        details: `probe ${i}`,
      })),
    );
    const f = fleetFacts(spec, [], ledger, NOW, 1000);
    expect(f.probeBudget).toMatchObject({ probesLeft: 0, exhausted: true });
    expect(f.evidence.observations).toBe(spec.scout.probeBudget.maxProbesPerDay);
    expect(f.evidence.share).toBeGreaterThan(1);
    expect(fleetFacts(spec, [], ledger, NOW, null).evidence.share).toBeNull();
  });

  it('as metric points: a failover proposal is an open proposal while below the minimum', () => {
    const below = fleetFacts(spec, [health(a!, 'good')], new EvidenceLedger(), NOW, null);
    const points = factsToMetricPoints(below, { outcome: 'proposed', proposalOpen: true });
    const value = (name: string) => points.find((p) => p.name === name)?.value;
    expect(value('below_minimum')).toBe(1);
    expect(value('failover_proposal_open')).toBe(1);
    expect(points.find((p) => p.name === 'evidence_budget_share')).toBeUndefined();
    expect(points.filter((p) => p.name === 'cluster_serving').map((p) => [p.labels!.cluster, p.value])).toEqual(
      spec.clusters.map((c) => [c.name, c.name === a ? 1 : 0]),
    );
    const fine = fleetFacts(spec, [health(a!, 'good'), health(b!, 'good')], new EvidenceLedger(), NOW, null);
    const routine = factsToMetricPoints(fine, { outcome: 'proposed', proposalOpen: true });
    expect(routine.find((p) => p.name === 'failover_proposal_open')!.value).toBe(0);
  });

  it('prices the ready replicas at the catalog GPU price, spot prices for a spot fleet', () => {
    const asked: Array<[string, string, boolean]> = [];
    const catalog = {
      pricePerGpuHour: (region: string, gpu: string, spot: boolean) => {
        asked.push([region, gpu, spot]);
        return region === spec.clusters[0]!.region ? 0.7 : null;
      },
    } as unknown as GpuCatalog;
    const hs = [{ ...health(spec.clusters[0]!.name, 'good'), readyReplicas: 3 }];
    const f = fleetFacts(spec, hs, new EvidenceLedger(), NOW, null, catalog);
    const [first, ...rest] = f.clusters;
    expect(first).toMatchObject({ readyReplicas: 3, gpuCostPerHour: Math.round(100 * 3 * spec.gpu.count * 0.7) / 100 });
    expect(rest.every((c) => c.readyReplicas === null && c.gpuCostPerHour === null)).toBe(true);
    expect(asked[0]).toEqual([spec.clusters[0]!.region, spec.clusters[0]!.gpu, spec.gpu.provisioning === 'spot']);
    const points = factsToMetricPoints(f, { outcome: 'nothing-to-propose', proposalOpen: false });
    expect(points.filter((p) => p.name === 'gpu_cost_per_hour').map((p) => p.labels!.cluster)).toEqual([first!.name]);
    expect(points.filter((p) => p.name === 'cluster_ready_replicas').map((p) => p.value)).toEqual([3]);
    expect(points.find((p) => p.name === 'proposal_age_minutes')).toBeUndefined();
  });

  it('ages an open proposal from when it was opened, and only an open one', () => {
    const f = fleetFacts(spec, [], new EvidenceLedger(), NOW, null);
    const openedAt = new Date(NOW.getTime() - 95 * 60_000).toISOString();
    const open = factsToMetricPoints(f, { outcome: 'proposed', proposalOpen: true, proposalOpenedAt: openedAt }, NOW);
    expect(open.find((p) => p.name === 'proposal_age_minutes')!.value).toBe(95);
    const closed = factsToMetricPoints(f, { outcome: 'stopped', proposalOpen: false, proposalOpenedAt: openedAt }, NOW);
    expect(closed.find((p) => p.name === 'proposal_age_minutes')).toBeUndefined();
  });
});
