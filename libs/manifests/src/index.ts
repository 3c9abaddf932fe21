export {
  renderTree,
  CHECKOUT_PATHS,
  OWNED_DIRS,
  OWNED_FILES,
  PATCHES_DIR,
  BASE_DIR,
  CONFIG_CLUSTER_DIR,
  clusterDir,
} from './lib/pure/tree';
export type { RenderedTree } from './lib/pure/tree';
export {
  writeTree,
  diffTree,
  hasDrift,
  readOwnedTree,
  ownedFilesOnDisk,
  readCheckout,
  writeCheckout,
  RenderConflictError,
} from './lib/io/fs-tree';
export type { Drift } from './lib/io/fs-tree';
export { FsCheckout } from './lib/io/checkout';
export {
  GENERATED_HEADER,
  RENDERER_VERSION,
  SPEC_FILE,
  generatedYaml,
  stableYaml,
  isGenerated,
  rendererVersionOf,
} from './lib/pure/yaml';
export * from './lib/pure/labels';
export * from './lib/pure/gke-types';
export {
  deployment,
  namespace,
  podDisruptionBudget,
  service,
  serviceAccount,
  readinessEndpoint,
  readyGateConfigMap,
  readyGateConfigMapName,
  gcsFuseSidecarAnnotations,
  GPU_RESOURCE,
  READY_GATE_HASH_ANNOTATION,
  drainCommand,
  webuiArgs,
} from './lib/pure/builders/workload';
export { READY_GATE_PY } from './lib/pure/builders/ready-gate.py';
export {
  LOAD_WINDOW_MINUTES,
  LOAD_METRIC,
  MANAGED_PROMETHEUS_LOOKBACK_MINUTES,
  REQUEST_RATE_WINDOW_MINUTES,
  scaledObject,
  scaledObjectsRendered,
} from './lib/pure/builders/autoscaling';
export { probeResources } from './lib/pure/builders/probes';
export {
  computeClass,
  clusterGpuOrder,
  acceleratorSelectorPatch,
  activeMigrationAllowed,
} from './lib/pure/builders/compute-class';
export { trafficLayer, multiClusterIngressLayer } from './lib/pure/builders/traffic';
export type { TrafficLayer } from './lib/pure/builders/traffic';
export * from './lib/io/validate-tree';
export {
  scoutResources,
  scoutObserverRbac,
  scoutSweepArgs,
  sweepDeadlineSeconds,
  sweepTimeLimitSeconds,
  SCOUT_NAME,
  SCOUT_UID,
} from './lib/pure/builders/scout';
export {
  sweepWorkflow,
  ACTIONS,
  WORKFLOW_NODE_VERSION,
  WORKFLOW_VARIABLES,
  SWEEP_WORKFLOW,
  SWEEP_IDENTITY_CHECK,
} from './lib/pure/builders/workflows';
export {
  ALERT_POLICIES_DIR,
  DASHBOARD_FILE,
  MONITORING_DIR,
  alertPolicies,
  alertDefinitions,
  dashboard,
  fleetSelector,
  lookback,
  sweepInterval,
} from './lib/pure/builders/monitoring';
export type { AlertPolicy, AlertSeverity } from './lib/pure/builders/monitoring';
export { AlertPolicyFile, DashboardFile, monitoringFileProblems, promqlErrors } from './lib/pure/monitoring-schema';
