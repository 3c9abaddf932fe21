import { scaledObjectsRendered } from './autoscaling';
import type { Deployment } from 'kubernetes-types/apps/v1';
import { createHash } from 'node:crypto';
import type {
  ConfigMap,
  Container,
  LifecycleHandler,
  Namespace,
  PodTemplateSpec,
  Probe,
  Service,
  ServiceAccount,
  Volume,
  VolumeMount,
} from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import {
  appNamespace,
  connectionDrainingSeconds,
  READY_GATE_RESOURCES,
  READY_GATE_STOP,
  terminationGracePeriodSeconds,
  type FleetSpec,
} from '@gpu-fleet/fleet-spec';
import {
  CAPACITY_LABEL,
  commonLabels,
  computeClassName,
  onDemandComputeClassName,
  onDemandName,
  SERVES_LABEL,
  selectorLabels,
  servingSelector,
  spotPodLabels,
} from '../labels';
import { READY_GATE_PY } from './ready-gate.py';

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

/** Name of the ConfigMap holding the ready gate's script (see ready-gate.py.ts). */
export const readyGateConfigMapName = (spec: FleetSpec) => `${spec.app.name}-ready-gate`;
const READY_GATE_DIR = '/opt/gpu-fleet';
const READY_GATE_FILE = 'ready_gate.py';

/** The ready gate's script as a ConfigMap in the app namespace (mode generation only). */
export function readyGateConfigMap(spec: FleetSpec): ConfigMap[] {
  if (spec.app.probes.readiness.mode !== 'generation') return [];
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: readyGateConfigMapName(spec), namespace: appNamespace(spec), labels: commonLabels(spec) },
      data: { [READY_GATE_FILE]: READY_GATE_PY },
    },
  ];
}

/**
 * Where readiness is answered: the ready gate's port and path (mode generation) or the app's own
 * path on app.port (mode http-path). The kubelet readiness probe and the load balancer health
 * check use the same signal.
 */
export function readinessEndpoint(spec: FleetSpec): { port: number; path: string } {
  const r = spec.app.probes.readiness;
  return r.mode === 'generation' ? { port: r.port, path: r.path } : { port: spec.app.port, path: r.path };
}

const quantities = (r: { cpu: string; memory: string; ephemeralStorage: string }) => ({
  cpu: r.cpu,
  memory: r.memory,
  'ephemeral-storage': r.ephemeralStorage,
});

/**
 * The WebUI container's preStop command: ask the ready gate, over loopback, to hold the stop until
 * the WebUI is idle. The WebUI image has Python (the gate runs on it); the read timeout outlasts the
 * gate's own detach + draining time, after which the gate answers in any case.
 */
export function drainCommand(python: string, port: number, drainSeconds: number): string[] {
  const timeout = READY_GATE_STOP.detachSeconds + drainSeconds + 30;
  return [
    python,
    '-c',
    `import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:${port}/drain', timeout=${timeout}).read().decode())`,
  ];
}

/**
 * The WebUI's arguments as rendered: the spec's, plus `--no-hashing` unless app.checkpointHashing.
 * The WebUI hashes a checkpoint before loading it (modules/sd_models.py get_checkpoint_state_dict →
 * calculate_shorthash → modules/hashes.py sha256, which reads the whole file) unless "--no-hashing"
 * ("disable sha256 hashing of checkpoints to help loading performance", modules/cmd_args.py), and
 * its hash cache lives under the data directory, on ephemeral storage that a new pod starts without.
 */
export function webuiArgs(app: FleetSpec['app']): string[] {
  return app.checkpointHashing || app.args.includes('--no-hashing') ? app.args : [...app.args, '--no-hashing'];
}

/**
 * What one feature adds to the WebUI pod: init containers (native sidecars), volumes, mounts into
 * the WebUI container and pod annotations. The Deployment is the WebUI container plus these parts.
 */
interface PodPart {
  initContainers: Container[];
  volumes: Volume[];
  webuiMounts: VolumeMount[];
  annotations: Record<string, string>;
}

const EMPTY_PART: PodPart = { initContainers: [], volumes: [], webuiMounts: [], annotations: {} };

/**
 * app.modelStorage: the model bucket as a read-only GCS FUSE CSI ephemeral volume, its mount in the
 * WebUI container, and the annotations that make GKE inject the Cloud Storage FUSE sidecar with
 * known resources (gcsFuseSidecarAnnotations). Nothing without model storage.
 */
function modelStoragePart(storage: FleetSpec['app']['modelStorage']): PodPart {
  if (!storage) return EMPTY_PART;
  // GCS FUSE CSI ephemeral volume, read-only (https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/cloud-storage-fuse-csi-driver).
  const volume: Volume = {
    name: 'models',
    csi: {
      driver: 'gcsfuse.csi.storage.gke.io',
      readOnly: true,
      volumeAttributes: {
        bucketName: storage.bucket,
        mountOptions: ['implicit-dirs', ...(storage.onlyDir ? [`only-dir=${storage.onlyDir}`] : [])].join(','),
      },
    },
  };
  return {
    initContainers: [],
    volumes: [volume],
    webuiMounts: [{ name: 'models', mountPath: storage.mountPath, readOnly: true }],
    annotations: { 'gke-gcsfuse/volumes': 'true', ...gcsFuseSidecarAnnotations(storage.sidecar) },
  };
}

