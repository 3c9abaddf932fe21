import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Container, Namespace, Service, ServiceAccount, Volume, VolumeMount } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { appNamespace, terminationGracePeriodSeconds, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { commonLabels, computeClassName, selectorLabels } from '../labels';

export const GPU_RESOURCE = 'nvidia.com/gpu';

export function namespace(spec: FleetSpec): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: appNamespace(spec), labels: commonLabels(spec) } };
}

/**
 * Kubernetes ServiceAccount of the WebUI. Workload Identity ready: either annotated with a Google
 * service account to impersonate, or used directly as an IAM principal
 * (https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity).
 */
export function serviceAccount(spec: FleetSpec): ServiceAccount {
  const gsa = spec.app.serviceAccount.gcpServiceAccount;
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      name: spec.app.name,
      namespace: appNamespace(spec),
      labels: commonLabels(spec),
      ...(gsa ? { annotations: { 'iam.gke.io/gcp-service-account': gsa } } : {}),
    },
    // The WebUI never calls the Kubernetes API; GCS FUSE gets its token through the CSI driver.
    automountServiceAccountToken: false,
  };
}

/**
 * The WebUI Deployment, valid on Autopilot for every GPU type the spec allows.
 *
 * - GPU selection: the per-cluster ComputeClass (priority list, in-region fallback) or, with
 *   `gpu.selection: node-selector`, a plain accelerator selector patched in by each overlay.
 *   Autopilot rejects GPU pods without one of the two (admission rule quoted in
 *   libs/gcp-catalog/src/data/autopilot-gpus.json).
 * - Rollout: maxSurge 1 / maxUnavailable 0 keeps the old pod serving until the new one is Ready,
 *   so a region never drops to zero ready pods because of a rollout (it may stall if no GPU is
 *   available for the surge pod, which is the safe failure).
 * - Probes: the startup probe allows `probes.startupTimeoutSeconds` for image pull and model load;
 *   readiness only passes on the model-loaded path, so the load balancer never routes to a pod
 *   still loading; liveness is cheap and tolerant (a long generation must not look like a hang).
 * - Termination: preStop sleep lets the load balancer stop sending new requests first, then the
 *   grace period lets an in-flight generation finish.
 */
export function deployment(spec: FleetSpec): Deployment {
  const { app, gpu } = spec;
  const period = 10;
  const volumes: Volume[] = [];
  const mounts: VolumeMount[] = [];
  if (app.modelStorage) {
    // GCS FUSE CSI ephemeral volume, read-only (https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/cloud-storage-fuse-csi-driver).
    volumes.push({
      name: 'models',
      csi: {
        driver: 'gcsfuse.csi.storage.gke.io',
        readOnly: true,
        volumeAttributes: {
          bucketName: app.modelStorage.bucket,
          mountOptions: ['implicit-dirs', ...(app.modelStorage.onlyDir ? [`only-dir=${app.modelStorage.onlyDir}`] : [])].join(','),
        },
      },
    });
    mounts.push({ name: 'models', mountPath: app.modelStorage.mountPath, readOnly: true });
  }
  const requests = {
    cpu: app.resources.cpu,
    memory: app.resources.memory,
    'ephemeral-storage': app.resources.ephemeralStorage,
    [GPU_RESOURCE]: String(gpu.count),
  };
  const container: Container = {
    name: 'webui',
    image: app.image,
    args: app.args,
    env: Object.keys(app.env)
      .sort()
      .map((name) => ({ name, value: app.env[name] })),
    ports: [{ name: 'http', containerPort: app.port, protocol: 'TCP' }],
    resources: { requests, limits: requests },
    startupProbe: {
      httpGet: { path: app.probes.livenessPath, port: 'http' },
      periodSeconds: period,
      timeoutSeconds: 5,
      failureThreshold: Math.ceil(app.probes.startupTimeoutSeconds / period),
    },
    readinessProbe: {
      httpGet: { path: app.probes.readinessPath, port: 'http' },
      periodSeconds: 5,
      timeoutSeconds: 5,
      successThreshold: 1,
      failureThreshold: 3,
    },
    livenessProbe: {
      httpGet: { path: app.probes.livenessPath, port: 'http' },
      periodSeconds: 30,
      timeoutSeconds: 10,
      failureThreshold: 6,
    },
    lifecycle: { preStop: { sleep: { seconds: 15 } } },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    volumeMounts: mounts.length ? mounts : undefined,
  };
  const annotations: Record<string, string> = app.modelStorage ? { 'gke-gcsfuse/volumes': 'true' } : {};
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app.name, namespace: appNamespace(spec), labels: commonLabels(spec) },
    spec: {
      replicas: 1,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(spec) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      // A GPU node takes minutes to appear; do not mark the rollout failed before the model can load.
      progressDeadlineSeconds: app.probes.startupTimeoutSeconds + 900,
      template: {
        metadata: { labels: commonLabels(spec), ...(Object.keys(annotations).length ? { annotations } : {}) },
        spec: {
          serviceAccountName: app.name,
          terminationGracePeriodSeconds: terminationGracePeriodSeconds(spec),
          nodeSelector: gpu.selection === 'compute-class' ? { 'cloud.google.com/compute-class': computeClassName(spec) } : undefined,
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          containers: [container],
          volumes: volumes.length ? volumes : undefined,
        },
      },
    },
  };
}

export function service(spec: FleetSpec): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: spec.app.name, namespace: appNamespace(spec), labels: commonLabels(spec) },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(spec),
      ports: [{ name: 'http', port: spec.app.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/**
 * Keep one pod through voluntary disruptions (node upgrades, scale-down). GKE honours a PDB for up
 * to an hour during upgrades (https://cloud.google.com/kubernetes-engine/docs/concepts/cluster-upgrades#pod-disruption-budget),
 * enough for a replacement GPU node. Unhealthy pods may always be evicted so a stuck pod never blocks.
 */
export function podDisruptionBudget(spec: FleetSpec): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: spec.app.name, namespace: appNamespace(spec), labels: commonLabels(spec) },
    spec: { minAvailable: 1, selector: { matchLabels: selectorLabels(spec) }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  };
}
