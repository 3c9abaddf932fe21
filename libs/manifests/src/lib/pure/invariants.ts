import {
  AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB,
  AUTOPILOT_GRACE,
  CONFIG_SYNC_MANAGED_BY,
  DRAINING_TIMEOUT_MAX_SECONDS,
  GCSFUSE_SIDECAR_DEFAULTS,
  resourceQuotaItemProblem,
  webuiPathAnswersBeforeModelLoad,
  type GpuCatalog,
} from '@gpu-fleet/gcp-catalog';
import {
  autoscalingMinimum,
  autoscalingRoles,
  connectionDrainingSeconds,
  hedgeActive,
  cpuQuantity,
  findPlaceholders,
  MANAGED_BY_LABEL,
  memoryGiB,
  READY_GATE_STOP,
  renderedReplicas,
  servingClusters,
  stopMarginSeconds,
  type ClusterSpec,
  type FleetSpec,
} from '@gpu-fleet/fleet-spec';
import type { K8sObject } from './k8s-object';
import { GPU_RESOURCE, readinessEndpoint as readinessEndpointOf } from './builders/workload';
import { onDemandName } from './labels';

export interface Finding {
  /** Folder (clusters/<name>, fleet-config/config-cluster) or spec file the finding is about. */
  scope: string;
  /** Kind/namespace/name of the object, when about one. */
  object?: string;
  message: string;
}

export const objectId = (resource: K8sObject) =>
  [resource.kind, resource.metadata?.namespace, resource.metadata?.name].filter(Boolean).join('/');

type Probe = { httpGet?: { path?: string; port?: number | string } };
type PodContainer = {
  name?: string;
  restartPolicy?: string;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  readinessProbe?: Probe;
  ports?: Array<{ name?: string; containerPort?: number }>;
};
type Pod = {
  nodeSelector?: Record<string, string>;
  terminationGracePeriodSeconds?: number;
  containers?: PodContainer[];
  initContainers?: PodContainer[];
};
type ScaledObjectLike = K8sObject & {
  spec?: { scaleTargetRef?: { name?: string }; minReplicaCount?: number; maxReplicaCount?: number };
};
type ComputeClassObject = K8sObject & {
  spec?: {
    priorities?: Array<{ gpu?: { type?: string; count?: number }; spot?: boolean }>;
    activeMigration?: { optimizeRulePriority?: boolean };
  };
};

/**
 * Invariants of one built cluster overlay: GPU pods select a type its region offers (through the
 * ComputeClass or the accelerator selector) and replicas match the cluster's mode.
 */
export function clusterInvariants(
  scope: string,
  spec: FleetSpec,
  cluster: ClusterSpec,
  objects: K8sObject[],
  catalog: GpuCatalog,
): Finding[] {
  const findings: Finding[] = [];
  const classes = new Map(
    objects.filter((o) => o.kind === 'ComputeClass').map((o) => [o.metadata?.name, o as ComputeClassObject]),
  );
  for (const resource of objects.filter((x) => x.kind === 'Deployment')) {
    const dep = resource as GpuDeployment;
    const pod = dep.spec?.template?.spec ?? {};
    const wantsGpu = (pod.containers ?? []).some((c) => c.resources?.limits?.[GPU_RESOURCE] !== undefined);
    if (!wantsGpu) continue;
    const add = (message: string) => findings.push({ scope, object: objectId(resource), message });
    const { selectedClass, types } = selectedGpuTypes(pod, classes, cluster, catalog, add);
    const scaler = replicaInvariants(spec, cluster, dep, objects, add);
    findings.push(
      ...servingInvariants(spec, pod, dep.spec?.template?.metadata?.annotations ?? {}, types, catalog).map(
        (message) => ({ scope, object: objectId(resource), message }),
      ),
    );
    stopInvariants(spec, dep, selectedClass ? classes.get(selectedClass) : undefined, selectedClass, scaler, add);
  }
  if (!objects.some((o) => o.kind === 'Deployment' && o.metadata?.name === spec.app.name)) {
    findings.push({ scope, message: `builds no Deployment "${spec.app.name}"` });
  }
  if (hedgeActive(spec)) findings.push(...hedgeInvariants(scope, spec, objects, classes));
  return findings;
}

