import { ClusterManagerClient } from '@google-cloud/container';
import { AcceleratorTypesClient, ProjectsClient, RegionsClient } from '@google-cloud/compute';
import { GoogleAuth, OAuth2Client, type AuthClient } from 'google-auth-library';
// Only the GKE Hub API module: the googleapis index loads every Google API.
import { gkehub_v1 } from 'googleapis/build/src/apis/gkehub/v1';
// Only the Cloud Storage JSON API module (gaxios underneath, like the GKE Hub client).
import { storage_v1 } from 'googleapis/build/src/apis/storage/v1';
import { monitoring_v3 } from 'googleapis/build/src/apis/monitoring/v3';
import { CONNECT_GATEWAY_ROOT } from '../kubernetes/kubernetes';

/**
 * Where the Google APIs are and how to authenticate. Empty endpoints mean Google's production
 * endpoints with Application Default Credentials; the sandbox passes loopback URLs and a refresh
 * token for its own token endpoint. The same client classes are used either way.
 */
export interface GcpConnection {
  project: string;
  endpoints?: {
    compute?: string;
    container?: string;
    gkehub?: string;
    connectgateway?: string;
    storage?: string;
    monitoring?: string;
    oauth2Token?: string;
  };
  /**
   * Sandbox only: an OAuth 2.0 refresh token that `endpoints.oauth2Token` exchanges for
   * short-lived access tokens, as Google's token endpoint does. Without it, Application Default
   * Credentials are used.
   */
  refreshToken?: string;
}

export interface GcpClients {
  accelerators: AcceleratorTypesClient;
  regions: RegionsClient;
  projects: ProjectsClient;
  clusters: ClusterManagerClient;
  gkehub: gkehub_v1.Gkehub;
  /**
   * A current access token, for Connect Gateway requests. Ask for it before every request: the auth
   * client caches it and refreshes it before it expires (access tokens live about an hour).
   */
  accessToken(): Promise<string>;
  /** Connect Gateway root; `{host}` stands for the host of each membership's location (gatewayServer). */
  connectGateway: string;
  /** Cloud Storage JSON API (the evidence store's object). */
  storage: storage_v1.Storage;
  /** Its root when not Google's (the sandbox): uploads need it per call. */
  storageRoot?: string;
  /** Cloud Monitoring API v3 (the sweep's time series), and its root when not Google's. */
  monitoring: monitoring_v3.Monitoring;
  monitoringRoot?: string;
  close(): Promise<void>;
}

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** gax options for one endpoint URL; REST ("fallback") transport, which is what the sandbox speaks. */
function gaxOptions(url: string | undefined, authClient: AuthClient) {
  if (!url) return { authClient, fallback: true } as const;
  const u = new URL(url);
  return {
    apiEndpoint: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
    protocol: u.protocol.replace(':', ''),
    fallback: true,
    authClient,
  } as const;
}

/** No Application Default Credentials were found for talking to Google. */
export class NoGoogleCredentialsError extends Error {
  constructor(
    readonly project: string,
    override readonly cause: Error,
  ) {
    super(
      `no Google credentials found for project ${project} (Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default login, or a metadata server)`,
    );
    this.name = 'NoGoogleCredentialsError';
  }
}

export async function createGcpClients(conn: GcpConnection): Promise<GcpClients> {
  let authClient: AuthClient;
  if (conn.refreshToken) {
    if (!conn.endpoints?.oauth2Token)
      throw new Error('a refresh token needs endpoints.oauth2Token (the token endpoint that exchanges it)');
    // The same refresh flow as a user's ADC: google-auth-library exchanges the refresh token for an
    // access token when it has none or it is about to expire.
    const c = new OAuth2Client({
      clientId: 'gpu-fleet-sandbox',
      clientSecret: 'gpu-fleet-sandbox',
      endpoints: { oauth2TokenUrl: conn.endpoints.oauth2Token },
      eagerRefreshThresholdMillis: 1000,
    });
    c.setCredentials({ refresh_token: conn.refreshToken });
    authClient = c;
  } else {
    try {
      authClient = (await new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] }).getClient()) as AuthClient;
    } catch (e) {
      // google-auth-library looked for GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file and the
      // metadata server, and found none (https://cloud.google.com/docs/authentication/application-default-credentials).
      if (/Could not load the default credentials/i.test((e as Error).message))
        throw new NoGoogleCredentialsError(conn.project, e as Error);
      throw e;
    }
  }
  const ep = conn.endpoints ?? {};
  const accelerators = new AcceleratorTypesClient(gaxOptions(ep.compute, authClient) as never);
  const regions = new RegionsClient(gaxOptions(ep.compute, authClient) as never);
  const projects = new ProjectsClient(gaxOptions(ep.compute, authClient) as never);
  const clusters = new ClusterManagerClient(gaxOptions(ep.container, authClient) as never);
  const gkehub = new gkehub_v1.Gkehub({
    auth: authClient as never,
    ...(ep.gkehub ? { rootUrl: `${ep.gkehub.replace(/\/$/, '')}/` } : {}),
  });
  // Google's client for the Cloud Storage JSON API; against the sandbox, its root.
  const storage = new storage_v1.Storage({
    auth: authClient as never,
    ...(ep.storage ? { rootUrl: `${ep.storage.replace(/\/$/, '')}/` } : {}),
  });
  return {
    accelerators,
    regions,
    projects,
    clusters,
    gkehub,
    storage,
    ...(ep.storage ? { storageRoot: `${ep.storage.replace(/\/$/, '')}/` } : {}),
    monitoring: new monitoring_v3.Monitoring({ auth: authClient as never }),
    ...(ep.monitoring ? { monitoringRoot: `${ep.monitoring.replace(/\/$/, '')}/` } : {}),
    connectGateway: ep.connectgateway ?? CONNECT_GATEWAY_ROOT,
    accessToken: async () => {
      const t = await authClient.getAccessToken();
      if (!t.token)
        throw new Error(
          'no Google access token (run `gcloud auth application-default login` or use a service account)',
        );
      return t.token;
    },
    close: async () => {
      await Promise.all([accelerators.close(), regions.close(), projects.close(), clusters.close()]);
    },
  };
}
