import { LABEL_PREFIX, MANAGED_BY_LABEL, MANAGED_BY_VALUE, type FleetSpec } from '@gpu-fleet/fleet-spec';

export { LABEL_PREFIX };
export const CLUSTER_LABEL = `${LABEL_PREFIX}/cluster`;
export const REGION_LABEL = `${LABEL_PREFIX}/region`;
export const MODE_LABEL = `${LABEL_PREFIX}/mode`;
export const GPU_LABEL = `${LABEL_PREFIX}/gpu`;

/** Labels that select the app's pods: stable forever (a selector change would orphan pods). */
export const selectorLabels = (spec: FleetSpec): Record<string, string> => ({
  'app.kubernetes.io/name': spec.app.name,
});

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
