export { createGcpClients, CLOUD_PLATFORM_SCOPE, NoGoogleCredentialsError } from './lib/connection/connection';
export type { GcpClients, GcpConnection } from './lib/connection/connection';
export {
  CallPolicy,
  CallTimeoutError,
  httpStatusOf,
  isTransient,
  messageOf,
  reasonOf,
  retryAfterSeconds,
} from './lib/policy/policy';
export type { CallOptions, CallPolicyOptions } from './lib/policy/policy';
export { ComputeSignals } from './lib/compute/compute';
export { GkeFleet } from './lib/fleet/fleet';
export {
  CONNECT_GATEWAY_ROOT,
  KubeWorkloads,
  abortable,
  connectGatewayHost,
  gatewayServer,
  kubeApis,
} from './lib/kubernetes/kubernetes';
export type { GatewayTarget, KubeApis, TokenSource } from './lib/kubernetes/kubernetes';
export { KubeProbeRunner, parseNvidiaSmi, PROBE_LABEL, SWEEP_LABEL } from './lib/probe/probe';
export type { ProbeOptions } from './lib/probe/probe';
export { FileEvidenceStore, CorruptEvidenceError } from './lib/evidence-file/file-store';
export { ConfigMapEvidenceStore, CONFIGMAP_EVIDENCE_BUDGET } from './lib/evidence-configmap/configmap-store';
export { GcsEvidenceStore } from './lib/evidence-gcs/gcs-store';
export { CloudMonitoringMetrics, METRIC_PREFIX, toTimeSeries } from './lib/metrics/metrics';
export { createGcpAdapters } from './lib/wiring';
export type { GcpAdapters } from './lib/wiring';
