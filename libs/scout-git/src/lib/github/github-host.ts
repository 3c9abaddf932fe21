import { App, Octokit, RequestError } from 'octokit';
import pLimit from 'p-limit';
import { z } from 'zod';
import { retryOnConflict } from '@gpu-fleet/retry';
import {
  proposalParents,
  readMetadata,
  readPlanTrailer,
  type GitHostPort,
  type Logger,
  type ProposalRequest,
  type ProposalResult,
} from '@gpu-fleet/scout-domain';

export type GitHubAuth =
  { kind: 'token'; token: string } | { kind: 'app'; appId: string; privateKey: string; installationId: number };

export interface GitHubHostOptions {
  owner: string;
  repo: string;
  auth: GitHubAuth;
  /** API root (https://api.github.com, GitHub Enterprise, or the sandbox). */
  baseUrl?: string;
  logger: Logger;
  /** Base of plugin-retry's quadratic back-off on 5xx (default 1000 ms). */
  retryBaseMs?: number;
  /** Wait for a primary rate limit at most this long before giving up (default 60 s). */
  maxRateLimitWaitSec?: number;
  author?: { name: string; email: string };
  /**
   * plugin-throttling spaces writes ≥ 1 s apart as GitHub asks of integrations (default on). Off
   * only against the sandbox, which has no such limit, to keep tests fast.
   */
  throttle?: boolean;
  /**
   * Folder of the gpu-fleet tree inside the repository (the spec's configSync.dir; "" = the root).
   * Paths given to and returned by this host are relative to it.
   */
  dir?: string;
}

/** Repository permissions the scout's App must hold (GitHub's names → the labels of the App settings page). */
export const REQUIRED_APP_PERMISSIONS: Readonly<Record<string, string>> = {
  contents: 'Contents',
  pull_requests: 'Pull requests',
  workflows: 'Workflows',
};

/** The scout's GitHub identity cannot do what a sweep needs: a configuration problem, said precisely. */
export class GitHubPermissionError extends Error {
  override name = 'GitHubPermissionError';
}

// Narrow views of the responses the adapter reads (parsed at the boundary).
const InstallationSchema = z.object({ permissions: z.record(z.string(), z.enum(['read', 'write', 'admin'])) });
const RefSchema = z.object({ object: z.object({ sha: z.string() }) });
const CommitSchema = z.object({
  sha: z.string(),
  message: z.string(),
  tree: z.object({ sha: z.string() }),
  parents: z.array(z.object({ sha: z.string() })),
});
const ShaSchema = z.object({ sha: z.string() });
const CompareSchema = z.object({ status: z.enum(['diverged', 'ahead', 'behind', 'identical']) });
const PullSchema = z.object({
  number: z.number(),
  node_id: z.string(),
  title: z.string(),
  body: z.string().nullable(),
  html_url: z.string(),
  head: z.object({ ref: z.string() }),
  auto_merge: z.object({}).passthrough().nullable().optional(),
});
type Pull = z.infer<typeof PullSchema>;
const TreeSchema = z.object({
  truncated: z.boolean(),
  tree: z.array(z.object({ path: z.string(), type: z.string(), sha: z.string() })),
});
const BlobSchema = z.object({ encoding: z.literal('base64'), content: z.string() });

/**
 * Proposals as one GitHub pull request from one branch, written through the Git Data API (blobs
 * inline in one tree, one commit, a fast-forward ref update) so no checkout is needed.
 * - The branch is the scout's only while its head carries the plan trailer; otherwise a person
 *   pushed to it and the scout leaves it alone.
 * - The ref is moved without force: a concurrent sweep that moved it first makes ours fail with
 *   "Update is not a fast forward" (compare-and-swap), and we re-read and converge.
 * - Secondary rate limits are never retried (GitHub asks clients to stop); 5xx are retried by
 *   plugin-retry. https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
 */
export class GitHubHost implements GitHostPort {
  private octokitPromise: Promise<InstanceType<typeof Octokit>> | null = null;

  constructor(private readonly settings: GitHubHostOptions) {}

  private prefix(): string {
    return this.settings.dir ? `${this.settings.dir.replace(/\/+$/, '')}/` : '';
  }

  /** A path of the gpu-fleet tree as a path in the repository. */
  private repoPath(path: string): string {
    return this.prefix() + path;
  }

  describe(): string {
    return `GitHub ${this.settings.owner}/${this.settings.repo}${this.settings.baseUrl && !this.settings.baseUrl.includes('api.github.com') ? ` at ${this.settings.baseUrl}` : ''}`;
  }

