import { createHash, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';

/**
 * A GitHub repository as the sandbox's GitHub server holds it: commits, trees and refs; pull
 * requests with their labels, comments and auto-merge; check runs per commit; the settings and
 * branch protection that decide what may merge; and a record of every merge, kept so a test or the
 * soak can count what happened from GitHub's side, never from the scout's beliefs.
 *
 * What GitHub does, and where it says so:
 * - Auto-merge merges once the base branch's requirements are met, and stays on when someone with
 *   write access pushes again (only a push by someone without write access, or a base change, turns
 *   it off). https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/incorporating-changes-from-a-pull-request/automatically-merging-a-pull-request
 * - Merging keeps the head branch unless the repository deletes head branches
 *   (`delete_branch_on_merge`, default false). https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/configuring-pull-request-merges/managing-the-automatic-deletion-of-branches
 * - A required check passes when its latest run concluded success, skipped or neutral
 *   (https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/collaborating-on-repositories-with-code-quality-features/troubleshooting-required-status-checks);
 *   "Require branches to be up to date" (strict) also wants the base in the head's history.
 * - Commits created through the API by a GitHub App are signed by GitHub only when the request
 *   carries no custom author or committer ("Signature verification for bots",
 *   https://docs.github.com/en/authentication/managing-commit-signature-verification/about-commit-signature-verification).
 */

/** A token's repository permissions, as GitHub names them (contents, pull_requests, workflows, checks, metadata …). */
export type GitHubPermissions = Record<string, 'read' | 'write'>;

/**
 * Who a token is: a personal access token, a GitHub App installation token, or a workflow's own
 * GITHUB_TOKEN (an installation token of the GitHub Actions app, which can never hold `workflows`).
 */
export interface SandboxCredential {
  kind: 'pat' | 'app' | 'actions';
  permissions: GitHubPermissions;
  /** Real-clock ms (octokit computes token expiry on the real clock); null: never. */
  expiresAt: number | null;
}

/** What the scout needs: write its branch (workflows too, when main's workflows changed), open and edit PRs, read checks. */
const EVERYTHING: GitHubPermissions = {
  contents: 'write',
  pull_requests: 'write',
  workflows: 'write',
  checks: 'read',
  metadata: 'read',
};

let appKeys: { privateKey: string; publicKey: KeyObject } | null = null;
/** One RSA key pair per process for the sandbox's GitHub App (generating one per sandbox costs ~50 ms). */
function sandboxAppKeys() {
  if (!appKeys) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    appKeys = { privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicKey };
  }
  return appKeys;
}

export interface SandboxCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
  /** Signed and verified by GitHub (web merges, App commits without a custom author) or by a person. */
  verified: boolean;
}

export type MergeMethod = 'merge' | 'squash' | 'rebase';

export interface SandboxPull {
  number: number;
  node_id: string;
  state: 'open' | 'closed';
  title: string;
  body: string;
  head: string;
  base: string;
  labels: string[];
  comments: string[];
  /** Auto-merge, with the method it will merge with; null when off. */
  autoMerge: { method: MergeMethod } | null;
  /** How many times title or body were edited after creation. */
  edits: number;
  merged: boolean;
  createdAt: string;
  closedAt: string | null;
  mergedAt: string | null;
}

export interface CheckRun {
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'neutral' | 'skipped' | 'cancelled' | 'timed_out' | null;
  startedAt: string;
}

/** Classic branch protection, as far as merging is concerned: required checks and "up to date". */
export interface BranchProtection {
  requiredChecks: string[];
  /** "Require branches to be up to date before merging". */
  strict: boolean;
}

/** One merge, as GitHub performed it: who asked, how, and whether the validation check had passed on what merged. */
export interface MergeRecord {
  number: number;
  by: 'auto-merge' | 'api' | 'person';
  method: MergeMethod;
  /** The head commit that merged. */
  head: string;
  /** The base branch before and after. */
  baseBefore: string;
  baseAfter: string;
  at: string;
  /** The repository's validation check (validationCheck) had succeeded on `head` when it merged. */
  validated: boolean;
}

/** Why a pull request cannot merge now, in GitHub's mergeable_state words. */
export type MergeableState = 'clean' | 'unstable' | 'blocked' | 'behind' | 'dirty';

