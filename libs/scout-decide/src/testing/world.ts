import { EXAMPLE_FLEET_YAML, loadFleetSpec, type ClusterSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EvidenceLedger, type Observation, type RegionSignals } from '@gpu-fleet/scout-domain';
import type { FleetState, ObservedCluster, SweepRecord } from '../lib/types';
import { PlanBuilder } from '../lib/plan-builder';

/** Test fixtures: a spec, per-region signals built from observations, and the observed fleet. */
export const catalog = GpuCatalog.bundled();
export const T0 = new Date('2026-11-23T12:00:00Z');
export const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** The example fleet (us-central1 and europe-west4 active on L4, asia-northeast1 on standby) with six candidates. */
export const baseSpec = (): FleetSpec => {
  const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
  return {
    ...spec,
    placement: {
      ...spec.placement,
      candidateRegions: [
        'us-central1',
        'us-east4',
        'europe-west4',
        'europe-west1',
        'asia-northeast1',
        'asia-southeast1',
      ],
    },
  };
};

export function withClusters(
  spec: FleetSpec,
  clusters: Array<Partial<ClusterSpec> & Pick<ClusterSpec, 'name' | 'region'>>,
): FleetSpec {
  return { ...spec, clusters: clusters.map((c) => ({ mode: 'standby', gpu: 'nvidia-l4', replicas: 1, ...c })) };
}

export interface RegionSetup {
  /** GPU types offered (default: the bundled catalog's, limited to the preferences). */
  offered?: string[];
  /** Free quota per GPU type (default 8); null = unknown. */
  quota?: Record<string, number | null>;
  status?: 'ok' | 'unknown';
}

export function observation(
  region: string,
  gpu: string,
  outcome: Observation['outcome'],
  when: Date,
  source: Observation['source'] = 'probe',
): Observation {
  return {
    source,
    region,
    zone: `${region}-a`,
    gpu,
    spot: false,
    outcome,
    at: when.toISOString(),
    details: `${outcome} (${source})`,
  };
}

export function signals(
  spec: FleetSpec,
  now: Date,
  observations: Observation[],
  setup: Record<string, RegionSetup> = {},
): { regions: RegionSignals[] } {
  const ledger = new EvidenceLedger(observations);
  const evidence = ledger.query(now);
  const regions = [...new Set([...spec.placement.candidateRegions, ...spec.clusters.map((c) => c.region)])].sort();
  return {
    regions: regions.map((region) => {
      const s = setup[region] ?? {};
      const offered = (s.offered ?? catalog.gpusInRegion(region)).filter((g) => spec.gpu.preferences.includes(g));
      return {
        region,
        displayName: region,
        continent: catalog.region(region)?.continent ?? 'unknown',
        offered: offered.map((gpu) => ({
          gpu,
          zones: [`${region}-a`],
          source: 'api' as const,
          onDemandUsdPerHour: catalog.pricePerGpuHour(region, gpu, false),
          spotUsdPerHour: null,
        })),
        quota: spec.gpu.preferences.map((gpu) => {
          const free = s.quota && gpu in s.quota ? s.quota[gpu]! : 8;
          return {
            gpu,
            spot: false,
            metric: catalog.quotaMetric(gpu, false),
            limit: free === null ? null : free,
            usage: free === null ? null : 0,
            headroom: free,
          };
        }),
        clusters: [],
        evidence: evidence.filter((e) => e.region === region),
        status: s.status ?? 'ok',
        problems: [],
      };
    }),
  };
}

/** Append a sweep to a test history as the ledger does (a record with the same id replaced). */
export function appendHistory(history: SweepRecord[], record: SweepRecord): SweepRecord[] {
  const ledger = new EvidenceLedger();
  for (const h of [...history, record]) ledger.recordSweep(h);
  return [...ledger.sweeps()];
}

/** Every active cluster ready unless listed in `ready`. */
export function fleet(
  spec: FleetSpec,
  ready: Record<string, number | null> = {},
  history: SweepRecord[] = [],
): FleetState {
  const observed: ObservedCluster[] = spec.clusters.map((c) => ({
    name: c.name,
    exists: true,
    readyReplicas: c.name in ready ? ready[c.name]! : c.mode === 'active' ? c.replicas : 0,
  }));
  return { observed, history };
}

/** A history of `n` sweeps, 10 minutes apart, ending just before `minute`, where `bad` clusters were bad. */
export function history(spec: FleetSpec, n: number, minute: number, bad: string[] = []): SweepRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `h${i}`,
    at: at(minute - (n - i) * 10).toISOString(),
    clusters: spec.clusters.map((c) => ({
      name: c.name,
      mode: c.mode,
      gpu: c.gpu,
      health: c.mode !== 'active' ? ('idle' as const) : bad.includes(c.name) ? ('bad' as const) : ('good' as const),
    })),
  }));
}

export const stockout = (region: string, gpu: string, minute: number) =>
  observation(region, gpu, 'stockout', at(minute), 'passive');
export const L4 = 'nvidia-l4';
export const T4 = 'nvidia-tesla-t4';

/** A plan builder for one placement rule's tests: the same inputs decide() gets. */
export function builder(
  spec: FleetSpec,
  obs: Observation[],
  state: FleetState,
  minute: number,
  setup: Record<string, RegionSetup> = {},
): PlanBuilder {
  return new PlanBuilder(spec, signals(spec, at(minute), obs, setup), state, at(minute), {
    catalog,
    sweepId: `s${minute}`,
  });
}
