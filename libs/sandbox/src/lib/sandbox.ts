import {
  startApiServer,
  googleError,
  HttpError,
  type ApiName,
  type Handler,
  type ApiServer,
  type Fault,
  type RequestLog,
} from './http';
import { computeApi, connectGatewayApi, containerApi, gkehubApi } from './apis';
import { SandboxStorage, storageApi } from './storage/storage';
import { monitoringApi, SandboxMonitoring } from './monitoring/monitoring';
import { githubApi } from './github/api';
import { SandboxGitHub } from './github/repository';
import type { SandboxWorld } from './world';
import { githubRepository } from '@gpu-fleet/fleet-spec';

export interface SandboxEndpoints {
  compute: string;
  container: string;
  gkehub: string;
  connectgateway: string;
  github: string;
  /** Cloud Storage JSON API root (the evidence store's objects). */
  storage: string;
  /** Cloud Monitoring API root (the sweep's time series). */
  monitoring: string;
  /** OAuth 2.0 token endpoint: exchanges the sandbox refresh token for short-lived access tokens. */
  oauth2Token: string;
  project: string;
}

/** The sandbox GitHub as the GitHub adapter's `owner`, `repo`, `baseUrl` and `auth` options. */
export interface SandboxGitHubTarget {
  owner: string;
  repo: string;
  baseUrl: string;
  auth: { kind: 'token'; token: string } | { kind: 'app'; appId: string; privateKey: string; installationId: number };
}

export interface Sandbox {
  endpoints: SandboxEndpoints;
  /** Connection settings for the adapters: same clients as production, loopback endpoints. */
  connection: { project: string; endpoints: SandboxEndpoints; refreshToken: string };
  /** The refresh token the sandbox's token endpoint exchanges (a fixed fake; never a real credential). */
  refreshToken: string;
  /** Issues a fresh access token, as the token endpoint does (for tests and `region-scout sandbox`). */
  accessToken(): string;
  /** The access tokens the servers accept: issued by the token endpoint, valid for their lifetime. */
  tokens: SandboxTokens;
  /** A token the sandbox GitHub accepts (a fixed fake; GitHub tokens do not expire like Google's). */
  githubToken: string;
  /**
   * The sandbox repository for the GitHub adapter, as `token` (githubToken, a personal access token)
   * or as `app` (the GitHub App installed on it: App auth, the production default).
   */
  githubTarget(identity?: 'token' | 'app'): SandboxGitHubTarget;
  world: SandboxWorld;
  /** The GitHub repository behind the github endpoint (the repository of spec.configSync). */
  github: SandboxGitHub;
  /** The Cloud Storage objects behind the storage endpoint. */
  storage: SandboxStorage;
  /** The time series written to the monitoring endpoint. */
  monitoring: SandboxMonitoring;
  /** Fault rules, mutable while running. */
  faults: Fault[];
  /** Every request served, for tests and benchmarks. */
  requests: RequestLog[];
  close(): Promise<void>;
}

export const SANDBOX_REFRESH_TOKEN = 'sandbox-refresh-token';

/**
 * Access tokens as Google issues them: opaque, short-lived (3599 s by default, like Google's
 * https://developers.google.com/identity/protocols/oauth2#expiration), obtained from a refresh token
 * at the token endpoint. Expiry runs on real time, as the client's own refresh logic does.
 */
export class SandboxTokens {
  private readonly expiry = new Map<string, number>();
  private n = 0;

  constructor(
    readonly lifetimeSeconds: number,
    private readonly realNow: () => number = Date.now,
  ) {}

  issue(): { access_token: string; expires_in: number; token_type: 'Bearer'; scope: string } {
    const token = `sandbox-at-${++this.n}-${this.realNow().toString(36)}`;
    this.expiry.set(token, this.realNow() + this.lifetimeSeconds * 1000);
    return {
      access_token: token,
      expires_in: this.lifetimeSeconds,
      token_type: 'Bearer',
      scope: 'https://www.googleapis.com/auth/cloud-platform',
    };
  }

  /** Whether an Authorization header carries an issued, unexpired token. */
  accepts(authorization: string): boolean {
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    const until = token ? this.expiry.get(token) : undefined;
    return until !== undefined && this.realNow() < until;
  }
}

/** Start the loopback servers (one per API) over a world. */
export interface SandboxOptions {
  faults?: Fault[];
  /** Files on the sandbox GitHub repository's default branch (default: none). */
  githubFiles?: Record<string, string>;
  /** Lifetime of the access tokens the token endpoint issues, in real seconds (default 3599, as Google's). */
  tokenLifetimeSeconds?: number;
  /** Cloud Storage buckets that exist (default: the spec's evidence and model buckets). */
  storageBuckets?: string[];
}

