import { cronIntervalMinutes, type FleetSpec } from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { ProbeBudget, snapshotBytes, type EvidenceLedger, type MetricPoint } from '@gpu-fleet/scout-domain';
import type { ClusterHealth } from './types';

/**
 * What an operator asks of a running fleet, as numbers (`region-scout status --json`): is the URL
 * served by enough regions, is the scout still sweeping, how much probe budget and evidence room is
 * left. Pure: the command reads the cloud and the ledger, this only counts.
 */
export interface FleetFacts {
  servingRegions: number;
  minServingRegions: number;
  belowMinimum: boolean;
  clusters: Array<{
    name: string;
    region: string;
    mode: string;
    gpu: string;
    health: string;
    /** Ready WebUI replicas the sweep saw; null when the cluster could not be read. */
    readyReplicas: number | null;
    /**
     * GPU list price of the ready replicas, USD per hour (Compute Engine's per-GPU price in the
     * region from the catalog, Spot prices for gpu.provisioning spot): an estimate of the GPU part
     * of the bill, not Autopilot's pod price. Null when the price or the replicas are unknown.
     */
    gpuCostPerHour: number | null;
  }>;
  lastSweep: { id: string; at: string; ageMinutes: number } | null;
  /** The cron's interval when it is a plain every-N-minutes schedule; null otherwise. */
  sweepIntervalMinutes: number | null;
  /** No recorded sweep for 3 intervals (or none at all). */
  sweepsStopped: boolean;
  probeBudget: { probesLeft: number; gpuMinutesLeft: number; exhausted: boolean };
  evidence: {
    store: 'configmap' | 'gcs';
    observations: number;
    bytes: number;
    budgetBytes: number | null;
    share: number | null;
  };
}

export function fleetFacts(
  spec: FleetSpec,
  health: readonly ClusterHealth[],
  ledger: EvidenceLedger,
  now: Date,
  evidenceBudgetBytes: number | null,
  catalog?: GpuCatalog,
): FleetFacts {
  const good = new Set(health.filter((h) => h.health === 'good').map((h) => h.cluster));
  const serving = new Set(spec.clusters.filter((c) => c.mode === 'active' && good.has(c.name)).map((c) => c.region));
  const last = ledger.sweeps().at(-1) ?? null;
  const interval = cronIntervalMinutes(spec.scout.schedule.cron);
  const ageMinutes = last ? Math.max(0, Math.round((now.getTime() - Date.parse(last.at)) / 60_000)) : null;
  const gpuMinutesPerProbe = Math.ceil((spec.gpu.count * spec.scout.probeDeadlineSeconds) / 60);
  const left = ProbeBudget.fromObservations(spec.scout.probeBudget, ledger.all(), gpuMinutesPerProbe).remaining(now);
  const snapshot = ledger.snapshot(now);
  const bytes = snapshotBytes(snapshot);
  return {
    servingRegions: serving.size,
    minServingRegions: spec.placement.minServingRegions,
    belowMinimum: serving.size < spec.placement.minServingRegions,
    clusters: spec.clusters.map((c) => {
      const h = health.find((x) => x.cluster === c.name);
      const ready = h?.readyReplicas ?? null;
      const price = catalog?.pricePerGpuHour(c.region, c.gpu, spec.gpu.provisioning === 'spot') ?? null;
      return {
        name: c.name,
        region: c.region,
        mode: c.mode,
        gpu: c.gpu,
        health: h?.health ?? 'unknown',
        readyReplicas: ready,
        gpuCostPerHour:
          ready === null || price === null ? null : Math.round(100 * ready * spec.gpu.count * price) / 100,
      };
    }),
    lastSweep: last ? { id: last.id, at: last.at, ageMinutes: ageMinutes! } : null,
    sweepIntervalMinutes: interval,
    sweepsStopped: last === null || (interval !== null && ageMinutes! > 3 * interval),
    probeBudget: {
      probesLeft: left.probes,
      gpuMinutesLeft: left.gpuMinutes,
      exhausted: left.probes < 1 || left.gpuMinutes < gpuMinutesPerProbe,
    },
    evidence: {
      store: spec.scout.evidenceStore.kind,
      observations: snapshot.observations.length,
      bytes,
      budgetBytes: evidenceBudgetBytes,
      share: evidenceBudgetBytes ? Math.round((1000 * bytes) / evidenceBudgetBytes) / 1000 : null,
    },
  };
}

/**
 * The facts as the numbers a sweep writes (MetricsPort): one series each, labels only where they are
 * bounded by the fleet (cluster, region) or by a fixed set (outcome). `proposal` is the sweep's own
 * proposal outcome (open: a pull request waits for a merge; failover: it waits while the URL is
 * below the minimum — the one a person must be told about).
 */
export function factsToMetricPoints(
  facts: FleetFacts,
  sweep: {
    outcome: 'proposed' | 'nothing-to-propose' | 'stopped';
    proposalOpen: boolean;
    /** When the open pull request was opened (GitHub); null when unknown or none is open. */
    proposalOpenedAt?: string | null;
  },
  now?: Date,
): MetricPoint[] {
  const age =
    sweep.proposalOpen && sweep.proposalOpenedAt && now
      ? Math.max(0, Math.round((now.getTime() - Date.parse(sweep.proposalOpenedAt)) / 60_000))
      : null;
  return [
    { name: 'serving_regions', value: facts.servingRegions },
    { name: 'min_serving_regions', value: facts.minServingRegions },
    { name: 'below_minimum', value: facts.belowMinimum ? 1 : 0 },
    ...facts.clusters.map((c) => ({
      name: 'cluster_serving',
      value: c.mode === 'active' && c.health === 'good' ? 1 : 0,
      labels: { cluster: c.name, region: c.region, gpu: c.gpu },
    })),
    ...facts.clusters.flatMap((c) =>
      c.readyReplicas === null
        ? []
        : [{ name: 'cluster_ready_replicas', value: c.readyReplicas, labels: { cluster: c.name, region: c.region } }],
    ),
    ...facts.clusters.flatMap((c) =>
      c.gpuCostPerHour === null
        ? []
        : [{ name: 'gpu_cost_per_hour', value: c.gpuCostPerHour, labels: { cluster: c.name, region: c.region } }],
    ),
    { name: 'sweep', value: 1, labels: { outcome: sweep.outcome } },
    { name: 'probes_left', value: facts.probeBudget.probesLeft },
    { name: 'probe_budget_exhausted', value: facts.probeBudget.exhausted ? 1 : 0 },
    { name: 'probe_gpu_minutes_left', value: facts.probeBudget.gpuMinutesLeft },
    { name: 'evidence_bytes', value: facts.evidence.bytes },
    ...(facts.evidence.share !== null ? [{ name: 'evidence_budget_share', value: facts.evidence.share }] : []),
    { name: 'proposal_open', value: sweep.proposalOpen ? 1 : 0 },
    { name: 'failover_proposal_open', value: sweep.proposalOpen && facts.belowMinimum ? 1 : 0 },
    ...(age !== null ? [{ name: 'proposal_age_minutes', value: age }] : []),
  ];
}
