import { HttpError, type Handler } from '../http';
import {
  GitHubRefusal,
  type MergeMethod,
  type SandboxCommit,
  type SandboxGitHub,
  type SandboxPull,
} from './repository';

/**
 * GitHub's REST API (and the two auto-merge GraphQL mutations) over a SandboxGitHub: the subset the
 * scout uses — Git Data API, pulls (create, list, update, merge, update-branch), issue comments and
 * labels, check runs, branches and their rules, the App's installation — with GitHub's status codes
 * and messages for the refusals that matter. Unknown routes answer 404 as GitHub does.
 * https://docs.github.com/en/rest/git https://docs.github.com/en/rest/pulls/pulls
 */
const DOCS = 'https://docs.github.com/rest';
const notFound = () => new HttpError(404, 'Not Found', { message: 'Not Found', documentation_url: DOCS });
const unprocessable = (message: string, extra: object = {}) =>
  new HttpError(422, message, { message, documentation_url: DOCS, ...extra });
const refused = (e: GitHubRefusal) =>
  new HttpError(e.status, e.message, {
    message: e.message,
    documentation_url: DOCS,
    ...(e.errors ? { errors: e.errors } : {}),
  });
/** The model's refusals as GitHub's responses. */
function answering<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof GitHubRefusal) throw refused(e);
    throw e;
  }
}

function commitJson(gh: SandboxGitHub, base: string, c: SandboxCommit) {
  const repo = `${base}/repos/${gh.owner}/${gh.repo}`;
  return {
    sha: c.sha,
    node_id: `C_${c.sha.slice(0, 12)}`,
    url: `${repo}/git/commits/${c.sha}`,
    message: c.message,
    tree: { sha: c.tree, url: `${repo}/git/trees/${c.tree}` },
    parents: c.parents.map((p) => ({ sha: p, url: `${repo}/git/commits/${p}` })),
    author: c.author,
    committer: c.author,
    verification: { verified: c.verified, reason: c.verified ? 'valid' : 'unsigned', signature: null, payload: null },
  };
}

function refJson(gh: SandboxGitHub, base: string, ref: string) {
  const sha = gh.refs.get(ref)!;
  return {
    ref: `refs/${ref}`,
    node_id: `REF_${ref.length}_${sha.slice(0, 8)}`,
    url: `${base}/repos/${gh.owner}/${gh.repo}/git/refs/${ref}`,
    object: { sha, type: 'commit', url: `${base}/repos/${gh.owner}/${gh.repo}/git/commits/${sha}` },
  };
}

function pullJson(gh: SandboxGitHub, base: string, p: SandboxPull, detail = false) {
  return {
    number: p.number,
    node_id: p.node_id,
    state: p.state,
    title: p.title,
    body: p.body,
    html_url: `https://github.com/${gh.owner}/${gh.repo}/pull/${p.number}`,
    url: `${base}/repos/${gh.owner}/${gh.repo}/pulls/${p.number}`,
    head: { ref: p.head, label: `${gh.owner}:${p.head}`, sha: gh.refs.get(`heads/${p.head}`) ?? null },
    base: { ref: p.base, label: `${gh.owner}:${p.base}`, sha: gh.refs.get(`heads/${p.base}`) ?? null },
    labels: p.labels.map((name, i) => ({ id: i + 1, name })),
    auto_merge: p.autoMerge
      ? { merge_method: p.autoMerge.method, enabled_by: { login: 'region-scout[bot]' }, commit_title: null }
      : null,
    created_at: p.createdAt,
    closed_at: p.closedAt,
    merged_at: p.mergedAt,
    ...(detail
      ? {
          merged: p.merged,
          mergeable_state: p.state === 'open' ? gh.mergeableState(p) : 'unknown',
        }
      : {}),
  };
}

const GRAPHQL_METHODS: Record<string, MergeMethod> = { MERGE: 'merge', SQUASH: 'squash', REBASE: 'rebase' };

