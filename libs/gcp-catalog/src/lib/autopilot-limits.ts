/**
 * Upper bounds for CPU and memory requests of a GPU Pod on GKE Autopilot, per GPU type and count.
 *
 * Why these numbers: Autopilot rejects a GPU Pod whose requests exceed the largest node shape it
 * can attach that many GPUs to (https://cloud.google.com/kubernetes-engine/docs/concepts/autopilot-resource-requests#hardware-min-max).
 * The reference material could not reach that table (see data/SOURCES.upstream.md, "Gaps"), so the
 * bounds below are derived from the largest Compute Engine machine shape for each GPU count
 * (G2 for L4, N1 for T4/V100/P100/P4, A2 for A100) minus the per-node reservation Autopilot keeps
 * (about 1 vCPU and ~10 % of memory). They are deliberately a little generous: gpu-fleet uses them
 * to catch requests that cannot possibly fit, not to second-guess borderline ones. Types not listed
 * are not checked.
 */
export interface AutopilotGpuBounds {
  /** Largest CPU request (vCPU) accepted for one Pod with this many GPUs. */
  maxCpu: number;
  /** Largest memory request (GiB) accepted for one Pod with this many GPUs. */
  maxMemoryGiB: number;
}

const n1 = { 1: { maxCpu: 46, maxMemoryGiB: 287 }, 2: { maxCpu: 46, maxMemoryGiB: 287 }, 4: { maxCpu: 94, maxMemoryGiB: 587 }, 8: { maxCpu: 94, maxMemoryGiB: 587 } };

export const AUTOPILOT_GPU_BOUNDS: Readonly<Record<string, Readonly<Record<number, AutopilotGpuBounds>>>> = {
  // g2-standard-32 (1 GPU), g2-standard-24 (2), g2-standard-48 (4), g2-standard-96 (8)
  'nvidia-l4': {
    1: { maxCpu: 31, maxMemoryGiB: 115 },
    2: { maxCpu: 23, maxMemoryGiB: 86 },
    4: { maxCpu: 47, maxMemoryGiB: 172 },
    8: { maxCpu: 95, maxMemoryGiB: 345 },
  },
  'nvidia-tesla-t4': n1,
  'nvidia-tesla-v100': n1,
  'nvidia-tesla-p100': n1,
  'nvidia-tesla-p4': n1,
  // a2-highgpu-1g/2g/4g/8g, a2-megagpu-16g
  'nvidia-tesla-a100': {
    1: { maxCpu: 11, maxMemoryGiB: 76 },
    2: { maxCpu: 23, maxMemoryGiB: 153 },
    4: { maxCpu: 47, maxMemoryGiB: 306 },
    8: { maxCpu: 95, maxMemoryGiB: 612 },
    16: { maxCpu: 95, maxMemoryGiB: 1224 },
  },
};