  private client(): Promise<InstanceType<typeof Octokit>> {
    if (this.octokitPromise) return this.octokitPromise;
    const { logger } = this.settings;
    const maxWait = this.settings.maxRateLimitWaitSec ?? 60;
    const options = {
      baseUrl: this.settings.baseUrl ?? 'https://api.github.com',
      userAgent: 'gpu-fleet-region-scout',
      retry: { retryAfterBaseValue: this.settings.retryBaseMs ?? 1000 },
      throttle: {
        enabled: this.settings.throttle !== false,
        onRateLimit: (
          retryAfter: number,
          opts: { method: string; url: string },
          _octokit: unknown,
          retryCount: number,
        ) => {
          logger.warn({ retryAfter, method: opts.method, url: opts.url }, 'GitHub rate limit');
          return retryCount < 1 && retryAfter <= maxWait;
        },
        // Never retry a secondary rate limit: stop the sweep and let the next one try.
        onSecondaryRateLimit: (retryAfter: number, opts: { method: string; url: string }) => {
          logger.warn({ retryAfter, method: opts.method, url: opts.url }, 'GitHub secondary rate limit; stopping');
          return false;
        },
      },
      log: {
        debug: () => undefined,
        info: () => undefined,
        warn: (m: string) => logger.debug({ octokit: m }, 'octokit'),
        error: (m: string) => logger.debug({ octokit: m }, 'octokit'),
      },
    };
    const auth = this.settings.auth;
    if (auth.kind === 'token') {
      this.octokitPromise = Promise.resolve(new Octokit({ ...options, auth: auth.token }));
      return this.octokitPromise;
    }
    const app = new App({ appId: auth.appId, privateKey: auth.privateKey, Octokit: Octokit.defaults(options) });
    this.octokitPromise = (async () => {
      await this.checkInstallation(app, auth.installationId);
      return (await app.getInstallationOctokit(auth.installationId)) as InstanceType<typeof Octokit>;
    })();
    // A failed start (wrong key, missing permission) is not cached: the next call says it again.
    this.octokitPromise.catch(() => (this.octokitPromise = null));
    return this.octokitPromise;
  }

  /**
   * The App installation's granted permissions, checked before anything is written: what the scout
   * does needs Contents (its branch), Pull requests (the proposal) and Workflows — once main has
   * changed anything under .github/workflows/, bringing the branch up to date moves workflow files,
   * which GitHub refuses to an App without `workflows: write`, and every later sweep would stop.
   * https://docs.github.com/en/rest/apps/apps#get-an-installation-for-the-authenticated-app
   */
  private async checkInstallation(app: InstanceType<typeof App>, installationId: number): Promise<void> {
    const { data } = await app.octokit.request('GET /app/installations/{installation_id}', {
      installation_id: installationId,
    });
    const granted = InstallationSchema.parse(data).permissions;
    const missing = Object.entries(REQUIRED_APP_PERMISSIONS).filter(([name]) => granted[name] !== 'write');
    if (missing.length)
      throw new GitHubPermissionError(
        `the GitHub App installation ${installationId} lacks ${missing.map(([name, label]) => `${label}: write (${name}: ${granted[name] ?? 'none'})`).join(', ')}; in the App's settings (Permissions & events → Repository permissions) set ${missing.map(([, label]) => label).join(', ')} to "Read and write", then accept the new permissions on the installation (docs/runbook.md, step 7)`,
      );
  }

  /**
   * The files under `paths` (folders end with "/", or exact files) at the head of `branch`: what a
   * sweep needs of the repository when it has no checkout (the in-cluster CronJob). One recursive
   * tree read and one blob read per file, a few at a time.
   */
  async readFiles(branch: string, paths: readonly string[]): Promise<{ commit: string; files: Map<string, string> }> {
    const gh = await this.client();
    const repo = { owner: this.settings.owner, repo: this.settings.repo };
    const head = await this.branchHead(branch);
    if (!head) throw new Error(`${this.describe()}: branch "${branch}" not found; check configSync.branch in the spec`);
    const tree = TreeSchema.parse(
      (await gh.rest.git.getTree({ ...repo, tree_sha: head.tree.sha, recursive: 'true' })).data,
    );
    // https://docs.github.com/en/rest/git/trees#get-a-tree: a truncated listing would silently miss files.
    if (tree.truncated)
      throw new Error(
        `${this.describe()}: the tree of ${branch} is too large to list in one call (truncated); run the sweep from a checkout instead`,
      );
    const inRepo = paths.map((p) => this.repoPath(p));
    const wanted = tree.tree.filter(
      (e) => e.type === 'blob' && inRepo.some((p) => (p.endsWith('/') ? e.path.startsWith(p) : e.path === p)),
    );
    const files = new Map<string, string>();
    const limit = pLimit(4);
    await Promise.all(
      wanted.map((e) =>
        limit(async () => {
          const blob = BlobSchema.parse((await gh.rest.git.getBlob({ ...repo, file_sha: e.sha })).data);
          files.set(e.path.slice(this.prefix().length), Buffer.from(blob.content, 'base64').toString('utf8'));
        }),
      ),
    );
    return { commit: head.sha, files: new Map([...files].sort(([a], [b]) => a.localeCompare(b))) };
  }

