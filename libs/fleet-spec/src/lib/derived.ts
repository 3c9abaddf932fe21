import type { ClusterSpec, FleetSpec } from './schema';

/** Derived values with documented defaults, so builders never re-implement them. */
export const appNamespace = (spec: FleetSpec): string => spec.app.namespace ?? spec.app.name;

export const terminationGracePeriodSeconds = (spec: FleetSpec): number =>
  spec.app.terminationGracePeriodSeconds ?? spec.ingress.backendTimeoutSec + 30;

export const scoutServiceAccount = (spec: FleetSpec): string =>
  spec.scout.gcpServiceAccount ?? `region-scout@${spec.project}.iam.gserviceaccount.com`;

/** Pods a cluster runs: replicas unless standby. */
export const renderedReplicas = (c: ClusterSpec): number => (c.mode === 'standby' ? 0 : c.replicas);

/** Clusters that receive traffic from the load balancer. */
export const servingClusters = (spec: FleetSpec): ClusterSpec[] => spec.clusters.filter((c) => c.mode === 'active');
