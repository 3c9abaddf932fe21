import {
  CAPACITY_LABEL,
  LABEL_PREFIX,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  type FleetSpec,
} from '@gpu-fleet/fleet-spec';

export { CAPACITY_LABEL, LABEL_PREFIX };
export const CLUSTER_LABEL = `${LABEL_PREFIX}/cluster`;
export const REGION_LABEL = `${LABEL_PREFIX}/region`;
export const MODE_LABEL = `${LABEL_PREFIX}/mode`;
export const GPU_LABEL = `${LABEL_PREFIX}/gpu`;

/** Labels that select the app's pods: stable forever (a selector change would orphan pods). */
export const selectorLabels = (spec: FleetSpec): Record<string, string> => ({
  'app.kubernetes.io/name': spec.app.name,
});

/**
 * gpu.provisioning hedged: the app's pods come from two Deployments — its own (Spot) and the hedge's
 * `<app>-on-demand` — and the Service, the MultiClusterService and the PodMonitoring select both by
 * this label. Each Deployment keeps a selector of its own (app.kubernetes.io/name differs), since
 * Deployments with overlapping selectors fight over pods
 * (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#label-selector-updates: "do
 * not overlap labels or selectors with other controllers"). The Deployment's own selector never
 * changes (immutable); only the Service's, which may.
 */
export const SERVES_LABEL = `${LABEL_PREFIX}/serves`;
export const hedged = (spec: Pick<FleetSpec, 'gpu'>): boolean => spec.gpu.provisioning === 'hedged';
/** What the Service, the MultiClusterService and the PodMonitoring select: the app's pods, from both Deployments when hedged. */
export const servingSelector = (spec: FleetSpec): Record<string, string> =>
  hedged(spec) ? { [SERVES_LABEL]: spec.app.name } : selectorLabels(spec);
/** Extra labels on the Spot Deployment's pod template when hedged (the selector stays selectorLabels). */
export const spotPodLabels = (spec: FleetSpec): Record<string, string> =>
  hedged(spec) ? { [SERVES_LABEL]: spec.app.name, [CAPACITY_LABEL]: 'spot' } : {};
export const onDemandName = (spec: FleetSpec): string => `${spec.app.name}-on-demand`;

/**
 * Labels on every object gpu-fleet renders. Ownership uses gpu-fleet's own key: Config Sync stamps
 * app.kubernetes.io/managed-by with its own value on everything it applies (see CONFIG_SYNC_MANAGED_BY).
 */
export const commonLabels = (spec: FleetSpec): Record<string, string> => ({
  ...selectorLabels(spec),
  [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
  'app.kubernetes.io/part-of': 'gpu-fleet',
});

export const computeClassName = (spec: FleetSpec): string => `${spec.app.name}-gpu`;
/** The hedge's on-demand ComputeClass (gpu.provisioning hedged). */
export const onDemandComputeClassName = (spec: FleetSpec): string => `${spec.app.name}-gpu-on-demand`;