  async propose(req: ProposalRequest): Promise<ProposalResult> {
    return this.guard(req.branch, () =>
      // A concurrent sweep that moved the branch first makes our non-force ref update (or create) fail
      // with 422: re-read and converge.
      retryOnConflict(() => this.proposeOnce(req), {
        isConflict: (e) =>
          e instanceof RequestError && e.status === 422 && /fast forward|already exists/i.test(e.message),
        onConflict: () =>
          this.settings.logger.info({ branch: req.branch }, 'branch moved by a concurrent sweep; re-reading'),
      }),
    );
  }

  private async proposeOnce(req: ProposalRequest): Promise<ProposalResult> {
    const gh = await this.client();
    const repo = { owner: this.settings.owner, repo: this.settings.repo };
    const baseSha =
      req.baseCommit ??
      RefSchema.parse((await gh.rest.git.getRef({ ...repo, ref: `heads/${req.base}` })).data).object.sha;
    const baseCommit = CommitSchema.parse((await gh.rest.git.getCommit({ ...repo, commit_sha: baseSha })).data);
    const head = await this.branchHead(req.branch);

    let commit = head?.sha ?? null;
    if (head) {
      const trailer = readPlanTrailer(head.message);
      if (!trailer) return this.leftAlone(req.branch, head.sha);
      if (trailer !== req.planHash) commit = await this.commit(req, baseCommit, head);
    } else {
      commit = await this.commit(req, baseCommit, null);
    }

    const pr = await this.openPull(req.branch);
    if (!pr) {
      const created = await this.createPull(req);
      const note = created.fresh ? await this.decorate(created.pull, req) : null;
      return {
        action: created.fresh ? 'created' : 'updated',
        branch: req.branch,
        commit,
        url: created.pull.html_url,
        number: created.pull.number,
        message: `${created.fresh ? 'opened' : 'found'} pull request #${created.pull.number}${note ? `; ${note}` : ''}`,
      };
    }
    const meta = readMetadata(pr.body);
    const committed = commit !== head?.sha;
    // Auto-merge that an earlier sweep could not enable is tried again.
    const autoMerge = req.autoMerge && !pr.auto_merge ? await this.enableAutoMerge(pr) : null;
    const note = autoMerge ? `; ${autoMerge}` : '';
    if (meta?.body === req.bodyHash && pr.title === req.title && !committed && !autoMerge?.startsWith('merged')) {
      return {
        action: 'unchanged',
        branch: req.branch,
        commit,
        url: pr.html_url,
        number: pr.number,
        message: `pull request #${pr.number} already proposes this plan${note}`,
      };
    }
    if (meta?.body !== req.bodyHash || pr.title !== req.title)
      await gh.rest.pulls.update({ ...repo, pull_number: pr.number, title: req.title, body: req.body });
    return {
      action: 'updated',
      branch: req.branch,
      commit,
      url: pr.html_url,
      number: pr.number,
      message: `updated pull request #${pr.number}${committed ? ' with a new commit' : ' (description only)'}${note}`,
    };
  }

  async withdraw(req: { base: string; branch: string; comment: string }): Promise<ProposalResult> {
    return this.guard(req.branch, async () => {
      const gh = await this.client();
      const repo = { owner: this.settings.owner, repo: this.settings.repo };
      const pr = await this.openPull(req.branch);
      const head = await this.branchHead(req.branch);
      if (!pr)
        return {
          action: 'nothing-open',
          branch: req.branch,
          commit: head?.sha ?? null,
          url: null,
          number: null,
          message: 'no open proposal',
        };
      if (head && !readPlanTrailer(head.message)) return this.leftAlone(req.branch, head.sha, pr);
      await gh.rest.issues.createComment({ ...repo, issue_number: pr.number, body: req.comment });
      await gh.rest.pulls.update({ ...repo, pull_number: pr.number, state: 'closed' });
      if (head) await gh.rest.git.deleteRef({ ...repo, ref: `heads/${req.branch}` });
      return {
        action: 'closed',
        branch: req.branch,
        commit: null,
        url: pr.html_url,
        number: pr.number,
        message: `closed pull request #${pr.number}: the plan is empty`,
      };
    });
  }

