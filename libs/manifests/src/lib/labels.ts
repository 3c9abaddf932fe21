import type { FleetSpec } from '@gpu-fleet/fleet-spec';

export const LABEL_PREFIX = 'gpu-fleet.dev';
export const CLUSTER_LABEL = `${LABEL_PREFIX}/cluster`;
export const REGION_LABEL = `${LABEL_PREFIX}/region`;
export const MODE_LABEL = `${LABEL_PREFIX}/mode`;
export const GPU_LABEL = `${LABEL_PREFIX}/gpu`;

/** Labels that select the app's pods: stable forever (a selector change would orphan pods). */
export const selectorLabels = (spec: FleetSpec): Record<string, string> => ({
  'app.kubernetes.io/name': spec.app.name,
});

/** Labels on every object gpu-fleet renders. */
export const commonLabels = (spec: FleetSpec): Record<string, string> => ({
  ...selectorLabels(spec),
  'app.kubernetes.io/managed-by': 'region-scout',
  'app.kubernetes.io/part-of': 'gpu-fleet',
});

export const computeClassName = (spec: FleetSpec): string => `${spec.app.name}-gpu`;
