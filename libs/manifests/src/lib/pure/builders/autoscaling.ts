import {
  appNamespace,
  autoscalingMinimum,
  autoscalingRoles,
  hedgeTarget,
  kedaServiceAccount,
  proxyContinent,
  type ClusterSpec,
  type FleetSpec,
} from '@gpu-fleet/fleet-spec';
import type { Namespace } from 'kubernetes-types/core/v1';
import type {
  ClusterTriggerAuthentication,
  PodMonitoring,
  RootSync,
  ScaledObject,
  ScaledObjectTrigger,
} from '../gke-types';
import { CAPACITY_LABEL, commonLabels, hedged, onDemandName, servingSelector } from '../labels';

/**
 * Demand-driven scaling with KEDA (docs/autoscaling.md has the engine choice and every source).
 *
 * Two steps, because removing `replicas` from a Deployment that server-side apply owns races the
 * autoscaler (https://kubernetes.io/docs/reference/using-api/server-side-apply/#transferring-ownership)
 * and because Config Sync cannot apply a ScaledObject before KEDA's CRDs exist (KNV1021 "No
 * CustomResourceDefinition is defined for the type …": it retries until the CRD exists, failing the sync meanwhile):
 * - replicasOwner config-sync: KEDA (its RootSync and namespace) and the PodMonitoring only; the
 *   Deployment keeps `replicas`.
 * - replicasOwner autoscaler: the ScaledObjects too, and no `replicas` on active clusters.
 */

/** Where KEDA runs: its chart's documented namespace (https://keda.sh/docs/2.20/deploy/). */
export const KEDA_NAMESPACE = 'keda';
export const KEDA_TRIGGER_AUTH = 'gpu-fleet-gcp';
/** The gauges the ready gate exports (ready-gate.py.ts, GET /metrics). */
export const LOAD_METRIC = 'gpu_fleet_webui_generations';
export const READY_METRIC = 'gpu_fleet_webui_ready';
/**
 * Load is averaged over this many minutes before it sizes a region: a new GPU replica takes about
 * as long to serve (node creation and model load), so a queue that lasts less is gone before the
 * replica could help, and acting on it only buys GPU time (docs/autoscaling.md, backtest numbers).
 */
export const LOAD_WINDOW_MINUTES = 10;
/** The rate window of the users-nearby trigger's request count. */
export const REQUEST_RATE_WINDOW_MINUTES = 5;
/**
 * How long a series that stopped reporting still answers queries: Prometheus' default 5-minute
 * lookback, with no staleness marking in Managed Service for Prometheus ("Staleness is not supported
 * in the Monarch backend", https://cloud.google.com/stackdriver/docs/managed-prometheus/promql-differences).
 */
export const MANAGED_PROMETHEUS_LOOKBACK_MINUTES = 5;
/**
 * A threshold no request rate or load reaches: a trigger with it asks for exactly one replica once
 * active (KEDA's HPA wants ceil(value / threshold)), so it wakes a region without sizing it.
 */
const WAKE_ONLY = '1000000';

/** Whether the ScaledObjects are rendered (step 2 of turning autoscaling on). */
export const scaledObjectsRendered = (spec: FleetSpec): boolean =>
  spec.autoscaling.enabled && spec.autoscaling.replicasOwner === 'autoscaler';

/**
 * KEDA installed by Config Sync from its Helm chart: a RootSync with a Helm source, declared in the
 * cluster's own folder (a RootSync may manage another RootSync, never itself: KNV1069;
 * https://cloud.google.com/kubernetes-engine/config-sync/docs/reference/rootsync-reposync-fields).
 * The chart does not create its namespace (`helm install --create-namespace` does), so it is
 * declared here. The operator's KSA keda/keda-operator acts as the Google service account infra/
 * grants roles/monitoring.viewer (chart values podIdentity.gcp; KEDA's Managed Service for
 * Prometheus setup: https://keda.sh/docs/2.20/scalers/prometheus/).
 */
export function kedaInstall(spec: FleetSpec): [Namespace, RootSync] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: KEDA_NAMESPACE, labels: commonLabels(spec) },
    },
    {
      apiVersion: 'configsync.gke.io/v1beta1',
      kind: 'RootSync',
      metadata: { name: 'keda', namespace: 'config-management-system', labels: commonLabels(spec) },
      spec: {
        sourceFormat: 'unstructured',
        sourceType: 'helm',
        helm: {
          repo: 'https://kedacore.github.io/charts',
          chart: 'keda',
          // Pinned: a range or "latest" is re-resolved every period (1 h) and would upgrade KEDA unreviewed.
          version: spec.autoscaling.kedaVersion,
          releaseName: 'keda',
          namespace: KEDA_NAMESPACE,
          auth: 'none',
          values: {
            podIdentity: { gcp: { enabled: true, gcpIAMServiceAccount: kedaServiceAccount(spec) } },
          },
        },
      },
    },
  ];
}

