import limits from '../data/autopilot-limits.json';

/**
 * What GKE Autopilot accepts from a GPU Pod (data/autopilot-limits.json, each bound with where it
 * comes from). Autopilot sums every container of the Pod, sidecars included, against these maxima
 * and rejects the workload above them
 * (https://cloud.google.com/kubernetes-engine/docs/concepts/autopilot-resource-requests).
 */
export interface AutopilotGpuBounds {
  /** Largest total CPU request (vCPU) accepted for one Pod with this many GPUs. */
  maxCpu: number;
  /** Largest total memory request (GiB) accepted for one Pod with this many GPUs. */
  maxMemoryGiB: number;
  /** observed (Autopilot's own rejection message) or derived (machine shape), with the source. */
  provenance: string;
}

type Table = Record<string, Record<string, { cpu: number; memoryGiB: number; provenance: string }>>;

export const AUTOPILOT_GPU_BOUNDS: Readonly<Record<string, Readonly<Record<number, AutopilotGpuBounds>>>> =
  Object.fromEntries(
    Object.entries(limits.gpuPodMax as Table).map(([gpu, byCount]) => [
      gpu,
      Object.fromEntries(
        Object.entries(byCount).map(([n, b]) => [
          Number(n),
          { maxCpu: b.cpu, maxMemoryGiB: b.memoryGiB, provenance: b.provenance },
        ]),
      ),
    ]),
  );

/** Largest total ephemeral-storage request of one Pod, every compute class and hardware configuration (GiB). */
export const AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB: number = limits.ephemeralStorageMaxGiB;