/** GitHub REST (+ the auto-merge GraphQL mutations) over a SandboxGitHub; unknown routes answer 404 as GitHub does. */
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
        documentation_url: DOCS,
      });
    const b = (body ?? {}) as Record<string, unknown>;
    const prefix = `/repos/${gh.owner}/${gh.repo}`;

    const app = appRoutes(gh, method, path, presented, prefix);
    if (app) return app;

    const credential = gh.credentials.get(presented);
    if (!credential || (credential.expiresAt !== null && Date.now() >= credential.expiresAt))
      throw new HttpError(401, 'Bad credentials', { message: 'Bad credentials', documentation_url: DOCS });
    /**
     * What a token without the permission hears
     * (https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps): any of
     * `names` at `level` or above will do.
     */
    const need = (names: string[], level: 'read' | 'write' = 'write') => {
      const ok = names.some(
        (n) => credential.permissions[n] === 'write' || (level === 'read' && credential.permissions[n] === 'read'),
      );
      if (!ok)
        throw new HttpError(403, 'Resource not accessible by integration', {
          message: 'Resource not accessible by integration',
          documentation_url: DOCS,
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

    if (method === 'POST' && path === '/graphql') {
      need(['pull_requests']);
      return graphql(gh, b);
    }

    if (!path.startsWith(prefix)) throw notFound();
    // An installation token sees only the repositories its installation includes; GitHub answers
    // 404 for the others, as it does for any repository a caller cannot see.
    if (credential.kind === 'app' && !gh.app.includesRepository) throw notFound();
    const rest = path.slice(prefix.length);
    let m: RegExpExecArray | null;

    if (method === 'GET' && rest === '')
      return {
        body: {
          name: gh.repo,
          full_name: `${gh.owner}/${gh.repo}`,
          default_branch: gh.defaultBranch,
          // "To view merge-related settings, you must have the contents:read and contents:write permissions."
          // https://docs.github.com/en/rest/repos/repos#get-a-repository
          ...(credential.permissions.contents === 'write'
            ? {
                allow_auto_merge: gh.allowAutoMerge,
                allow_merge_commit: gh.mergeMethods.merge,
                allow_squash_merge: gh.mergeMethods.squash,
                allow_rebase_merge: gh.mergeMethods.rebase,
                delete_branch_on_merge: gh.deleteBranchOnMerge,
              }
            : {}),
        },
      };

    // ---- Git data -------------------------------------------------------------------------
    if ((m = /^\/git\/ref\/(heads\/.+)$/.exec(rest)) && method === 'GET') {
      if (!gh.refs.has(m[1]!)) throw notFound();
      return { body: refJson(gh, base, m[1]!) };
    }
    if (rest === '/git/refs' && method === 'POST') {
      need(['contents']);
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
      answering(() => gh.moveRef(ref, sha));
      return { status: 201, body: refJson(gh, base, ref) };
    }
    if ((m = /^\/git\/refs\/(heads\/.+)$/.exec(rest))) {
      need(['contents']);
      const ref = m[1]!;
      if (!gh.refs.has(ref)) throw unprocessable('Reference does not exist');
      if (method === 'PATCH') {
        const sha = String(b.sha ?? '');
        if (!gh.commits.has(sha)) throw unprocessable('Object does not exist');
        workflowGuard(gh.refs.get(ref)!, sha);
        answering(() => gh.moveRef(ref, sha, !!b.force));
        return { body: refJson(gh, base, ref) };
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
          base_commit: commitJson(gh, base, gh.commits.get(baseSha)!),
          commits: cmp.ahead.slice(0, perPage).map((c) => commitJson(gh, base, gh.commits.get(c)!)),
          files: cmp.files,
        },
      };
    }
    if ((m = /^\/git\/commits\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      const c = gh.commits.get(m[1]!);
      if (!c) throw notFound();
      return { body: commitJson(gh, base, c) };
    }
    if (rest === '/git/commits' && method === 'POST') {
      need(['contents']);
      const tree = String(b.tree ?? '');
      const parents = (b.parents as string[] | undefined) ?? [];
      if (!gh.treeEntries(tree) || parents.some((p) => !gh.commits.has(p)))
        throw unprocessable('Tree SHA or parent SHA does not exist');
      const custom = (b.author ?? b.committer) as SandboxCommit['author'] | undefined;
      const sha = gh.writeCommit({
        tree,
        parents,
        message: String(b.message ?? ''),
        author: {
          name: 'region-scout[bot]',
          email: 'region-scout[bot]@users.noreply.github.com',
          ...custom,
          date: custom?.date ?? now().toISOString(),
        },
        // GitHub signs what an App commits through the API only without a custom author or committer
        // (https://docs.github.com/en/authentication/managing-commit-signature-verification/about-commit-signature-verification#signature-verification-for-bots).
        // A personal token's API commits are taken as unsigned (not documented either way).
        verified: credential.kind !== 'pat' && !custom,
      });
      return { status: 201, body: commitJson(gh, base, gh.commits.get(sha)!) };
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
      need(['contents']);
      return { status: 201, body: createTree(gh, base, prefix, b) };
    }

    // ---- branches, rules, checks --------------------------------------------------------------
    // https://docs.github.com/en/rest/branches/branches#get-a-branch
    if ((m = /^\/branches\/(.+)$/.exec(rest)) && method === 'GET') {
      const sha = gh.refs.get(`heads/${m[1]}`);
      if (!sha) throw notFound();
      const rules = gh.protection.get(m[1]!);
      return {
        body: {
          name: m[1],
          commit: { sha },
          protected: !!rules,
          protection: {
            enabled: !!rules,
            required_status_checks: {
              enforcement_level: rules ? 'non_admins' : 'off',
              contexts: rules?.requiredChecks ?? [],
              checks: (rules?.requiredChecks ?? []).map((context) => ({ context, app_id: null })),
              strict: rules?.strict ?? false,
            },
          },
        },
      };
    }
    // Active rulesets only (classic protection is the branch's own); https://docs.github.com/en/rest/repos/rules#get-rules-for-a-branch
    if (/^\/rules\/branches\/.+$/.test(rest) && method === 'GET')
      return {
        body: gh.requireSignedCommits
          ? [
              {
                type: 'required_signatures',
                ruleset_id: 1,
                ruleset_source_type: 'Repository',
                ruleset_source: `${gh.owner}/${gh.repo}`,
              },
            ]
          : [],
      };
    // https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference
    if ((m = /^\/commits\/([^/]+)\/check-runs$/.exec(rest)) && method === 'GET') {
      need(['checks'], 'read');
      const sha = gh.resolve(m[1]!);
      if (!sha) throw unprocessable(`No commit found for SHA: ${m[1]}`);
      const name = query.get('check_name');
      const runs = (gh.checkRuns.get(sha) ?? []).filter((r) => !name || r.name === name);
      return {
        body: {
          total_count: runs.length,
          check_runs: runs.map((r, i) => ({
            id: i + 1,
            name: r.name,
            head_sha: sha,
            status: r.status,
            conclusion: r.conclusion,
            started_at: r.startedAt,
          })),
        },
      };
    }

    // ---- pull requests ----------------------------------------------------------------------
    if (rest === '/pulls' && method === 'GET') return { body: listPulls(gh, base, query) };
    if (rest === '/pulls' && method === 'POST') {
      need(['pull_requests']);
      if (credential.kind === 'actions' && !gh.actionsCanCreatePullRequests)
        throw new HttpError(403, 'GitHub Actions is not permitted to create or approve pull requests.', {
          message: 'GitHub Actions is not permitted to create or approve pull requests.',
          documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
        });
      const pr = answering(() =>
        gh.createPull({
          head: String(b.head ?? '')
            .split(':')
            .pop()!,
          base: String(b.base ?? gh.defaultBranch),
          title: String(b.title ?? ''),
          body: String(b.body ?? ''),
        }),
      );
      return { status: 201, body: pullJson(gh, base, pr) };
    }
    if ((m = /^\/pulls\/(\d+)$/.exec(rest))) {
      const pr = answering(() => gh.pull(Number(m![1])));
      if (method === 'GET') return { body: pullJson(gh, base, pr, true) };
      if (method === 'PATCH') {
        need(['pull_requests']);
        if (typeof b.title === 'string' || typeof b.body === 'string') pr.edits++;
        if (typeof b.title === 'string') pr.title = b.title;
        if (typeof b.body === 'string') pr.body = b.body;
        if (b.state === 'closed' && pr.state === 'open') answering(() => gh.close(pr.number));
        if (b.state === 'open' && !pr.merged) pr.state = 'open';
        return { body: pullJson(gh, base, pr, true) };
      }
    }
    // PUT /repos/{owner}/{repo}/pulls/{n}/merge (Contents: write): https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request
    if ((m = /^\/pulls\/(\d+)\/merge$/.exec(rest)) && method === 'PUT') {
      need(['contents']);
      const n = Number(m[1]);
      answering(() => gh.pull(n));
      const method_ = (b.merge_method as MergeMethod | undefined) ?? 'merge';
      const sha = answering(() =>
        gh.merge(n, { method: method_, by: 'api', ...(typeof b.sha === 'string' ? { sha: b.sha } : {}) }),
      );
      return { body: { sha, merged: true, message: 'Pull Request successfully merged' } };
    }
    // https://docs.github.com/en/rest/pulls/pulls#update-a-pull-request-branch
    if ((m = /^\/pulls\/(\d+)\/update-branch$/.exec(rest)) && method === 'PUT') {
      need(['pull_requests']);
      const n = Number(m[1]);
      answering(() => gh.updateBranch(n, typeof b.expected_head_sha === 'string' ? b.expected_head_sha : undefined));
      return { status: 202, body: { message: 'Updating pull request branch.', url: `${base}${prefix}/pulls/${n}` } };
    }
    if ((m = /^\/issues\/(\d+)\/(comments|labels)$/.exec(rest)) && method === 'POST') {
      const pr = answering(() => gh.pull(Number(m![1])));
      if (m[2] === 'comments') {
        need(['issues', 'pull_requests']);
        pr.comments.push(String(b.body ?? ''));
        return { status: 201, body: { id: pr.comments.length, body: b.body } };
      }
      // Labels: Issues or Pull requests write (https://docs.github.com/en/rest/issues/labels#add-labels-to-an-issue);
      // a label the repository does not have yet is created.
      need(['issues', 'pull_requests']);
      for (const l of (b.labels as string[]) ?? []) if (!pr.labels.includes(l)) pr.labels.push(l);
      return { body: pr.labels.map((name, i) => ({ id: i + 1, name })) };
    }
    throw notFound();
  };
}

/** The App's own routes (JWT): its installation on this repository, its installations and installation tokens. */
function appRoutes(gh: SandboxGitHub, method: string, path: string, presented: string, prefix: string) {
  const installation = () => ({
    id: gh.app.installationId,
    app_id: gh.app.id,
    account: { login: gh.owner },
    repository_selection: 'selected',
    permissions: { ...gh.app.permissions },
    events: [],
  });
  const jwt = () => {
    const problem = gh.jwtProblem(presented);
    if (problem === 'Integration not found') throw notFound();
    if (problem) throw new HttpError(401, problem, { message: problem, documentation_url: DOCS });
  };
  // https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
  if (path === `${prefix}/installation` && method === 'GET') {
    jwt();
    if (!gh.app.includesRepository) throw notFound();
    return { body: installation() };
  }
  // https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
  const a = /^\/app\/installations\/(\d+)(\/access_tokens)?$/.exec(path);
  if (!a) return null;
  jwt();
  if (Number(a[1]) !== gh.app.installationId) throw notFound();
  if (a[2] && method === 'POST')
    return { status: 201, body: { ...gh.issueInstallationToken(), repository_selection: 'selected' } };
  if (!a[2] && method === 'GET') return { body: installation() };
  throw notFound();
}

/**
 * List pull requests: head=owner:branch (a branch of another owner's fork is not ours; without
 * "owner:" GitHub ignores the filter, github/docs#16647), state open|closed|all, newest first by
 * default. https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
 */
function listPulls(gh: SandboxGitHub, base: string, query: URLSearchParams) {
  const [headOwner, headBranch] = (query.get('head') ?? '').includes(':')
    ? query.get('head')!.split(':')
    : [null, undefined];
  if (headOwner !== null && headOwner !== gh.owner) return [];
  const head = headBranch || undefined;
  const state = query.get('state') ?? 'open';
  const ascending = query.get('direction') === 'asc';
  const perPage = Math.min(Number(query.get('per_page') ?? 30), 100);
  const list = gh.pulls
    .filter((p) => (!head || p.head === head) && (state === 'all' || p.state === state))
    .sort((x, y) => (ascending ? x.number - y.number : y.number - x.number))
    .slice(0, perPage);
  return list.map((p) => pullJson(gh, base, p));
}

function createTree(gh: SandboxGitHub, base: string, prefix: string, b: Record<string, unknown>) {
  const baseTree = b.base_tree ? String(b.base_tree) : null;
  if (baseTree && !gh.treeEntries(baseTree)) throw unprocessable('base_tree is not a valid tree');
  const start = new Map<string, string>(baseTree ? gh.treeEntries(baseTree) : undefined);
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
    sha,
    url: `${base}${prefix}/git/trees/${sha}`,
    truncated: false,
    tree: [...start].map(([p, s]) => ({ path: p, mode: '100644', type: 'blob', sha: s })),
  };
}

