import { hedgeTarget, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { computeQuotaId, type GpuCatalog } from '@gpu-fleet/gcp-catalog';

/**
 * The Compute Engine quota the spec needs before the scout can place the app anywhere it is
 * allowed to: one row per candidate region and GPU quota metric, and one project-wide row.
 *
 * GKE Autopilot GPU nodes are Compute Engine VMs, so a GPU Pod counts against the region's
 * per-model GPU quota (NVIDIA_L4_GPUS…, PREEMPTIBLE_… for Spot) and the project's
 * GPUS_ALL_REGIONS; a region without that quota is one the scout can never use.
 * https://cloud.google.com/kubernetes-engine/docs/concepts/gpus#gpu_quota ("Plan GPU quota": at least the GPUs you intend to run)
 * https://cloud.google.com/compute/resource-usage#gpu_quota
 */
export interface QuotaNeed {
  scope: 'region' | 'project';
  /** The region, or null for the project-wide row. */
  region: string | null;
  /** Compute quota metric as regions.get / projects.get report it (NVIDIA_L4_GPUS). */
  metric: string;
  /** Cloud Quotas quota ID (the limit name) that quota preferences address. */
  quotaId: string;
  /** GPU type of a regional row, null for GPUS_ALL_REGIONS. */
  gpu: string | null;
  spot: boolean;
  /** GPUs the fleet can hold at once under this quota. */
  needed: number;
  /** How `needed` was counted. */
  why: string;
  /** Regions where the spec already has a cluster (serving or standby), not only a candidate. */
  hasCluster: boolean;
  /** False when the metric name follows Compute's naming pattern but is not confirmed for this GPU type. */
  confirmed: boolean;
}

export interface QuotaPlan {
  project: string;
  needs: QuotaNeed[];
  /** Candidate regions where the scout can never place the app, and why (no quota is requested). */
  skipped: { region: string; reason: string }[];
}

/**
 * Count the GPUs each quota must allow at the fleet's peak:
 * - per region and GPU type: the replicas a cluster there runs (its own, or what the scout gives a
 *   new activation: the largest serving replica count) plus one rollout surge Pod (the Deployment's
 *   maxSurge 1, and a ComputeClass may land it on any preferred type), each with gpu.count GPUs, plus
 *   the probe quota scout.probeMaxGpus the probe namespace may hold in that cluster; with
 *   autoscaling on, at least autoscaling.maxReplicasPerRegion replicas (what KEDA may scale to);
 * - project-wide: the regions that can hold pods at once (maxServingRegions, plus the ones a
 *   proposal drains while their replacements start, maxChangesPerSweep), each at the largest
 *   per-region app peak, plus the probes one sweep may start (probesPerSweep × gpu.count).
 * Spot provisioning counts against the PREEMPTIBLE_ metrics; spot-then-on-demand needs both.
 * Hedged: the slots (and the probes) on the PREEMPTIBLE_ metrics; on-demand, in any region that may
 * hold the hedge, its replicas (gpu.hedge.maxOnDemandReplicas, default hedgeTarget) plus one surge,
 * and project-wide those GPUs on top.
 */
export function quotaPlan(spec: FleetSpec, catalog: GpuCatalog): QuotaPlan {
  const count = spec.gpu.count;
  const excluded = new Set(spec.placement.excludedRegions);
  const serving = spec.clusters.filter((c) => c.mode === 'active');
  const defaultReplicas = Math.max(1, ...serving.map((c) => c.replicas));
  const spotModes: boolean[] =
    spec.gpu.provisioning === 'on-demand' ? [false] : spec.gpu.provisioning === 'spot' ? [true] : [true, false];
  const probeGpus = spec.scout.probeMaxGpus;
  const isHedged = spec.gpu.provisioning === 'hedged';
  const autoscaled = spec.autoscaling.enabled;
  const hedgeMax = isHedged ? (spec.gpu.hedge.maxOnDemandReplicas ?? Math.max(1, hedgeTarget(spec))) : 0;
  const needs: QuotaNeed[] = [];
  const skipped: QuotaPlan['skipped'] = [];
  let largestAppPeak = 0;
  let usableRegions = 0;

  for (const region of spec.placement.candidateRegions) {
    const clusters = spec.clusters.filter((c) => c.region === region);
    // An excluded region is never activated, but clusters already there are left as they are and
    // keep using the GPU type they run.
    const withPods = clusters.filter((c) => c.mode !== 'standby');
    if (excluded.has(region) && !withPods.length) {
      skipped.push({ region, reason: 'in placement.excludedRegions: the scout never activates it' });
      continue;
    }
    const offered = excluded.has(region)
      ? [...new Set(withPods.map((c) => c.gpu))]
      : spec.gpu.preferences.filter((g) => catalog.offers(region, g));
    if (!offered.length) {
      skipped.push({
        region,
        reason: `offers none of gpu.preferences (${spec.gpu.preferences.join(', ')}) in the bundled catalog`,
      });
      continue;
    }
    usableRegions++;
    // As decide() activates: a cluster keeps its own replica count, a new or zero-replica one gets the default.
    const declared = clusters.length
      ? Math.max(...clusters.map((c) => (c.replicas > 0 ? c.replicas : defaultReplicas)))
      : defaultReplicas;
    // With autoscaling, KEDA may run up to maxReplicasPerRegion in any active region; a quota sized
    // for `replicas` leaves the extra pods pending on "Quota exceeded" — which the scout would then
    // record as quota evidence against a healthy region.
    const replicas = autoscaled ? Math.max(declared, spec.autoscaling.maxReplicasPerRegion) : declared;
    const appPeak = (replicas + 1) * count;
    largestAppPeak = Math.max(largestAppPeak, appPeak);
    for (const gpu of offered) {
      for (const spot of spotModes) {
        const metric = catalog.quotaMetric(gpu, spot);
        const hedge = isHedged && !spot;
        needs.push({
          scope: 'region',
          region,
          metric,
          quotaId: computeQuotaId(metric, 'region'),
          gpu,
          spot,
          needed: hedge ? (hedgeMax + 1) * count : appPeak + probeGpus,
          why: hedge
            ? `the hedge's ${hedgeMax} on-demand replica(s) + 1 rollout surge, × ${count} GPU(s)`
            : `${replicas} replica(s)${autoscaled ? ' (autoscaling.maxReplicasPerRegion)' : ''} + 1 rollout surge, × ${count} GPU(s), + ${probeGpus} probe GPU(s)`,
          hasCluster: clusters.length > 0,
          confirmed: catalog.quotaMetricConfirmed(gpu),
        });
      }
    }
  }

  if (usableRegions) {
    const podRegions = Math.min(usableRegions, spec.placement.maxServingRegions + spec.placement.maxChangesPerSweep);
    const probes = Math.min(spec.scout.probesPerSweep, usableRegions) * count;
    needs.push({
      scope: 'project',
      region: null,
      metric: 'GPUS_ALL_REGIONS',
      quotaId: computeQuotaId('GPUS_ALL_REGIONS', 'project'),
      gpu: null,
      spot: false,
      needed: podRegions * largestAppPeak + probes + hedgeMax * count,
      why: `${podRegions} region(s) with pods at once (maxServingRegions ${spec.placement.maxServingRegions} + maxChangesPerSweep ${spec.placement.maxChangesPerSweep} draining) × ${largestAppPeak} GPU(s), + ${probes} probe GPU(s)${isHedged ? `, + the hedge's ${hedgeMax * count} on-demand GPU(s)` : ''}`,
      hasCluster: true,
      confirmed: true,
    });
  }
  return { project: spec.project, needs, skipped };
}

/** A quota's current limit and usage as Compute reports them (null when not reported). */
export interface QuotaReading {
  limit: number | null;
  usage: number | null;
}

export type QuotaVerdict = 'ok' | 'request' | 'unknown';

/**
 * Compare a need with what Compute reports: a limit below the need is a request to make; a metric
 * Compute does not list for the region is unknown (the project may use a per-family quota, or the
 * API was not readable), never silently ok.
 */
export function quotaVerdict(need: QuotaNeed, reading: QuotaReading | undefined): QuotaVerdict {
  if (!reading || reading.limit === null) return 'unknown';
  return reading.limit >= need.needed ? 'ok' : 'request';
}

/** The quota preference ID the printed command creates or updates: stable, so re-running is idempotent. */
export function quotaPreferenceId(need: QuotaNeed): string {
  return `gpu-fleet-${need.quotaId.toLowerCase()}${need.region ? `-${need.region}` : ''}`
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
}
