import {
  BatchV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  Observable,
  ServerConfiguration,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';
import { z } from 'zod';
import type { AppPods, WorkloadPort } from '@gpu-fleet/scout-domain';
import type { CallPolicy } from '../policy/policy';

/** A source of Google access tokens, asked before every request (google-auth-library caches and refreshes them). */
export type TokenSource = () => Promise<string>;

/** Where one fleet member's Kubernetes API is reached through Connect Gateway. */
export interface GatewayTarget {
  /**
   * Connect Gateway root: `https://{host}` for Google ({host} is filled per membership location by
   * connectGatewayHost), or a fixed root (a proxy) used for every location as written.
   */
  gateway: string;
  projectNumber: string;
  /** The membership's location: "global" or the region it was registered in. */
  location: string;
  membership: string;
}

/** The Connect Gateway root for Google: the host depends on the membership's location. */
export const CONNECT_GATEWAY_ROOT = 'https://{host}';

/**
 * The host Connect Gateway serves a membership location on: connectgateway.googleapis.com for
 * "global", <location>-connectgateway.googleapis.com for a membership registered in a region — the
 * rule of gcloud's own `fleet memberships get-credentials` (GetConnectGatewayServiceName in
 * lib/googlecloudsdk/command_lib/container/fleet/memberships/util.py: `prefix = '' if location in
 * ('global', None) else '{}-'.format(location)`), also in Google's fleet Argo CD plugin
 * (GoogleCloudPlatform/gke-fleet-management fleet-argocd-plugin/fleetclient/fleetclient.go
 * connectGatewayURL). A client that always uses the global host cannot reach regional memberships
 * (google-github-actions/get-gke-credentials#344; google-cloud-python#13852).
 */
export const connectGatewayHost = (location: string): string =>
  location === 'global' ? 'connectgateway.googleapis.com' : `${location}-connectgateway.googleapis.com`;

/**
 * The Kubernetes API server URL of a fleet member through Connect Gateway:
 * https://<host for the location>/v1/projects/<project number>/locations/<membership location>/gkeMemberships/<membership>
 * (https://cloud.google.com/kubernetes-engine/enterprise/multicluster-management/gateway/using; the
 * path keeps the location, gcloud's SERVER_FORMAT in command_lib/container/fleet/gateway.py).
 */
export const gatewayServer = (t: GatewayTarget): string =>
  `${t.gateway.split('{host}').join(connectGatewayHost(t.location)).replace(/\/$/, '')}/v1/projects/${t.projectNumber}/locations/${t.location}/gkeMemberships/${t.membership}`;

/**
 * Authentication for Connect Gateway: the KubeConfig's transport settings (TLS) and a Google access
 * token fetched for each request, never one token baked in at start — an access token lives about an
 * hour (https://cloud.google.com/docs/authentication/token-types#access), and a sweep waiting on GPU
 * probes, or a long-lived process, outlives it.
 */
class GoogleBearerAuth implements SecurityAuthentication {
  constructor(
    private readonly kc: KubeConfig,
    private readonly token: TokenSource,
  ) {}

  getName(): string {
    return 'google-bearer';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(context);
    context.setHeaderParam('Authorization', `Bearer ${await this.token()}`);
  }
}

export interface KubeApis {
  core: CoreV1Api;
  batch: BatchV1Api;
}

/** The Kubernetes API clients of one fleet member through Connect Gateway, with per-request Google tokens. */
export function kubeApis(target: GatewayTarget, token: TokenSource): KubeApis {
  const server = gatewayServer(target);
  const kc = new KubeConfig();
  const name = `connectgateway_${target.projectNumber}_${target.location}_${target.membership}`;
  // client-node refuses plain http unless skipTLSVerify is set; only the loopback sandbox is http,
  // and there is no TLS to verify there. https (Google) always verifies.
  const plainHttp = new URL(server).protocol === 'http:';
  kc.loadFromOptions({
    clusters: [{ name, server, skipTLSVerify: plainHttp }],
    users: [{ name }],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  const config = createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    authMethods: { default: new GoogleBearerAuth(kc, token) },
  });
  return { core: new CoreV1Api(config), batch: new BatchV1Api(config) };
}

/** Per-call options that abort the request when the signal fires (CallPolicy's timeout). */
export function abortable(signal: AbortSignal): ConfigurationOptions {
  // The object-parameter API runs the Observable middleware chain (gen/types/ObservableAPI.js).
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(signal);
      return new Observable(Promise.resolve(ctx));
    },
    post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

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
    return this.policy.run('connectgateway', { cluster: this.membership }, async (signal) => {
      const pods = (await this.apis.core.listNamespacedPod({ namespace, labelSelector }, abortable(signal))).items.map(
        (p) => PodSchema.parse(p),
      );
      // Ready as the endpoints controller sees it: Running and condition Ready=True
      // (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-conditions).
      const ready = pods.filter(
        (p) =>
          p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
      const pending = pods.filter((p) => p.status?.phase === 'Pending');
      if (!pending.length) return { total: pods.length, ready, pending: [] };
      const events = (await this.apis.core.listNamespacedEvent({ namespace }, abortable(signal))).items.map((e) =>
        EventSchema.parse(e),
      );
      const withEvents = pending.map((p) => ({
        name: p.metadata.name,
        since: p.metadata.creationTimestamp
          ? new Date(p.metadata.creationTimestamp).toISOString()
          : new Date(0).toISOString(),
        events: events
          .filter((e) => e.involvedObject.name === p.metadata.name)
          .map((e) => ({
            reason: e.reason ?? '',
            message: e.message ?? '',
            type: e.type ?? 'Normal',
            at: eventTime(e),
          })),
      }));
      return { total: pods.length, ready, pending: withEvents };
    });
  }
}
