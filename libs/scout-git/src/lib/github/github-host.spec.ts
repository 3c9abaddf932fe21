import type { ManualClock, Sandbox } from '@gpu-fleet/sandbox';
import { githubSandbox } from '../../test/github-sandbox';
import {
  metadataComment,
  planTrailer,
  readMetadata,
  silentLogger,
  type ProposalRequest,
} from '@gpu-fleet/scout-domain';
import { GitHubHost, type GitHubHostOptions } from './github-host';

/** The adapter with the real octokit (retry + throttling plugins) against the sandbox's GitHub wire format. */
let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await githubSandbox();
});
afterEach(() => sandbox.close());

/**
 * Throttling spaces writes 1 s apart (GitHub's rule); most tests turn it off, two keep it on. Time
 * (deadlines, rate-limit waits) runs on the sandbox's manual clock.
 */
const host = (throttle = false, extra: Partial<GitHubHostOptions> = {}) =>
  new GitHubHost({
    ...sandbox.githubTarget(),
    logger: silentLogger,
    retryBaseMs: 5,
    throttle,
    now: () => sandbox.world.clock.now().getTime(),
    sleep: (ms) => sandbox.world.clock.sleep(ms),
    ...extra,
  });

const request = (plan: string, body = `body ${plan}`, extra: Partial<ProposalRequest> = {}): ProposalRequest => ({
  base: 'main',
  branch: 'region-scout/placement',
  title: `region-scout: plan ${plan}`,
  body: `${body}\n\n${metadataComment({ v: 1, plan: `${plan}0000000000`, body: body.replace(/\s/g, ''), sweep: 's' })}`,
  commitMessage: `plan ${plan}\n\n${planTrailer(`${plan}0000000000`)}`,
  files: [
    { path: 'fleet-config/fleet.yaml', content: `clusters: [${plan}]\n` },
    { path: 'clusters/old/kustomization.yaml', content: null },
  ],
  planHash: `${plan}0000000000`,
  bodyHash: body.replace(/\s/g, ''),
  labels: ['region-scout', 'placement'],
  autoMerge: false,
  ...extra,
});
const writes = () => sandbox.requests.filter((r) => r.api === 'github' && r.method !== 'GET').length;
const pulls = () => sandbox.github.pulls;