/** The ready gate's container: the app image's Python running the ConfigMap's script. */
function readyGateContainer(spec: FleetSpec): Container {
  const { app } = spec;
  const readiness = app.probes.readiness;
  return {
    name: 'ready-gate',
    image: app.image,
    // Native sidecar: started before the WebUI, stopped after it (https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/).
    restartPolicy: 'Always',
    command: [readiness.python, `${READY_GATE_DIR}/${READY_GATE_FILE}`],
    args: [
      '--app-port',
      String(app.port),
      '--port',
      String(readiness.port),
      '--path',
      readiness.path,
      '--drain-seconds',
      String(connectionDrainingSeconds(spec)),
      '--detach-seconds',
      String(READY_GATE_STOP.detachSeconds),
    ],
    ports: [{ name: 'ready', containerPort: readiness.port, protocol: 'TCP' }],
    readinessProbe: {
      httpGet: { path: readiness.path, port: 'ready' },
      periodSeconds: 5,
      timeoutSeconds: 3,
      successThreshold: 1,
      failureThreshold: 2,
    },
    resources: { requests: quantities(READY_GATE_RESOURCES), limits: quantities(READY_GATE_RESOURCES) },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    volumeMounts: [{ name: 'ready-gate', mountPath: READY_GATE_DIR, readOnly: true }],
  };
}

/**
 * Readiness mode generation: the ready gate sidecar, the ConfigMap volume holding its script, and
 * the script's hash as a pod annotation. Nothing in mode http-path.
 */
function readyGatePart(spec: FleetSpec): PodPart {
  if (spec.app.probes.readiness.mode !== 'generation') return EMPTY_PART;
  return {
    initContainers: [readyGateContainer(spec)],
    volumes: [{ name: 'ready-gate', configMap: { name: readyGateConfigMapName(spec) } }],
    webuiMounts: [],
    // A new script rolls the pods (a ConfigMap change alone would not).
    annotations: {
      [READY_GATE_HASH_ANNOTATION]: createHash('sha256').update(READY_GATE_PY).digest('hex').slice(0, 16),
    },
  };
}

/**
 * The WebUI container's readiness probe: none with the gate, whose readiness is the pod's (a
 * sidecar's readiness counts for the pod); otherwise the app's own readiness path.
 */
function webuiReadinessProbe(spec: FleetSpec): Probe | undefined {
  const readiness = spec.app.probes.readiness;
  if (readiness.mode === 'generation') return undefined;
  return {
    httpGet: { path: readiness.path, port: 'http' },
    periodSeconds: 5,
    timeoutSeconds: 5,
    successThreshold: 1,
    failureThreshold: 3,
  };
}

/**
 * The WebUI container's preStop hook. Gate: hold SIGTERM until the WebUI is idle. Without it, only
 * the pause for the endpoint to leave the load balancer.
 * An exec hook, not httpGet: the kubelet sends an httpGet hook from the node, not from inside
 * the pod, and the gate takes /drain from loopback only (so nothing else in the VPC can drain
 * a pod). The pod's containers share one network namespace, so 127.0.0.1 is the gate
 * (https://kubernetes.io/docs/concepts/workloads/pods/#pod-networking).
 */
function webuiPreStop(spec: FleetSpec): LifecycleHandler {
  const readiness = spec.app.probes.readiness;
  return readiness.mode === 'generation'
    ? { exec: { command: drainCommand(readiness.python, readiness.port, connectionDrainingSeconds(spec)) } }
    : { sleep: { seconds: READY_GATE_STOP.detachSeconds } };
}

/** The WebUI container itself, with the GPUs, probes and stop hook; `mounts` come from the pod's parts. */
function webuiContainer(spec: FleetSpec, mounts: VolumeMount[]): Container {
  const { app, gpu } = spec;
  const period = 10;
  const requests = { ...quantities(app.resources), [GPU_RESOURCE]: String(gpu.count) };
  return {
    name: 'webui',
    image: app.image,
    // --no-hashing unless the spec wants checkpoint hashes: otherwise each cold start reads the
    // whole checkpoint twice (hash, then load) over the FUSE mount (app.checkpointHashing).
    args: webuiArgs(app),
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
    readinessProbe: webuiReadinessProbe(spec),
    livenessProbe: {
      httpGet: { path: app.probes.livenessPath, port: 'http' },
      periodSeconds: 30,
      timeoutSeconds: 10,
      failureThreshold: 6,
    },
    lifecycle: { preStop: webuiPreStop(spec) },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    volumeMounts: mounts.length ? mounts : undefined,
  };
}

