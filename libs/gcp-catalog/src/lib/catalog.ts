import gpuZones from '../data/gpu-zones.json';
import regionsData from '../data/regions.json';
import autopilotData from '../data/autopilot-gpus.json';
import quotaData from '../data/quota-metrics.json';
import { AUTOPILOT_GPU_BOUNDS, type AutopilotGpuBounds } from './autopilot-limits';

/** GKE/GCE accelerator type, for example `nvidia-l4`. */
export type GpuType = string;

export type Continent = 'africa' | 'asia' | 'europe' | 'middle-east' | 'north-america' | 'oceania' | 'south-america';

export interface GpuOffering {
  gpu: GpuType;
  region: string;
  zone: string;
  /** GPU counts a VM of this type can attach in this zone. */
  counts: number[];
  /** USD per GPU-hour, GPU only (VM not included); a rough guide. */
  onDemandUsdPerGpuHour: number | null;
  spotUsdPerGpuHour: number | null;
}

export interface RegionInfo {
  region: string;
  displayName: string;
  country: string;
  continent: Continent;
  latitude: number;
  longitude: number;
  zones: string[];
}

export interface GpuInfo {
  gpu: GpuType;
  displayName: string;
  memoryMiB: number;
  machineFamily: string;
  counts: number[];
  /** true: accepted by Autopilot; false: rejected; null: unverified. */
  autopilotSupported: boolean | null;
  evidence: string;
}

export interface CatalogData {
  offerings: readonly GpuOffering[];
  regions: readonly RegionInfo[];
  gpus: readonly GpuInfo[];
}

/**
 * The static GPU catalog: which zones offer which accelerator, at what list price, and what
 * GKE Autopilot accepts. Pure data, no I/O; the live view (quota, stockouts) comes from adapters.
 */
export class GpuCatalog {
  private readonly byRegion = new Map<string, GpuOffering[]>();
  private readonly regionIndex: Map<string, RegionInfo>;
  private readonly gpuIndex: Map<string, GpuInfo>;

  constructor(private readonly data: CatalogData) {
    for (const offering of data.offerings) {
      const list = this.byRegion.get(offering.region) ?? [];
      list.push(offering);
      this.byRegion.set(offering.region, list);
    }
    this.regionIndex = new Map(data.regions.map((r) => [r.region, r]));
    this.gpuIndex = new Map(data.gpus.map((g) => [g.gpu, g]));
  }

  /** The catalog bundled with gpu-fleet (see libs/gcp-catalog/src/data/SOURCES.md). */
  static bundled(): GpuCatalog {
    return BUNDLED;
  }

  regions(): readonly RegionInfo[] {
    return this.data.regions;
  }

  region(name: string): RegionInfo | undefined {
    return this.regionIndex.get(name);
  }

  /** Every GPU type the catalog knows, sorted. */
  gpuTypes(): GpuType[] {
    return [...this.gpuIndex.keys()].sort();
  }

  gpu(type: GpuType): GpuInfo | undefined {
    return this.gpuIndex.get(type);
  }

  /** GPU types Autopilot is known to accept, sorted. */
  autopilotGpuTypes(): GpuType[] {
    return this.data.gpus
      .filter((g) => g.autopilotSupported === true)
      .map((g) => g.gpu)
      .sort();
  }

  /** GPU types offered in at least one zone of the region, sorted. */
  gpusInRegion(region: string): GpuType[] {
    return [...new Set((this.byRegion.get(region) ?? []).map((o) => o.gpu))].sort();
  }

  offers(region: string, gpu: GpuType): boolean {
    return (this.byRegion.get(region) ?? []).some((o) => o.gpu === gpu);
  }

  /** Zones of the region offering the GPU type, sorted. */
  zonesOffering(region: string, gpu: GpuType): string[] {
    return (this.byRegion.get(region) ?? [])
      .filter((o) => o.gpu === gpu)
      .map((o) => o.zone)
      .sort();
  }

  /** Regions with at least one zone offering the GPU type, sorted. */
  regionsOffering(gpu: GpuType): string[] {
    return [...this.byRegion.entries()]
      .filter(([, os]) => os.some((o) => o.gpu === gpu))
      .map(([r]) => r)
      .sort();
  }

  offerings(): readonly GpuOffering[] {
    return this.data.offerings;
  }