/** Thrown by the model with GitHub's status and message; the API turns it into the response. */
export class GitHubRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: unknown[],
  ) {
    super(message);
  }
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const PASSING = new Set(['success', 'skipped', 'neutral']);
const METHOD_WORDS: Record<MergeMethod, string> = {
  merge: 'merge commits',
  squash: 'squash merging',
  rebase: 'rebase merging',
};

export class SandboxGitHub {
  readonly owner: string;
  readonly repo: string;
  readonly defaultBranch: string;
  readonly blobs = new Map<string, string>();
  private readonly trees = new Map<string, Map<string, string>>();
  readonly commits = new Map<string, SandboxCommit>();
  readonly refs = new Map<string, string>();
  readonly pulls: SandboxPull[] = [];
  /** Repository setting "Allow auto-merge" (Settings → General → Pull Requests). */
  allowAutoMerge = true;
  /** Repository settings "Allow merge commits / squash merging / rebase merging" (all on by default). */
  readonly mergeMethods: Record<MergeMethod, boolean> = { merge: true, squash: true, rebase: true };
  /** "Automatically delete head branches" (`delete_branch_on_merge`): off, as on GitHub by default. */
  deleteBranchOnMerge = false;
  /**
   * Branch protection per branch. The sandbox's main starts protected as docs/runbook.md asks:
   * `validate` required (not strict).
   */
  readonly protection = new Map<string, BranchProtection>();
  /** A ruleset "Require signed commits" on every branch: a ref may only move to a verified commit. */
  requireSignedCommits = false;
  /** The check that means "validated" in the merge record (validate.yml's gate job). */
  validationCheck = 'validate';
  /** Check runs per commit sha, newest last. */
  readonly checkRuns = new Map<string, CheckRun[]>();
  /** Every merge GitHub performed, in order. */
  readonly merges: MergeRecord[] = [];
  /** Repository (or organisation) setting "Allow GitHub Actions to create and approve pull requests": off by default. */
  actionsCanCreatePullRequests = false;
  /** Tokens the API accepts. The scout's test token is a personal access token with every permission it needs. */
  readonly credentials = new Map<string, SandboxCredential>([
    ['sandbox-github-token', { kind: 'pat', permissions: { ...EVERYTHING }, expiresAt: null }],
    [
      'sandbox-actions-token',
      {
        kind: 'actions',
        permissions: { contents: 'write', pull_requests: 'write', checks: 'read', metadata: 'read' },
        expiresAt: null,
      },
    ],
  ]);
  /** The GitHub App installed on this repository; its permissions are what its installation tokens get. */
  readonly app = {
    id: 424242,
    installationId: 777,
    permissions: { ...EVERYTHING } as GitHubPermissions,
    /** Whether the installation includes this repository (Repository access: "Only select repositories"). */
    includesRepository: true,
    /** Installation tokens live an hour (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-an-installation-access-token-for-a-github-app). */
    tokenLifetimeMs: 3600_000,
    get privateKey(): string {
      return sandboxAppKeys().privateKey;
    },
  };
  private tokensIssued = 0;
  private readonly now: () => Date;

  constructor(opts: {
    owner: string;
    repo: string;
    files: Record<string, string>;
    defaultBranch?: string;
    now: () => Date;
  }) {
    this.owner = opts.owner;
    this.repo = opts.repo;
    this.now = opts.now;
    const tree = this.writeTree(new Map(Object.entries(opts.files).map(([p, c]) => [p, this.writeBlob(c)])));
    const commit = this.writeCommit({
      tree,
      parents: [],
      message: 'Initial commit',
      author: this.person(),
      verified: true,
    });
    this.defaultBranch = opts.defaultBranch ?? 'main';
    this.refs.set(`heads/${this.defaultBranch}`, commit);
    this.protection.set(this.defaultBranch, { requiredChecks: ['validate'], strict: false });
  }

  private person() {
    return { name: 'A Person', email: 'person@example.com', date: this.now().toISOString() };
  }

  /** An installation token for the App, as POST /app/installations/{id}/access_tokens issues it. */
  issueInstallationToken(realNow = Date.now()): { token: string; expires_at: string; permissions: GitHubPermissions } {
    const token = `ghs_sandbox${++this.tokensIssued}${realNow.toString(36)}`;
    const expiresAt = realNow + this.app.tokenLifetimeMs;
    this.credentials.set(token, { kind: 'app', permissions: { ...this.app.permissions }, expiresAt });
    return { token, expires_at: new Date(expiresAt).toISOString(), permissions: { ...this.app.permissions } };
  }

