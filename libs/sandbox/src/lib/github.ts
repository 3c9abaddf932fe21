import { createHash, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { HttpError, type Handler } from './http';

/** A token's repository permissions, as GitHub names them (contents, pull_requests, workflows, metadata …). */
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

/** What the scout needs: write its branch (workflows too, when main's workflows changed), open and edit PRs. */
const EVERYTHING: GitHubPermissions = {
  contents: 'write',
  pull_requests: 'write',
  workflows: 'write',
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

/**
 * A GitHub repository behind the sandbox's REST server: the subset of the wire format the scout's
 * pull-request step uses (Git Data API, pulls, issue comments and labels, one GraphQL mutation),
 * with GitHub's status codes and messages for the conflicts that matter: an existing ref, a
 * non-fast-forward update, a second pull request for the same head.
 * https://docs.github.com/en/rest/git https://docs.github.com/en/rest/pulls/pulls
 */
export interface SandboxCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
}

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
  autoMerge: boolean;
  /** How many times title or body were edited after creation. */
  edits: number;
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

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
  /**
   * Pull requests whose checks have all passed and that can merge now: GitHub refuses to enable
   * auto-merge on them ("clean status"); a merge through the REST API succeeds.
   */
  readonly cleanPulls = new Set<number>();
  /** Repository (or organisation) setting "Allow GitHub Actions to create and approve pull requests": off by default. */
  actionsCanCreatePullRequests = false;
  /** Tokens the API accepts. The scout's test token is a personal access token with every permission it needs. */
  readonly credentials = new Map<string, SandboxCredential>([
    ['sandbox-github-token', { kind: 'pat', permissions: { ...EVERYTHING }, expiresAt: null }],
    [
      'sandbox-actions-token',
      {
        kind: 'actions',
        permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' },
        expiresAt: null,
      },
    ],
  ]);
  /** The GitHub App installed on this repository; its permissions are what its installation tokens get. */
  readonly app = {
    id: 424242,
    installationId: 777,
    permissions: { ...EVERYTHING } as GitHubPermissions,
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
      author: { name: 'Platform Team', email: 'platform@example.com', date: this.now().toISOString() },
    });
    this.defaultBranch = opts.defaultBranch ?? 'main';
    this.refs.set(`heads/${this.defaultBranch}`, commit);
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

  /** Files at a ref or commit (tests). */
  files(refOrSha: string): Map<string, string> {
    const sha = this.refs.get(`heads/${refOrSha}`) ?? refOrSha;
    const tree = this.trees.get(this.commits.get(sha)?.tree ?? '') ?? new Map<string, string>();
    return new Map([...tree].map(([p, b]) => [p, this.blobs.get(b)!]));
  }

  /** A person pushes a commit to a branch (tests). */
  pushAsPerson(branch: string, files: Record<string, string>, message = 'Tweak replicas by hand'): string {
    const head = this.refs.get(`heads/${branch}`);
    if (!head) throw new Error(`no branch ${branch}`);
    const entries = new Map(this.trees.get(this.commits.get(head)!.tree));
    for (const [p, c] of Object.entries(files)) entries.set(p, this.writeBlob(c));
    const sha = this.writeCommit({
      tree: this.writeTree(entries),
      parents: [head],
      message,
      author: { name: 'A Person', email: 'person@example.com', date: this.now().toISOString() },
    });
    this.refs.set(`heads/${branch}`, sha);
    return sha;
  }

  /** A person merges a pull request: the base branch takes the head commit; the branch is deleted (tests). */
  merge(number: number): void {
    const pr = this.pulls.find((p) => p.number === number && p.state === 'open');
    if (!pr) throw new Error(`no open pull request #${number}`);
    const head = this.refs.get(`heads/${pr.head}`)!;
    const base = this.refs.get(`heads/${pr.base}`)!;
    this.refs.set(
      `heads/${pr.base}`,
      this.writeCommit({
        tree: this.commits.get(head)!.tree,
        parents: [base, head],
        message: `Merge pull request #${number}`,
        author: { name: 'A Person', email: 'person@example.com', date: this.now().toISOString() },
      }),
    );
    this.refs.delete(`heads/${pr.head}`);
    pr.state = 'closed';
  }

  isAncestor(ancestor: string, of: string): boolean {
    const seen = new Set<string>();
    const stack = [of];
    while (stack.length) {
      const s = stack.pop()!;
      if (s === ancestor) return true;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...(this.commits.get(s)?.parents ?? []));
    }
    return false;
  }

  /** Every commit reachable from `sha`, itself included. */
  private ancestors(sha: string): Set<string> {
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

  /** A branch name or a commit sha, as the compare endpoint takes them; null when neither exists. */
  resolve(refOrSha: string): string | null {
    if (/^[0-9a-f]{40}$/.test(refOrSha) && this.commits.has(refOrSha)) return refOrSha;
    return this.refs.get(`heads/${refOrSha}`) ?? null;
  }

  /**
   * GitHub's "compare two commits" status: identical, ahead (head has commits base lacks and base is
   * in head's history), behind, or diverged. https://docs.github.com/en/rest/commits/commits#compare-two-commits
   */
  compare(
    base: string,
    head: string,
  ): { status: 'identical' | 'ahead' | 'behind' | 'diverged'; ahead: string[]; behind: string[] } {
    const fromBase = this.ancestors(base);
    const fromHead = this.ancestors(head);
    const ahead = [...fromHead].filter((c) => !fromBase.has(c));
    const behind = [...fromBase].filter((c) => !fromHead.has(c));
    const status =
      base === head ? 'identical' : behind.length === 0 ? 'ahead' : ahead.length === 0 ? 'behind' : 'diverged';
    return { status, ahead, behind };
  }

  commitJson(base: string, c: SandboxCommit) {
    return {
      sha: c.sha,
      node_id: `C_${c.sha.slice(0, 12)}`,
      url: `${base}/repos/${this.owner}/${this.repo}/git/commits/${c.sha}`,
      message: c.message,
      tree: { sha: c.tree, url: `${base}/repos/${this.owner}/${this.repo}/git/trees/${c.tree}` },
      parents: c.parents.map((p) => ({ sha: p, url: `${base}/repos/${this.owner}/${this.repo}/git/commits/${p}` })),
      author: c.author,
      committer: c.author,
    };
  }

  refJson(base: string, ref: string) {
    const sha = this.refs.get(ref)!;
    return {
      ref: `refs/${ref}`,
      node_id: `REF_${sha1(ref).slice(0, 10)}`,
      url: `${base}/repos/${this.owner}/${this.repo}/git/refs/${ref}`,
      object: { sha, type: 'commit', url: `${base}/repos/${this.owner}/${this.repo}/git/commits/${sha}` },
    };
  }

  pullJson(base: string, p: SandboxPull) {
    return {
      number: p.number,
      node_id: p.node_id,
      state: p.state,
      title: p.title,
      body: p.body,
      html_url: `https://github.com/${this.owner}/${this.repo}/pull/${p.number}`,
      url: `${base}/repos/${this.owner}/${this.repo}/pulls/${p.number}`,
      head: { ref: p.head, label: `${this.owner}:${p.head}`, sha: this.refs.get(`heads/${p.head}`) ?? null },
      base: { ref: p.base, label: `${this.owner}:${p.base}`, sha: this.refs.get(`heads/${p.base}`) ?? null },
      labels: p.labels.map((name, i) => ({ id: i + 1, name })),
      auto_merge: p.autoMerge ? { merge_method: 'squash' } : null,
    };
  }
}

