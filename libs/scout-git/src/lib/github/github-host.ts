import { RequestError, type Octokit } from 'octokit';
import pLimit from 'p-limit';
import { z } from 'zod';
import { retryOnConflict } from '@gpu-fleet/retry';
import {
  mergeOnlyBringsBase,
  nextProposalCommit,
  readMetadata,
  readPlanTrailer,
  withdrawnBody,
  type BranchPosition,
  type ChangedFile,
  type GitHostPort,
  type ProposalRequest,
  type ProposalResult,
} from '@gpu-fleet/scout-domain';
import {
  connect,
  GitHubDeadlineError,
  GitHubPermissionError,
  GitHubRateLimitError,
  GitHubStopError,
  type GitHubClientOptions,
} from './client';
import { AutoMerge } from './auto-merge';

export interface GitHubHostOptions extends GitHubClientOptions {
  owner: string;
  repo: string;
  /**
   * Author of the scout's commits, for token auth only. Under App auth no author is sent: GitHub
   * signs an App's API commits only when they carry no custom author or committer, and a
   * "Require signed commits" rule refuses unsigned ones.
   * https://docs.github.com/en/authentication/managing-commit-signature-verification/about-commit-signature-verification#signature-verification-for-bots
   */
  author?: { name: string; email: string };
  /**
   * Folder of the gpu-fleet tree inside the repository (the spec's configSync.dir; "" = the root).
   * Paths given to and returned by this host are relative to it.
   */
  dir?: string;
  /** The check run that validates a proposal (validate.yml's gate job; scout.proposal.validationCheck). */
  validationCheck?: string;
}

type Client = InstanceType<typeof Octokit>;

// Narrow views of the responses the adapter reads (parsed at the boundary).
const RefSchema = z.object({ object: z.object({ sha: z.string() }) });
const CommitSchema = z.object({
  sha: z.string(),
  message: z.string(),
  tree: z.object({ sha: z.string() }),
  parents: z.array(z.object({ sha: z.string() })),
});
type Commit = z.infer<typeof CommitSchema>;
const ShaSchema = z.object({ sha: z.string() });
const CompareSchema = z.object({
  status: z.enum(['diverged', 'ahead', 'behind', 'identical']),
  files: z.array(z.object({ filename: z.string(), status: z.string(), sha: z.string().nullable() })).optional(),
});
export const PullSchema = z.object({
  number: z.number(),
  node_id: z.string(),
  state: z.enum(['open', 'closed']),
  title: z.string(),
  body: z.string().nullable(),
  html_url: z.string(),
  head: z.object({ ref: z.string(), sha: z.string().nullable().optional() }),
  base: z.object({ ref: z.string() }),
  labels: z.array(z.object({ name: z.string() })).default([]),
  auto_merge: z.object({}).passthrough().nullable().optional(),
  merged_at: z.string().nullable().optional(),
  closed_at: z.string().nullable().optional(),
  created_at: z.string().optional(),
});
export type Pull = z.infer<typeof PullSchema>;
const TreeSchema = z.object({
  truncated: z.boolean(),
  tree: z.array(z.object({ path: z.string(), type: z.string(), sha: z.string() })),
});
const BlobSchema = z.object({ encoding: z.literal('base64'), content: z.string() });

/**
 * Proposals as one GitHub pull request from one branch, written through the Git Data API (blobs
 * inline in one tree, one commit, a fast-forward ref update) so no checkout is needed.
 * - The branch is the scout's while its head carries the plan trailer, or is GitHub's "Update
 *   branch" merge of the base into a commit that does; otherwise a person pushed to it and the scout
 *   leaves it alone.
 * - The ref is moved without force: a concurrent sweep that moved it first makes ours fail with
 *   "Update is not a fast forward" (compare-and-swap), and we re-read and converge.
 * - The branch follows the base: a new commit whenever the base is not in its history.
 * - A proposal a person closed without merging is declined: the same plan is not proposed again.
 * - Auto-merge is off before the branch moves to a plan that may not merge itself, and a merge the
 *   scout makes itself names the head it validated (see AutoMerge).
 */
export class GitHubHost implements GitHostPort {
  private clientPromise: Promise<{ octokit: Client; permissions: Record<string, string> | null }> | null = null;

  constructor(private readonly settings: GitHubHostOptions) {}

  private get repo() {
    return { owner: this.settings.owner, repo: this.settings.repo };
  }

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