type GpuDeployment = K8sObject & {
  spec?: { replicas?: number; template?: { metadata?: { annotations?: Record<string, string> }; spec?: Pod } };
};

/** The GPU types a pod can land on (its ComputeClass's rules or its accelerator selector), each offered in the region and on Autopilot. */
function selectedGpuTypes(
  pod: Pod,
  classes: Map<string | undefined, ComputeClassObject>,
  cluster: ClusterSpec,
  catalog: GpuCatalog,
  add: (message: string) => void,
): { selectedClass: string | undefined; types: string[] } {
  const selectedClass = pod.nodeSelector?.['cloud.google.com/compute-class'];
  const accelerator = pod.nodeSelector?.['cloud.google.com/gke-accelerator'];
  let types: string[] = [];
  if (selectedClass) {
    const cc = classes.get(selectedClass);
    if (!cc) add(`selects ComputeClass "${selectedClass}", which this overlay does not define`);
    types = (cc?.spec?.priorities ?? []).map((p) => p.gpu?.type).filter((t): t is string => !!t);
    if (cc && !types.length)
      add(`ComputeClass "${selectedClass}" has no GPU priority rule; Autopilot rejects GPU pods selecting it`);
  } else if (accelerator) {
    types = [accelerator];
  } else {
    add(
      'requests nvidia.com/gpu without a cloud.google.com/gke-accelerator or compute-class node selector; Autopilot rejects it',
    );
  }
  for (const t of types) {
    if (!catalog.offers(cluster.region, t))
      add(
        `selects GPU "${t}", which ${cluster.region} does not offer (offered: ${catalog.gpusInRegion(cluster.region).join(', ') || 'none'})`,
      );
    else if (catalog.gpu(t)?.autopilotSupported !== true)
      add(`selects GPU "${t}", which GKE Autopilot does not support`);
  }
  return { selectedClass, types };
}

/** Replicas follow the cluster's mode, or, under a ScaledObject, are the autoscaler's alone from the role's minimum. Returns the scaler. */
function replicaInvariants(
  spec: FleetSpec,
  cluster: ClusterSpec,
  dep: GpuDeployment,
  objects: K8sObject[],
  add: (message: string) => void,
): ScaledObjectLike | undefined {
  const scaler = objects.find(
    (o) => o.kind === 'ScaledObject' && (o as ScaledObjectLike).spec?.scaleTargetRef?.name === dep.metadata?.name,
  ) as ScaledObjectLike | undefined;
  const role = autoscalingRoles(spec).get(cluster.name);
  if (scaler) {
    // The autoscaler owns replicas: declaring them too makes Config Sync reset every change (a
    // controller fight, docs/autoscaling.md).
    if (dep.spec?.replicas !== undefined)
      add(
        `declares ${dep.spec.replicas} replicas while ScaledObject "${scaler.metadata?.name}" scales it: Config Sync would reset every change the autoscaler makes; drop replicas from the Deployment (npm run scout -- render does; or remove the patch in fleet-config/patches that adds it)`,
      );
    // The hedge's on-demand Deployment starts from 0 whatever the cluster's role.
    const min = dep.metadata?.name === onDemandName(spec) ? 0 : role ? autoscalingMinimum(role, cluster) : 0;
    if (scaler.spec?.minReplicaCount !== min)
      add(
        `is scaled from ${scaler.spec?.minReplicaCount} but this ${role ?? 'inactive'} cluster's minimum is ${min} (warm: its replicas; cold: 0)`,
      );
  } else {
    const want = renderedReplicas(cluster);
    if (dep.spec?.replicas !== want)
      add(
        `has ${dep.spec?.replicas} replicas but cluster mode "${cluster.mode}" with replicas ${cluster.replicas} means ${want}`,
      );
  }
  return scaler;
}