/**
 * Managed Service for Prometheus scrapes each pod's ready gate (the load gauge) every 30 s. GKE
 * Autopilot runs managed collection by default; the series carry the target labels project_id,
 * location, cluster and namespace (https://cloud.google.com/stackdriver/docs/managed-prometheus/setup-managed).
 */
export function loadPodMonitoring(spec: FleetSpec): PodMonitoring {
  return {
    apiVersion: 'monitoring.googleapis.com/v1',
    kind: 'PodMonitoring',
    metadata: { name: `${spec.app.name}-load`, namespace: appNamespace(spec), labels: commonLabels(spec) },
    spec: {
      selector: { matchLabels: servingSelector(spec) },
      endpoints: [{ port: spec.app.probes.readiness.port, path: '/metrics', interval: '30s' }],
      // Hedged: each series says which Deployment its pod belongs to (the hedge counts Spot replicas
      // alone); targetLabels.fromPod copies a pod label onto the target
      // (https://github.com/GoogleCloudPlatform/prometheus-engine/blob/main/doc/api.md#labelmapping).
      ...(hedged(spec) ? { targetLabels: { fromPod: [{ from: CAPACITY_LABEL, to: 'capacity' }] } } : {}),
    },
  };
}

/**
 * Minutes of samples the hedge's query looks at: max_over_time over one minute, so a Spot pod that
 * was preempted (and stopped reporting) drops out of the sum within a minute instead of answering for
 * Managed Service for Prometheus' 5-minute lookback (MANAGED_PROMETHEUS_LOOKBACK_MINUTES); two
 * 30-second scrapes fall in it. The backtest's HEDGE_METRIC_MINUTES models this delay plus KEDA's poll.
 */
export const HEDGE_SAMPLE_MINUTES = 1;

/**
 * gpu.provisioning hedged, the fast loop: the hedge cluster's ScaledObject sizes the on-demand
 * Deployment to the fleet's missing Spot replicas — hedgeTarget (the replicas the fleet serves with)
 * minus the Spot replicas ready anywhere in the project, read from Managed Service for Prometheus,
 * which answers for every cluster of the project. Up at once (the HPA's default scale-up), down only
 * after the Spot replicas have been back for gpu.hedge.cooldownMinutes (the scale-down stabilisation
 * window), one pod a minute; KEDA's cooldownPeriod (the same) before the last one. Each removed pod's
 * ready gate holds its stop until its generations are done: make-before-break with the drain.
 */
export function hedgeScaledObject(spec: FleetSpec): ScaledObject {
  const target = hedgeTarget(spec);
  const cooldown = spec.gpu.hedge.cooldownMinutes * 60;
  const spotReady = `${READY_METRIC}{capacity="spot",namespace="${appNamespace(spec)}"}`;
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: onDemandName(spec), namespace: appNamespace(spec), labels: commonLabels(spec) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: onDemandName(spec) },
      pollingInterval: 30,
      cooldownPeriod: cooldown,
      minReplicaCount: 0,
      maxReplicaCount: spec.gpu.hedge.maxOnDemandReplicas ?? target,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleDown: {
              stabilizationWindowSeconds: cooldown,
              policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
            },
          },
        },
      },
      triggers: [
        {
          type: 'prometheus',
          name: 'spot-missing',
          metadata: {
            serverAddress: `https://monitoring.googleapis.com/v1/projects/${spec.project}/location/global/prometheus`,
            // ceil(missing / 1) replicas; active (from 0) when any is missing.
            query: `clamp_min(${target} - (sum(max_over_time(${spotReady}[${HEDGE_SAMPLE_MINUTES}m])) or vector(0)), 0)`,
            threshold: '1',
            activationThreshold: '0',
          },
          authenticationRef: { kind: 'ClusterTriggerAuthentication', name: KEDA_TRIGGER_AUTH },
        },
      ],
    },
  };
}

/** KEDA reads Managed Service for Prometheus as the operator's Google identity (podIdentity gcp). */
export function kedaTriggerAuthentication(spec: FleetSpec): ClusterTriggerAuthentication {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ClusterTriggerAuthentication',
    metadata: { name: KEDA_TRIGGER_AUTH, labels: commonLabels(spec) },
    spec: { podIdentity: { provider: 'gcp' } },
  };
}

/** PromQL selector of a ready-gate gauge for some clusters of this fleet. */
function loadSelector(spec: FleetSpec, clusters: string[], metric = LOAD_METRIC): string {
  const which = clusters.length === 1 ? `cluster="${clusters[0]}"` : `cluster=~"${clusters.join('|')}"`;
  return `${metric}{${which},namespace="${appNamespace(spec)}"}`;
}

