import { ClusterManagerClient } from '@google-cloud/container';
import { AcceleratorTypesClient, ProjectsClient, RegionsClient } from '@google-cloud/compute';
import { GoogleAuth, OAuth2Client, type AuthClient } from 'google-auth-library';
// Only the GKE Hub API module: the googleapis index loads every Google API.
import { gkehub_v1 } from 'googleapis/build/src/apis/gkehub/v1';

/**
 * Where the Google APIs are and how to authenticate. Empty endpoints mean Google's production
 * endpoints with Application Default Credentials; the sandbox passes loopback URLs and a fixed
 * token. The same client classes are used either way.
 */
export interface GcpConnection {
  project: string;
  endpoints?: { compute?: string; container?: string; gkehub?: string; connectgateway?: string };
  /** A fixed access token (sandbox). Without it, ADC is used. */
  token?: string;
}

export interface GcpClients {
  accelerators: AcceleratorTypesClient;
  regions: RegionsClient;
  projects: ProjectsClient;
  clusters: ClusterManagerClient;
  gkehub: gkehub_v1.Gkehub;
  /** Bearer token for Connect Gateway requests. */
  accessToken(): Promise<string>;
  connectGateway: string;
  close(): Promise<void>;
}

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** gax options for one endpoint URL; REST ("fallback") transport, which is what the sandbox speaks. */
function gaxOptions(url: string | undefined, authClient: AuthClient) {
  if (!url) return { authClient, fallback: true } as const;
  const u = new URL(url);
  return { apiEndpoint: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), protocol: u.protocol.replace(':', ''), fallback: true, authClient } as const;
}

export async function createGcpClients(conn: GcpConnection): Promise<GcpClients> {
  let authClient: AuthClient;
  if (conn.token) {
    const c = new OAuth2Client();
    c.setCredentials({ access_token: conn.token, expiry_date: Date.now() + 24 * 3600_000 });
    authClient = c;
  } else {
    authClient = (await new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] }).getClient()) as AuthClient;
  }
  const ep = conn.endpoints ?? {};
  const accelerators = new AcceleratorTypesClient(gaxOptions(ep.compute, authClient) as never);
  const regions = new RegionsClient(gaxOptions(ep.compute, authClient) as never);
  const projects = new ProjectsClient(gaxOptions(ep.compute, authClient) as never);
  const clusters = new ClusterManagerClient(gaxOptions(ep.container, authClient) as never);
  const gkehub = new gkehub_v1.Gkehub({ auth: authClient as never, ...(ep.gkehub ? { rootUrl: `${ep.gkehub.replace(/\/$/, '')}/` } : {}) });
  return {
    accelerators,
    regions,
    projects,
    clusters,
    gkehub,
    connectGateway: ep.connectgateway ?? 'https://connectgateway.googleapis.com',
    accessToken: async () => {
      const t = await authClient.getAccessToken();
      if (!t.token) throw new Error('no Google access token (run `gcloud auth application-default login` or use a service account)');
      return t.token;
    },
    close: async () => {
      await Promise.all([accelerators.close(), regions.close(), projects.close(), clusters.close()]);
    },
  };
}
