import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import type { Clock, EvidenceStore, Logger, ProbePort, SignalPorts } from '@gpu-fleet/scout-domain';
import { ConfigMapEvidenceStore } from './evidence-configmap/configmap-store';
import { createGcpClients, type GcpClients, type GcpConnection } from './connection/connection';
import { CallPolicy, type CallPolicyOptions } from './policy/policy';
import { ComputeSignals } from './compute/compute';
import { GkeFleet } from './fleet/fleet';
import { KubeWorkloads, connectGatewayKubeConfig, kubeApis } from './kubernetes/kubernetes';
import { KubeProbeRunner, type ProbeOptions } from './probe/probe';

export interface GcpAdapters {
  ports: SignalPorts;
  policy: CallPolicy;
  clients: GcpClients;
  /** A probe runner for one fleet membership. */
  prober(membership: string, projectNumber: string, options?: Partial<ProbeOptions>): Promise<ProbePort>;
  /** The evidence ConfigMap in the config cluster (spec.configCluster), reached through Connect Gateway like every cluster. */
  evidenceConfigMap(namespace: string, name: string): Promise<EvidenceStore>;
  close(): Promise<void>;
}

/** Build every adapter over one connection (Google or the sandbox): the only place clients are made. */
export async function createGcpAdapters(conn: GcpConnection, deps: { clock: Clock; logger: Logger; bundled: GpuCatalog; policy?: CallPolicyOptions; spec: FleetSpec }): Promise<GcpAdapters> {
  const clients = await createGcpClients(conn);
  const policy = new CallPolicy({ logger: deps.logger, ...deps.policy });
  const compute = new ComputeSignals(clients, conn.project, policy, deps.clock);
  const fleet = new GkeFleet(clients, conn.project, policy);
  const token = await clients.accessToken();
  const apisFor = (membership: string, projectNumber: string) => kubeApis(connectGatewayKubeConfig(clients.connectGateway, projectNumber, membership, token));
  return {
    policy,
    clients,
    ports: {
      catalog: compute,
      quota: compute,
      fleet,
      workloads: (membership, projectNumber) => new KubeWorkloads(apisFor(membership, projectNumber), membership, policy),
      clock: deps.clock,
      logger: deps.logger,
      bundled: deps.bundled,
    },
    prober: async (membership, projectNumber, options = {}) => new KubeProbeRunner(apisFor(membership, projectNumber), membership, policy, { clock: deps.clock, logger: deps.logger, ...options }),
    evidenceConfigMap: async (namespace, name) => new ConfigMapEvidenceStore(apisFor(deps.spec.configCluster.name, await fleet.projectNumber()).core, namespace, name, policy, () => deps.clock.now()),
    close: () => clients.close(),
  };
}
