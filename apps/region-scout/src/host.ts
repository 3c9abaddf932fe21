import { githubRepository, type FleetSpec } from '@gpu-fleet/fleet-spec';
import type { GitHostPort, Logger } from '@gpu-fleet/scout-domain';
import { GitHubHost, LocalGitHost, type GitHubAuth } from '@gpu-fleet/scout-git';
import type { EmbeddedSandbox } from '@gpu-fleet/sandbox';
import { CliError } from './errors';
import type { Workspace } from './context';
import type { ScoutSession } from './session';

export type ProposalTarget = 'local' | 'github' | 'none';

export interface HostOptions {
  proposal: ProposalTarget;
  /** owner/repo (default: from configSync.repo). */
  repo?: string;
  githubApi?: string;
  env?: NodeJS.ProcessEnv;
  /** No GitHub call past this time (the session clock): the sweep's deadline. */
  deadline?: Date;
}

/**
 * Where proposals go. local: a branch in this repository (the default). github: a pull
 * request, with GITHUB_TOKEN or a GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY,
 * GITHUB_APP_INSTALLATION_ID); in the sandbox it talks to the sandbox's GitHub server.
 */
export function proposalHost(
  ws: Workspace,
  spec: FleetSpec,
  session: ScoutSession,
  options: HostOptions,
  logger: Logger,
): GitHostPort | null {
  if (options.proposal === 'none') return null;
  if (options.proposal === 'local') return new LocalGitHost({ root: ws.root, logger, now: () => session.clock.now() });
  return githubHost(
    parseRepo(options.repo, spec),
    session.sandbox,
    { ...options, dir: spec.configSync.dir, validationCheck: spec.scout.proposal.validationCheck },
    logger,
  );
}

/** GitHub for one repository: the sandbox's server in the sandbox, otherwise GitHub with credentials from the environment. */
export function githubHost(
  target: { owner: string; repo: string },
  sandbox: EmbeddedSandbox | undefined,
  options: Pick<HostOptions, 'githubApi' | 'env' | 'deadline'> & { dir?: string; validationCheck?: string },
  logger: Logger,
): GitHubHost {
  const { owner, repo } = target;
  const common = {
    owner,
    repo,
    logger,
    dir: options.dir,
    validationCheck: options.validationCheck,
    ...(options.deadline ? { deadline: options.deadline.getTime() } : {}),
  };
  if (sandbox) {
    // The sandbox's GitHub keeps its rate-limit windows on the simulated clock: waits run on it too.
    const clock = sandbox.world.clock;
    return new GitHubHost({
      ...common,
      auth: { kind: 'token', token: sandbox.sandbox.githubToken },
      baseUrl: sandbox.sandbox.endpoints.github,
      retryBaseMs: 10,
      now: () => clock.now().getTime(),
      sleep: (ms) => clock.sleep(ms),
    });
  }
  const env = options.env ?? process.env;
  return new GitHubHost({
    ...common,
    auth: githubAuth(env),
    baseUrl: options.githubApi ?? env.GITHUB_API_URL ?? 'https://api.github.com',
  });
}

/** owner/name from --repo, else from the spec's configSync.repo. */
export function parseRepo(flag: string | undefined, spec: FleetSpec | null): { owner: string; repo: string } {
  if (flag) {
    const m = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(flag);
    if (!m) throw new CliError(`--repo: "${flag}" is not owner/name; for example --repo gpu-fleet/gpu-fleet`);
    return { owner: m[1]!, repo: m[2]! };
  }
  if (!spec)
    throw new CliError(
      '--repo is required with --from-github (there is no local spec to read configSync.repo from); for example --repo gpu-fleet/gpu-fleet',
    );
  const repo = githubRepository(spec);
  if (!repo)
    throw new CliError(
      `--repo: configSync.repo "${spec.configSync.repo}" is not a GitHub repository; pass --repo owner/name`,
    );
  return repo;
}

/** GitHub credentials from the environment; a CliError naming what is missing. */
export function githubAuth(env: NodeJS.ProcessEnv): GitHubAuth {
  if (env.GITHUB_APP_ID || env.GITHUB_APP_PRIVATE_KEY || env.GITHUB_APP_INSTALLATION_ID) {
    const missing = ['GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_INSTALLATION_ID'].filter((k) => !env[k]);
    if (missing.length)
      throw new CliError(`GitHub App auth needs ${missing.join(', ')} as well (or use GITHUB_TOKEN instead)`);
    const installationId = Number(env.GITHUB_APP_INSTALLATION_ID);
    if (!Number.isInteger(installationId) || installationId <= 0)
      throw new CliError(
        `GITHUB_APP_INSTALLATION_ID: "${env.GITHUB_APP_INSTALLATION_ID}" is not a number; copy it from the app's installation URL`,
      );
    return {
      kind: 'app',
      appId: env.GITHUB_APP_ID!,
      privateKey: env.GITHUB_APP_PRIVATE_KEY!.replace(/\\n/g, '\n'),
      installationId,
    };
  }
  if (!env.GITHUB_TOKEN)
    throw new CliError(
      '--proposal github needs GITHUB_TOKEN (contents and pull-requests write) or a GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID); or use --proposal local',
    );
  return { kind: 'token', token: env.GITHUB_TOKEN };
}