  /** Cheapest list price per GPU-hour in the region (USD), or null when unknown. */
  pricePerGpuHour(region: string, gpu: GpuType, spot: boolean): number | null {
    const prices = (this.byRegion.get(region) ?? [])
      .filter((o) => o.gpu === gpu)
      .map((o) => (spot ? o.spotUsdPerGpuHour : o.onDemandUsdPerGpuHour))
      .filter((p): p is number => p !== null);
    return prices.length ? Math.min(...prices) : null;
  }

  /**
   * Compute Engine regional quota metric limiting this GPU type, e.g. NVIDIA_L4_GPUS or
   * PREEMPTIBLE_NVIDIA_T4_GPUS for spot. The bundled mapping lacks the newer types; for those the
   * metric follows Compute's naming pattern (https://cloud.google.com/compute/resource-usage#gpu_quota).
   */
  quotaMetric(gpu: GpuType, spot: boolean): string {
    const info = this.gpuIndex.get(gpu);
    const row = quotaData.find((q) => info && skypilotName(info) === q.skypilotName);
    const base = row?.onDemandMetric ?? `NVIDIA_${quotaStem(gpu)}_GPUS`;
    return spot ? (row?.spotMetric ?? `PREEMPTIBLE_${base}`) : base;
  }

  /**
   * Whether the per-model quota metric of this GPU type is confirmed rather than derived from the
   * naming pattern: the bundled SkyPilot mapping, plus L4 and T4, whose metric Compute itself names
   * in its quota errors ("Quota 'NVIDIA_L4_GPUS' exceeded. Limit: 1.0 in region us-central1").
   * Newer families (H100, H200, B200, RTX PRO 6000) may be governed by a per-family quota instead.
   */
  quotaMetricConfirmed(gpu: GpuType): boolean {
    const info = this.gpuIndex.get(gpu);
    return (
      gpu === 'nvidia-l4' ||
      gpu === 'nvidia-tesla-t4' ||
      quotaData.some((q) => info && skypilotName(info) === q.skypilotName)
    );
  }

  /** Largest CPU/memory request Autopilot accepts for a Pod with `count` GPUs of this type, if known. */
  autopilotBounds(gpu: GpuType, count: number): AutopilotGpuBounds | undefined {
    return AUTOPILOT_GPU_BOUNDS[gpu]?.[count];
  }
}

function skypilotName(info: GpuInfo): string {
  // Mapping used when the catalog was built (see data/SOURCES.upstream.md).
  const map: Record<string, string> = {
    'nvidia-tesla-a100': 'A100',
    'nvidia-a100-80gb': 'A100-80GB',
    'nvidia-tesla-t4': 'T4',
    'nvidia-tesla-p4': 'P4',
    'nvidia-tesla-p100': 'P100',
    'nvidia-tesla-v100': 'V100',
  };
  return map[info.gpu] ?? info.gpu;
}

function quotaStem(gpu: GpuType): string {
  const stems: Record<string, string> = {
    'nvidia-l4': 'L4',
    'nvidia-h100-80gb': 'H100',
    'nvidia-h100-mega-80gb': 'H100_MEGA',
    'nvidia-h200-141gb': 'H200',
    'nvidia-b200': 'B200',
    'nvidia-rtx-pro-6000': 'RTX_PRO_6000',
  };
  return (
    stems[gpu] ??
    gpu
      .replace(/^nvidia-(tesla-)?/, '')
      .toUpperCase()
      .replace(/-/g, '_')
  );
}

const BUNDLED = new GpuCatalog({
  offerings: gpuZones as GpuOffering[],
  regions: regionsData as RegionInfo[],
  gpus: autopilotData.gpus as GpuInfo[],
});

/**
 * The Cloud Quotas quota ID (the "limit name") of a Compute Engine quota metric, which quota
 * preferences (gcloud quotas preferences, quotaPreferences.create) address: Compute names both in
 * its quota errors, e.g. "metric name = compute.googleapis.com/n2_cpus, limit name =
 * N2-CPUS-per-project-region" — the metric with "-" for "_", then "-per-project-region" for a
 * regional quota or "-per-project" for a project-wide one such as GPUS_ALL_REGIONS.
 * https://cloud.google.com/docs/quotas/gcloud-cli-examples (finding a quota ID)
 */
export function computeQuotaId(metric: string, scope: 'region' | 'project'): string {
  if (!/^[A-Z][A-Z0-9_]*$/.test(metric))
    throw new Error(`computeQuotaId: "${metric}" is not a Compute quota metric such as NVIDIA_L4_GPUS`);
  return `${metric.replace(/_/g, '-')}-per-project${scope === 'region' ? '-region' : ''}`;
}
