import { startApiServer, googleError, type ApiName, type ApiServer, type Fault, type RequestLog } from './http';
import { computeApi, connectGatewayApi, containerApi, gkehubApi } from './apis';
import { githubApi, SandboxGitHub } from './github';
import type { SandboxWorld } from './world';
import { githubRepository } from '@gpu-fleet/fleet-spec';

export interface SandboxEndpoints {
  compute: string;
  container: string;
  gkehub: string;
  connectgateway: string;
  github: string;
  project: string;
}

export interface Sandbox {
  endpoints: SandboxEndpoints;
  /** The bearer token the servers accept (a fixed fake; never a real credential). */
  token: string;
  world: SandboxWorld;
  /** The GitHub repository behind the github endpoint (the repository of spec.configSync). */
  github: SandboxGitHub;
  /** Fault rules, mutable while running. */
  faults: Fault[];
  /** Every request served, for tests and benchmarks. */
  requests: RequestLog[];
  close(): Promise<void>;
}

export const SANDBOX_TOKEN = 'sandbox-token';

/** Start the loopback servers (one per API) over a world. */
export interface SandboxOptions {
  faults?: Fault[];
  /** Files on the sandbox GitHub repository's default branch (default: none). */
  githubFiles?: Record<string, string>;
}

export async function startSandbox(world: SandboxWorld, options: SandboxOptions = {}): Promise<Sandbox> {
  const faults = options.faults ?? [];
  const requests: RequestLog[] = [];
  const ctx = (api: ApiName) => ({
    faults,
    log: requests,
    token: SANDBOX_TOKEN,
    errorBody:
      api === 'connectgateway'
        ? (status: number, message: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code: status })
        : api === 'github'
          ? (_status: number, message: string) => ({ message, documentation_url: 'https://docs.github.com/rest' })
          : (status: number, message: string) => googleError(status, message),
  });
  const now = () => world.clock.now();
  const github = new SandboxGitHub({ ...(githubRepository(world.spec) ?? { owner: 'gpu-fleet', repo: 'fleet' }), defaultBranch: world.spec.configSync.branch, files: options.githubFiles ?? {}, now });
  const servers: Record<ApiName, ApiServer> = {
    compute: await startApiServer('compute', computeApi(world), ctx('compute')),
    container: await startApiServer('container', containerApi(world), ctx('container')),
    gkehub: await startApiServer('gkehub', gkehubApi(world), ctx('gkehub')),
    connectgateway: await startApiServer('connectgateway', connectGatewayApi(world), ctx('connectgateway')),
    github: await startApiServer('github', githubApi(github, now), ctx('github')),
  };
  return {
    endpoints: {
      compute: servers.compute.url,
      container: servers.container.url,
      gkehub: servers.gkehub.url,
      connectgateway: servers.connectgateway.url,
      github: servers.github.url,
      project: world.project,
    },
    token: SANDBOX_TOKEN,
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
  /** Connection settings for the adapters: same clients as production, loopback endpoints. */
  connection: { project: string; endpoints: SandboxEndpoints; token: string };
  close(): Promise<void>;
}
