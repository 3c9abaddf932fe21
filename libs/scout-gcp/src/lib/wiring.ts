import { configClusterRegion, type FleetSpec } from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import {
  membershipFor,
  type Clock,
  type EvidenceStore,
  type MetricsPort,
  type Logger,
  type MemberRef,
  type ProbePort,
  type SignalPorts,
} from '@gpu-fleet/scout-domain';
import { GcsEvidenceStore } from './evidence-gcs/gcs-store';
import { CloudMonitoringMetrics } from './metrics/metrics';
import { ConfigMapEvidenceStore } from './evidence-configmap/configmap-store';
import { createGcpClients, type GcpClients, type GcpConnection } from './connection/connection';
import { CallPolicy, type CallPolicyOptions } from './policy/policy';
import { ComputeSignals } from './compute/compute';
import { GkeFleet } from './fleet/fleet';
import { KubeWorkloads, kubeApis } from './kubernetes/kubernetes';
import { KubeProbeRunner, type ProbeOptions } from './probe/probe';

export interface GcpAdapters {
  ports: SignalPorts;
  policy: CallPolicy;
  clients: GcpClients;
  /** A probe runner for one fleet membership. */
  prober(member: MemberRef, projectNumber: string, options?: Partial<ProbeOptions>): Promise<ProbePort>;
  /** The evidence ConfigMap in the config cluster (spec.configCluster), reached through Connect Gateway like every cluster. */
  evidenceConfigMap(namespace: string, name: string): Promise<EvidenceStore>;
  /** The evidence object in Cloud Storage (scout.evidenceStore kind gcs). */
  evidenceGcs(bucket: string, object: string): EvidenceStore;
  /** Where a sweep's numbers go: Cloud Monitoring custom metrics. */
  metrics: MetricsPort;
  close(): Promise<void>;
}

/** Build every adapter over one connection (Google or the sandbox): the only place clients are made. */
export async function createGcpAdapters(
  conn: GcpConnection,
  deps: { clock: Clock; logger: Logger; bundled: GpuCatalog; policy?: CallPolicyOptions; spec: FleetSpec },
): Promise<GcpAdapters> {
  const clients = await createGcpClients(conn);
  const policy = new CallPolicy({ logger: deps.logger, ...deps.policy });
  const compute = new ComputeSignals(clients, conn.project, policy, deps.clock);
  const fleet = new GkeFleet(clients, conn.project, policy);
  // The token source, not a token: every Kubernetes request asks for a current one.
  const apisFor = (member: MemberRef, projectNumber: string) =>
    kubeApis({ gateway: clients.connectGateway, projectNumber, location: member.location, membership: member.id }, () =>
      clients.accessToken(),
    );
  return {
    policy,
    clients,
    ports: {
      catalog: compute,
      quota: compute,
      fleet,
      workloads: (member, projectNumber) => new KubeWorkloads(apisFor(member, projectNumber), member.id, policy),
      clock: deps.clock,
      logger: deps.logger,
      bundled: deps.bundled,
    },
    prober: async (member, projectNumber, options = {}) =>
      new KubeProbeRunner(apisFor(member, projectNumber), member.id, policy, {
        clock: deps.clock,
        logger: deps.logger,
        ...options,
      }),
    evidenceConfigMap: async (namespace, name) => {
      const cc = { name: deps.spec.configCluster.name, region: configClusterRegion(deps.spec) };
      const [memberships, projectNumber] = await Promise.all([fleet.memberships(), fleet.projectNumber()]);
      const member = membershipFor(cc, memberships);
      if (!member)
        throw new Error(
          `the config cluster ${cc.name} (${cc.region}) has no fleet membership; its evidence ConfigMap is reached through Connect Gateway (infra/ registers it)`,
        );
      return new ConfigMapEvidenceStore(
        apisFor(member, projectNumber).core,
        namespace,
        name,
        policy,
        () => deps.clock.now(),
        (message) => deps.logger.warn({ evidence: `configmap:${namespace}/${name}` }, message),
        deps.spec.monitoring.evidenceBudgetShare,
      );
    },
    metrics: new CloudMonitoringMetrics(clients.monitoring, conn.project, policy, clients.monitoringRoot),
    evidenceGcs: (bucket, object) =>
      new GcsEvidenceStore(clients.storage, bucket, object, policy, () => deps.clock.now(), clients.storageRoot),
    close: () => clients.close(),
  };
}
