import { App, Octokit, RequestError } from 'octokit';
import type { Logger } from '@gpu-fleet/scout-domain';

export type GitHubAuth =
  { kind: 'token'; token: string } | { kind: 'app'; appId: string; privateKey: string; installationId: number };

/** How the adapter talks to GitHub: where, as whom, and within which limits of time. */
export interface GitHubClientOptions {
  /** API root (https://api.github.com, GitHub Enterprise, or the sandbox). */
  baseUrl?: string;
  auth: GitHubAuth;
  logger: Logger;
  /** Base of plugin-retry's quadratic back-off on 5xx and timeouts (default 1000 ms). */
  retryBaseMs?: number;
  /** Wait out a rate limit at most this long, once, before giving up (default 60 s). */
  maxRateLimitWaitSec?: number;
  /**
   * plugin-throttling spaces writes ≥ 1 s apart as GitHub asks of integrations (default on). Off
   * only against the sandbox, which has no such limit, to keep tests fast.
   */
  throttle?: boolean;
  /**
   * Each request's own time limit (default 30 s). GitHub ends a request it has worked on for 10 s
   * with a timeout of its own ("Server Error",
   * https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#timeouts), so
   * 30 s is an answer that will not come; without a limit fetch waits 300 s for headers.
   */
  callTimeoutMs?: number;
  /** No request starts, and none runs, past this time (ms on `now`): the sweep's own deadline. */
  deadline?: number;
  /** The clock deadlines and rate-limit resets are read on (default Date.now). */
  now?: () => number;
  /** How a rate-limit wait sleeps (default a timer; the soak advances its simulated clock). */
  sleep?: (ms: number) => Promise<void>;
}

/** GitHub refused something a person can fix or the next sweep can retry: the proposal stops with this one line. */
export class GitHubStopError extends Error {
  override name = 'GitHubStopError';
}

/** The scout's GitHub identity cannot do what a sweep needs: a configuration problem, said precisely. */
export class GitHubPermissionError extends GitHubStopError {
  override name = 'GitHubPermissionError';
}

/** GitHub's rate limit outlasted what a sweep may wait: the sweep stops, the next one tries again. */
export class GitHubRateLimitError extends Error {
  override name = 'GitHubRateLimitError';
  constructor(
    message: string,
    readonly kind: 'primary' | 'secondary',
    readonly status: number,
    readonly waitSec: number,
  ) {
    super(message);
  }
}

/** The sweep's deadline came before this request could be made or answered. */
export class GitHubDeadlineError extends Error {
  override name = 'GitHubDeadlineError';
}

/** Repository permissions the scout's App must hold (GitHub's names → the labels of the App settings page). */
export const REQUIRED_APP_PERMISSIONS: Readonly<Record<string, string>> = {
  contents: 'Contents',
  pull_requests: 'Pull requests',
  workflows: 'Workflows',
};

/**
 * A rate limit in GitHub's answer, and how long GitHub asks to wait before the next request
 * (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit):
 * - primary: "a 403 or 429 response, and the x-ratelimit-remaining header will be 0. You should not
 *   retry your request until after the time specified by the x-ratelimit-reset header";
 * - secondary: "a 403 or 429 response and an error message that indicates that you exceeded a
 *   secondary rate limit": after `retry-after` seconds when given, else after x-ratelimit-reset
 *   when remaining is 0, "Otherwise, wait for at least one minute before retrying".
 * A 429 with neither sign is read as a secondary limit (one minute). A 403 with neither is a
 * permission refusal, not a limit.
 */
export function rateLimitOf(
  e: unknown,
  nowMs: number,
): { kind: 'primary' | 'secondary'; status: number; waitSec: number } | null {
  if (!(e instanceof RequestError) || (e.status !== 403 && e.status !== 429)) return null;
  const headers = (e.response?.headers ?? {}) as Record<string, string | undefined>;
  const secondary = /secondary rate limit/i.test(e.message);
  const exhausted = headers['x-ratelimit-remaining'] === '0';
  if (e.status === 403 && !secondary && !exhausted) return null;
  const retryAfter = Number(headers['retry-after']);
  const reset = Number(headers['x-ratelimit-reset']);
  const untilReset = exhausted && Number.isFinite(reset) ? Math.max(0, Math.ceil(reset - nowMs / 1000)) + 1 : null;
  const waitSec =
    Number.isFinite(retryAfter) && retryAfter > 0 && (secondary || !exhausted) ? retryAfter : (untilReset ?? 60);
  return { kind: secondary || !exhausted ? 'secondary' : 'primary', status: e.status, waitSec };
}