  /** Turn GitHub's refusals into a clean stop with one line; anything else is a bug and propagates. */
  private async guard(branch: string, fn: () => Promise<ProposalResult>): Promise<ProposalResult> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof GitHubPermissionError) {
        this.settings.logger.error({ branch }, e.message);
        return { action: 'stopped', branch, commit: null, url: null, number: null, message: e.message };
      }
      if (e instanceof RequestError) {
        const secondary = e.status === 403 && /secondary rate limit/i.test(e.message);
        const hint = /without `?workflows?`? (permission|scope)/i.test(e.message)
          ? " — give the scout's identity Workflows: write (the App permission, or the `workflow` scope / Workflows permission of a token): main changed .github/workflows/ and the branch must follow it"
          : /not permitted to create or approve pull requests/i.test(e.message)
            ? " — the workflow's own GITHUB_TOKEN may not open pull requests here; set the REGION_SCOUT_APP_* or REGION_SCOUT_GITHUB_TOKEN secrets"
            : '';
        const why = secondary
          ? 'GitHub secondary rate limit: stopped; the next sweep retries'
          : `GitHub answered ${e.status}: ${e.message.split('\n')[0]} (${e.request.method} ${new URL(e.request.url).pathname})${hint}`;
        this.settings.logger.warn({ status: e.status, branch }, why);
        return { action: 'stopped', branch, commit: null, url: null, number: null, message: why };
      }
      throw e;
    }
  }

  private leftAlone(branch: string, sha: string, pr?: Pull): ProposalResult {
    const message = `${branch} has a commit a person pushed (${sha.slice(0, 7)}): left alone; delete the branch or merge the pull request to let the scout propose again`;
    this.settings.logger.warn({ branch, sha }, message);
    return {
      action: 'left-alone',
      branch,
      commit: sha,
      url: pr?.html_url ?? null,
      number: pr?.number ?? null,
      message,
    };
  }

  private async branchHead(branch: string): Promise<z.infer<typeof CommitSchema> | null> {
    const gh = await this.client();
    const repo = { owner: this.settings.owner, repo: this.settings.repo };
    try {
      const sha = RefSchema.parse((await gh.rest.git.getRef({ ...repo, ref: `heads/${branch}` })).data).object.sha;
      return CommitSchema.parse((await gh.rest.git.getCommit({ ...repo, commit_sha: sha })).data);
    } catch (e) {
      if (e instanceof RequestError && e.status === 404) return null;
      throw e;
    }
  }

  /**
   * Whether `ancestor` is in `head`'s history: GitHub's compare of ancestor...head says "ahead" or
   * "identical" exactly then. One commit per page is enough, only the status is read.
   * https://docs.github.com/en/rest/commits/commits#compare-two-commits
   */
  private async hasInHistory(head: string, ancestor: string): Promise<boolean> {
    const gh = await this.client();
    const { data } = await gh.rest.repos.compareCommitsWithBasehead({
      owner: this.settings.owner,
      repo: this.settings.repo,
      basehead: `${ancestor}...${head}`,
      per_page: 1,
    });
    const { status } = CompareSchema.parse(data);
    return status === 'ahead' || status === 'identical';
  }

  /** One commit: the base tree plus the files (inline contents, deletions as sha null); parents per proposalParents. */
  private async commit(
    req: ProposalRequest,
    base: z.infer<typeof CommitSchema>,
    head: z.infer<typeof CommitSchema> | null,
  ): Promise<string> {
    const gh = await this.client();
    const repo = { owner: this.settings.owner, repo: this.settings.repo };
    const tree = ShaSchema.parse(
      (
        await gh.rest.git.createTree({
          ...repo,
          base_tree: base.tree.sha,
          tree: req.files.map((f) =>
            f.content === null
              ? { path: this.repoPath(f.path), mode: '100644' as const, type: 'blob' as const, sha: null }
              : { path: this.repoPath(f.path), mode: '100644' as const, type: 'blob' as const, content: f.content },
          ),
        })
      ).data,
    ).sha;
    const parents = proposalParents(
      base.sha,
      head && { sha: head.sha, baseInHistory: await this.hasInHistory(head.sha, base.sha) },
    );
    const author = {
      ...(this.settings.author ?? { name: 'region-scout', email: 'region-scout@users.noreply.github.com' }),
    };
    const sha = ShaSchema.parse(
      (await gh.rest.git.createCommit({ ...repo, message: req.commitMessage, tree, parents, author })).data,
    ).sha;
    if (head) await gh.rest.git.updateRef({ ...repo, ref: `heads/${req.branch}`, sha, force: false });
    else await gh.rest.git.createRef({ ...repo, ref: `refs/heads/${req.branch}`, sha });
    return sha;
  }

  private async openPull(branch: string): Promise<Pull | null> {
    const gh = await this.client();
    const list = (
      await gh.rest.pulls.list({
        owner: this.settings.owner,
        repo: this.settings.repo,
        head: `${this.settings.owner}:${branch}`,
        state: 'open',
        per_page: 10,
      })
    ).data;
    const pulls = z.array(PullSchema).parse(list);
    return pulls.find((p) => p.head.ref === branch) ?? null;
  }

  /** Open the pull request; if a concurrent sweep just opened it, use theirs. */
  private async createPull(req: ProposalRequest): Promise<{ pull: Pull; fresh: boolean }> {
    const gh = await this.client();
    try {
      const pull = PullSchema.parse(
        (
          await gh.rest.pulls.create({
            owner: this.settings.owner,
            repo: this.settings.repo,
            head: req.branch,
            base: req.base,
            title: req.title,
            body: req.body,
            maintainer_can_modify: true,
          })
        ).data,
      );
      return { pull, fresh: true };
    } catch (e) {
      if (
        e instanceof RequestError &&
        e.status === 422 &&
        /already exists/i.test(JSON.stringify(e.response?.data ?? ''))
      ) {
        const pull = await this.openPull(req.branch);
        if (pull) return { pull, fresh: false };
      }
      throw e;
    }
  }

  /** Labels, and auto-merge when asked; what happened to auto-merge, when it did not simply work. */
  private async decorate(pr: Pull, req: ProposalRequest): Promise<string | null> {
    const gh = await this.client();
    if (req.labels.length)
      await gh.rest.issues.addLabels({
        owner: this.settings.owner,
        repo: this.settings.repo,
        issue_number: pr.number,
        labels: req.labels,
      });
    return req.autoMerge ? this.enableAutoMerge(pr) : null;
  }

  /**
   * Enable auto-merge (GraphQL only: https://docs.github.com/en/graphql/reference/mutations#enablepullrequestautomerge).
   * GitHub's refusals are outcomes, not failures — the pull request is open and the sweep's evidence
   * must still be saved; the next sweep tries again:
   * - "is in clean status": nothing left to wait for (checks passed, mergeable), so GitHub will not
   *   queue it; merged now with the same method, as auto-merge would have.
   * - "Auto merge is not allowed for this repository": the repository setting is off.
   * Returns null when auto-merge is on, else what happened.
   */
  private async enableAutoMerge(pr: Pull): Promise<string | null> {
    const gh = await this.client();
    const repo = { owner: this.settings.owner, repo: this.settings.repo };
    try {
      await gh.graphql(
        'mutation($pullRequestId: ID!) { enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: SQUASH }) { pullRequest { number } } }',
        { pullRequestId: pr.node_id },
      );
      return null;
    } catch (e) {
      const said = graphqlErrors(e);
      if (!said) throw e;
      const { logger } = this.settings;
      if (said.some((m) => /clean status/i.test(m))) {
        try {
          await gh.rest.pulls.merge({ ...repo, pull_number: pr.number, merge_method: 'squash' });
          logger.info({ pr: pr.number }, 'auto-merge: already mergeable, merged');
          return `merged #${pr.number} (already mergeable: GitHub does not queue auto-merge on a clean pull request)`;
        } catch (m) {
          if (!(m instanceof RequestError)) throw m;
          const why = `auto-merge not enabled (clean status) and the merge was refused: GitHub answered ${m.status}: ${m.message.split('\n')[0]}; the next sweep tries again`;
          logger.warn({ pr: pr.number, status: m.status }, why);
          return why;
        }
      }
      const why = said.some((m) => /not allowed for this repository/i.test(m))
        ? 'auto-merge is off in this repository (Settings → General → Pull Requests → Allow auto-merge): a person merges it; the next sweep tries again'
        : `auto-merge not enabled: GitHub said "${said.join('; ')}"; the next sweep tries again`;
      logger.warn({ pr: pr.number }, why);
      return why;
    }
  }
}

/** The messages of a GraphQL error response (octokit's GraphqlResponseError carries them in `errors`), or null. */
function graphqlErrors(e: unknown): string[] | null {
  const errors = (e as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || !errors.length) return null;
  return errors.map((x) => String((x as { message?: unknown }).message ?? x));
}
