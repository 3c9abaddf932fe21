/**
 * Rules the platform itself enforces — Kubernetes, GKE Autopilot, Config Sync, the Google load
 * balancer — that gpu-fleet's `validate` checks before a change is proposed and the sandbox applies
 * while it runs. One definition for both, each with its source, so the two can never disagree.
 */

/**
 * Kubernetes ResourceQuota on an extended resource (a domain-qualified resource name outside
 * Kubernetes' own domains, such as nvidia.com/gpu): "for extended resources, only quota items with
 * prefix `requests.` are allowed" (https://kubernetes.io/docs/concepts/policy/resource-quotas/#resource-quota-for-extended-resources).
 * Object counts (`count/jobs.batch`) and storage-class quotas (`<class>.storageclass.storage.k8s.io/…`)
 * are Kubernetes' own. Returns why an item of `spec.hard` is invalid, or null.
 */
export function resourceQuotaItemProblem(item: string): string | null {
  const prefix = /^(requests|limits)\./.exec(item)?.[1] ?? null;
  const resource = prefix ? item.slice(prefix.length + 1) : item;
  const domain = resource.includes('/') ? resource.slice(0, resource.indexOf('/')) : null;
  const kubernetesOwn = (d: string) =>
    d === 'kubernetes.io' || d.endsWith('.kubernetes.io') || d === 'k8s.io' || d.endsWith('.k8s.io');
  const extended = domain !== null && domain.includes('.') && !kubernetesOwn(domain);
  if (!extended || prefix === 'requests') return null;
  return `"${item}": a ResourceQuota on the extended resource ${resource} accepts only the requests. prefix (use "requests.${resource}"; an extended resource cannot be overcommitted, so limits equal requests)`;
}

/**
 * Config Sync adds and manages this label on every object it applies, with its own value
 * ("app.kubernetes.io/managed-by: configmanagement.gke.io … Indicates that Config Sync manages the
 * object. Safe to modify: No"; https://cloud.google.com/kubernetes-engine/enterprise/config-sync/docs/reference/labels-and-annotations).
 * A value gpu-fleet declared would be overwritten, so nothing may declare, select or recognise
 * ownership by it.
 */
export const CONFIG_SYNC_MANAGED_BY = {
  label: 'app.kubernetes.io/managed-by',
  value: 'configmanagement.gke.io',
} as const;

/**
 * Termination grace on GKE Autopilot (https://cloud.google.com/kubernetes-engine/docs/how-to/extended-duration-pods):
 * "For automatic node upgrades, the grace period can be up to one hour. For scale-down events, the
 * grace period can be up to 10 minutes." Spot Pods get at most 25 seconds when preempted
 * ("Spot Pods … can request a grace period of up to 25 seconds"; https://cloud.google.com/kubernetes-engine/docs/how-to/autopilot-spot-pods,
 * the English page's "Spot Pods on Autopilot" section, quoted here from its official zh-CN rendering).
 */
export const AUTOPILOT_GRACE = {
  scaleDownMaxSeconds: 600,
  nodeUpgradeMaxSeconds: 3600,
  spotPreemptionMaxSeconds: 25,
} as const;

/**
 * Load balancer connection draining: "The valid range is [0, 3600]" seconds
 * (Compute API BackendService.connectionDraining.drainingTimeoutSec,
 * https://cloud.google.com/compute/docs/reference/rest/v1/backendServices), as set through
 * BackendConfig.spec.connectionDraining.drainingTimeoutSec.
 */
export const DRAINING_TIMEOUT_MAX_SECONDS = 3600;

/**
 * The Cloud Storage FUSE sidecar's default requests and limits, as GKE injects it
 * (GoogleCloudPlatform/gcs-fuse-csi-driver cmd/webhook/main.go @ 5fcdc04a: sidecar-cpu-request
 * "250m", sidecar-memory-request "256Mi", sidecar-ephemeral-storage-request "5Gi", limits equal);
 * they count toward the Pod's Autopilot totals ("the ephemeral storage limit is at Pod level",
 * https://github.com/GoogleCloudPlatform/gcs-fuse-csi-driver/issues/57).
 */
export const GCSFUSE_SIDECAR_DEFAULTS = { cpu: '250m', memory: '256Mi', ephemeralStorage: '5Gi' } as const;

/**
 * What gpu-fleet gives the Cloud Storage FUSE sidecar by default, and the most it can have on an
 * Autopilot GPU node. Every cold start streams the whole checkpoint through the sidecar, and
 * "in most cases, unsatisfactory performance is caused by insufficient CPU or memory allocated to
 * the Cloud Storage FUSE sidecar container" (GoogleCloudPlatform/gcs-fuse-csi-driver
 * docs/troubleshooting.md @ 5fcdc04a); gcsfuse's download workers also scale with the CPUs it sees
 * (max-parallel-downloads = max(16, 2 × NumCPU), GoogleCloudPlatform/gcsfuse cfg/config_util.go).
 * On Autopilot "the sidecar container resource limits and requests" cannot be unset with "0", and
 * "the sidecar container CPU allocation cannot exceed 2 vCPU and memory allocation cannot exceed
 * 14 GiB on GPU nodes on Autopilot clusters" (same troubleshooting guide, a known issue still listed
 * in 2026-08). So: the 2 vCPU ceiling as the default — more is not granted, less throttles the read
 * — and 1 GiB of memory for gcsfuse's read buffers (no file cache: the Pod's 10 GiB ephemeral
 * maximum cannot hold a checkpoint anyway).
 */
export const GCSFUSE_SIDECAR_MODEL_LOADING = { cpu: '2', memory: '1Gi' } as const;
export const GCSFUSE_SIDECAR_AUTOPILOT_GPU_MAX = { cpu: 2, memoryGiB: 14 } as const;

/**
 * WebUI paths that answer before the model has loaded, so they cannot mean "ready": the API and
 * its read endpoints come up first while the model loads in a background thread
 * (AUTOMATIC1111/stable-diffusion-webui modules/initialize.py initialize_rest → load_model;
 * modules/api/api.py; /internal/ping in modules/ui.py setup_ui_api returns {}).
 */
export function webuiPathAnswersBeforeModelLoad(path: string): boolean {
  const p = path.split('?')[0]!;
  return (
    p === '/' ||
    p.startsWith('/internal/') ||
    (p.startsWith('/sdapi/v1/') && !/^\/sdapi\/v1\/(txt2img|img2img)$/.test(p))
  );
}