/** The pod template: the WebUI container and every part's sidecars, volumes and annotations. */
function podTemplate(spec: FleetSpec, parts: PodPart[]): PodTemplateSpec {
  const { app, gpu } = spec;
  const initContainers = parts.flatMap((p) => p.initContainers);
  const volumes = parts.flatMap((p) => p.volumes);
  const annotations: Record<string, string> = Object.assign({}, ...parts.map((p) => p.annotations));
  return {
    metadata: {
      labels: { ...commonLabels(spec), ...spotPodLabels(spec) },
      ...(Object.keys(annotations).length ? { annotations: sortKeys(annotations) } : {}),
    },
    spec: {
      serviceAccountName: app.name,
      terminationGracePeriodSeconds: terminationGracePeriodSeconds(spec),
      nodeSelector:
        gpu.selection === 'compute-class' ? { 'cloud.google.com/compute-class': computeClassName(spec) } : undefined,
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      initContainers: initContainers.length ? initContainers : undefined,
      containers: [
        webuiContainer(
          spec,
          parts.flatMap((p) => p.webuiMounts),
        ),
      ],
      volumes: volumes.length ? volumes : undefined,
    },
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
 * - Readiness means "a generation can run" (app.probes.readiness): the ready gate sidecar answers
 *   only after one tiny generation succeeded. The startup probe allows
 *   `probes.startupTimeoutSeconds` for image pull and model load; liveness is cheap and tolerant.
 * - Stopping: the WebUI exits at SIGTERM, cutting any generation in flight, so its preStop hook asks
 *   the ready gate to hold it until the WebUI is idle (at most the load balancer's draining time);
 *   the grace period covers that plus the WebUI's own exit.
 * - Resources: requests = limits on every container; the Cloud Storage FUSE sidecar's are set by
 *   annotation, so the Pod total (what Autopilot checks) is known at render time.
 */
export function deployment(spec: FleetSpec): Deployment {
  const { app } = spec;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app.name, namespace: appNamespace(spec), labels: commonLabels(spec) },
    spec: {
      // With the autoscaler owning replicas the Deployment declares none, so Config Sync never
      // resets what it sets (docs/autoscaling.md); standby and draining overlays still set theirs.
      ...(scaledObjectsRendered(spec) ? {} : { replicas: 1 }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(spec) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      // A GPU node takes minutes to appear; do not mark the rollout failed before the model can load.
      progressDeadlineSeconds: app.probes.startupTimeoutSeconds + 900,
      // Parts in this order: the models volume comes before the ready gate's.
      template: podTemplate(spec, [modelStoragePart(app.modelStorage), readyGatePart(spec)]),
    },
  };
}

export const READY_GATE_HASH_ANNOTATION = 'gpu-fleet.dev/ready-gate-sha256';

/**
 * gpu.provisioning hedged: the hedge's Deployment in the hedge cluster — the app's own pod, on the
 * on-demand ComputeClass, under a selector of its own (labels.ts SERVES_LABEL says why), with no
 * `replicas`: its ScaledObject (hedgeScaledObject) owns them, from 0. A Deployment created without
 * replicas starts at 1, and KEDA scales a new target to minReplicaCount at once ("when you first
 * create your Deployment ... KEDA will immediately scale it to minReplicaCount",
 * https://keda.sh/docs/2.20/reference/scaledobject-spec/#cooldownperiod), so at most one pod is
 * pending briefly when the hedge moves.
 */
export function onDemandDeployment(spec: FleetSpec): Deployment {
  const spot = deployment(spec);
  const name = onDemandName(spec);
  const podSpec = spot.spec!.template.spec!;
  return {
    ...spot,
    metadata: { ...spot.metadata, name },
    spec: {
      revisionHistoryLimit: spot.spec!.revisionHistoryLimit,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      strategy: spot.spec!.strategy,
      progressDeadlineSeconds: spot.spec!.progressDeadlineSeconds,
      template: {
        metadata: {
          ...spot.spec!.template.metadata,
          labels: {
            ...commonLabels(spec),
            'app.kubernetes.io/name': name,
            [SERVES_LABEL]: spec.app.name,
            [CAPACITY_LABEL]: 'on-demand',
          },
        },
        spec: { ...podSpec, nodeSelector: { 'cloud.google.com/compute-class': onDemandComputeClassName(spec) } },
      },
    },
  };
}

/**
 * The Cloud Storage FUSE sidecar's resources as the driver's pod annotations
 * (gke-gcsfuse/{cpu,memory,ephemeral-storage}-{request,limit}; GoogleCloudPlatform/gcs-fuse-csi-driver
 * pkg/webhook/mutatingwebhook.go), request = limit as Autopilot requires.
 */
export function gcsFuseSidecarAnnotations(r: {
  cpu: string;
  memory: string;
  ephemeralStorage: string;
}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of [
    ['cpu', r.cpu],
    ['memory', r.memory],
    ['ephemeral-storage', r.ephemeralStorage],
  ] as const) {
    out[`gke-gcsfuse/${key}-request`] = value;
    out[`gke-gcsfuse/${key}-limit`] = value;
  }
  return out;
}

const sortKeys = (record: Record<string, string>) =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));

export function service(spec: FleetSpec): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: spec.app.name, namespace: appNamespace(spec), labels: commonLabels(spec) },
    spec: {
      type: 'ClusterIP',
      selector: servingSelector(spec),
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
    spec: {
      minAvailable: 1,
      selector: { matchLabels: selectorLabels(spec) },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