/** Warn this many days before a token expires. */
export const TOKEN_EXPIRY_WARN_DAYS = 14;

/**
 * A token with an expiry (a fine-grained personal access token always has one) is answered with
 * its expiry on every response, in the header GitHub-Authentication-Token-Expiration, as
 * "YYYY-MM-DD HH:MM:SS UTC"; App installation tokens and tokens without an expiry have none.
 * Returns the expiry when it is within TOKEN_EXPIRY_WARN_DAYS of `nowMs`.
 */
export function tokenExpiresSoon(res: unknown, nowMs: number): { expires: string; daysLeft: number } | null {
  const headers = (res as { headers?: Record<string, unknown> } | undefined)?.headers;
  const raw = headers?.['github-authentication-token-expiration'];
  if (typeof raw !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$/.exec(raw.trim());
  const at = m ? Date.parse(`${m[1]}T${m[2]}Z`) : Date.parse(raw);
  if (!Number.isFinite(at)) return null;
  const daysLeft = Math.max(0, Math.floor((at - nowMs) / 86_400_000));
  return at - nowMs <= TOKEN_EXPIRY_WARN_DAYS * 86_400_000 ? { expires: new Date(at).toISOString(), daysLeft } : null;
}

/**
 * octokit's own plugins, configured so that only this adapter's rules act on limits: plugin-retry
 * retries 5xx and timeouts (never 429, which it would retry at 1/4/9 s whatever Retry-After says),
 * plugin-throttling only spaces writes (it reads limits on 403 only, and its handlers here decline).
 * Then one hook, outermost: no request past the deadline, and a rate limit (403 or 429) waited out
 * once when GitHub's wait fits in maxRateLimitWaitSec and the deadline — never a retry inside it.
 */
export function octokitClass(o: GitHubClientOptions) {
  const { logger } = o;
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxWait = o.maxRateLimitWaitSec ?? 60;
  const callTimeoutMs = o.callTimeoutMs ?? 30_000;
  const remainingMs = () => (o.deadline === undefined ? Infinity : o.deadline - now());
  const describe = (options: { method: string; url: string }) =>
    `${options.method} ${new URL(options.url, 'http://github.invalid').pathname}`;

  const timedFetch = (url: string | URL | Request, init: RequestInit = {}) => {
    const left = remainingMs();
    if (left <= 0) return Promise.reject(new GitHubDeadlineError('the sweep deadline passed'));
    const limit = AbortSignal.timeout(Math.min(callTimeoutMs, left));
    return fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, limit]) : limit });
  };

  let expiryWarned = false;
  const limits = (octokit: { hook: { wrap: (name: 'request', fn: Wrapped) => void } }) => {
    octokit.hook.wrap('request', async (request, options) => {
      for (let waited = false; ; waited = true) {
        if (remainingMs() <= 0)
          throw new GitHubDeadlineError(`the sweep's deadline passed before ${describe(options)}`);
        try {
          const res = await request(options);
          if (!expiryWarned) {
            const soon = tokenExpiresSoon(res, now());
            if (soon) {
              expiryWarned = true;
              logger.warn(
                { expires: soon.expires, daysLeft: soon.daysLeft },
                `the GitHub token expires in ${soon.daysLeft} day(s) (${soon.expires}): replace the secret, or use the GitHub App, which does not expire — sweeps stop proposing when it does`,
              );
            }
          }
          return res;
        } catch (e) {
          if (remainingMs() <= 0)
            throw new GitHubDeadlineError(`the sweep's deadline passed during ${describe(options)}`);
          const limit = rateLimitOf(e, now());
          if (!limit) throw e;
          const fits = !waited && limit.waitSec <= maxWait && limit.waitSec * 1000 < remainingMs();
          logger.warn(
            { status: limit.status, kind: limit.kind, waitSec: limit.waitSec, call: describe(options), waiting: fits },
            `GitHub ${limit.kind} rate limit`,
          );
          if (!fits)
            throw new GitHubRateLimitError(
              `GitHub ${limit.kind} rate limit (${limit.status}) on ${describe(options)}: GitHub asks to wait ${limit.waitSec} s${waited ? ', and was still limiting after a wait' : ''}; stopped, the next sweep retries`,
              limit.kind,
              limit.status,
              limit.waitSec,
            );
          await sleep(limit.waitSec * 1000);
        }
      }
    });
    return {};
  };

  return Octokit.plugin(limits as never).defaults({
    baseUrl: o.baseUrl ?? 'https://api.github.com',
    userAgent: 'gpu-fleet-region-scout',
    request: { fetch: timedFetch },
    retry: { retryAfterBaseValue: o.retryBaseMs ?? 1000, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
    throttle: {
      enabled: o.throttle !== false,
      onRateLimit: () => false,
      onSecondaryRateLimit: () => false,
    },
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (m: string) => logger.debug({ octokit: m }, 'octokit'),
      error: (m: string) => logger.debug({ octokit: m }, 'octokit'),
    },
  });
}