export async function startSandbox(world: SandboxWorld, options: SandboxOptions = {}): Promise<Sandbox> {
  const faults = options.faults ?? [];
  const requests: RequestLog[] = [];
  const tokens = new SandboxTokens(options.tokenLifetimeSeconds ?? 3599);
  const ctx = (api: ApiName) => ({
    faults,
    log: requests,
    // GitHub has its own token check; the token endpoint is where tokens come from.
    authorize: api === 'github' || api === 'oauth2' ? null : (h: string) => tokens.accepts(h),
    now: () => world.clock.now().getTime(),
    errorBody:
      api === 'connectgateway'
        ? (status: number, message: string) => ({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            message,
            code: status,
          })
        : api === 'github'
          ? (_status: number, message: string) => ({ message, documentation_url: 'https://docs.github.com/rest' })
          : (status: number, message: string) => googleError(status, message),
  });
  const now = () => world.clock.now();
  const github = new SandboxGitHub({
    ...(githubRepository(world.spec) ?? { owner: 'gpu-fleet', repo: 'fleet' }),
    defaultBranch: world.spec.configSync.branch,
    files: options.githubFiles ?? {},
    now,
  });
  const storage = new SandboxStorage(
    options.storageBuckets ??
      [world.spec.scout.evidenceStore.bucket, world.spec.app.modelStorage?.bucket].filter((b): b is string => !!b),
    now,
  );
  const monitoring = new SandboxMonitoring();
  const servers: Record<ApiName, ApiServer> = {
    compute: await startApiServer('compute', computeApi(world), ctx('compute')),
    container: await startApiServer('container', containerApi(world), ctx('container')),
    gkehub: await startApiServer('gkehub', gkehubApi(world), ctx('gkehub')),
    connectgateway: await startApiServer('connectgateway', connectGatewayApi(world), ctx('connectgateway')),
    github: await startApiServer('github', githubApi(github, now), ctx('github')),
    oauth2: await startApiServer('oauth2', oauth2Api(tokens), ctx('oauth2')),
    storage: await startApiServer('storage', storageApi(storage), ctx('storage')),
    monitoring: await startApiServer('monitoring', monitoringApi(monitoring, world.project), ctx('monitoring')),
  };
  const endpoints: SandboxEndpoints = {
    compute: servers.compute.url,
    container: servers.container.url,
    gkehub: servers.gkehub.url,
    // A template: {host} is the host Google would be reached on (connectGatewayApi).
    connectgateway: `${servers.connectgateway.url}/{host}`,
    github: servers.github.url,
    storage: servers.storage.url,
    monitoring: servers.monitoring.url,
    oauth2Token: `${servers.oauth2.url}/token`,
    project: world.project,
  };
  return {
    endpoints,
    storage,
    monitoring,
    refreshToken: SANDBOX_REFRESH_TOKEN,
    connection: { project: world.project, endpoints, refreshToken: SANDBOX_REFRESH_TOKEN },
    accessToken: () => tokens.issue().access_token,
    tokens,
    githubToken: 'sandbox-github-token',
    githubTarget: (identity = 'token') => ({
      owner: github.owner,
      repo: github.repo,
      baseUrl: servers.github.url,
      auth:
        identity === 'app'
          ? {
              kind: 'app' as const,
              appId: String(github.app.id),
              privateKey: github.app.privateKey,
              installationId: github.app.installationId,
            }
          : { kind: 'token' as const, token: 'sandbox-github-token' },
    }),
    world,
    github,
    faults,
    requests,
    close: async () => {
      await Promise.all(Object.values(servers).map((s) => s.close()));
    },
  };
}

export interface EmbeddedSandbox {
  sandbox: Sandbox;
  world: SandboxWorld;
  /** The sandbox's connection settings (Sandbox.connection). */
  connection: Sandbox['connection'];
  close(): Promise<void>;
}

/**
 * The OAuth 2.0 token endpoint (https://developers.google.com/identity/protocols/oauth2/web-server#offline):
 * POST /token with grant_type=refresh_token answers a new access token; anything else is refused
 * with the error body Google's endpoint uses.
 */
function oauth2Api(tokens: SandboxTokens): Handler {
  return async ({ method, path, body }) => {
    if (method !== 'POST' || path !== '/token') throw new HttpError(404, `no route ${method} ${path}`);
    const form = (body ?? {}) as Record<string, string>;
    if (form.grant_type !== 'refresh_token' || form.refresh_token !== SANDBOX_REFRESH_TOKEN) {
      throw new HttpError(400, 'invalid_grant', { error: 'invalid_grant', error_description: 'Bad Request' });
    }
    return { body: tokens.issue() };
  };
}