  private async connection() {
    if (!this.clientPromise) {
      this.clientPromise = connect(this.settings, this.repo);
      // A failed start (wrong key, missing permission) is not cached: the next call says it again.
      this.clientPromise.catch(() => (this.clientPromise = null));
    }
    return this.clientPromise;
  }

  private async client(): Promise<Client> {
    return (await this.connection()).octokit;
  }

  /**
   * The files under `paths` (folders end with "/", or exact files) at the head of `branch`: what a
   * sweep needs of the repository when it has no checkout (the in-cluster CronJob). One recursive
   * tree read and one blob read per file, a few at a time.
   */
  async readFiles(branch: string, paths: readonly string[]): Promise<{ commit: string; files: Map<string, string> }> {
    const gh = await this.client();
    const head = await this.branchHead(branch);
    if (!head) throw new Error(`${this.describe()}: branch "${branch}" not found; check configSync.branch in the spec`);
    const tree = TreeSchema.parse(
      (await gh.rest.git.getTree({ ...this.repo, tree_sha: head.tree.sha, recursive: 'true' })).data,
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
          const blob = BlobSchema.parse((await gh.rest.git.getBlob({ ...this.repo, file_sha: e.sha })).data);
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
    const baseSha = req.baseCommit ?? (await this.baseHead(req.base));
    const baseCommit = CommitSchema.parse((await gh.rest.git.getCommit({ ...this.repo, commit_sha: baseSha })).data);
    const pulls = await this.pullsFor(req.branch);
    const open = pulls.find((p) => p.state === 'open') ?? null;
    const head = await this.branchHead(req.branch);

    let position: BranchPosition | null = null;
    if (head) {
      const planHash = await this.ownPlan(head, baseSha);
      if (!planHash) return this.leftAlone(req.branch, head.sha, open);
      position = { sha: head.sha, planHash, ...(await this.ancestry(baseSha, head.sha)) };
    }

    // "Not this": a person closed a proposal of this very plan without merging it.
    if (!open) {
      const declined = pulls.find((p) => isDeclined(p) && readMetadata(p.body)?.plan === req.planHash);
      if (declined) return this.declined(req, declined, head?.sha ?? null);
    }

    const notes: string[] = [];
    const autoMerge = new AutoMerge(gh, this.repo, this.settings, await this.grantedPermissions());
    // Auto-merge enabled for an earlier, capacity-only plan stays on across pushes by someone with
    // write access (GitHub turns it off only on a push by someone without it), so it would merge this
    // plan unreviewed: off first, and the branch does not move unless that worked.
    // https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/incorporating-changes-from-a-pull-request/automatically-merging-a-pull-request
    if (open?.auto_merge && !req.autoMerge) {
      await autoMerge.disable(open);
      notes.push('auto-merge turned off (this plan does not only add capacity: a person merges it)');
    }

    const next = nextProposalCommit(baseSha, position, req.planHash);
    const commit = next ? await this.commit(req, baseCommit, next.parents, head !== null) : head!.sha;

    let pr = open;
    let action: ProposalResult['action'];
    if (!pr) {
      const created = await this.createPull(req);
      pr = created.pull;
      action = created.fresh ? 'created' : 'updated';
    } else {
      const edited = await this.editIfOpen(pr, req);
      if (edited === 'closed-meanwhile') notes.push(`#${pr.number} was merged or closed meanwhile: not edited`);
      action = next || edited === 'edited' ? 'updated' : 'unchanged';
    }
    const labels = await this.reconcileLabels(pr, req.labels);
    if (labels) notes.push(labels);
    if (req.autoMerge && !pr.auto_merge) {
      const outcome = await autoMerge.enable(pr, commit);
      if (outcome.note) notes.push(outcome.note);
      if (outcome.merged && action === 'unchanged') action = 'updated';
    }
    const note = notes.length ? `; ${notes.join('; ')}` : '';
    const what =
      action === 'created'
        ? `opened pull request #${pr.number}`
        : action === 'unchanged'
          ? `pull request #${pr.number} already proposes this plan`
          : open
            ? `updated pull request #${pr.number}${next ? ' with a new commit' : ' (description only)'}`
            : `found pull request #${pr.number}`;
    return {
      action,
      branch: req.branch,
      commit,
      url: pr.html_url,
      number: pr.number,
      message: `${what}${note}`,
      openedAt: pr.created_at ?? null,
    };
  }

  async withdraw(req: { base: string; branch: string; comment: string }): Promise<ProposalResult> {
    return this.guard(req.branch, async () => {
      const gh = await this.client();
      const open = (await this.pullsFor(req.branch)).find((p) => p.state === 'open') ?? null;
      const head = await this.branchHead(req.branch);
      if (!open)
        return {
          action: 'nothing-open',
          branch: req.branch,
          commit: head?.sha ?? null,
          url: null,
          number: null,
          message: 'no open proposal',
        };
      // The base is read only when the head is not plainly the scout's (an update-branch merge).
      if (head && !readPlanTrailer(head.message) && !(await this.ownPlan(head, await this.baseHead(req.base))))
        return this.leftAlone(req.branch, head.sha, open);
      await gh.rest.issues.createComment({ ...this.repo, issue_number: open.number, body: req.comment });
      // Marked withdrawn in the same edit that closes it, so it never reads as declined by a person.
      const body = withdrawnBody(open.body);
      await gh.rest.pulls.update({
        ...this.repo,
        pull_number: open.number,
        state: 'closed',
        ...(body !== null ? { body } : {}),
      });
      if (head) await gh.rest.git.deleteRef({ ...this.repo, ref: `heads/${req.branch}` });
      return {
        action: 'closed',
        branch: req.branch,
        commit: null,
        url: open.html_url,
        number: open.number,
        message: `closed pull request #${open.number}: the plan is empty`,
      };
    });
  }

  /** Turn GitHub's refusals, limits and timeouts into a clean stop with one line; anything else is a bug and propagates. */
  private async guard(branch: string, fn: () => Promise<ProposalResult>): Promise<ProposalResult> {
    const stop = (message: string): ProposalResult => ({
      action: 'stopped',
      branch,
      commit: null,
      url: null,
      number: null,
      message,
    });
    try {
      return await fn();
    } catch (e) {
      if (e instanceof GitHubStopError || e instanceof GitHubRateLimitError || e instanceof GitHubDeadlineError) {
        this.settings.logger.error({ branch, error: e.name }, e.message);
        return stop(e.message);
      }
      if (e instanceof RequestError) {
        const why = `GitHub answered ${e.status}: ${e.message.split('\n')[0]} (${e.request.method} ${new URL(e.request.url).pathname})${hintFor(e)}`;
        this.settings.logger.warn({ status: e.status, branch }, why);
        return stop(why);
      }
      throw e;
    }
  }

  private leftAlone(branch: string, sha: string, pr: Pull | null): ProposalResult {
    const message = `${branch} has a commit a person pushed (${sha.slice(0, 7)}): left alone; delete the branch or merge the pull request to let the scout propose again`;
    this.settings.logger.warn({ branch, sha }, message);
    return {
      action: 'left-alone',
      branch,
      commit: sha,
      url: pr?.html_url ?? null,
      number: pr?.number ?? null,
      message,
      openedAt: pr?.created_at ?? null,
    };
  }

  private declined(req: ProposalRequest, pr: Pull, commit: string | null): ProposalResult {
    const message = `pull request #${pr.number} proposed this same plan and was closed without merging${pr.closed_at ? ` (${pr.closed_at})` : ''}: declined, not proposed again; the scout proposes when the plan changes (reopen #${pr.number} to accept it after all)`;
    this.settings.logger.warn({ branch: req.branch, pr: pr.number, plan: req.planHash }, message);
    return { action: 'declined', branch: req.branch, commit, url: pr.html_url, number: pr.number, message };
  }

  private async grantedPermissions(): Promise<Record<string, string> | null> {
    return (await this.connection()).permissions;
  }

  private async baseHead(base: string): Promise<string> {
    const gh = await this.client();
    try {
      return RefSchema.parse((await gh.rest.git.getRef({ ...this.repo, ref: `heads/${base}` })).data).object.sha;
    } catch (e) {
      if (!(e instanceof RequestError) || e.status !== 404) throw e;
      // GitHub answers 404 alike for a missing branch and for a repository the caller cannot see.
      const visible = await gh.rest.repos.get(this.repo).then(
        () => true,
        (r: unknown) => (r instanceof RequestError && r.status === 404 ? false : Promise.reject(r)),
      );
      throw new GitHubPermissionError(
        visible
          ? `${this.describe()} has no branch "${base}" to propose against: check configSync.branch in the spec`
          : `${this.describe()}: the repository is not found, or not visible to the scout's identity (GitHub answers 404 for both): check configSync.repo, and that the token or App installation includes this repository`,
      );
    }
  }

  private async branchHead(branch: string): Promise<Commit | null> {
    const gh = await this.client();
    try {
      const sha = RefSchema.parse((await gh.rest.git.getRef({ ...this.repo, ref: `heads/${branch}` })).data).object.sha;
      return await this.getCommit(sha);
    } catch (e) {
      if (e instanceof RequestError && e.status === 404) return null;
      throw e;
    }
  }

  private async getCommit(sha: string): Promise<Commit> {
    const gh = await this.client();
    return CommitSchema.parse((await gh.rest.git.getCommit({ ...this.repo, commit_sha: sha })).data);
  }

  /** GitHub's compare of base...head (three-dot: from their merge base). https://docs.github.com/en/rest/commits/commits#compare-two-commits */
  private async compare(base: string, head: string, perPage = 1) {
    const gh = await this.client();
    const { data } = await gh.rest.repos.compareCommitsWithBasehead({
      ...this.repo,
      basehead: `${base}...${head}`,
      per_page: perPage,
    });
    return CompareSchema.parse(data);
  }

  /** Whether the base is in the head's history, and the head in the base's (compare status ahead / behind / identical). */
  private async ancestry(base: string, head: string): Promise<Pick<BranchPosition, 'baseInHistory' | 'inBase'>> {
    const { status } = await this.compare(base, head);
    return {
      baseInHistory: status === 'ahead' || status === 'identical',
      inBase: status === 'behind' || status === 'identical',
    };
  }

  /**
   * The plan the branch head proposes, when the head is the scout's: its own commit (the trailer),
   * or GitHub's "Update branch" — a merge whose first parent is the scout's commit, whose second is
   * in the base's history, and which changes nothing against that base commit but what the scout's
   * commit changed (mergeOnlyBringsBase). Anything else is a person's: null.
   */
  private async ownPlan(head: Commit, baseSha: string): Promise<string | null> {
    const trailer = readPlanTrailer(head.message);
    if (trailer) return trailer;
    if (head.parents.length !== 2) return null;
    const [ours, theirs] = [head.parents[0]!.sha, head.parents[1]!.sha];
    const plan = readPlanTrailer((await this.getCommit(ours)).message);
    if (!plan || !(await this.ancestry(baseSha, theirs)).inBase) return null;
    const files = async (from: string, to: string): Promise<ChangedFile[]> =>
      ((await this.compare(from, to, 100)).files ?? []).map((f) => ({
        path: f.filename,
        blob: f.status === 'removed' ? null : f.sha,
      }));
    const merged = await files(theirs, head.sha);
    const scout = await files(theirs, ours);
    if (!mergeOnlyBringsBase(merged, scout)) return null;
    this.settings.logger.info(
      { head: head.sha },
      "the branch head is GitHub's update-branch merge of the base: still the scout's",
    );
    return plan;
  }

  /** The pull requests from the branch, newest first (open and closed: a closed one may be a declined plan). */
  private async pullsFor(branch: string): Promise<Pull[]> {
    const gh = await this.client();
    const list = (
      await gh.rest.pulls.list({
        ...this.repo,
        head: `${this.settings.owner}:${branch}`,
        state: 'all',
        per_page: 30,
      })
    ).data;
    return z
      .array(PullSchema)
      .parse(list)
      .filter((p) => p.head.ref === branch);
  }

  /**
   * One commit: the base tree plus the files (inline contents, deletions as sha null) on `parents`,
   * then the branch moved to it (fast-forward only) or created.
   */
  private async commit(req: ProposalRequest, base: Commit, parents: string[], branchExists: boolean): Promise<string> {
    const gh = await this.client();
    const tree = ShaSchema.parse(
      (
        await gh.rest.git.createTree({
          ...this.repo,
          base_tree: base.tree.sha,
          tree: req.files.map((f) =>
            f.content === null
              ? { path: this.repoPath(f.path), mode: '100644' as const, type: 'blob' as const, sha: null }
              : { path: this.repoPath(f.path), mode: '100644' as const, type: 'blob' as const, content: f.content },
          ),
        })
      ).data,
    ).sha;
    const author = this.settings.auth.kind === 'token' && this.settings.author ? { author: this.settings.author } : {};
    const sha = ShaSchema.parse(
      (await gh.rest.git.createCommit({ ...this.repo, message: req.commitMessage, tree, parents, ...author })).data,
    ).sha;
    if (branchExists) await gh.rest.git.updateRef({ ...this.repo, ref: `heads/${req.branch}`, sha, force: false });
    else await gh.rest.git.createRef({ ...this.repo, ref: `refs/heads/${req.branch}`, sha });
    return sha;
  }

  /** Open the pull request; if a concurrent sweep (or a retried POST that took effect) opened it, use that one. */
  private async createPull(req: ProposalRequest): Promise<{ pull: Pull; fresh: boolean }> {
    const gh = await this.client();
    try {
      const pull = PullSchema.parse(
        (
          await gh.rest.pulls.create({
            ...this.repo,
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
      if (e instanceof RequestError && e.status === 422) {
        const said = JSON.stringify(e.response?.data ?? '');
        if (/already exists/i.test(said)) {
          const pull = (await this.pullsFor(req.branch)).find((p) => p.state === 'open');
          if (pull) return { pull, fresh: false };
        }
        if (/"field":"base"/.test(said))
          throw new GitHubPermissionError(
            `${this.describe()} refused a pull request into "${req.base}" (no such branch): check configSync.branch in the spec`,
          );
      }
      throw e;
    }
  }

  /**
   * Title and body edited only when they changed, and only while the pull request is still open: it
   * is read again just before (it may have merged since the list), so a merged proposal never gets
   * a newer plan's words.
   */
  private async editIfOpen(pr: Pull, req: ProposalRequest): Promise<'edited' | 'same' | 'closed-meanwhile'> {
    if (readMetadata(pr.body)?.body === req.bodyHash && pr.title === req.title) return 'same';
    const gh = await this.client();
    const now = PullSchema.parse((await gh.rest.pulls.get({ ...this.repo, pull_number: pr.number })).data);
    if (now.state !== 'open') return 'closed-meanwhile';
    await gh.rest.pulls.update({ ...this.repo, pull_number: pr.number, title: req.title, body: req.body });
    return 'edited';
  }

  /**
   * The labels the spec asks for, on every sweep (not only on a fresh pull request: a retried create
   * that took effect, or a person who removed one). A refusal is reported, not a stop: the proposal
   * stands without them.
   */
  private async reconcileLabels(pr: Pull, labels: readonly string[]): Promise<string | null> {
    const missing = labels.filter((l) => !pr.labels.some((x) => x.name === l));
    if (!missing.length) return null;
    const gh = await this.client();
    try {
      await gh.rest.issues.addLabels({ ...this.repo, issue_number: pr.number, labels: missing });
      return null;
    } catch (e) {
      if (!(e instanceof RequestError)) throw e;
      const why = `labels ${missing.join(', ')} not added: GitHub answered ${e.status}: ${e.message.split('\n')[0]}${e.status === 403 ? " (the scout's identity needs Pull requests: write)" : ''}; the next sweep tries again`;
      this.settings.logger.warn({ pr: pr.number, status: e.status }, why);
      return why;
    }
  }
}

/** Closed without merging, and not by the scout's own withdrawal: a person declined it. */
function isDeclined(p: Pull): boolean {
  if (p.state !== 'closed' || p.merged_at) return false;
  const meta = readMetadata(p.body);
  return meta !== null && !meta.withdrawn;
}

/** What to do about a refusal whose cause a person can fix, in one clause. */
function hintFor(e: RequestError): string {
  if (/without `?workflows?`? (permission|scope)/i.test(e.message))
    return " — give the scout's identity Workflows: write (the App permission, or the `workflow` scope / Workflows permission of a token): main changed .github/workflows/ and the branch must follow it";
  if (/not permitted to create or approve pull requests/i.test(e.message))
    return " — the workflow's own GITHUB_TOKEN may not open pull requests here; set the REGION_SCOUT_APP_* or REGION_SCOUT_GITHUB_TOKEN secrets";
  if (/verified signatures/i.test(e.message))
    return ' — a rule requires signed commits: use the GitHub App identity (GitHub signs its API commits) and set no commit author';
  if (/aborted due to timeout/i.test(e.message)) return ' — GitHub did not answer in time; the next sweep retries';
  return '';
}