/** What stops a pod (activeMigration's evictions, Spot preemption) must leave a generation in flight its time, and one replica standing. */
function stopInvariants(
  spec: FleetSpec,
  dep: GpuDeployment,
  cc: ComputeClassObject | undefined,
  selectedClass: string | undefined,
  scaler: ScaledObjectLike | undefined,
  add: (message: string) => void,
): void {
  const pod = dep.spec?.template?.spec ?? {};
  const fewest = scaler ? (scaler.spec?.minReplicaCount ?? 0) : (dep.spec?.replicas ?? 0);
  if (cc?.spec?.activeMigration?.optimizeRulePriority && fewest < 2) {
    add(
      `${scaler ? 'can scale to' : 'has'} ${fewest} replica(s) while ComputeClass "${selectedClass}" turns on activeMigration: migration evicts a pod, which the PodDisruptionBudget (minAvailable 1) forbids with one replica — and would take the region down for a model reload; keep activeMigration to clusters with 2 or more replicas`,
    );
  }
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  if (
    cc?.spec?.activeMigration?.optimizeRulePriority &&
    !spec.gpu.acceptCutGenerations &&
    grace > AUTOPILOT_GRACE.scaleDownMaxSeconds
  ) {
    add(
      `needs ${grace} s to stop (terminationGracePeriodSeconds: the drain of up to ${connectionDrainingSeconds(spec)} s + ${stopMarginSeconds()} s) while ComputeClass "${selectedClass}" turns on activeMigration, which moves a pod by a GKE-initiated eviction whose grace Autopilot caps at ${AUTOPILOT_GRACE.scaleDownMaxSeconds} s (https://cloud.google.com/kubernetes-engine/docs/how-to/extended-duration-pods): a generation in flight would be killed; remove activeMigration from the ComputeClass (render leaves it out when the drain does not fit), lower ingress.connectionDrainingSec to ${AUTOPILOT_GRACE.scaleDownMaxSeconds - stopMarginSeconds()} or less, or set gpu.acceptCutGenerations: true`,
    );
  }
  const spotRules = cc
    ? (cc.spec?.priorities ?? []).some((p) => p.spot === true)
    : pod.nodeSelector?.['cloud.google.com/gke-spot'] === 'true';
  if (
    spotRules &&
    !spec.gpu.acceptCutGenerations &&
    spec.ingress.backendTimeoutSec > AUTOPILOT_GRACE.spotPreemptionMaxSeconds
  ) {
    add(
      `can run on Spot VMs, where a preempted pod gets at most ${AUTOPILOT_GRACE.spotPreemptionMaxSeconds} s to stop, but generations may run ${spec.ingress.backendTimeoutSec} s; set gpu.provisioning "on-demand" or gpu.acceptCutGenerations: true`,
    );
  }
}

type Labelled = K8sObject & {
  spec?: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, unknown>;
    template?: { metadata?: { labels?: Record<string, string> }; spec?: Pod };
  };
};
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/**
 * gpu.provisioning hedged (docs/hedging.md): the cluster's own pods run on Spot only and the hedge's
 * on-demand only — each GPU Deployment's ComputeClass says so; the two Deployments' selectors do not
 * overlap (Deployments with overlapping selectors fight over pods:
 * https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#label-selector-updates); and the
 * Service selects the pods of both, or the on-demand replicas would serve nothing.
 */
