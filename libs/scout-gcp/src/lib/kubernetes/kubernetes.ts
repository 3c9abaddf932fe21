import { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import type { AppPods, WorkloadPort } from '@gpu-fleet/scout-domain';
import type { CallPolicy } from '../policy/policy';

/**
 * The Kubernetes API of fleet member M through Connect Gateway:
 * <gateway>/v1/projects/<project number>/locations/global/gkeMemberships/<M>, authenticated with a
 * Google access token, so one credential reaches every cluster without opening control planes
 * (https://cloud.google.com/kubernetes-engine/enterprise/multicluster-management/gateway/using).
 */
export function connectGatewayKubeConfig(gateway: string, projectNumber: string, membership: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  const name = `connectgateway_${projectNumber}_${membership}`;
  // client-node refuses plain http unless skipTLSVerify is set; only the loopback sandbox is http,
  // and there is no TLS to verify there. https (Google) always verifies.
  const plainHttp = new URL(gateway).protocol === 'http:';
  kc.loadFromOptions({
    clusters: [{ name, server: `${gateway.replace(/\/$/, '')}/v1/projects/${projectNumber}/locations/global/gkeMemberships/${membership}`, skipTLSVerify: plainHttp }],
    users: [{ name, token }],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  return kc;
}

export interface KubeApis {
  core: CoreV1Api;
  batch: BatchV1Api;
}

export const kubeApis = (kc: KubeConfig): KubeApis => ({ core: kc.makeApiClient(CoreV1Api), batch: kc.makeApiClient(BatchV1Api) });

const PodSchema = z.object({
  metadata: z.object({ name: z.string(), creationTimestamp: z.union([z.date(), z.string()]).nullish() }),
  status: z
    .object({
      phase: z.string().nullish(),
      conditions: z.array(z.object({ type: z.string(), status: z.string() })).nullish(),
    })
    .nullish(),
});
export const EventSchema = z.object({
  reason: z.string().nullish(),
  message: z.string().nullish(),
  type: z.string().nullish(),
  involvedObject: z.object({ name: z.string().nullish() }),
  lastTimestamp: z.union([z.date(), z.string()]).nullish(),
  firstTimestamp: z.union([z.date(), z.string()]).nullish(),
  eventTime: z.union([z.date(), z.string()]).nullish(),
});
export const eventTime = (e: z.infer<typeof EventSchema>) => {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp;
  return t ? new Date(t).toISOString() : new Date(0).toISOString();
};

/** The app's pods in one cluster: ready ones (serving) and pending ones with events (stockout evidence at zero cost). */
export class KubeWorkloads implements WorkloadPort {
  constructor(
    private readonly apis: KubeApis,
    private readonly membership: string,
    private readonly policy: CallPolicy,
  ) {}

  appPods(namespace: string, labelSelector: string): Promise<AppPods> {
    return this.policy.run('connectgateway', { cluster: this.membership }, async () => {
      const pods = (await this.apis.core.listNamespacedPod({ namespace, labelSelector })).items.map((p) => PodSchema.parse(p));
      // Ready as the endpoints controller sees it: Running and condition Ready=True
      // (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-conditions).
      const ready = pods.filter((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      const pending = pods.filter((p) => p.status?.phase === 'Pending');
      if (!pending.length) return { total: pods.length, ready, pending: [] };
      const events = (await this.apis.core.listNamespacedEvent({ namespace })).items.map((e) => EventSchema.parse(e));
      const withEvents = pending.map((p) => ({
        name: p.metadata.name,
        since: p.metadata.creationTimestamp ? new Date(p.metadata.creationTimestamp).toISOString() : new Date(0).toISOString(),
        events: events
          .filter((e) => e.involvedObject.name === p.metadata.name)
          .map((e) => ({ reason: e.reason ?? '', message: e.message ?? '', type: e.type ?? 'Normal', at: eventTime(e) })),
      }));
      return { total: pods.length, ready, pending: withEvents };
    });
  }
}
