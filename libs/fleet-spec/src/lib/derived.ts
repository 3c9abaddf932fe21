import { createHash } from 'node:crypto';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import type { ClusterSpec, FleetSpec } from './schema';

/** Prefix of every label key gpu-fleet owns. */
export const LABEL_PREFIX = 'gpu-fleet.dev';
/**
 * Who made an object: `region-scout` on everything gpu-fleet renders or creates. gpu-fleet's own key,
 * never app.kubernetes.io/managed-by, which Config Sync overwrites on every object it applies.
 */
export const MANAGED_BY_LABEL = `${LABEL_PREFIX}/managed-by`;
export const MANAGED_BY_VALUE = 'region-scout';
/**
 * With gpu.provisioning hedged, the pods of the hedge's on-demand Deployment carry
 * `gpu-fleet.dev/capacity: on-demand` (the Spot Deployment's pods `spot`): the scout's evidence about
 * Spot reads only pods without the on-demand value, and the hedge's query counts Spot replicas alone.
 */
export const CAPACITY_LABEL = `${LABEL_PREFIX}/capacity`;

/**
 * The sweep interval of a regular schedule: `*\/20 * * * *` → 20, `7 * * * *` (hourly at :07) → 60,
 * `0 *\/6 * * *` → 360; null for any other schedule. For `*\/N` that does not divide 60 the longest gap is still N (the
 * minute field restarts at :00). The alerts' windows are made of it.
 */
export function cronIntervalMinutes(cron: string): number | null {
  const c = cron.trim().split(/\s+/).join(' ');
  const m = /^\*\/(\d+) \* \* \* \*$/.exec(c);
  if (m) return Number(m[1]);
  const h = /^\d{1,2} (\*|\*\/(\d+)) \* \* \*$/.exec(c);
  return h ? 60 * Number(h[2] ?? 1) : null;
}

/** The Cloud Monitoring metric type prefix every sweep writes under (custom.googleapis.com/gpu_fleet/<name>). */
export const FLEET_METRIC_PREFIX = 'custom.googleapis.com/gpu_fleet/';

/**
 * A Cloud Monitoring metric type as PromQL names it: "Replace the first / with :" and "Replace all
 * other special characters (including . and other / characters) with _"
 * (https://cloud.google.com/monitoring/promql/promql-mapping). The renderer's queries and the
 * sandbox's evaluator both use it.
 */
export function promqlMetricName(metricType: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
  const slash = metricType.indexOf('/');
  return slash === -1
    ? clean(metricType)
    : `${clean(metricType.slice(0, slash))}:${clean(metricType.slice(slash + 1))}`;
}

/** Derived values with documented defaults, so builders never re-implement them. */
export const appNamespace = (spec: FleetSpec): string => spec.app.namespace ?? spec.app.name;

/** How long the load balancer drains a removed backend: as set, else the longest request (backendTimeoutSec). */
export const connectionDrainingSeconds = (spec: FleetSpec): number =>
  spec.ingress.connectionDrainingSec ?? Math.min(spec.ingress.backendTimeoutSec, 3600);

/**
 * The ready gate's stop sequence (mode generation), in seconds: it first waits `detach` for the
 * endpoint to leave the load balancer (no new requests), then until the WebUI is idle, at most the
 * draining time; the WebUI then gets `shutdown` to exit. The grace period must cover all three.
 */
export const READY_GATE_STOP = { detachSeconds: 15, shutdownSeconds: 15 } as const;
export const stopMarginSeconds = (): number => READY_GATE_STOP.detachSeconds + READY_GATE_STOP.shutdownSeconds;

export const terminationGracePeriodSeconds = (spec: FleetSpec): number =>
  spec.app.terminationGracePeriodSeconds ?? connectionDrainingSeconds(spec) + stopMarginSeconds();

/** Requests (= limits) of the ready gate sidecar: a Python process that mostly sleeps. */
export const READY_GATE_RESOURCES = { cpu: '100m', memory: '128Mi', ephemeralStorage: '64Mi' } as const;

export const scoutServiceAccount = (spec: FleetSpec): string =>
  spec.scout.gcpServiceAccount ?? `region-scout@${spec.project}.iam.gserviceaccount.com`;