type RequestOptions = { method: string; url: string; [k: string]: unknown };
type Wrapped = (request: (options: RequestOptions) => Promise<unknown>, options: RequestOptions) => Promise<unknown>;

/**
 * An authenticated client. With App auth the installation is checked first, with the App's JWT:
 * it must include this repository (GET /repos/{owner}/{repo}/installation answers 404 otherwise —
 * without this check every later call is a 404 that reads as a missing branch) and hold the
 * permissions a sweep needs. https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
 */
export async function connect(
  o: GitHubClientOptions,
  repo: { owner: string; repo: string },
): Promise<{ octokit: InstanceType<typeof Octokit>; permissions: Record<string, string> | null }> {
  const Client = octokitClass(o);
  const auth = o.auth;
  if (auth.kind === 'token') return { octokit: new Client({ auth: auth.token }), permissions: null };
  const app = new App({ appId: auth.appId, privateKey: auth.privateKey, Octokit: Client });
  let installation: { id: number; permissions: Record<string, string> };
  try {
    installation = (await app.octokit.request('GET /repos/{owner}/{repo}/installation', repo))
      .data as typeof installation;
  } catch (e) {
    if (e instanceof RequestError && e.status === 404)
      throw new GitHubPermissionError(
        `the GitHub App ${auth.appId} is not installed on ${repo.owner}/${repo.repo} (its installation does not include this repository): in GitHub, Settings → Applications (or the organisation's GitHub Apps) → Configure → Repository access, add ${repo.repo} (docs/runbook.md, step 7)`,
      );
    throw e;
  }
  if (installation.id !== auth.installationId)
    throw new GitHubPermissionError(
      `GITHUB_APP_INSTALLATION_ID is ${auth.installationId}, but the App's installation on ${repo.owner}/${repo.repo} is ${installation.id}: set it to ${installation.id}`,
    );
  const granted = installation.permissions;
  const missing = Object.entries(REQUIRED_APP_PERMISSIONS).filter(([name]) => granted[name] !== 'write');
  if (missing.length)
    throw new GitHubPermissionError(
      `the GitHub App installation ${auth.installationId} lacks ${missing.map(([name, label]) => `${label}: write (${name}: ${granted[name] ?? 'none'})`).join(', ')}; in the App's settings (Permissions & events → Repository permissions) set ${missing.map(([, label]) => label).join(', ')} to "Read and write", then accept the new permissions on the installation (docs/runbook.md, step 7)`,
    );
  const octokit = (await app.getInstallationOctokit(auth.installationId)) as InstanceType<typeof Octokit>;
  return { octokit, permissions: granted };
}