const notFound = () =>
  new HttpError(404, 'Not Found', { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
const unprocessable = (message: string, extra: object = {}) =>
  new HttpError(422, message, { message, documentation_url: 'https://docs.github.com/rest', ...extra });

/** GitHub REST (+ the auto-merge GraphQL mutation) over a SandboxGitHub; unknown routes answer 404 as GitHub does. */
export function githubApi(gh: SandboxGitHub, now: () => Date): Handler {
  return async ({ method, path: rawPath, query, body, headers }) => {
    // Clients encode the "/" in ref names (heads%2Fmain); GitHub accepts both forms.
    const path = decodeURIComponent(rawPath);
    const base = `http://${headers.host ?? 'localhost'}`;
    if (method === 'GET' && path === '/rate_limit')
      return {
        body: {
          resources: {
            core: { limit: 5000, remaining: 5000, reset: Math.floor(now().getTime() / 1000) + 3600, used: 0 },
          },
        },
      };
    const presented = /^(?:token|bearer) (\S+)$/i.exec(String(headers.authorization ?? ''))?.[1];
    if (!presented)
      throw new HttpError(401, 'Requires authentication', {
        message: 'Requires authentication',
        documentation_url: 'https://docs.github.com/rest',
      });
    const b = (body ?? {}) as Record<string, unknown>;

    // The App itself (JWT): its installation and installation tokens.
    // https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
    let a: RegExpExecArray | null;
    if ((a = /^\/app\/installations\/(\d+)(\/access_tokens)?$/.exec(path))) {
      const problem = gh.jwtProblem(presented);
      if (problem)
        throw new HttpError(401, problem, { message: problem, documentation_url: 'https://docs.github.com/rest' });
      if (Number(a[1]) !== gh.app.installationId) throw notFound();
      if (a[2] && method === 'POST')
        return { status: 201, body: { ...gh.issueInstallationToken(), repository_selection: 'selected' } };
      if (!a[2] && method === 'GET')
        return {
          body: {
            id: gh.app.installationId,
            app_id: gh.app.id,
            account: { login: gh.owner },
            repository_selection: 'selected',
            permissions: { ...gh.app.permissions },
            events: [],
          },
        };
      throw notFound();
    }
    const credential = gh.credentials.get(presented);
    if (!credential || (credential.expiresAt !== null && Date.now() >= credential.expiresAt))
      throw new HttpError(401, 'Bad credentials', {
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
      });
    /** What an installation token without the permission hears (https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps). */
    const need = (permission: string) => {
      if (credential.permissions[permission] !== 'write')
        throw new HttpError(403, 'Resource not accessible by integration', {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest',
        });
    };
    /**
     * Moving a branch to a commit whose workflow files differ from the branch's (a merge of main
     * after it changed .github/workflows/) needs the workflows permission: GitHub's refusal, in the
     * words of its push rejection. The REST status for it is not documented; 422 is assumed.
     */
    const workflowGuard = (from: string | null, to: string) => {
      const changed = gh.workflowChanges(from, to);
      if (changed.length && credential.permissions.workflows !== 'write') {
        const who = credential.kind === 'pat' ? 'a Personal Access Token' : 'a GitHub App';
        const what = credential.kind === 'pat' ? '`workflow` scope' : '`workflows` permission';
        throw unprocessable(`refusing to allow ${who} to create or update workflow \`${changed[0]}\` without ${what}`);
      }
    };
    if (method !== 'GET' && path !== '/graphql') {
      const rest0 = path.replace(/^\/repos\/[^/]+\/[^/]+/, '');
      need(/^\/(pulls|issues)/.test(rest0) ? 'pull_requests' : 'contents');
    }

    if (method === 'POST' && path === '/graphql') {
      need('pull_requests');
      const q = String(b.query ?? '');
      const id = String((b.variables as { pullRequestId?: string } | undefined)?.pullRequestId ?? '');
      if (!q.includes('enablePullRequestAutoMerge'))
        return { body: { errors: [{ message: 'sandbox: only enablePullRequestAutoMerge is served' }] } };
      const pr = gh.pulls.find((p) => p.node_id === id);
      if (!pr)
        return {
          body: {
            data: null,
            errors: [{ type: 'NOT_FOUND', message: `Could not resolve to a node with the global id of '${id}'.` }],
          },
        };
      // GitHub answers refusals with HTTP 200 and a GraphQL error (type UNPROCESSABLE), in these words.
      const refusal = !gh.allowAutoMerge
        ? 'Pull request Auto merge is not allowed for this repository'
        : gh.cleanPulls.has(pr.number)
          ? 'Pull request Pull request is in clean status'
          : null;
      if (refusal)
        return {
          body: {
            data: { enablePullRequestAutoMerge: null },
            errors: [
              {
                type: 'UNPROCESSABLE',
                path: ['enablePullRequestAutoMerge'],
                locations: [{ line: 1, column: 30 }],
                message: refusal,
              },
            ],
          },
        };
      pr.autoMerge = true;
      return { body: { data: { enablePullRequestAutoMerge: { pullRequest: { number: pr.number } } } } };
    }

    const prefix = `/repos/${gh.owner}/${gh.repo}`;
    if (!path.startsWith(prefix)) throw notFound();
    const rest = path.slice(prefix.length);
    let m: RegExpExecArray | null;

    if (method === 'GET' && rest === '')
      return {
        body: {
          name: gh.repo,
          full_name: `${gh.owner}/${gh.repo}`,
          default_branch: 'main',
          allow_auto_merge: gh.allowAutoMerge,
        },
      };

    if ((m = /^\/git\/ref\/(heads\/.+)$/.exec(rest)) && method === 'GET') {
      if (!gh.refs.has(m[1]!)) throw notFound();
      return { body: gh.refJson(base, m[1]!) };
    }
    if (rest === '/git/refs' && method === 'POST') {
      // "The name of the fully qualified reference (ie: refs/heads/master). If it doesn't start with
      // 'refs' and have at least two slashes, it will be rejected." https://docs.github.com/en/rest/git/refs#create-a-reference
      const full = String(b.ref ?? '');
      // GitHub's words for it (octokit/octokit.rb#675).
      if (!/^refs\/[^/]+\/.+/.test(full))
        throw unprocessable('Reference name must contain at least three slash-separated components.');
      const ref = full.replace(/^refs\//, '');
      const sha = String(b.sha ?? '');
      // GitHub also creates tags here; the scout only ever creates branches, so the sandbox serves those.
      if (!ref.startsWith('heads/')) throw unprocessable('sandbox: only refs/heads/… are served');
      if (!gh.commits.has(sha)) throw unprocessable('Object does not exist');
      if (gh.refs.has(ref)) throw unprocessable('Reference already exists');
      workflowGuard(gh.refs.get(`heads/${gh.defaultBranch}`) ?? null, sha);
      gh.refs.set(ref, sha);
      return { status: 201, body: gh.refJson(base, ref) };
    }
    if ((m = /^\/git\/refs\/(heads\/.+)$/.exec(rest))) {
      const ref = m[1]!;
      if (!gh.refs.has(ref)) throw unprocessable('Reference does not exist');
      if (method === 'PATCH') {
        const sha = String(b.sha ?? '');
        if (!gh.commits.has(sha)) throw unprocessable('Object does not exist');
        if (!b.force && !gh.isAncestor(gh.refs.get(ref)!, sha)) throw unprocessable('Update is not a fast forward');
        workflowGuard(gh.refs.get(ref)!, sha);
        gh.refs.set(ref, sha);
        return { body: gh.refJson(base, ref) };
      }
      if (method === 'DELETE') {
        gh.refs.delete(ref);
        return { status: 204, body: '' };
      }
    }
    // GET /repos/{owner}/{repo}/compare/{BASE...HEAD}: https://docs.github.com/en/rest/commits/commits#compare-two-commits
    if ((m = /^\/compare\/(.+?)\.\.\.(.+)$/.exec(rest)) && method === 'GET') {
      const [baseSha, headSha] = [gh.resolve(m[1]!), gh.resolve(m[2]!)];
      if (!baseSha || !headSha) throw notFound();
      const cmp = gh.compare(baseSha, headSha);
      const perPage = Math.min(Number(query.get('per_page') ?? 250), 250);
      return {
        body: {
          status: cmp.status,
          ahead_by: cmp.ahead.length,
          behind_by: cmp.behind.length,
          total_commits: cmp.ahead.length,
          base_commit: gh.commitJson(base, gh.commits.get(baseSha)!),
          commits: cmp.ahead.slice(0, perPage).map((c) => gh.commitJson(base, gh.commits.get(c)!)),
        },
      };
    }
    if ((m = /^\/git\/commits\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      const c = gh.commits.get(m[1]!);
      if (!c) throw notFound();
      return { body: gh.commitJson(base, c) };
    }
    if (rest === '/git/commits' && method === 'POST') {
      const tree = String(b.tree ?? '');
      const parents = (b.parents as string[] | undefined) ?? [];
      if (!gh.treeEntries(tree) || parents.some((p) => !gh.commits.has(p)))
        throw unprocessable('Tree SHA or parent SHA does not exist');
      const author = (b.author as SandboxCommit['author'] | undefined) ?? {
        name: 'sandbox',
        email: 'sandbox@example.com',
        date: now().toISOString(),
      };
      const sha = gh.writeCommit({
        tree,
        parents,
        message: String(b.message ?? ''),
        author: { ...author, date: author.date ?? now().toISOString() },
      });
      return { status: 201, body: gh.commitJson(base, gh.commits.get(sha)!) };
    }
    if ((m = /^\/git\/trees\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      // The sandbox keeps flat trees, so it answers ?recursive=1 with every blob (GitHub adds the tree entries too).
      const entries = gh.treeEntries(m[1]!);
      if (!entries) throw notFound();
      return {
        body: {
          sha: m[1],
          url: `${base}${prefix}/git/trees/${m[1]}`,
          truncated: false,
          tree: [...entries].map(([p, s]) => ({
            path: p,
            mode: '100644',
            type: 'blob',
            sha: s,
            size: gh.blobs.get(s)!.length,
          })),
        },
      };
    }
    if ((m = /^\/git\/blobs\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      const content = gh.blobs.get(m[1]!);
      if (content === undefined) throw notFound();
      return {
        body: {
          sha: m[1],
          size: Buffer.byteLength(content),
          encoding: 'base64',
          content: Buffer.from(content)
            .toString('base64')
            .replace(/(.{60})/g, '$1\n'),
        },
      };
    }
    if (rest === '/git/trees' && method === 'POST') {
      const baseTree = b.base_tree ? String(b.base_tree) : null;
      const start = new Map<string, string>(baseTree ? gh.treeEntries(baseTree) : undefined);
      if (baseTree && !gh.treeEntries(baseTree)) throw unprocessable('base_tree is not a valid tree');
      for (const e of (b.tree as Array<{
        path: string;
        mode: string;
        type: string;
        sha?: string | null;
        content?: string;
      }>) ?? []) {
        if (e.mode !== '100644' || e.type !== 'blob')
          throw unprocessable(`tree.mode/type not supported by the sandbox: ${e.mode}/${e.type}`);
        if (e.content !== undefined) start.set(e.path, gh.writeBlob(e.content));
        else if (e.sha === null) start.delete(e.path);
        else if (e.sha) start.set(e.path, e.sha);
      }
      const sha = gh.writeTree(start);
      return {
        status: 201,
        body: {
          sha,
          url: `${base}${prefix}/git/trees/${sha}`,
          truncated: false,
          tree: [...start].map(([p, s]) => ({ path: p, mode: '100644', type: 'blob', sha: s })),
        },
      };
    }

    if (rest === '/pulls' && method === 'GET') {
      // head=owner:branch: a branch of another owner's fork is not ours (https://docs.github.com/en/rest/pulls/pulls#list-pull-requests).
      // Without "owner:" GitHub ignores the filter altogether (github/docs#16647).
      const [headOwner, headBranch] = (query.get('head') ?? '').includes(':')
        ? query.get('head')!.split(':')
        : [null, undefined];
      if (headOwner !== null && headOwner !== gh.owner) return { body: [] };
      const head = headBranch || undefined;
      const state = query.get('state') ?? 'open';
      const list = gh.pulls.filter((p) => (!head || p.head === head) && (state === 'all' || p.state === state));
      return { body: list.map((p) => gh.pullJson(base, p)) };
    }
    if (rest === '/pulls' && method === 'POST') {
      const head = String(b.head ?? '')
        .split(':')
        .pop()!;
      if (!gh.refs.has(`heads/${head}`))
        throw unprocessable('Validation Failed', {
          errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }],
        });
      if (credential.kind === 'actions' && !gh.actionsCanCreatePullRequests)
        throw new HttpError(403, 'GitHub Actions is not permitted to create or approve pull requests.', {
          message: 'GitHub Actions is not permitted to create or approve pull requests.',
          documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
        });
      const baseBranch = String(b.base ?? 'main');
      const [headSha, baseSha] = [gh.refs.get(`heads/${head}`)!, gh.refs.get(`heads/${baseBranch}`)];
      if (baseSha && gh.isAncestor(headSha, baseSha))
        throw unprocessable('Validation Failed', {
          errors: [
            { resource: 'PullRequest', code: 'custom', message: `No commits between ${baseBranch} and ${head}` },
          ],
        });
      if (gh.pulls.some((p) => p.head === head && p.state === 'open')) {
        throw unprocessable('Validation Failed', {
          errors: [
            {
              resource: 'PullRequest',
              code: 'custom',
              message: `A pull request already exists for ${gh.owner}:${head}.`,
            },
          ],
        });
      }
      const number = gh.pulls.length + 1;
      const pr: SandboxPull = {
        number,
        node_id: `PR_${sha1(String(number)).slice(0, 12)}`,
        state: 'open',
        title: String(b.title ?? ''),
        body: String(b.body ?? ''),
        head,
        base: String(b.base ?? 'main'),
        labels: [],
        comments: [],
        autoMerge: false,
        edits: 0,
      };
      gh.pulls.push(pr);
      return { status: 201, body: gh.pullJson(base, pr) };
    }
    if ((m = /^\/pulls\/(\d+)$/.exec(rest))) {
      const pr = gh.pulls.find((p) => p.number === Number(m![1]));
      if (!pr) throw notFound();
      if (method === 'GET') return { body: gh.pullJson(base, pr) };
      if (method === 'PATCH') {
        if (typeof b.title === 'string' || typeof b.body === 'string') pr.edits++;
        if (typeof b.title === 'string') pr.title = b.title;
        if (typeof b.body === 'string') pr.body = b.body;
        if (b.state === 'closed' || b.state === 'open') pr.state = b.state;
        return { body: gh.pullJson(base, pr) };
      }
    }
    // PUT /repos/{owner}/{repo}/pulls/{n}/merge: https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request
    if ((m = /^\/pulls\/(\d+)\/merge$/.exec(rest)) && method === 'PUT') {
      const pr = gh.pulls.find((p) => p.number === Number(m![1]));
      if (!pr) throw notFound();
      if (pr.state !== 'open' || !gh.cleanPulls.has(pr.number))
        throw new HttpError(405, 'Pull Request is not mergeable', {
          message: 'Pull Request is not mergeable',
          documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request',
        });
      gh.merge(pr.number);
      return {
        body: { sha: gh.refs.get(`heads/${pr.base}`), merged: true, message: 'Pull Request successfully merged' },
      };
    }
    if ((m = /^\/issues\/(\d+)\/(comments|labels)$/.exec(rest)) && method === 'POST') {
      const pr = gh.pulls.find((p) => p.number === Number(m![1]));
      if (!pr) throw notFound();
      if (m[2] === 'comments') {
        pr.comments.push(String(b.body ?? ''));
        return { status: 201, body: { id: pr.comments.length, body: b.body } };
      }
      for (const l of (b.labels as string[]) ?? []) if (!pr.labels.includes(l)) pr.labels.push(l);
      return { body: pr.labels.map((name, i) => ({ id: i + 1, name })) };
    }
    throw notFound();
  };
}