/**
 * Pods a cluster runs: its replicas while active, none when draining or standby. A draining cluster
 * has left the load balancer's backends in the same commit; its pods stop as any scale-down does —
 * the ready gate fails readiness at once (the NEG detaches the endpoint and the load balancer drains
 * its connections for drainingTimeoutSec) and holds the WebUI until its running and queued
 * generations are done, within terminationGracePeriodSeconds — so no GPU is held for the hours a
 * person may take to merge the standby.
 */
export const renderedReplicas = (c: ClusterSpec): number => (c.mode === 'active' ? c.replicas : 0);

/** Clusters that receive traffic from the load balancer. */
export const servingClusters = (spec: FleetSpec): ClusterSpec[] => spec.clusters.filter((c) => c.mode === 'active');

/** The config cluster's region: as set, or the first candidate region. */
export const configClusterRegion = (spec: FleetSpec): string =>
  spec.configCluster.region ?? spec.placement.candidateRegions[0]!;

/**
 * The Google-managed certificate's name: ingress.managedCertificate.name and the first 8 hex digits
 * of the SHA-256 of the domains joined by ",". A managed certificate cannot change its domains (the
 * resource is immutable), and one the load balancer uses cannot be deleted, so a new domain set gets
 * a new certificate created before the old one is destroyed — the provider's own pattern
 * (google_compute_managed_ssl_certificate, "Managed Ssl Certificate Recreation": a name that changes
 * with the domains, lifecycle create_before_destroy). infra/network.tf computes the same name
 * (`substr(sha256(join(",", local.domains)), 0, 8)`; tools/infra/infra.spec.ts holds them equal).
 */
export const managedCertificateName = (spec: FleetSpec): string | null =>
  spec.ingress.managedCertificate
    ? `${spec.ingress.managedCertificate.name}-${createHash('sha256').update(spec.ingress.domains.join(',')).digest('hex').slice(0, 8)}`
    : null;

/** SSL certificates the load balancer presents: the managed one (created by infra/) first, then the pre-shared ones. */
export const certificateNames = (spec: FleetSpec): string[] => [
  ...(spec.ingress.managedCertificate ? [managedCertificateName(spec)!] : []),
  ...spec.ingress.preSharedCertificates,
];

/** owner/name of the GitHub repository Config Sync reads, or null when configSync.repo is not on GitHub. */
export const githubRepository = (spec: FleetSpec): { owner: string; repo: string } | null => {
  const m = /github\.com[/:]([^/]+)\/([^/]+?)(\.git)?\/?$/.exec(spec.configSync.repo);
  return m ? { owner: m[1]!, repo: m[2]! } : null;
};

/**
 * What the autoscaler may do with each active cluster (spec.autoscaling on; empty map when off):
 * `warm` keeps at least its `replicas` so the global URL always answers — the first
 * `warmRegions` active clusters in spec order, and any cluster still replacing another, which
 * make-before-break must see ready before it drains the old one; `cold` may go to zero when idle.
 * One function for the renderer (ScaledObject minimum) and the scout (a cold cluster at zero is idle).
 */
export function autoscalingRoles(spec: Pick<FleetSpec, 'clusters' | 'autoscaling'>): Map<string, 'warm' | 'cold'> {
  const roles = new Map<string, 'warm' | 'cold'>();
  if (!spec.autoscaling?.enabled) return roles;
  let warm = 0;
  for (const c of spec.clusters) {
    if (c.mode !== 'active') continue;
    const isWarm = warm < spec.autoscaling.warmRegions || c.replaces !== undefined;
    if (warm < spec.autoscaling.warmRegions) warm++;
    roles.set(c.name, isWarm ? 'warm' : 'cold');
  }
  return roles;
}

/** Fewest replicas the autoscaler keeps in a cluster of that role: a warm one its `replicas`, a cold one 0. */
export const autoscalingMinimum = (role: 'warm' | 'cold', cluster: Pick<ClusterSpec, 'replicas'>): number =>
  role === 'warm' ? cluster.replicas : 0;

/**
 * The load balancer's `proxy_continent` label for users near a region: the continent of the Google
 * front end that terminated their connection. Google documents the values by example — "America",
 * "Europe", "Asia" (https://cloud.google.com/monitoring/api/metrics_gcp_i_o#loadbalancing, metric
 * https/request_count) — so regions elsewhere map to the nearest of those three (an assumption,
 * docs/autoscaling.md).
 */