function hedgeInvariants(
  scope: string,
  spec: FleetSpec,
  objects: K8sObject[],
  classes: Map<string | undefined, ComputeClassObject>,
): Finding[] {
  const findings: Finding[] = [];
  const deployments = objects.filter((o) => o.kind === 'Deployment') as Labelled[];
  const service = objects.find((o) => o.kind === 'Service' && o.metadata?.name === spec.app.name) as
    (K8sObject & { spec?: { selector?: Record<string, string> } }) | undefined;
  for (const dep of deployments) {
    const add = (message: string) => findings.push({ scope, object: objectId(dep), message });
    const onDemand = dep.metadata?.name === onDemandName(spec);
    if (dep.metadata?.name !== spec.app.name && !onDemand) continue;
    const cc = classes.get(dep.spec?.template?.spec?.nodeSelector?.['cloud.google.com/compute-class']);
    const wrong = (cc?.spec?.priorities ?? []).filter((p) => (p.spot === true) === onDemand);
    if (wrong.length)
      add(
        onDemand
          ? `is the hedge's on-demand Deployment but its ComputeClass has Spot rules: the hedge must not depend on Spot`
          : `is a Spot slot of a hedged fleet but its ComputeClass has on-demand rules: the fallback is the hedge's Deployment, sized fleet-wide (gpu.provisioning hedged renders Spot only)`,
      );
    const labels = dep.spec?.template?.metadata?.labels;
    if (service && !matches(service.spec?.selector, labels))
      add(`its pods do not match Service "${spec.app.name}"'s selector: they would get no traffic`);
    for (const other of deployments.filter((d) => d !== dep))
      if (matches(dep.spec?.selector?.matchLabels, other.spec?.template?.metadata?.labels))
        add(
          `its selector also matches the pods of Deployment "${other.metadata?.name}": overlapping selectors fight over pods`,
        );
  }
  return findings;
}

/**
 * The WebUI pod can serve when it says it can, finishes what it started, and fits Autopilot:
 * - readiness comes from a signal that means "a generation can run" (the ready gate, or the app's
 *   own path — never a WebUI path that answers while the model loads);
 * - the grace period covers the stop: endpoint detach + the draining time + the WebUI's exit;
 * - the Pod's totals (every container, native sidecars, the Cloud Storage FUSE sidecar from its
 *   annotations) stay within Autopilot's maxima for each GPU type it may get.
 */