/**
 * The ScaledObject of one active cluster. Warm: between its `replicas` and the maximum, on its own
 * load. Cold: from 0, woken by users on its continent (the load balancer's request count by
 * proxy_continent, since a region at zero gets no backend requests of its own), by the warm
 * regions being full, or by the warm regions being down; once up, its own load sizes it.
 *
 * Never cut a generation: scale-down needs the load under target for idleMinutesBeforeZero (the
 * HPA's scale-down stabilisation window; KEDA's cooldownPeriod for the last replica), removes one
 * pod a minute, and the removed pod's ready gate holds its stop until the WebUI is idle
 * (terminationGracePeriodSeconds covers the longest generation).
 */
export function scaledObject(spec: FleetSpec, cluster: ClusterSpec): ScaledObject {
  const a = spec.autoscaling;
  const roles = autoscalingRoles(spec);
  const role = roles.get(cluster.name);
  if (!role) throw new Error(`${cluster.name} is not an active cluster with autoscaling on: it has no ScaledObject`);
  const serverAddress = `https://monitoring.googleapis.com/v1/projects/${spec.project}/location/global/prometheus`;
  const auth = { kind: 'ClusterTriggerAuthentication', name: KEDA_TRIGGER_AUTH } as const;
  const trigger = (name: string, metadata: Record<string, string>): ScaledObjectTrigger => ({
    type: 'prometheus',
    name,
    metadata: { serverAddress, ...metadata },
    authenticationRef: auth,
  });
  const triggers: ScaledObjectTrigger[] = [
    // Running + queued generations in this cluster, averaged; ceil(load / target) replicas.
    trigger('load', {
      query: `sum(avg_over_time(${loadSelector(spec, [cluster.name])}[${LOAD_WINDOW_MINUTES}m]))`,
      threshold: String(a.targetGenerationsPerReplica),
    }),
  ];
  if (role === 'cold') {
    const warm = spec.clusters.filter((c) => roles.get(c.name) === 'warm');
    const warmNames = warm.map((c) => c.name);
    // Ready pods the warm clusters keep at least.
    const warmMinimum = warm.reduce((n, c) => n + autoscalingMinimum('warm', c), 0);
    // DELTA INT64 on https_lb_rule, labels include proxy_continent; sampled every 60 s, visible
    // after up to 210 s (https://cloud.google.com/monitoring/api/metrics_gcp_i_o#loadbalancing).
    // Cloud Monitoring metrics in PromQL: {"__name__"="<type>","monitored_resource"="<resource>"}
    // (https://keda.sh/blog/2025-09-15-gcp-deprecations/).
    triggers.push(
      trigger('users-nearby', {
        query: `sum(rate({"__name__"="loadbalancing.googleapis.com/https/request_count","monitored_resource"="https_lb_rule","proxy_continent"="${proxyContinent(cluster.region)}"}[${REQUEST_RATE_WINDOW_MINUTES}m]))`,
        threshold: WAKE_ONLY,
        activationThreshold: String(a.wakeRequestsPerSecond),
      }),
    );
    if (warm.length)
      triggers.push(
        // The warm regions are full: their load exceeds what they can hold at their maximum (each
        // scales itself up to maxReplicasPerRegion first; waking a cold region before that would
        // buy a second GPU for the same overflow).
        trigger('warm-full', {
          query: `sum(avg_over_time(${loadSelector(spec, warmNames)}[${LOAD_WINDOW_MINUTES}m]))`,
          threshold: WAKE_ONLY,
          activationThreshold: String(warm.length * a.maxReplicasPerRegion * a.targetGenerationsPerReplica),
        }),
        // The warm regions are down (preempted, a node lost, stocked out): fewer ready pods than
        // their minimum, so the URL would have no backend while this region sleeps. A pod that is
        // gone stops reporting, and its last sample still answers for
        // MANAGED_PROMETHEUS_LOOKBACK_MINUTES.
        trigger('warm-down', {
          query: `${warmMinimum} - (sum(${loadSelector(spec, warmNames, READY_METRIC)}) or vector(0))`,
          threshold: WAKE_ONLY,
          activationThreshold: '0',
        }),
      );
  }
  const idleSeconds = a.idleMinutesBeforeZero * 60;
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: spec.app.name, namespace: appNamespace(spec), labels: commonLabels(spec) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: spec.app.name },
      pollingInterval: 30,
      cooldownPeriod: idleSeconds,
      minReplicaCount: autoscalingMinimum(role, cluster),
      maxReplicaCount: a.maxReplicasPerRegion,
      advanced: {
        horizontalPodAutoscalerConfig: {
          // autoscaling/v2 behavior: the default scale-down window is 300 s and removes up to 100 %
          // of the pods every 15 s (https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/#default-behavior).
          behavior: {
            scaleDown: {
              stabilizationWindowSeconds: idleSeconds,
              policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
            },
          },
        },
      },
      triggers,
    },
  };
}