/**
 * enablePullRequestAutoMerge (mergeMethod defaults to MERGE, expectedHeadOid optional) and
 * disablePullRequestAutoMerge (https://docs.github.com/en/graphql/reference/mutations). GitHub
 * answers refusals with HTTP 200 and a GraphQL error (type UNPROCESSABLE).
 */
function graphql(gh: SandboxGitHub, b: Record<string, unknown>) {
  const q = String(b.query ?? '');
  const vars = (b.variables ?? {}) as { pullRequestId?: string; mergeMethod?: string; expectedHeadOid?: string };
  const op = q.includes('disablePullRequestAutoMerge')
    ? 'disablePullRequestAutoMerge'
    : q.includes('enablePullRequestAutoMerge')
      ? 'enablePullRequestAutoMerge'
      : null;
  if (!op) return { body: { errors: [{ message: 'sandbox: only the auto-merge mutations are served' }] } };
  const pr = gh.pulls.find((p) => p.node_id === vars.pullRequestId);
  const error = (type: string, message: string) => ({
    body: { data: { [op]: null }, errors: [{ type, path: [op], locations: [{ line: 1, column: 30 }], message }] },
  });
  if (!pr) return error('NOT_FOUND', `Could not resolve to a node with the global id of '${vars.pullRequestId}'.`);
  try {
    if (op === 'disablePullRequestAutoMerge') pr.autoMerge = null;
    else {
      const methodName = vars.mergeMethod ?? 'MERGE';
      const chosen = GRAPHQL_METHODS[methodName];
      if (!chosen)
        return error('INVALID', `Variable $mergeMethod of type PullRequestMergeMethod was provided invalid value`);
      gh.enableAutoMerge(pr, chosen, vars.expectedHeadOid);
    }
  } catch (e) {
    if (e instanceof GitHubRefusal) return error('UNPROCESSABLE', e.message);
    throw e;
  }
  return { body: { data: { [op]: { pullRequest: { number: pr.number, autoMergeRequest: pr.autoMerge } } } } };
}
