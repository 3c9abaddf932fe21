import { createHash } from 'node:crypto';
import { GpuCatalog, webuiPathAnswersBeforeModelLoad } from '@gpu-fleet/gcp-catalog';
import {
  appNamespace,
  autoscalingRoles,
  configClusterRegion,
  proxyContinent,
  type ClusterSpec,
  type FleetSpec,
  slotsOnSpot,
} from '@gpu-fleet/fleet-spec';
import { diurnalDemand } from './demand';
import { exponential, hash32, keyedRng } from './rng';
import type { SimClock } from './clock';

/**
 * The seeded world behind the sandbox servers: regions, zones and the GPU offering per zone from the
 * bundled catalog; quotas; a stockout process per (zone, GPU type); GPU node provisioning delays;
 * Autopilot admission; the fleet's clusters, memberships and Config Sync state; and the pods, Jobs
 * and events the Kubernetes API shows. Deterministic for a seed and a clock reading.
 */
export interface WorldOptions {
  seed: number;
  clock: SimClock;
  spec: FleetSpec;
  catalog?: GpuCatalog;
  projectNumber?: string;
  /**
   * Where fleet memberships are registered: "global" (default; what infra/ creates) or "regional"
   * (each in its cluster's region), or per cluster name. Both exist on Google Cloud
   * (https://cloud.google.com/kubernetes-engine/fleet-management/docs/fleet-creation).
   */
  memberships?: 'global' | 'regional' | Record<string, 'global' | 'regional'>;
}

/** Mean minutes a (zone, GPU) stays available, then stocked out: scarcer GPUs stock out more. */
const STOCKOUT_PROFILE: Record<string, { availableMean: number; stockoutMean: number }> = {
  'nvidia-l4': { availableMean: 150, stockoutMean: 60 },
  'nvidia-tesla-t4': { availableMean: 360, stockoutMean: 30 },
  'nvidia-h100-80gb': { availableMean: 60, stockoutMean: 120 },
};
const DEFAULT_PROFILE = { availableMean: 240, stockoutMean: 45 };
/** The process starts here; state at any later time is a deterministic walk from it. */
const EPOCH = Date.parse('2026-01-01T00:00:00Z');
/** A ConfigMap's data and binaryData together: 1 MiB (core.MaxSecretSize). */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;
/**
 * The WebUI's start, as AUTOMATIC1111/stable-diffusion-webui does it: its HTTP API answers first,
 * then the model finishes loading in a background thread (modules/initialize.py,
 * initialize_rest → load_model); only then can a generation run.
 */
const API_UP_MS = 20_000;
const MODEL_LOAD_MS = 95_000;
const GPU = 'nvidia.com/gpu';

export interface Override {
  /** Zone or region. */
  where: string;
  gpu: string;
  from: Date;
  until: Date;
}

export class AdmissionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdmissionError';
  }
}

/**
 * How the next probe pods in a cluster go wrong (tests of the probe's failure handling):
 * crash: the container exits with an error; image-pull: the image cannot be pulled once on the node;
 * node-lost: the node becomes unreachable under the running pod; denied: an admission webhook
 * refuses the pod itself (the Job controller reports FailedCreate).
 */
export type ProbePodFault =
  { kind: 'crash' } | { kind: 'image-pull' } | { kind: 'node-lost' } | { kind: 'denied'; message: string };

export interface ProbeJob {
  membership: string;
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  body: Record<string, unknown>;
  gpu: string;
  count: number;
  spot: boolean;
  createdAt: number;
  provisionDelayMs: number;
  /** spec.activeDeadlineSeconds in ms, or null. */
  deadlineMs: number | null;
  /** When the Job controller created the pod; null while admission or the ResourceQuota refuse it. */
  podCreatedAt: number | null;
  /** The Job controller's FailedCreate event series while it could not create the pod. */
  failedCreate: { message: string; first: number; last: number; count: number } | null;
  fault: ProbePodFault | null;
}

interface PodView {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  /** status.reason / status.message of a failed pod (NodeLost, Evicted, …). */
  reason?: string;
  message?: string;
  /** The container's state when it is not simply running: waiting (image pull) or terminated. */
  container?: {
    waiting?: { reason: string; message: string };
    terminated?: { reason: string; exitCode: number; message?: string };
  };
  zone: string | null;
  createdAt: number;
  startedAt: number | null;
  gpu: string;
  count: number;
  spot: boolean;
  /** An event that repeats (the autoscaler retrying) has a series: first at, last lastAt, count. */
  events: Array<{
    reason: string;
    message: string;
    type: 'Normal' | 'Warning';
    at: number;
    lastAt?: number;
    count?: number;
  }>;
  log: string;
  ownerJob?: string;
  /** Ready as the kubelet reports it: when the configured readiness signal passes. */
  ready?: boolean;
  readyAt?: number;
  /** Whether a generation can run now (the model has loaded). */
  canGenerate?: boolean;
}

