import { AUTOPILOT_GRACE, type GpuCatalog } from '@gpu-fleet/gcp-catalog';
import {
  appNamespace,
  autoscalingRoles,
  hedgeActive,
  terminationGracePeriodSeconds,
  type ClusterSpec,
  type FleetSpec,
} from '@gpu-fleet/fleet-spec';
import type { ComputeClass, ComputeClassPriority } from '../gke-types';
import { commonLabels, computeClassName, onDemandComputeClassName } from '../labels';

/**
 * GPU types a cluster tries, in order: its own GPU first, then the spec's other preferences that
 * its region offers. Crossing regions is the scout's job; within a region the ComputeClass falls
 * back by itself.
 */
export function clusterGpuOrder(spec: FleetSpec, cluster: ClusterSpec, catalog: GpuCatalog): string[] {
  const order = [cluster.gpu, ...spec.gpu.preferences.filter((g) => g !== cluster.gpu)];
  return order.filter((g) => catalog.offers(cluster.region, g));
}

/**
 * Per-cluster custom ComputeClass with one priority rule per (GPU type, spot/on-demand)
 * (https://cloud.google.com/kubernetes-engine/docs/concepts/about-custom-compute-classes).
 * `whenUnsatisfiable: DoNotScaleUp` keeps a stocked-out GPU pod Pending (a visible stockout signal)
 * instead of landing on a node without a GPU.
 */
export function computeClass(
  spec: FleetSpec,
  cluster: ClusterSpec,
  catalog: GpuCatalog,
  capacity: 'slots' | 'on-demand' = 'slots',
): ComputeClass {
  const priorities: ComputeClassPriority[] = clusterGpuOrder(spec, cluster, catalog).flatMap((type) => {
    const gpu = { type, count: spec.gpu.count };
    // hedged: the cluster's own pods on Spot only — the fallback is the hedge's Deployment on the
    // on-demand class, sized fleet-wide, not this class's next rule (which would keep a pod on
    // on-demand in every region until active migration moves it back).
    if (capacity === 'on-demand') return [{ gpu, spot: false }];
    // hedged at step 1 (KEDA still installing): each region falls back to on-demand on its own, as
    // spot-then-on-demand does, until the hedge takes over.
    const provisioning =
      spec.gpu.provisioning === 'hedged' && !hedgeActive(spec) ? 'spot-then-on-demand' : spec.gpu.provisioning;
    switch (provisioning) {
      case 'spot':
      case 'hedged':
        return [{ gpu, spot: true }];
      case 'spot-then-on-demand':
        return [
          { gpu, spot: true },
          { gpu, spot: false },
        ];
      default:
        return [{ gpu, spot: false }];
    }
  });
  return {
    apiVersion: 'cloud.google.com/v1',
    kind: 'ComputeClass',
    metadata: {
      name: capacity === 'on-demand' ? onDemandComputeClassName(spec) : computeClassName(spec),
      labels: commonLabels(spec),
    },
    spec: {
      description:
        capacity === 'on-demand'
          ? `On-demand GPUs for the ${spec.app.name} hedge in ${cluster.region}`
          : `GPU preference order for ${spec.app.name} in ${cluster.region}`,
      priorities,
      whenUnsatisfiable: 'DoNotScaleUp',
      nodePoolAutoCreation: { enabled: true },
      // Active migration moves a pod back to a higher-priority rule by evicting it, honouring the
      // PodDisruptionBudget (a voluntary disruption). The PDB keeps minAvailable 1, so with one
      // replica it could never move the pod — and if it could, the region would be down for a full
      // model reload. Only a cluster with two or more replicas can migrate one pod at a time while
      // the other serves. https://cloud.google.com/kubernetes-engine/docs/concepts/about-custom-compute-classes
      ...(capacity === 'slots' && activeMigrationAllowed(spec, cluster)
        ? { activeMigration: { optimizeRulePriority: true } }
        : {}),
    },
  };
}

/**
 * Whether the ComputeClass may migrate pods back to a preferred rule: only while a second replica
 * keeps serving (PodDisruptionBudget minAvailable 1; see computeClass), and only where the pod's
 * drain fits the grace GKE gives it. Migration empties the old node by a GKE-initiated eviction, and
 * on Autopilot "for scale-down events, the grace period can be up to 10 minutes"
 * (https://cloud.google.com/kubernetes-engine/docs/how-to/extended-duration-pods; cluster-autoscaler
 * caps the eviction's GracePeriodSeconds at its maximum, core/scaledown/actuation/drain.go) — below
 * the 930 s a 900 s drain needs, so a generation in flight would be killed. Unless the spec accepts
 * cut generations, a longer drain renders no migration. A standby cluster runs no pods; a cold one
 * (autoscaling) may run one.
 */
export const activeMigrationAllowed = (
  spec: Pick<FleetSpec, 'clusters' | 'autoscaling' | 'app' | 'ingress' | 'gpu'>,
  cluster: ClusterSpec,
): boolean =>
  cluster.mode !== 'standby' &&
  cluster.replicas >= 2 &&
  autoscalingRoles(spec).get(cluster.name) !== 'cold' &&
  (spec.gpu.acceptCutGenerations ||
    terminationGracePeriodSeconds(spec as FleetSpec) <= AUTOPILOT_GRACE.scaleDownMaxSeconds);

/** Strategic-merge patch used instead when `gpu.selection: node-selector`. */
export function acceleratorSelectorPatch(spec: FleetSpec, cluster: ClusterSpec) {
  const nodeSelector: Record<string, string> = { 'cloud.google.com/gke-accelerator': cluster.gpu };
  if (spec.gpu.provisioning === 'spot') nodeSelector['cloud.google.com/gke-spot'] = 'true';
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: spec.app.name, namespace: appNamespace(spec) },
    spec: { template: { spec: { nodeSelector } } },
  };
}