function servingInvariants(
  spec: FleetSpec,
  pod: Pod,
  annotations: Record<string, string>,
  gpuTypes: string[],
  catalog: GpuCatalog,
): string[] {
  const out: string[] = [];
  const containers = pod.containers ?? [];
  const sidecars = (pod.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const probes = [...containers, ...sidecars]
    .map((c) => ({ c, probe: c.readinessProbe?.httpGet }))
    .filter((x) => x.probe);
  if (!probes.length)
    out.push(
      'has no HTTP readiness probe: pods would count as ready (and take traffic) before the model has loaded; render with app.probes.readiness',
    );
  for (const { c, probe } of probes) {
    const onApp = containers.includes(c);
    if (onApp && webuiPathAnswersBeforeModelLoad(probe!.path ?? '/')) {
      out.push(
        `container "${c.name}" is ready on ${JSON.stringify(probe!.path)}, which the WebUI answers while the model is still loading (modules/initialize.py loads it in a background thread); use the ready gate (app.probes.readiness.mode generation)`,
      );
    }
  }
  const need = connectionDrainingSeconds(spec) + READY_GATE_STOP.detachSeconds + READY_GATE_STOP.shutdownSeconds;
  if ((pod.terminationGracePeriodSeconds ?? 30) < need) {
    out.push(
      `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds ?? 30} does not cover a stop: ${READY_GATE_STOP.detachSeconds} s detach + ${connectionDrainingSeconds(spec)} s draining + ${READY_GATE_STOP.shutdownSeconds} s exit = ${need} s`,
    );
  }
  // Autopilot checks the totals of the Pod (requests; limits equal them here).
  const all = [...containers, ...sidecars];
  const total = (resource: string, parse: (q: string) => number, fuse: string) =>
    all.reduce((n, c) => n + parse(c.resources?.requests?.[resource] ?? '0'), 0) +
    (annotations['gke-gcsfuse/volumes'] === 'true'
      ? parse(annotations[`gke-gcsfuse/${fuse}-request`] ?? defaultFuse(fuse))
      : 0);
  const cpu = total('cpu', cpuQuantity, 'cpu');
  const mem = total('memory', memoryGiB, 'memory');
  const eph = total('ephemeral-storage', memoryGiB, 'ephemeral-storage');
  const r2 = (n: number) => Math.round(n * 100) / 100;
  if (eph > AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB)
    out.push(
      `requests ${r2(eph)} GiB of ephemeral storage in total (sidecars included); Autopilot allows at most ${AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB} GiB for a Pod`,
    );
  const count = Number(
    containers.find((c) => c.resources?.limits?.[GPU_RESOURCE])?.resources?.limits?.[GPU_RESOURCE] ?? 0,
  );
  for (const t of gpuTypes) {
    const b = catalog.autopilotBounds(t, count);
    if (!b) continue;
    if (cpu > b.maxCpu)
      out.push(
        `requests ${r2(cpu)} vCPU in total (sidecars included); Autopilot accepts at most ${b.maxCpu} with ${count} × ${t} (${b.provenance})`,
      );
    if (mem > b.maxMemoryGiB)
      out.push(
        `requests ${r2(mem)} GiB of memory in total (sidecars included); Autopilot accepts at most ${b.maxMemoryGiB} GiB with ${count} × ${t} (${b.provenance})`,
      );
  }
  return out;
}

const defaultFuse = (resource: string) =>
  ({
    cpu: GCSFUSE_SIDECAR_DEFAULTS.cpu,
    memory: GCSFUSE_SIDECAR_DEFAULTS.memory,
    'ephemeral-storage': GCSFUSE_SIDECAR_DEFAULTS.ephemeralStorage,
  })[resource as 'cpu'];

/** Invariants of the config cluster: backends ⊆ active clusters, enough of them, static IP and IAP. */
export function configClusterInvariants(scope: string, spec: FleetSpec, objects: K8sObject[]): Finding[] {
  const findings: Finding[] = [];
  const active = new Set(servingClusters(spec).map((c) => `${c.region}/${c.name}`));
  const mcs = objects.find((o) => o.kind === 'MultiClusterService') as
    (K8sObject & { spec?: { clusters?: Array<{ link: string }> } }) | undefined;
  const mci = objects.find((o) => o.kind === 'MultiClusterIngress');
  const bc = objects.find((o) => o.kind === 'BackendConfig') as
    | (K8sObject & {
        spec?: {
          iap?: { enabled?: boolean };
          timeoutSec?: number;
          connectionDraining?: { drainingTimeoutSec?: number };
          healthCheck?: { requestPath?: string; port?: number };
        };
      })
    | undefined;
  if (bc) {
    const add = (message: string) => findings.push({ scope, object: objectId(bc), message });
    const timeout = bc.spec?.timeoutSec ?? 30;
    const drain = bc.spec?.connectionDraining?.drainingTimeoutSec ?? 0;
    if (drain < timeout)
      add(
        `drains removed backends for ${drain} s but allows requests of ${timeout} s (timeoutSec): every rollout, drain or scale-down cuts longer generations; set connectionDraining.drainingTimeoutSec to at least timeoutSec`,
      );
    if (drain > DRAINING_TIMEOUT_MAX_SECONDS)
      add(
        `connectionDraining.drainingTimeoutSec ${drain} is more than the load balancer accepts (${DRAINING_TIMEOUT_MAX_SECONDS})`,
      );
    const ready = readinessEndpointOf(spec);
    const hc = bc.spec?.healthCheck;
    if (hc?.requestPath !== ready.path || hc?.port !== ready.port) {
      add(
        `health-checks ${hc?.requestPath ?? '(no path)'} on port ${hc?.port ?? '(serving port)'}, not the pods' readiness signal ${ready.path} on port ${ready.port}: the load balancer would send traffic to pods that cannot generate yet`,
      );
    }
  }
  if (!mcs) findings.push({ scope, message: 'builds no MultiClusterService' });
  if (!mci) {
    const pending = !spec.ingress.staticIp.disabled && !spec.ingress.staticIp.address;
    findings.push({
      scope,
      message: pending
        ? `builds no MultiClusterIngress yet: ingress.staticIp.address is not pinned. After \`terraform apply\` (infra/), run \`npm run scout -- pin --static-ip-address "$(terraform -chdir=infra output -raw static_ip_address)"\` (the infra workflow opens that pull request)`
        : 'builds no MultiClusterIngress',
    });
  }
  if (mcs) {
    const links = mcs.spec?.clusters?.map((c) => c.link);
    if (!links) {
      findings.push({
        scope,
        object: objectId(mcs),
        message:
          'has no spec.clusters: traffic would go to every fleet member, including standby and draining clusters',
      });
    } else {
      for (const l of links)
        if (!active.has(l))
          findings.push({
            scope,
            object: objectId(mcs),
            message: `routes to "${l}", which is not an active cluster (active: ${[...active].join(', ') || 'none'})`,
          });
      if (new Set(links).size < spec.placement.minServingRegions) {
        findings.push({
          scope,
          object: objectId(mcs),
          message: `routes to ${new Set(links).size} cluster(s); placement.minServingRegions is ${spec.placement.minServingRegions}`,
        });
      }
    }
  }
  if (mci) {
    const ip = (mci.metadata?.annotations as Record<string, string> | undefined)?.['networking.gke.io/static-ip'];
    if (!ip && !spec.ingress.staticIp.disabled) {
      findings.push({
        scope,
        object: objectId(mci),
        message: `has no static IP: set ingress.staticIp.address (machine-written from the Terraform output for "${spec.ingress.staticIp.name ?? '?'}"), or disable it with a reason`,
      });
    }
  }
  if (bc && bc.spec?.iap?.enabled !== true && spec.ingress.iap.enabled) {
    findings.push({ scope, object: objectId(bc), message: 'has IAP off although the spec enables it' });
  }
  if (bc && bc.spec?.iap?.enabled !== true && !spec.ingress.iap.reason) {
    findings.push({ scope, object: objectId(bc), message: 'has IAP off without ingress.iap.reason' });
  }
  return findings;
}

/**
 * Rules the platform enforces on any object, checked on everything built (user patches included):
 * - a ResourceQuota on an extended resource uses only the requests. prefix (Kubernetes refuses it);
 * - nothing declares or selects app.kubernetes.io/managed-by, which Config Sync overwrites on every
 *   object it applies (ownership would be silently lost, a selector would stop matching).
 */
export function platformFindings(scope: string, objects: K8sObject[]): Finding[] {
  const findings: Finding[] = [];
  for (const resource of objects) {
    const add = (message: string) => findings.push({ scope, object: objectId(resource), message });
    if (resource.kind === 'ResourceQuota') {
      const hard = ((resource as { spec?: { hard?: Record<string, unknown> } }).spec?.hard ?? {}) as Record<
        string,
        unknown
      >;
      for (const item of Object.keys(hard).sort()) {
        const problem = resourceQuotaItemProblem(item);
        if (problem) add(`spec.hard.${problem}`);
      }
    }
    for (const path of keyPaths(resource, CONFIG_SYNC_MANAGED_BY.label)) {
      add(
        `${path}: Config Sync sets ${CONFIG_SYNC_MANAGED_BY.label}=${CONFIG_SYNC_MANAGED_BY.value} on every object it applies, so this would be overwritten (or select nothing); use ${MANAGED_BY_LABEL}`,
      );
    }
  }
  return findings;
}

/** Dotted paths of every object key equal to `key`, anywhere in a value. */
function keyPaths(value: unknown, key: string, at = ''): string[] {
  if (!value || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => keyPaths(v, key, `${at}[${i}]`));
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const here = at ? `${at}.${k.includes('.') || k.includes('/') ? `"${k}"` : k}` : k;
    return [...(k === key ? [here] : []), ...keyPaths(v, key, here)];
  });
}

export function placeholderFindings(scope: string, objects: K8sObject[]): Finding[] {
  return objects.flatMap((resource) =>
    findPlaceholders(resource).map((p) => ({
      scope,
      object: objectId(resource),
      message: `${p.path}: ${JSON.stringify(p.value)} looks like ${p.why}`,
    })),
  );
}
