/**
 * What a fleet costs besides its GPUs, per hour, with where each figure comes from. The backtest's
 * cost is their sum: costBreakdown = { gpu, clusterFees, probes, controller }.
 */

/**
 * GKE's cluster management fee: "A flat cluster management fee of $0.10 per cluster per hour ...
 * applies to all GKE clusters irrespective of the mode of operation" — Autopilot included, standby
 * clusters included (https://cloud.google.com/kubernetes-engine/pricing). The free tier's $74.40 a
 * month is per billing account, not per fleet, and is not applied.
 */
export const GKE_CLUSTER_FEE_PER_HOUR = 0.1;

/**
 * The controller VM SkyPilot runs beside the VMs it launches: SkyServe's serve controller defaults
 * to `{cpus: 4+, disk_size: 200}` (sky/serve/constants.py CONTROLLER_RESOURCES), which SkyPilot
 * resolved to an n2-standard-4 on GCP (skypilot-org/skypilot#3325); its on-demand price in
 * us-central1 is $0.19424/h in SkyPilot's own GCP catalog. The 200 GB disk is not priced (no
 * figure read). Managed jobs' controller (failover's EAGER_NEXT_REGION recovery) asks for more
 * memory (an n2-highmem-4); its price is not in the catalog either, so the same figure stands in as
 * a lower bound.
 */
export const CONTROLLER_VM = { machine: 'n2-standard-4', usdPerHour: 0.19424 } as const;

export interface CostBreakdown {
  /** GPU time of the fleet's replicas at the zones' list prices (spot or on-demand). */
  gpu: number;
  /** GKE cluster fees: every cluster that exists, standby too, and the config cluster. */
  clusterFees: number;
  /** GPU time of the scout's probes. */
  probes: number;
  /** A controller VM (SkyServe's, SkyPilot's jobs controller). */
  controller: number;
}

export const totalCost = (c: CostBreakdown): number => c.gpu + c.clusterFees + c.probes + c.controller;