export class SandboxWorld {
  readonly project: string;
  readonly projectNumber: string;
  readonly catalog: GpuCatalog;
  readonly clock: SimClock;
  /** The spec Config Sync has applied (applySpec simulates merging a placement change). */
  spec: FleetSpec;
  readonly configCluster: { name: string; location: string };
  private readonly seed: number;
  /** Forced windows; where they overlap, the one forced last wins. */
  private readonly overrides: Array<Override & { stockout: boolean }> = [];
  private readonly quotaOverrides = new Map<string, number>();
  /** The list APIs' largest page, whatever the client asks (tests lower it so clients must page). */
  pageSizeCap = Infinity;
  private readonly jobs = new Map<string, ProbeJob>();
  private readonly walks = new Map<string, Array<[number, boolean]>>();
  private readonly configMaps = new Map<
    string,
    {
      data: Record<string, string>;
      binaryData?: Record<string, string>;
      labels: Record<string, string>;
      resourceVersion: number;
    }
  >();
  private resourceVersion = 1000;
  /** When each cluster last changed mode or GPU type (its app pods were recreated then). */
  private readonly changedAt = new Map<string, number>();
  private readonly membershipMode: NonNullable<WorldOptions['memberships']>;
  private readonly probeFaults = new Map<string, ProbePodFault>();
  private demand: ReturnType<typeof diurnalDemand> | undefined;

  constructor(opts: WorldOptions) {
    this.seed = opts.seed;
    this.clock = opts.clock;
    this.spec = opts.spec;
    this.catalog = opts.catalog ?? GpuCatalog.bundled();
    this.project = opts.spec.project;
    this.projectNumber =
      opts.projectNumber ?? String(100000000000 + (hash32(`${opts.seed}|${this.project}`) % 899999999999));
    this.configCluster = { name: opts.spec.configCluster.name, location: configClusterRegion(opts.spec) };
    this.membershipMode = opts.memberships ?? 'global';
  }

  now(): number {
    return this.clock.now().getTime();
  }

  // ---- GPU capacity ---------------------------------------------------------------------------

  /** Force a stockout of `gpu` in a zone or a whole region for a time window (tests, demos). */
  forceStockout(where: string, gpu: string, from: Date, until: Date): void {
    this.overrides.push({ where, gpu, from, until, stockout: true });
  }

  /** Force capacity (no stockout) of `gpu` in a zone or region for a time window. */
  forceCapacity(where: string, gpu: string, from: Date, until: Date): void {
    this.overrides.push({ where, gpu, from, until, stockout: false });
  }

  setQuota(region: string, metric: string, limit: number): void {
    this.quotaOverrides.set(`${region}|${metric}`, limit);
  }