describe('GitHubHost: one idempotent pull request', () => {
  it('opens one PR from one commit on the fixed branch, with labels (throttled as on GitHub)', async () => {
    const r = await host(true).propose(request('a'));
    expect(r).toMatchObject({ action: 'created', number: 1, url: 'https://github.com/gpu-fleet/gpu-fleet/pull/1' });
    expect(pulls()).toHaveLength(1);
    expect(pulls()[0]).toMatchObject({
      head: 'region-scout/placement',
      base: 'main',
      title: 'region-scout: plan a',
      labels: ['region-scout', 'placement'],
      autoMerge: null,
    });
    const files = sandbox.github.files('region-scout/placement');
    expect(files.get('fleet-config/fleet.yaml')).toBe('clusters: [a]\n');
    expect(files.has('clusters/old/kustomization.yaml')).toBe(false);
    const head = sandbox.github.commits.get(sandbox.github.refs.get('heads/region-scout/placement')!)!;
    expect(head.parents).toEqual([sandbox.github.refs.get('heads/main')]);
  }, 20_000);

  it('run twice: the same plan writes nothing; new evidence edits the body only; a new plan adds a commit to the same PR', async () => {
    await host().propose(request('a'));
    const before = writes();
    expect((await host().propose(request('a'))).action).toBe('unchanged');
    expect(writes()).toBe(before);

    const edited = await host().propose(request('a', 'body a, newer evidence'));
    expect(edited).toMatchObject({ action: 'updated', number: 1 });
    expect(pulls()[0]!.edits).toBe(1);
    expect(readMetadata(pulls()[0]!.body)!.body).toBe('bodya,newerevidence');

    const headA = sandbox.github.refs.get('heads/region-scout/placement');
    const moved = await host().propose(request('b'));
    expect(moved).toMatchObject({ action: 'updated', number: 1 });
    expect(pulls()).toHaveLength(1);
    expect(sandbox.github.commits.get(moved.commit!)!.parents).toEqual([headA]);
    expect(sandbox.github.files('region-scout/placement').get('fleet-config/fleet.yaml')).toBe('clusters: [b]\n');
    // Main is two commits down the branch now: the third plan is not a merge of it again.
    const third = await host().propose(request('c'));
    expect(sandbox.github.commits.get(third.commit!)!.parents).toEqual([moved.commit]);
  });

  it('merges main in once when it moved, and not again on the next update', async () => {
    const first = await host().propose(request('a'));
    const moved = sandbox.github.pushAsPerson('main', { 'README.md': 'main moves on\n' }, 'Main moves on');
    const merge = await host().propose(request('b'));
    expect(sandbox.github.commits.get(merge.commit!)!.parents).toEqual([first.commit, moved]);
    const next = await host().propose(request('c'));
    expect(sandbox.github.commits.get(next.commit!)!.parents).toEqual([merge.commit]);
    expect(sandbox.github.files('region-scout/placement').get('README.md')).toBe('main moves on\n');
  });

  it('leaves a branch a person pushed to alone, and says so', async () => {
    await host().propose(request('a'));
    const theirs = sandbox.github.pushAsPerson('region-scout/placement', {
      'fleet-config/fleet.yaml': 'clusters: [mine]\n',
    });
    const before = writes();
    const r = await host().propose(request('b'));
    expect(r.action).toBe('left-alone');
    expect(r.message).toMatch(/a person pushed .* left alone/);
    expect((await host().withdraw({ base: 'main', branch: 'region-scout/placement', comment: 'x' })).action).toBe(
      'left-alone',
    );
    expect(writes()).toBe(before);
    expect(sandbox.github.refs.get('heads/region-scout/placement')).toBe(theirs);
  });

  it('closes the PR with a comment when the plan empties', async () => {
    await host().propose(request('a'));
    const r = await host().withdraw({
      base: 'main',
      branch: 'region-scout/placement',
      comment: 'region-scout: no change needed any more',
    });
    expect(r).toMatchObject({ action: 'closed', number: 1 });
    expect(pulls()[0]).toMatchObject({ state: 'closed', comments: ['region-scout: no change needed any more'] });
    // marked as the scout's own closing, so the plan is not read as declined by a person
    expect(readMetadata(pulls()[0]!.body)).toMatchObject({ plan: 'a0000000000', withdrawn: true });
    expect(sandbox.github.refs.has('heads/region-scout/placement')).toBe(false);
    expect((await host().withdraw({ base: 'main', branch: 'region-scout/placement', comment: 'x' })).action).toBe(
      'nothing-open',
    );
  });

  /** Hold the next `method` on the branch ref until released; resolves `held` once a request waits there. */
  const holdRef = (method: 'POST' | 'PATCH') => {
    let release!: () => void;
    let held!: () => void;
    const until = new Promise<void>((r) => (release = r));
    const waiting = new Promise<void>((r) => (held = r));
    sandbox.faults.push({
      api: 'github',
      kind: 'hold',
      method,
      path: /\/git\/refs/,
      times: 1,
      until,
      onHold: () => held(),
    });
    return { waiting, release };
  };

  it('two concurrent sweeps creating the branch: one PR, no lost update (the race forced)', async () => {
    // Sweep 1 has read "no branch" and is about to create it; sweep 2 creates it first.
    const gate = holdRef('POST');
    const first = host().propose(request('a'));
    await gate.waiting;
    const second = await host().propose(request('a'));
    expect(second).toMatchObject({ action: 'created', number: 1 });
    gate.release();
    // Sweep 1's create fails (the ref exists); it re-reads and finds its plan already proposed.
    expect(await first).toMatchObject({ action: 'unchanged', number: 1 });
    expect(pulls().filter((p) => p.state === 'open')).toHaveLength(1);
    expect(
      sandbox.requests
        .filter((q) => q.api === 'github' && q.method === 'POST' && /\/git\/refs$/.test(q.path))
        .map((q) => q.status),
    ).toEqual([422, 201]); // logged on arrival: the held create, then sweep 2's
  });

  it('two concurrent sweeps moving the branch: both commits land, fast-forward only (the race forced)', async () => {
    await host().propose(request('a'));
    const gate = holdRef('PATCH');
    const c = host().propose(request('c'));
    await gate.waiting;
    // Sweep d moves the branch while c's update is on the wire with the old head as its parent.
    const d = await host().propose(request('d'));
    gate.release();
    const cr = await c;
    // c's non-force update is refused (not a fast-forward), c re-reads and commits on top of d.
    expect([cr.action, d.action]).toEqual(['updated', 'updated']);
    const head = sandbox.github.refs.get('heads/region-scout/placement')!;
    expect(head).toBe(cr.commit);
    expect(sandbox.github.isAncestor(d.commit!, head)).toBe(true);
    expect(
      sandbox.requests
        .filter((q) => q.api === 'github' && q.method === 'PATCH' && /\/git\/refs\//.test(q.path))
        .map((q) => q.status),
    ).toEqual([422, 200, 200]); // c held and refused, d, c again
    expect(pulls()).toHaveLength(1);
  });

  it('retries GitHub 5xx and then succeeds', async () => {
    sandbox.faults.push({ api: 'github', kind: 'status', status: 502, times: 2, path: /\/git\/trees$/ });
    expect((await host().propose(request('a'))).action).toBe('created');
  });

  it('stops cleanly on persistent 5xx: no branch, no PR', async () => {
    sandbox.faults.push({ api: 'github', kind: 'status', status: 503, path: /\/git\/commits$/ });
    const r = await host().propose(request('a'));
    expect(r.action).toBe('stopped');
    expect(r.message).toMatch(/GitHub answered 503/);
    expect(sandbox.github.refs.has('heads/region-scout/placement')).toBe(false);
    expect(pulls()).toHaveLength(0);
  });

  it('stops on a secondary rate limit GitHub asks to wait out longer than a sweep waits, nothing half-written', async () => {
    sandbox.faults.push({
      api: 'github',
      kind: 'secondary-rate-limit',
      retryAfterSec: 600,
      path: /\/pulls$/,
      method: 'POST',
      times: 1,
    });
    const r = await host(true).propose(request('a'));
    expect(r.action).toBe('stopped');
    expect(r.message).toMatch(
      /^GitHub secondary rate limit \(403\) on POST \/repos\/.*\/pulls: GitHub asks to wait 600 s; stopped, the next sweep retries$/,
    );
    expect(sandbox.requests.filter((q) => q.api === 'github' && q.status === 403)).toHaveLength(1);
    expect(sandbox.requests.some((q) => q.insideLimit)).toBe(false);
    expect(pulls()).toHaveLength(0);
    // The commit on the branch is complete and the next sweep (after the limit) resumes from it: same plan, PR opened, no second commit.
    const head = sandbox.github.refs.get('heads/region-scout/placement');
    (sandbox.world.clock as ManualClock).advance(20 * 60_000);
    const next = await host().propose(request('a'));
    expect(next).toMatchObject({ action: 'created', commit: head });
  }, 20_000);

  it('enables auto-merge only when asked (policy add-capacity and an additive plan)', async () => {
    await host().propose(request('a', 'b', { autoMerge: true }));
    expect(pulls()[0]!.autoMerge).toEqual({ method: 'squash' });
  });

  it('auto-merge refused because the repository does not allow it: the PR stands, the sweep goes on, the next sweep tries again', async () => {
    sandbox.github.allowAutoMerge = false;
    const first = await host().propose(request('a', 'b', { autoMerge: true }));
    expect(first).toMatchObject({ action: 'created', number: 1 });
    expect(first.message).toMatch(
      /^opened pull request #1; auto-merge is off in this repository \(Settings → General → Pull Requests → Allow auto-merge\)/,
    );
    expect(pulls()[0]!.autoMerge).toBeNull();
    // the setting is turned on; the same plan's next sweep enables it
    sandbox.github.allowAutoMerge = true;
    const again = await host().propose(request('a', 'b', { autoMerge: true }));
    expect(again.action).toBe('unchanged');
    expect(pulls()[0]!.autoMerge).toEqual({ method: 'squash' });
    // once on, it is not asked for again
    const calls = sandbox.requests.filter((r) => r.path === '/graphql').length;
    expect(calls).toBe(2);
    await host().propose(request('a', 'b', { autoMerge: true }));
    expect(sandbox.requests.filter((r) => r.path === '/graphql').length).toBe(calls);
  });

  it('reports a rejected token as a clean stop', async () => {
    const r = await new GitHubHost({
      owner: 'nobody',
      repo: 'nothing',
      auth: { kind: 'token', token: 't' },
      baseUrl: sandbox.endpoints.github,
      logger: silentLogger,
      retryBaseMs: 5,
    }).propose(request('a'));
    expect(r).toMatchObject({ action: 'stopped' });
    expect(r.message).toMatch(/^GitHub answered 401: Bad credentials/);
    const elsewhere = await new GitHubHost({
      owner: 'nobody',
      repo: 'nothing',
      auth: { kind: 'token', token: sandbox.githubToken },
      baseUrl: sandbox.endpoints.github,
      logger: silentLogger,
      retryBaseMs: 5,
    }).propose(request('a'));
    expect(elsewhere.message).toBe(
      `GitHub nobody/nothing at ${sandbox.endpoints.github}: the repository is not found, or not visible to the scout's identity (GitHub answers 404 for both): check configSync.repo, and that the token or App installation includes this repository`,
    );
  });
});

describe('GitHubHost with the production identity, a GitHub App', () => {
  const appHost = () =>
    new GitHubHost({
      ...sandbox.githubTarget('app'),
      logger: silentLogger,
      retryBaseMs: 5,
      throttle: false,
    });
  const paths = () => sandbox.requests.filter((r) => r.api === 'github').map((r) => `${r.method} ${r.path}`);

  it('checks the installation, takes an installation token with its JWT, and proposes', async () => {
    const r = await appHost().propose(request('a'));
    expect(r).toMatchObject({ action: 'created', number: 1 });
    expect(paths().slice(0, 2)).toEqual([
      'GET /repos/gpu-fleet/gpu-fleet/installation',
      'POST /app/installations/777/access_tokens',
    ]);
    // A second sweep (a new process) takes a new token; the same plan writes nothing.
    expect((await appHost().propose(request('a'))).action).toBe('unchanged');
  });

  it('an installation without Workflows: write is stopped before anything is written, naming what to grant', async () => {
    delete sandbox.github.app.permissions.workflows;
    const r = await appHost().propose(request('a'));
    expect(r.action).toBe('stopped');
    expect(r.message).toBe(
      'the GitHub App installation 777 lacks Workflows: write (workflows: none); in the App\'s settings (Permissions & events → Repository permissions) set Workflows to "Read and write", then accept the new permissions on the installation (docs/runbook.md, step 7)',
    );
    expect(paths().filter((p) => !p.startsWith('GET'))).toEqual([]);
    expect(pulls()).toEqual([]);
  });

  it('an expired installation token is refused (401); the next sweep gets a fresh one', async () => {
    sandbox.github.app.tokenLifetimeMs = 1;
    const first = await appHost().propose(request('a'));
    expect(first.action).toBe('stopped');
    // octokit's App auth retries a 401 for a few seconds after taking a token (GitHub replicates new
    // tokens), then gives up with its own words.
    expect(first.message).toMatch(
      /^GitHub answered 401: After \d+ retries within .* of creating the installation access token/,
    );
    sandbox.github.app.tokenLifetimeMs = 3600_000;
    expect((await appHost().propose(request('a'))).action).toBe('created');
  });
});

describe('GitHub refusals the sandbox models', () => {
  it('main changed a workflow: following it needs the workflows permission, and the stop says so', async () => {
    await host().propose(request('a'));
    sandbox.github.pushAsPerson('main', { '.github/workflows/validate.yml': 'on: push # bumped\n' }, 'Bump actions');
    // the same identity without workflows (a token without the workflow scope)
    delete sandbox.github.credentials.get(sandbox.githubToken)!.permissions.workflows;
    const r = await host().propose(request('b'));
    expect(r.action).toBe('stopped');
    expect(r.message).toMatch(
      /^GitHub answered 422: refusing to allow a Personal Access Token to create or update workflow `\.github\/workflows\/validate\.yml` without `workflow` scope .* — give the scout's identity Workflows: write/,
    );
    // granted: the branch follows main
    sandbox.github.credentials.get(sandbox.githubToken)!.permissions.workflows = 'write';
    expect((await host().propose(request('b'))).action).toBe('updated');
    expect(sandbox.github.files('region-scout/placement').get('.github/workflows/validate.yml')).toBe(
      'on: push # bumped\n',
    );
  });

  it("the workflow's own GITHUB_TOKEN may not open pull requests (the default), with GitHub's words and the fix", async () => {
    const r = await new GitHubHost({
      owner: sandbox.github.owner,
      repo: sandbox.github.repo,
      auth: { kind: 'token', token: 'sandbox-actions-token' },
      baseUrl: sandbox.endpoints.github,
      logger: silentLogger,
      retryBaseMs: 5,
      throttle: false,
    }).propose(request('a'));
    expect(r.action).toBe('stopped');
    expect(r.message).toMatch(
      /^GitHub answered 403: GitHub Actions is not permitted to create or approve pull requests\. .* set the REGION_SCOUT_APP_\* or REGION_SCOUT_GITHUB_TOKEN secrets$/,
    );
  });

  it('createRef without refs/, a pull request with no commits, and head=owner:branch as GitHub reads them', async () => {
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(
        `${sandbox.endpoints.github}/repos/${sandbox.github.owner}/${sandbox.github.repo}${path}`,
        {
          method,
          headers: { authorization: `token ${sandbox.githubToken}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        },
      );
      return {
        status: res.status,
        body: (await res.json()) as { message?: string; errors?: Array<{ message: string }> },
      };
    };
    const main = sandbox.github.refs.get('heads/main')!;
    const bare = await api('POST', '/git/refs', { ref: 'heads/x', sha: main });
    expect(bare.status).toBe(422);
    expect(bare.body.message).toBe('Reference name must contain at least three slash-separated components.');
    expect((await api('POST', '/git/refs', { ref: 'refs/heads/x', sha: main })).status).toBe(201);
    const empty = await api('POST', '/pulls', { head: 'x', base: 'main', title: 't', body: 'b' });
    expect(empty.status).toBe(422);
    expect(empty.body.errors?.[0]?.message).toBe('No commits between main and x');
    await host().propose(request('a'));
    expect((await api('GET', `/pulls?head=${sandbox.github.owner}:region-scout/placement`)).body).toHaveLength(1);
    expect((await api('GET', '/pulls?head=someone-else:region-scout/placement')).body).toEqual([]);
    // without "owner:" GitHub ignores the filter: every open pull request
    expect((await api('GET', '/pulls?head=no-such-branch')).body).toHaveLength(1);
  });
});

describe('GitHubHost: proposals built on the commit the sweep read', () => {
  it('with baseCommit, a change merged meanwhile stays visible (the PR is based on what the sweep saw), not silently reverted', async () => {
    const seen = sandbox.github.refs.get('heads/main')!;
    const merged = sandbox.github.pushAsPerson(
      'main',
      { 'fleet-config/fleet.yaml': 'clusters: [person]\n' },
      'A person edits the spec',
    );
    await host().propose(request('a', 'body a', { baseCommit: seen }));
    const head = sandbox.github.commits.get(sandbox.github.refs.get('heads/region-scout/placement')!)!;
    expect(head.parents).toEqual([seen]);
    expect(head.parents).not.toContain(merged);
    // Without it the proposal would sit on top of the person's commit and its diff would undo their edit.
    await host().withdraw({ base: 'main', branch: 'region-scout/placement', comment: 'reset' });
    await host().propose(request('b'));
    const onTop = sandbox.github.commits.get(sandbox.github.refs.get('heads/region-scout/placement')!)!;
    expect(onTop.parents).toEqual([merged]);
  });
});

describe('GitHubHost.readFiles: the repository without a checkout (the CronJob)', () => {
  it('reads exactly the files under the given folders and paths at the branch head', async () => {
    sandbox.github.pushAsPerson('main', {
      'fleet-config/patches/kustomization.yaml': 'kind: Component\n',
      'README.md': 'not wanted\n',
      'fleet-config-other/x': 'not wanted\n',
    });
    const r = await host().readFiles('main', ['fleet-config/', 'clusters/', 'docs/reference/fleet-spec.md']);
    expect(r.commit).toBe(sandbox.github.refs.get('heads/main'));
    expect([...r.files.keys()]).toEqual([
      'clusters/old/kustomization.yaml',
      'fleet-config/fleet.yaml',
      'fleet-config/patches/kustomization.yaml',
    ]);
    expect(r.files.get('fleet-config/patches/kustomization.yaml')).toBe('kind: Component\n');
  });

  it('names the branch when it does not exist', async () => {
    await expect(host().readFiles('nope', ['fleet-config/'])).rejects.toThrow(
      /branch "nope" not found; check configSync.branch/,
    );
  });
});

describe('GitHubHost with configSync.dir: the gpu-fleet tree in a folder of the repository', () => {
  it('proposes and reads paths under the folder, and speaks in paths relative to it', async () => {
    sandbox.github.pushAsPerson('main', {
      'ops/fleet/fleet-config/fleet.yaml': 'clusters: []\n',
      'fleet-config/fleet.yaml': 'someone else\n',
    });
    const inDir = host(false, { dir: 'ops/fleet' });
    const read = await inDir.readFiles('main', ['fleet-config/']);
    expect([...read.files]).toEqual([['fleet-config/fleet.yaml', 'clusters: []\n']]);
    await inDir.propose(request('a'));
    const files = sandbox.github.files('region-scout/placement');
    expect(files.get('ops/fleet/fleet-config/fleet.yaml')).toBe('clusters: [a]\n');
    expect(files.get('fleet-config/fleet.yaml')).toBe('someone else\n');
  });
});