export const PROXY_CONTINENTS = ['America', 'Europe', 'Asia'] as const;
export type ProxyContinent = (typeof PROXY_CONTINENTS)[number];
export function proxyContinent(region: string): ProxyContinent {
  if (/^(us|northamerica|southamerica)-/.test(region)) return 'America';
  if (/^(europe|africa)-/.test(region)) return 'Europe';
  return 'Asia';
}

/**
 * The Google service account the KEDA operator acts as (Workload Identity, KSA keda/keda-operator):
 * infra/iam.tf creates it with roles/monitoring.viewer; the KEDA RootSync names it.
 */
export const kedaServiceAccount = (spec: Pick<FleetSpec, 'project'>): string =>
  `keda-operator@${spec.project}.iam.gserviceaccount.com`;

/** The GPU probe's image: scout.probeImage, else the scout's own image (both pinned by digest in the fleet's registry), else null. */
export const probeImageOf = (spec: Pick<FleetSpec, 'scout'>): string | null =>
  spec.scout.probeImage ?? spec.scout.image ?? null;

/** The serving slots run on Spot VMs (spot, hedged): what the scout's evidence and probes are about. */
export const slotsOnSpot = (spec: Pick<FleetSpec, 'gpu'>): boolean =>
  spec.gpu.provisioning === 'spot' || spec.gpu.provisioning === 'hedged';

/** gpu.provisioning hedged at step 2 (gpu.hedge.stage hedge): Spot-only clusters and the on-demand hedge are rendered. */
export const hedgeActive = (spec: Pick<FleetSpec, 'gpu'>): boolean =>
  spec.gpu.provisioning === 'hedged' && spec.gpu.hedge.stage === 'hedge';

/** KEDA runs in the GPU clusters: for demand-driven scaling or for the hedge's on-demand replicas. */
export const kedaNeeded = (spec: Pick<FleetSpec, 'gpu' | 'autoscaling'>): boolean =>
  spec.autoscaling.enabled || spec.gpu.provisioning === 'hedged';

/**
 * The replicas the fleet serves with, which the hedge keeps: each serving slot's replicas (its
 * autoscaling minimum when autoscaled) — a cluster and its replacement in flight count once.
 */
export function hedgeTarget(spec: FleetSpec): number {
  const roles = autoscalingRoles(spec);
  const active = spec.clusters.filter((c) => c.mode === 'active');
  const replaced = new Set(active.map((c) => c.replaces).filter((n): n is string => !!n));
  return active
    .filter((c) => !replaced.has(c.name))
    .reduce((n, c) => {
      const role = roles.get(c.name);
      return n + (role ? autoscalingMinimum(role, c) : c.replicas);
    }, 0);
}

/**
 * The active cluster that runs the on-demand replicas: gpu.hedge.onDemandCluster while it is
 * active; else the active cluster with the cheapest on-demand price for its GPU (ties by name) —
 * the fallback is what the fleet pays for while Spot is missing — that is not a replacement in
 * flight (not proven yet: its ComputeClass may have no capacity at all). A cluster being replaced
 * keeps the hedge until it drains: its Spot is what failed, not its on-demand capacity, and moving
 * the hedge then would stop the on-demand replicas exactly while they cover the missing Spot; when it
 * drains its replacement serves, so the move stops replicas no longer needed. Only when every
 * active cluster is a replacement in flight, any of them.
 */
export function hedgeCluster(spec: FleetSpec, catalog: GpuCatalog): ClusterSpec | null {
  const active = spec.clusters.filter((c) => c.mode === 'active');
  const pinned = active.find((c) => c.name === spec.gpu.hedge.onDemandCluster);
  if (pinned) return pinned;
  const price = (c: ClusterSpec) => catalog.pricePerGpuHour(c.region, c.gpu, false) ?? Infinity;
  const pick = (cs: ClusterSpec[]) =>
    [...cs].sort((a, b) => price(a) - price(b) || a.name.localeCompare(b.name))[0] ?? null;
  return pick(active.filter((c) => !c.replaces)) ?? pick(active);
}

/**
 * The scout's --evidence for the runners the render writes (sweep.yml, the CronJob): the ConfigMap
 * in the config cluster, or the Cloud Storage object (scout.evidenceStore).
 */
export const evidenceFlag = (spec: FleetSpec): string =>
  spec.scout.evidenceStore.kind === 'gcs'
    ? `gcs://${spec.scout.evidenceStore.bucket}/${spec.scout.evidenceStore.object}`
    : `configmap:${spec.scout.namespace}/${spec.scout.evidenceConfigMap}`;