  /** Start of the current stockout of (zone, gpu) at time t, or null when it has capacity. */
  stockoutSince(zone: string, gpu: string, t: number): number | null {
    const region = zone.replace(/-[a-z]$/, '');
    const inWindow = (override: Override) =>
      (override.where === zone || override.where === region) &&
      override.gpu === gpu &&
      override.from.getTime() <= t &&
      t < override.until.getTime();
    const forced = this.overrides.filter(inWindow).pop();
    if (forced) return forced.stockout ? forced.from.getTime() : null;
    // Alternating available/stocked-out periods with exponential durations, walked from EPOCH.
    const key = `${zone}|${gpu}`;
    let walk = this.walks.get(key);
    if (!walk) {
      walk = [[EPOCH, false]];
      this.walks.set(key, walk);
    }
    const profile = STOCKOUT_PROFILE[gpu] ?? DEFAULT_PROFILE;
    while (walk[walk.length - 1]![0] <= t) {
      const [start, out] = walk[walk.length - 1]!;
      const r = keyedRng(this.seed, 'stockout', zone, gpu, String(walk.length));
      const mean = out ? profile.stockoutMean : profile.availableMean;
      walk.push([start + Math.max(5, exponential(r, mean)) * 60_000, !out]);
    }
    // the last entry starts after t; the one before it is the state at t (binary search: walks grow
    // long over a simulated month, and backtests ask every minute)
    let lo = 0;
    let hi = walk.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (walk[mid]![0] > t) hi = mid;
      else lo = mid + 1;
    }
    const idx = lo - 1;
    const [start, out] = walk[idx]!;
    return out ? start : null;
  }

  zonesWithCapacity(region: string, gpu: string, t: number): string[] {
    return this.catalog.zonesOffering(region, gpu).filter((z) => this.stockoutSince(z, gpu, t) === null);
  }

  // ---- Quotas ---------------------------------------------------------------------------------

  quotaLimit(region: string, metric: string): number {
    const forced = this.quotaOverrides.get(`${region}|${metric}`);
    if (forced !== undefined) return forced;
    const r = keyedRng(this.seed, 'quota', region, metric)();
    return r < 0.1 ? 0 : r < 0.45 ? 4 : r < 0.8 ? 8 : 16;
  }

  /** GPUs in use in a region for a quota metric: the running app pods (probes are short and few). */
  quotaUsage(region: string, metric: string): number {
    let used = 0;
    for (const c of this.spec.clusters.filter((x) => x.region === region)) {
      for (const p of this.appPods(c.name)) {
        if (p.phase === 'Running' && this.catalog.quotaMetric(p.gpu, p.spot) === metric) used += p.count;
      }
    }
    return used;
  }

  regionQuotas(region: string): Array<{ metric: string; limit: number; usage: number }> {
    const metrics = new Set<string>();
    for (const gpu of this.catalog.gpusInRegion(region))
      for (const spot of [false, true]) metrics.add(this.catalog.quotaMetric(gpu, spot));
    const gpuQuotas = [...metrics]
      .sort()
      .map((metric) => ({ metric, limit: this.quotaLimit(region, metric), usage: this.quotaUsage(region, metric) }));
    return [
      { metric: 'CPUS', limit: 500, usage: 0 },
      ...gpuQuotas,
      { metric: 'IN_USE_ADDRESSES', limit: 69, usage: 0 },
    ];
  }

  projectQuotas(): Array<{ metric: string; limit: number; usage: number }> {
    // GPU usage comes only from running app pods (as in quotaUsage), so sum those directly
    // instead of computing every metric of every region.
    const used = this.spec.clusters
      .flatMap((c) => this.appPods(c.name))
      .filter((p) => p.phase === 'Running')
      .reduce((s, p) => s + p.count, 0);
    return [
      { metric: 'GPUS_ALL_REGIONS', limit: this.quotaOverrides.get('global|GPUS_ALL_REGIONS') ?? 64, usage: used },
    ];
  }

  private headroom(region: string, gpu: string, spot: boolean): number {
    const metric = this.catalog.quotaMetric(gpu, spot);
    return this.quotaLimit(region, metric) - this.quotaUsage(region, metric);
  }

  // ---- Fleet ----------------------------------------------------------------------------------

  /**
   * Config Sync applied a new commit: clusters whose mode or GPU type changed get new app pods from
   * now on (they provision and load the model before they are ready); new clusters appear.
   */
  applySpec(spec: FleetSpec): void {
    const t = this.now();
    for (const c of spec.clusters) {
      const old = this.spec.clusters.find((x) => x.name === c.name);
      if (!old || old.mode !== c.mode || old.gpu !== c.gpu || old.replicas !== c.replicas)
        this.changedAt.set(c.name, t);
    }
    this.spec = spec;
  }

  clusters(): Array<{ name: string; location: string }> {
    return [...this.spec.clusters.map((c) => ({ name: c.name, location: c.region })), this.configCluster].sort((a, b) =>
      a.name.localeCompare(b.name),
    );
  }

  /** Fleet memberships: one per cluster, named after it, in "global" or the cluster's region. */
  memberships(): Array<{ name: string; location: string; cluster: { name: string; location: string } }> {
    return this.clusters().map((c) => {
      const mode =
        typeof this.membershipMode === 'string' ? this.membershipMode : (this.membershipMode[c.name] ?? 'global');
      return { name: c.name, location: mode === 'regional' ? c.location : 'global', cluster: c };
    });
  }

  /** The membership registered as `name` in `location`, if any. */
  membership(location: string, name: string) {
    return this.memberships().find((m) => m.name === name && m.location === location);
  }

  clusterOf(membership: string) {
    return this.spec.clusters.find((c) => c.name === membership);
  }

  /** The Git commit every cluster has applied (the sandbox's Config Sync is always in sync). */
  syncToken(): string {
    return createHash('sha1').update(JSON.stringify(this.spec.clusters)).digest('hex');
  }

  // ---- Kubernetes: ConfigMaps (optimistic concurrency as the API server does) ---------------------

  getConfigMap(membership: string, namespace: string, name: string) {
    return this.configMaps.get(`${membership}/${namespace}/${name}`);
  }

  /** A person deletes a ConfigMap (`kubectl delete configmap`). */
  deleteConfigMap(membership: string, namespace: string, name: string): boolean {
    return this.configMaps.delete(`${membership}/${namespace}/${name}`);
  }

  /** Create (no resourceVersion) or replace (matching resourceVersion); a stale write is a conflict. */
  putConfigMap(
    membership: string,
    namespace: string,
    name: string,
    cm: {
      data?: Record<string, string>;
      binaryData?: Record<string, string>;
      labels?: Record<string, string>;
      resourceVersion?: string;
    },
    create: boolean,
  ) {
    const key = `${membership}/${namespace}/${name}`;
    // The API server's validation: the values of data and binaryData (decoded) together at most 1 MiB
    // (k8s.io/kubernetes pkg/apis/core/validation ValidateConfigMap, totalSize += len(value), against
    // core.MaxSecretSize; https://kubernetes.io/docs/concepts/configuration/configmap/#motivation), else
    // 422 Invalid — in the words of field.TooLong since Kubernetes 1.32 (kubernetes/kubernetes#128553).
    let total = 0;
    for (const v of Object.values(cm.data ?? {})) total += Buffer.byteLength(v);
    for (const v of Object.values(cm.binaryData ?? {})) total += Buffer.from(v, 'base64').length;
    if (total > CONFIGMAP_MAX_BYTES)
      throw new Error(
        `Invalid: ConfigMap "${name}" is invalid: []: Too long: may not be more than ${CONFIGMAP_MAX_BYTES} bytes`,
      );
    const current = this.configMaps.get(key);
    if (create && current) throw new Error(`AlreadyExists: configmaps "${name}" already exists`);
    if (!create && !current) throw new Error(`NotFound: configmaps "${name}" not found`);
    if (!create && cm.resourceVersion !== undefined && cm.resourceVersion !== String(current!.resourceVersion)) {
      throw new Error(
        `Conflict: Operation cannot be fulfilled on configmaps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const next = {
      data: cm.data ?? {},
      ...(cm.binaryData ? { binaryData: cm.binaryData } : {}),
      labels: cm.labels ?? {},
      resourceVersion: ++this.resourceVersion,
    };
    this.configMaps.set(key, next);
    return next;
  }

  // ---- Kubernetes: pods, probe Jobs, events -----------------------------------------------------

  /**
   * Autopilot admission for a pod spec: a GPU request needs a supported accelerator selector
   * (or a compute class), the type must be offered in the region and the count valid. Messages
   * are the forms Autopilot's webhooks return (see libs/gcp-catalog/src/data/autopilot-gpus.json).
   */
  admit(
    region: string,
    podSpec: {
      nodeSelector?: Record<string, string>;
      containers?: Array<{ resources?: { limits?: Record<string, string> } }>;
    },
  ): { gpu: string; count: number; spot: boolean } {
    const limits = podSpec.containers?.[0]?.resources?.limits ?? {};
    const count = Number(limits['nvidia.com/gpu'] ?? 0);
    const sel = podSpec.nodeSelector ?? {};
    const gpu = sel['cloud.google.com/gke-accelerator'];
    const spot = sel['cloud.google.com/gke-spot'] === 'true';
    const warden =
      'admission webhook "warden-validating.common-webhooks.networking.gke.io" denied the request: GKE Warden rejected the request because it violates one or more constraints. ';
    if (count > 0 && !gpu) {
      throw new AdmissionError(
        `${warden}When requesting 'nvidia.com/gpu' resources, you must specify either node selector 'cloud.google.com/gke-accelerator' with accelerator type or node selector 'cloud.google.com/compute-class' with existing custom compute class which has at least one GPU priority rule.`,
      );
    }
    if (!gpu) throw new AdmissionError(`${warden}probe pods must request a GPU`);
    const allowed = this.catalog.autopilotGpuTypes();
    if (!allowed.includes(gpu))
      throw new AdmissionError(
        `${warden}The requested GPU type '${gpu}' is not supported in Autopilot; allowed values are: [${allowed.join(', ')}].`,
      );
    const counts = this.catalog.gpu(gpu)?.counts ?? [];
    if (!counts.includes(count))
      throw new AdmissionError(
        `${warden}GPU count ${count} is not valid for ${gpu}; valid counts: ${counts.join(', ')}.`,
      );
    if (!this.catalog.offers(region, gpu)) {
      throw new AdmissionError(`${warden}The requested accelerator type ${gpu} isn't available in region ${region}.`);
    }
    return { gpu, count, spot };
  }

  /** Make the probe pods of Jobs created from now on in a cluster fail this way (until cleared with null). */
  failProbePods(membership: string, fault: ProbePodFault | null): void {
    if (fault) this.probeFaults.set(membership, fault);
    else this.probeFaults.delete(membership);
  }

  createJob(membership: string, namespace: string, body: Record<string, unknown>): ProbeJob {
    const cluster = this.clusterOf(membership);
    if (!cluster) throw new AdmissionError(`membership ${membership} has no GPU cluster`);
    const meta = (body.metadata ?? {}) as { name?: string; generateName?: string; labels?: Record<string, string> };
    const spec = (body.spec ?? {}) as { activeDeadlineSeconds?: number; template?: { spec?: unknown } };
    const podSpec = (spec.template?.spec ?? {}) as Parameters<SandboxWorld['admit']>[1];
    const { gpu, count, spot } = this.admit(cluster.region, podSpec);
    const name =
      meta.name ??
      `${meta.generateName ?? 'job-'}${(hash32(`${this.now()}|${this.jobs.size}`) % 46656).toString(36).padStart(3, '0')}`;
    const key = `${membership}/${namespace}/${name}`;
    if (this.jobs.has(key)) throw new Error(`AlreadyExists: jobs.batch "${name}" already exists`);
    const delayMin = 2 + keyedRng(this.seed, 'provision', key)() * 5; // GPU nodes take minutes
    const job: ProbeJob = {
      membership,
      namespace,
      name,
      uid: uid(key),
      labels: meta.labels ?? {},
      body,
      gpu,
      count,
      spot,
      createdAt: this.now(),
      provisionDelayMs: delayMin * 60_000,
      deadlineMs: spec.activeDeadlineSeconds ? spec.activeDeadlineSeconds * 1000 : null,
      podCreatedAt: null,
      failedCreate: null,
      fault: this.probeFaults.get(membership) ?? null,
    };
    this.jobs.set(key, job);
    return job;
  }

  listJobs(membership: string, namespace: string): ProbeJob[] {
    this.reconcileJobs(membership, namespace);
    return [...this.jobs.values()].filter((j) => j.membership === membership && j.namespace === namespace);
  }

  getJob(membership: string, namespace: string, name: string): ProbeJob | undefined {
    this.reconcileJobs(membership, namespace);
    return this.jobs.get(`${membership}/${namespace}/${name}`);
  }

  deleteJob(membership: string, namespace: string, name: string): boolean {
    return this.jobs.delete(`${membership}/${namespace}/${name}`);
  }

  /**
   * GPUs the namespace's ResourceQuota allows: the probe namespace carries the rendered `gpu-probes`
   * quota (requests.nvidia.com/gpu = scout.probeMaxGpus); other namespaces have none here.
   */
  resourceQuota(namespace: string): { name: string; gpus: number } | null {
    return namespace === this.spec.scout.probeNamespace
      ? { name: 'gpu-probes', gpus: this.spec.scout.probeMaxGpus }
      : null;
  }

  /**
   * The Job controller, as Kubernetes runs it: it creates each Job's pod once admission and the
   * namespace's ResourceQuota allow it. Until then every attempt fails and is recorded as a
   * FailedCreate Warning on the Job, "Error creating: <error>" (pkg/controller/controller_utils.go),
   * the error being the quota admission's "pods "<generateName>" is forbidden: exceeded quota: <quota>,
   * requested: …, used: …, limited: …" (k8s.io/apiserver admission/plugin/resourcequota/controller.go).
   */
  private reconcileJobs(membership: string, namespace: string): void {
    const t = this.now();
    const jobs = [...this.jobs.values()]
      .filter((j) => j.membership === membership && j.namespace === namespace)
      .sort((a, b) => a.createdAt - b.createdAt);
    const quota = this.resourceQuota(namespace);
    const refuse = (j: ProbeJob, error: string) => {
      const message = `Error creating: pods "${j.name}-" is forbidden: ${error}`;
      j.failedCreate = j.failedCreate
        ? { ...j.failedCreate, message, last: t, count: j.failedCreate.count + 1 }
        : { message, first: t, last: t, count: 1 };
    };
    for (const j of jobs) {
      if (j.podCreatedAt !== null || this.jobFailedAt(j, t) !== null) continue;
      if (j.fault?.kind === 'denied') {
        refuse(j, j.fault.message);
        continue;
      }
      if (quota) {
        const used = jobs
          .filter((o) => o !== j && o.podCreatedAt !== null && this.podHoldsQuota(o, t))
          .reduce((n, o) => n + o.count, 0);
        if (used + j.count > quota.gpus) {
          const r = `requests.${GPU}`;
          refuse(
            j,
            `exceeded quota: ${quota.name}, requested: ${r}=${j.count}, used: ${r}=${used}, limited: ${r}=${quota.gpus}`,
          );
          continue;
        }
      }
      j.podCreatedAt = t;
    }
  }

  /** A pod counts against the quota until it is terminal (Succeeded or Failed) or its Job's deadline passed. */
  private podHoldsQuota(j: ProbeJob, t: number): boolean {
    const pod = this.jobPod(j, t);
    return !!pod && (pod.phase === 'Pending' || pod.phase === 'Running');
  }

  /**
   * When the Job failed, or null: its deadline passed without success (reason DeadlineExceeded,
   * its pods terminated), or its pod failed (backoffLimit 0: BackoffLimitExceeded).
   * https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup
   */
  jobFailedAt(j: ProbeJob, t: number): number | null {
    const pod = j.podCreatedAt === null ? null : this.jobPodAt(j, t);
    if (pod?.phase === 'Succeeded') return null;
    if (pod?.phase === 'Failed') return pod.startedAt ?? t;
    if (j.deadlineMs !== null && t >= j.createdAt + j.deadlineMs) return j.createdAt + j.deadlineMs;
    return null;
  }

  /** The Job's conditions as the Job controller sets them. */
  jobConditions(j: ProbeJob): Array<{ type: string; status: 'True'; reason?: string; lastTransitionTime: number }> {
    const t = this.now();
    const pod = this.jobPod(j, t);
    if (pod?.phase === 'Succeeded')
      return [{ type: 'Complete', status: 'True', lastTransitionTime: (pod.startedAt ?? t) + 20_000 }];
    const failed = this.jobFailedAt(j, t);
    if (failed === null) return [];
    return [
      {
        type: 'Failed',
        status: 'True',
        reason: pod?.phase === 'Failed' ? 'BackoffLimitExceeded' : 'DeadlineExceeded',
        lastTransitionTime: failed,
      },
    ];
  }

  /** The Job's pod at t, or null before it is created or once the deadline terminated it. */
  private jobPod(j: ProbeJob, t: number): PodView | null {
    if (j.podCreatedAt === null) return null;
    const pod = this.jobPodAt(j, t);
    if (pod.phase !== 'Succeeded' && pod.phase !== 'Failed' && j.deadlineMs !== null && t >= j.createdAt + j.deadlineMs)
      return null;
    return pod;
  }

  private jobPodAt(j: ProbeJob, t: number): PodView {
    const cluster = this.clusterOf(j.membership)!;
    const labels = {
      ...((j.body.spec as { template?: { metadata?: { labels?: Record<string, string> } } })?.template?.metadata
        ?.labels ?? {}),
      'job-name': j.name,
      'batch.kubernetes.io/job-name': j.name,
    };
    const info = this.catalog.gpu(j.gpu);
    const memMiB = Math.round((info?.memoryMiB ?? 16384) * 0.94);
    const pod = this.podState({
      name: `${j.name}-${(hash32(j.uid) % 46656).toString(36)}`,
      namespace: j.namespace,
      labels,
      region: cluster.region,
      gpu: j.gpu,
      count: j.count,
      spot: j.spot,
      createdAt: j.podCreatedAt!,
      delay: j.provisionDelayMs,
      t,
      log: `${info?.displayName ?? j.gpu}, ${memMiB} MiB, 550.90.07\n`,
      finishes: true,
    });
    pod.ownerJob = j.name;
    return this.withFault(pod, j.fault, t);
  }

  /** A probe pod that got a node, gone wrong as the fault says (status fields as the kubelet reports them). */
  private withFault(pod: PodView, fault: ProbePodFault | null, t: number): PodView {
    if (!fault || fault.kind === 'denied' || pod.startedAt === null || t < pod.startedAt) return pod;
    const node = `gk3-node-${pod.zone}`;
    switch (fault.kind) {
      case 'crash':
        return {
          ...pod,
          phase: 'Failed',
          log: 'Failed to initialize NVML: Unknown Error\n',
          container: { terminated: { reason: 'Error', exitCode: 255 } },
        };
      case 'image-pull':
        return {
          ...pod,
          phase: 'Pending',
          log: '',
          container: {
            waiting: {
              reason: 'ImagePullBackOff',
              message: 'Back-off pulling image "nvidia/cuda:12.4.1-base-ubuntu22.04"',
            },
          },
        };
      case 'node-lost':
        // pkg/util/node: NodeUnreachablePodReason "NodeLost", message "Node %v which was running pod %v is unresponsive".
        return {
          ...pod,
          phase: 'Failed',
          log: '',
          reason: 'NodeLost',
          message: `Node ${node} which was running pod ${pod.name} is unresponsive`,
        };
    }
  }

  /** Every pod in a membership's cluster (app pods from the spec, probe pods from Jobs). */
  pods(membership: string, namespace?: string): PodView[] {
    const cluster = this.clusterOf(membership);
    if (!cluster) return [];
    const t = this.now();
    const out: PodView[] = !namespace || namespace === appNamespace(this.spec) ? this.appPods(membership) : [];
    const namespaces = new Set(
      [...this.jobs.values()]
        .filter((j) => j.membership === membership && (!namespace || j.namespace === namespace))
        .map((j) => j.namespace),
    );
    for (const ns of namespaces) this.reconcileJobs(membership, ns);
    for (const j of this.jobs.values()) {
      if (j.membership !== membership || (namespace && j.namespace !== namespace)) continue;
      const pod = this.jobPod(j, t);
      if (pod) out.push(pod);
    }
    return out;
  }

  /**
   * When the pod's readiness probe first passes, given the spec's readiness signal: the ready gate
   * passes after one generation succeeded (the model has loaded, plus the generation); the app's
   * own path passes when the app answers it — a WebUI read path already once the API is up.
   */
  private readySignalAt(startedAt: number, loadedAt: number): number {
    const r = this.spec.app.probes.readiness;
    if (r.mode === 'generation') return loadedAt + 2_000;
    return webuiPathAnswersBeforeModelLoad(r.path) ? startedAt + API_UP_MS : loadedAt;
  }

  /**
   * When a cold cluster (autoscaling on, docs/autoscaling.md) was last woken, or null while it
   * sleeps. Its continent's users arrive as seeded Poisson draws of the sandbox's diurnal demand;
   * the region wakes once the load balancer's metric (5 minutes late) shows more requests per second
   * than autoscaling.wakeRequestsPerSecond over 5 minutes (≈ generations in flight: the page polls
   * about once a second, a generation holds a GPU ~1.33 min), and goes back to zero once no user
   * came for the 10-minute load window plus idleMinutesBeforeZero. Walked over the last two days.
   */
  coldAwakeSince(cluster: ClusterSpec, t: number): number | null {
    const a = this.spec.autoscaling;
    const demand = (this.demand ??= diurnalDemand(this.seed, new Date(EPOCH)));
    const continent = proxyContinent(cluster.region);
    const arrivals = (minute: number) => {
      const rate = demand.rate(continent, minute);
      if (rate <= 0) return 0;
      const next = keyedRng(this.seed, 'users', continent, String(minute));
      let k = 0;
      for (let p = next(), limit = Math.exp(-rate); p > limit; p *= next()) k++;
      return k;
    };
    const now = Math.floor((t - EPOCH) / 60_000);
    const from = now - 2 * 1440;
    const seen: number[] = [];
    let awakeSince: number | null = null;
    let lastUser = -Infinity;
    for (let m = from; m <= now; m++) {
      seen.push(arrivals(m));
      if (seen[seen.length - 1]! > 0) lastUser = m;
      const shown = seen.length > 10 ? seen.slice(-10, -5) : [];
      const perSecond = (shown.reduce((x, y) => x + y, 0) * 1.33) / 5;
      if (awakeSince === null && perSecond > a.wakeRequestsPerSecond) awakeSince = m;
      else if (awakeSince !== null && m - lastUser > 10 + a.idleMinutesBeforeZero) awakeSince = null;
    }
    return awakeSince === null ? null : EPOCH + awakeSince * 60_000;
  }

  /** The app's pods as Config Sync would have created them from the spec (none when standby). */
  appPods(membership: string): PodView[] {
    const cluster = this.clusterOf(membership);
    if (!cluster || cluster.mode === 'standby') return [];
    const t = this.now();
    let createdAt = this.changedAt.get(membership) ?? EPOCH;
    let count = cluster.replicas;
    if (cluster.mode === 'active' && autoscalingRoles(this.spec).get(cluster.name) === 'cold') {
      // Scaled to zero by KEDA when its users sleep; one pod, created when demand woke it.
      const since = this.coldAwakeSince(cluster, t);
      if (since === null) return [];
      createdAt = Math.max(createdAt, since);
      count = 1;
    }
    return Array.from({ length: count }, (_, i) => {
      const name = `${this.spec.app.name}-${(hash32(`${membership}|${cluster.mode}|${cluster.gpu}|${createdAt}`) % 1e6).toString(36)}-${i}`;
      return this.podState({
        name,
        namespace: appNamespace(this.spec),
        labels: { 'app.kubernetes.io/name': this.spec.app.name },
        region: cluster.region,
        gpu: cluster.gpu,
        count: this.spec.gpu.count,
        spot: slotsOnSpot(this.spec),
        createdAt,
        delay: 5 * 60_000,
        t,
        log: 'Model loaded in 95.2s\n',
      });
    });
  }

  private podState(p: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    region: string;
    gpu: string;
    count: number;
    spot: boolean;
    createdAt: number;
    delay: number;
    t: number;
    log: string;
    finishes?: boolean;
  }): PodView {
    const base: PodView = {
      name: p.name,
      namespace: p.namespace,
      uid: uid(`${p.namespace}/${p.name}`),
      labels: p.labels,
      phase: 'Pending',
      zone: null,
      createdAt: p.createdAt,
      startedAt: null,
      gpu: p.gpu,
      count: p.count,
      spot: p.spot,
      events: [],
      log: '',
    };
    const zonesAll = this.catalog.zonesOffering(p.region, p.gpu);
    const decideAt = p.createdAt + p.delay;
    if (p.finishes && this.headroom(p.region, p.gpu, p.spot) < p.count) {
      base.events.push({
        reason: 'FailedScaleUp',
        type: 'Warning',
        at: p.createdAt + 30_000,
        message: `Node scale up in zones ${zonesAll.join(', ')} associated with this pod failed: GCE quota exceeded. Pod is at risk of not being scheduled.`,
      });
      return base;
    }
    if (p.t < decideAt) {
      base.events.push({
        reason: 'TriggeredScaleUp',
        type: 'Normal',
        at: p.createdAt + 10_000,
        message: `pod triggered scale-up: [{${p.region} ${p.gpu} 0->1 (max: 1000)}]`,
      });
      return base;
    }
    // Probe pods get their answer once. App pods follow capacity now: a simplification that stands for
    // nodes being recycled (Spot preemption, upgrades) and not coming back during a stockout.
    const at = p.finishes ? decideAt : Math.max(decideAt, p.t);
    const zones = this.zonesWithCapacity(p.region, p.gpu, at);
    if (!zones.length) {
      const since = Math.max(p.createdAt, ...zonesAll.map((z) => this.stockoutSince(z, p.gpu, at) ?? p.createdAt));
      // The autoscaler retries about every few minutes while the pod stays unschedulable, so the
      // event series' lastTimestamp keeps moving (https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/).
      const retry = 5 * 60_000;
      const retries = p.finishes ? 0 : Math.floor((p.t - since) / retry);
      base.events.push({
        reason: 'FailedScaleUp',
        type: 'Warning',
        at: p.finishes ? decideAt : since,
        lastAt: p.finishes ? decideAt : since + retries * retry,
        count: 1 + retries,
        message: `Node scale up in zones ${zonesAll.join(', ')} associated with this pod failed: GCE out of resources. Pod is at risk of not being scheduled.`,
      });
      return base;
    }
    base.zone = zones[(keyedRng(this.seed, 'zone', p.name)() * zones.length) | 0]!;
    base.startedAt = decideAt;
    base.phase = p.finishes && p.t >= decideAt + 20_000 ? 'Succeeded' : 'Running';
    // The WebUI answers its readiness path once the model is loaded (~95 s after start).
    const loadedAt = decideAt + MODEL_LOAD_MS;
    base.readyAt = this.readySignalAt(decideAt, loadedAt);
    base.ready = base.phase === 'Running' && !p.finishes && p.t >= base.readyAt;
    base.canGenerate = base.phase === 'Running' && !p.finishes && p.t >= loadedAt;
    base.log = p.log;
    base.events.push({
      reason: 'Scheduled',
      type: 'Normal',
      at: decideAt,
      message: `Successfully assigned ${p.namespace}/${p.name} to gk3-node-${base.zone}`,
    });
    return base;
  }
}

const uid = (key: string) => {
  const h = createHash('sha1').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

export type { PodView };