  /**
   * The App's JWT (RS256, iss = App ID, exp at most 10 minutes ahead), or why GitHub would refuse it.
   * https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
   */
  jwtProblem(jwt: string, realNow = Date.now()): string | null {
    const [h, p, sig] = jwt.split('.');
    if (!h || !p || !sig) return 'A JSON web token could not be decoded';
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${h}.${p}`),
      sandboxAppKeys().publicKey,
      Buffer.from(sig, 'base64url'),
    );
    if (!signed) return 'A JSON web token could not be decoded';
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { iss?: unknown; exp?: number; iat?: number };
    if (String(claims.iss) !== String(this.app.id)) return 'Integration not found'; // answered 404
    const nowSec = realNow / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= nowSec)
      return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
    if (claims.exp - nowSec > 600) return "'Expiration time' claim ('exp') is too far in the future";
    return null;
  }

  /** Workflow files whose content differs between two commits (either may be null: no commit). */
  workflowChanges(from: string | null, to: string): string[] {
    const files = (sha: string | null) =>
      (sha ? this.treeEntries(this.commits.get(sha)!.tree) : undefined) ?? new Map<string, string>();
    const [a, b] = [files(from), files(to)];
    const paths = new Set([...a.keys(), ...b.keys()].filter((path) => path.startsWith('.github/workflows/')));
    return [...paths].filter((path) => a.get(path) !== b.get(path)).sort();
  }

  writeBlob(content: string): string {
    const sha = sha1(`blob ${content}`);
    this.blobs.set(sha, content);
    return sha;
  }

  writeTree(entries: Map<string, string>): string {
    const sorted = new Map([...entries].sort(([a], [b]) => a.localeCompare(b)));
    const sha = sha1(`tree ${JSON.stringify([...sorted])}`);
    this.trees.set(sha, sorted);
    return sha;
  }

  writeCommit(c: Omit<SandboxCommit, 'sha'>): string {
    const sha = sha1(`commit ${JSON.stringify(c)}|${this.commits.size}`);
    this.commits.set(sha, { sha, ...c });
    return sha;
  }

  treeEntries(sha: string): Map<string, string> | undefined {
    return this.trees.get(sha);
  }

  private entriesOf(commit: string): Map<string, string> {
    return new Map(this.trees.get(this.commits.get(commit)!.tree));
  }

  /** Files at a ref or commit (tests). */
  files(refOrSha: string): Map<string, string> {
    const sha = this.refs.get(`heads/${refOrSha}`) ?? refOrSha;
    const tree = this.trees.get(this.commits.get(sha)?.tree ?? '') ?? new Map<string, string>();
    return new Map([...tree].map(([p, b]) => [p, this.blobs.get(b)!]));
  }

  /**
   * Move a branch as a push does: fast-forward only unless forced, to a verified commit when a
   * ruleset requires signed commits ("Commits must have verified signatures"; the REST status for
   * it is not documented, 409 as GitHub's other rule violations through the REST API is assumed).
   */
  moveRef(ref: string, sha: string, force = false): void {
    const current = this.refs.get(ref);
    if (current !== undefined && !force && !this.isAncestor(current, sha))
      throw new GitHubRefusal(422, 'Update is not a fast forward');
    if (this.requireSignedCommits) {
      const since = current ? this.ancestors(current) : new Set<string>();
      const unsigned = [...this.ancestors(sha)].filter((c) => !since.has(c) && !this.commits.get(c)!.verified);
      if (unsigned.length)
        throw new GitHubRefusal(
          409,
          `Repository rule violations found\n\nCommits must have verified signatures.\n\nFound ${unsigned.length} violation(s): ${unsigned[0]}`,
        );
    }
    this.refs.set(ref, sha);
    this.settle();
  }

  /** A person pushes a commit to a branch (tests). */
  pushAsPerson(branch: string, files: Record<string, string | null>, message = 'Tweak replicas by hand'): string {
    const head = this.refs.get(`heads/${branch}`);
    if (!head) throw new Error(`no branch ${branch}`);
    const entries = this.entriesOf(head);
    for (const [p, c] of Object.entries(files)) {
      if (c === null) entries.delete(p);
      else entries.set(p, this.writeBlob(c));
    }
    const sha = this.writeCommit({
      tree: this.writeTree(entries),
      parents: [head],
      message,
      author: this.person(),
      verified: true,
    });
    this.moveRef(`heads/${branch}`, sha);
    return sha;
  }

  /** A person reverts a commit on a branch (`git revert`, `-m 1` for a merge): its changes against its first parent undone. */
  revert(branch: string, commit: string): string {
    const head = this.refs.get(`heads/${branch}`);
    const c = this.commits.get(commit);
    if (!head || !c) throw new Error(`no branch ${branch} or commit ${commit}`);
    const before = c.parents[0] ? this.entriesOf(c.parents[0]) : new Map<string, string>();
    const after = this.entriesOf(commit);
    const entries = this.entriesOf(head);
    for (const path of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(path) === after.get(path)) continue;
      const was = before.get(path);
      if (was === undefined) entries.delete(path);
      else entries.set(path, was);
    }
    const sha = this.writeCommit({
      tree: this.writeTree(entries),
      parents: [head],
      message: `Revert "${c.message.split('\n')[0]}"\n\nThis reverts commit ${commit}.`,
      author: this.person(),
      verified: true,
    });
    this.moveRef(`heads/${branch}`, sha);
    return sha;
  }

  isAncestor(ancestor: string, of: string): boolean {
    return this.ancestors(of).has(ancestor);
  }

  /** Every commit reachable from `sha`, itself included. */
  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const todo = [sha];
    while (todo.length) {
      const next = todo.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      todo.push(...(this.commits.get(next)?.parents ?? []));
    }
    return seen;
  }

  /** A best common ancestor: one common ancestor that no other common ancestor descends from. */
  mergeBase(a: string, b: string): string | null {
    const fromA = this.ancestors(a);
    const common = [...this.ancestors(b)].filter((c) => fromA.has(c));
    return common.find((c) => !common.some((o) => o !== c && this.isAncestor(c, o))) ?? null;
  }

  /**
   * The three-way merge of two commits' trees: a path takes the side that changed it since their
   * merge base; changed differently on both sides, it is a conflict (null).
   */
  mergeTrees(ours: string, theirs: string): Map<string, string> | null {
    const base = this.mergeBase(ours, theirs);
    const [o, t, b] = [this.entriesOf(ours), this.entriesOf(theirs), base ? this.entriesOf(base) : new Map()];
    const out = new Map<string, string>();
    for (const path of new Set([...o.keys(), ...t.keys(), ...b.keys()])) {
      const [ov, tv, bv] = [o.get(path), t.get(path), b.get(path)];
      const value = ov === tv ? ov : ov === bv ? tv : tv === bv ? ov : null;
      if (value === null) return null;
      if (value !== undefined) out.set(path, value);
    }
    return out;
  }

  /** A branch name or a commit sha, as the compare endpoint takes them; null when neither exists. */
  resolve(refOrSha: string): string | null {
    if (/^[0-9a-f]{40}$/.test(refOrSha) && this.commits.has(refOrSha)) return refOrSha;
    return this.refs.get(`heads/${refOrSha}`) ?? null;
  }

  /**
   * GitHub's "compare two commits": status (identical, ahead, behind, diverged), the commits each
   * side has, and the files that differ between the merge base and head (three-dot compare).
   * https://docs.github.com/en/rest/commits/commits#compare-two-commits
   */
  compare(base: string, head: string) {
    const fromBase = this.ancestors(base);
    const fromHead = this.ancestors(head);
    const ahead = [...fromHead].filter((c) => !fromBase.has(c));
    const behind = [...fromBase].filter((c) => !fromHead.has(c));
    const status =
      base === head ? 'identical' : behind.length === 0 ? 'ahead' : ahead.length === 0 ? 'behind' : 'diverged';
    const mb = this.mergeBase(base, head);
    const [from, to] = [mb ? this.entriesOf(mb) : new Map<string, string>(), this.entriesOf(head)];
    const files = [...new Set([...from.keys(), ...to.keys()])]
      .filter((p) => from.get(p) !== to.get(p))
      .sort()
      .map((p) => ({
        filename: p,
        status: !from.has(p) ? 'added' : !to.has(p) ? 'removed' : 'modified',
        sha: to.get(p) ?? from.get(p)!,
      }));
    return { status: status as 'identical' | 'ahead' | 'behind' | 'diverged', ahead, behind, files };
  }

  // ---- checks, protection, merging --------------------------------------------------------

  /** A check run starts (queued) or finishes on a commit: what a CI workflow does. Auto-merge is re-evaluated. */
  setCheck(sha: string, name: string, status: CheckRun['status'], conclusion: CheckRun['conclusion'] = null): void {
    const runs = this.checkRuns.get(sha) ?? [];
    const existing = runs.find((r) => r.name === name);
    if (existing) Object.assign(existing, { status, conclusion });
    else runs.push({ name, status, conclusion, startedAt: this.now().toISOString() });
    this.checkRuns.set(sha, runs);
    this.settle();
  }

  checkPassed(sha: string, name: string): boolean {
    const run = this.checkRuns.get(sha)?.find((r) => r.name === name);
    return run?.status === 'completed' && PASSING.has(run.conclusion ?? '');
  }

  /** GitHub's mergeable_state of an open pull request. */
  mergeableState(pr: SandboxPull): MergeableState {
    const head = this.refs.get(`heads/${pr.head}`)!;
    const base = this.refs.get(`heads/${pr.base}`)!;
    if (!this.mergeTrees(base, head)) return 'dirty';
    const rules = this.protection.get(pr.base);
    if (rules?.strict && !this.isAncestor(base, head)) return 'behind';
    if (rules && !rules.requiredChecks.every((c) => this.checkPassed(head, c))) return 'blocked';
    const failed = (this.checkRuns.get(head) ?? []).some(
      (r) => r.status === 'completed' && !PASSING.has(r.conclusion ?? ''),
    );
    return failed ? 'unstable' : 'clean';
  }

  /**
   * Enable auto-merge, or GitHub's refusal in its words (GraphQL errors of enablePullRequestAutoMerge,
   * as reported in public issues; the refusals are not documented).
   */
  enableAutoMerge(pr: SandboxPull, method: MergeMethod, expectedHead?: string): void {
    if (!this.allowAutoMerge)
      throw new GitHubRefusal(422, 'Pull request Auto merge is not allowed for this repository');
    if (!this.mergeMethods[method])
      throw new GitHubRefusal(422, `Merge method ${METHOD_WORDS[method]} is not allowed on this repository`);
    if (pr.state !== 'open') throw new GitHubRefusal(422, 'Pull request is closed');
    if (expectedHead && this.refs.get(`heads/${pr.head}`) !== expectedHead)
      throw new GitHubRefusal(422, 'Pull request head is not the expected head');
    if (!this.protection.has(pr.base))
      throw new GitHubRefusal(422, 'Pull request Protected branch rules not configured for this branch');
    const state = this.mergeableState(pr);
    if (state === 'clean' || state === 'unstable')
      throw new GitHubRefusal(422, `Pull request Pull request is in ${state} status`);
    pr.autoMerge = { method };
    this.settle();
  }

  /** Merge every pull request whose auto-merge is on and whose requirements are met (what GitHub does on every event). */
  settle(): void {
    for (const pr of this.pulls) {
      if (pr.state !== 'open' || !pr.autoMerge) continue;
      const state = this.mergeableState(pr);
      if (state === 'clean' || state === 'unstable')
        this.merge(pr.number, { method: pr.autoMerge.method, by: 'auto-merge' });
    }
  }

  /**
   * Merge a pull request as GitHub does: a merge commit (parents base, head), a squash (one commit on
   * base) or a rebase (modelled as one commit on base); the branch stays unless deleteBranchOnMerge.
   * Refusals with the REST API's statuses: 409 when `sha` is not the head, 405 otherwise.
   * https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request
   */
  merge(number: number, opts: { method?: MergeMethod; by?: MergeRecord['by']; sha?: string } = {}): string {
    const pr = this.pulls.find((p) => p.number === number);
    if (!pr || pr.state !== 'open') throw new GitHubRefusal(405, 'Pull Request is not mergeable');
    const method = opts.method ?? 'merge';
    const by = opts.by ?? 'person';
    const head = this.refs.get(`heads/${pr.head}`)!;
    const base = this.refs.get(`heads/${pr.base}`)!;
    if (opts.sha && opts.sha !== head)
      throw new GitHubRefusal(409, 'Head branch was modified. Review and try the merge again.');
    // The REST words for a disabled method are not documented; these are the ones reported.
    if (!this.mergeMethods[method])
      throw new GitHubRefusal(
        405,
        `${{ merge: 'Merge commits', squash: 'Squash merges', rebase: 'Rebase merges' }[method]} are not allowed on this repository.`,
      );
    const state = this.mergeableState(pr);
    // A person with admin rights could bypass protection; the scout and auto-merge cannot.
    if (state !== 'clean' && state !== 'unstable' && !(by === 'person' && state !== 'dirty'))
      throw new GitHubRefusal(405, 'Pull Request is not mergeable');
    const tree = this.writeTree(this.mergeTrees(base, head)!);
    const commit = this.writeCommit({
      tree,
      parents: method === 'merge' ? [base, head] : [base],
      message:
        method === 'merge'
          ? `Merge pull request #${number} from ${this.owner}/${pr.head}\n\n${pr.title}`
          : method === 'squash'
            ? `${pr.title} (#${number})`
            : this.commits.get(head)!.message,
      author: this.person(),
      verified: true,
    });
    this.refs.set(`heads/${pr.base}`, commit);
    const at = this.now().toISOString();
    Object.assign(pr, { state: 'closed', merged: true, mergedAt: at, closedAt: at, autoMerge: null });
    this.merges.push({
      number,
      by,
      method,
      head,
      baseBefore: base,
      baseAfter: commit,
      at,
      validated: this.checkPassed(head, this.validationCheck),
    });
    if (this.deleteBranchOnMerge) this.refs.delete(`heads/${pr.head}`);
    this.settle();
    return commit;
  }

  /**
   * "Update branch": merge the base into the head branch with a merge commit made by GitHub for the
   * person who clicked (PUT /pulls/{n}/update-branch). The message is GitHub's web one.
   * https://docs.github.com/en/rest/pulls/pulls#update-a-pull-request-branch
   */
  updateBranch(number: number, expectedHead?: string): string {
    const pr = this.pulls.find((p) => p.number === number && p.state === 'open');
    if (!pr) throw new GitHubRefusal(422, 'Pull request is closed');
    const head = this.refs.get(`heads/${pr.head}`)!;
    const base = this.refs.get(`heads/${pr.base}`)!;
    if (expectedHead && expectedHead !== head)
      throw new GitHubRefusal(422, 'expected_head_sha does not match the head of the pull request');
    if (this.isAncestor(base, head)) throw new GitHubRefusal(422, 'There are no new commits on the base branch.');
    const merged = this.mergeTrees(head, base);
    if (!merged) throw new GitHubRefusal(422, 'merge conflict between base and head');
    const commit = this.writeCommit({
      tree: this.writeTree(merged),
      parents: [head, base],
      message: `Merge branch '${pr.base}' into ${pr.head}`,
      author: this.person(),
      verified: true,
    });
    this.moveRef(`heads/${pr.head}`, commit);
    return commit;
  }

  /** Close a pull request without merging, as a person does. */
  close(number: number): void {
    const pr = this.pulls.find((p) => p.number === number && p.state === 'open');
    if (!pr) throw new Error(`no open pull request #${number}`);
    Object.assign(pr, { state: 'closed', closedAt: this.now().toISOString(), autoMerge: null });
  }

  pull(number: number): SandboxPull {
    const pr = this.pulls.find((p) => p.number === number);
    if (!pr) throw new GitHubRefusal(404, 'Not Found');
    return pr;
  }

  createPull(input: { head: string; base: string; title: string; body: string }): SandboxPull {
    const baseSha = this.refs.get(`heads/${input.base}`);
    if (!baseSha)
      throw new GitHubRefusal(422, 'Validation Failed', [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
    const headSha = this.refs.get(`heads/${input.head}`);
    if (!headSha)
      throw new GitHubRefusal(422, 'Validation Failed', [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
    if (this.isAncestor(headSha, baseSha))
      throw new GitHubRefusal(422, 'Validation Failed', [
        { resource: 'PullRequest', code: 'custom', message: `No commits between ${input.base} and ${input.head}` },
      ]);
    if (this.pulls.some((p) => p.head === input.head && p.state === 'open'))
      throw new GitHubRefusal(422, 'Validation Failed', [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${this.owner}:${input.head}.`,
        },
      ]);
    const number = this.pulls.length + 1;
    const pr: SandboxPull = {
      number,
      node_id: `PR_${sha1(String(number)).slice(0, 12)}`,
      state: 'open',
      ...input,
      labels: [],
      comments: [],
      autoMerge: null,
      edits: 0,
      merged: false,
      createdAt: this.now().toISOString(),
      closedAt: null,
      mergedAt: null,
    };
    this.pulls.push(pr);
    return pr;
  }
}
