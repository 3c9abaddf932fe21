import type { ManualClock, Sandbox } from '@gpu-fleet/sandbox';
import { githubSandbox } from '../../test/github-sandbox';
import { metadataComment, planTrailer, silentLogger, type ProposalRequest } from '@gpu-fleet/scout-domain';
import { GitHubHost, type GitHubHostOptions } from './github-host';

/**
 * What an unattended fleet may merge, and what GitHub's limits and faults do to a sweep: each case
 * against the sandbox's GitHub (which merges, auto-merges, limits and refuses as GitHub does) with
 * the real octokit.
 */
let sandbox: Sandbox;
const BRANCH = 'region-scout/placement';
beforeEach(async () => {
  sandbox = await githubSandbox();
});
afterEach(() => sandbox.close());

const clock = () => sandbox.world.clock as ManualClock;
const host = (extra: Partial<GitHubHostOptions> = {}, identity: 'token' | 'app' = 'token') =>
  new GitHubHost({
    ...sandbox.githubTarget(identity),
    logger: silentLogger,
    retryBaseMs: 5,
    throttle: false,
    now: () => clock().now().getTime(),
    sleep: (ms) => clock().sleep(ms),
    ...extra,
  });
const request = (plan: string, extra: Partial<ProposalRequest> = {}): ProposalRequest => ({
  base: 'main',
  branch: BRANCH,
  title: `region-scout: plan ${plan}`,
  body: `body ${plan}\n\n${metadataComment({ v: 1, plan: `${plan}0000000000`, body: `body${plan}`, sweep: 's' })}`,
  commitMessage: `plan ${plan}\n\n${planTrailer(`${plan}0000000000`)}`,
  files: [{ path: 'fleet-config/fleet.yaml', content: `clusters: [${plan}]\n` }],
  planHash: `${plan}0000000000`, // hex, as the trailer is
  bodyHash: `body${plan}`,
  labels: ['region-scout', 'placement'],
  autoMerge: false,
  ...extra,
});
const gh = () => sandbox.github;
const branchHead = () => gh().refs.get(`heads/${BRANCH}`)!;
const validate = (sha = branchHead(), conclusion: 'success' | 'failure' = 'success') =>
  gh().setCheck(sha, 'validate', 'completed', conclusion);
const calls = () => sandbox.requests.filter((r) => r.api === 'github');
const writes = () => calls().filter((r) => r.method !== 'GET').length;

describe('what may merge unattended', () => {
  it('auto-merge on for a capacity-only plan is turned off before the branch moves to a drain, which then never merges by itself', async () => {
    const add = await host().propose(request('add', { autoMerge: true }));
    expect(gh().pulls[0]!.autoMerge).toEqual({ method: 'squash' });
    const before = calls().length;
    const drain = await host().propose(request('d7a1', { autoMerge: false }));
    expect(drain).toMatchObject({ action: 'updated', number: add.number });
    expect(drain.message).toMatch(/auto-merge turned off \(this plan does not only add capacity/);
    expect(gh().pulls[0]!.autoMerge).toBeNull();
    // the mutation came before the ref moved
    const since = calls().slice(before);
    const off = since.findIndex((r) => r.path === '/graphql');
    const moved = since.findIndex((r) => r.method === 'PATCH' && r.path.includes('/git/refs/'));
    expect(off).toBeGreaterThanOrEqual(0);
    expect(off).toBeLessThan(moved);
    // validate passes on the drain: nothing merges without a person
    validate();
    expect(gh().merges).toEqual([]);
    expect(gh().pulls[0]!.state).toBe('open');
  });

  it('when auto-merge cannot be turned off, the branch is not moved', async () => {
    await host().propose(request('add', { autoMerge: true }));
    const head = branchHead();
    sandbox.faults.push({ api: 'github', kind: 'status', status: 502, path: /^\/graphql$/ });
    const r = await host().propose(request('d7a1'));
    expect(r.action).toBe('stopped');
    expect(r.message).toMatch(/^GitHub answered 502/);
    expect(branchHead()).toBe(head);
    expect(gh().pulls[0]!.autoMerge).not.toBeNull();
  });

  it('an additive plan auto-merges only once `validate` has passed on its head', async () => {
    const r = await host().propose(request('add', { autoMerge: true }));
    expect(gh().merges).toEqual([]);
    validate(r.commit!, 'failure');
    expect(gh().merges).toEqual([]);
    // a new run of validate on the same head passes
    validate(r.commit!, 'success');
    expect(gh().merges).toMatchObject([{ number: r.number, by: 'auto-merge', head: r.commit, validated: true }]);
  });

  it('a base that does not require `validate` gets no auto-merge (GitHub would merge a "clean" PR unvalidated); the refusal names the setting', async () => {
    // main requires only a lint check, which has passed: GitHub calls the new pull request clean.
    gh().protection.set('main', { requiredChecks: ['lint'], strict: false });
    const lintPassed = (sha: string) => gh().setCheck(sha, 'lint', 'completed', 'success');
    const first = await host().propose(request('add', { autoMerge: true }));
    lintPassed(first.commit!);
    const r = await host().propose(request('add', { autoMerge: true }));
    expect(r.message).toContain(
      'auto-merge not enabled: main does not require the `validate` check, so GitHub would merge before validation ran',
    );
    expect(r.message).toContain('Require status checks to pass before merging → `validate`');
    expect(gh().merges).toEqual([]);
    expect(gh().pulls[0]!.autoMerge).toBeNull();
  });

  it('a pull request GitHub calls clean is merged by the scout only with `validate` passed on that head, naming it (sha)', async () => {
    sandbox.github.allowAutoMerge = false;
    const first = await host().propose(request('add', { autoMerge: true }));
    sandbox.github.allowAutoMerge = true;
    // clean, but validate never ran on this head: not merged
    gh().protection.set('main', { requiredChecks: ['validate'], strict: false });
    gh().setCheck(first.commit!, 'validate', 'completed', 'skipped');
    const waiting = await host().propose(request('add', { autoMerge: true }));
    expect(waiting.message).toMatch(/waiting for `validate` to pass on \w{7} before merging/);
    expect(gh().merges).toEqual([]);
    validate(first.commit!);
    const merged = await host().propose(request('add', { autoMerge: true }));
    expect(merged.message).toMatch(/merged #1 \(`validate` passed on \w{7}/);
    expect(gh().merges).toMatchObject([{ by: 'api', head: first.commit, validated: true, method: 'squash' }]);
    const mergeCall = calls().find((q) => q.method === 'PUT' && q.path.endsWith('/merge'));
    expect(mergeCall?.status).toBe(200);
  });

  it('the merge method is one the repository allows', async () => {
    gh().mergeMethods.squash = false;
    const r = await host().propose(request('add', { autoMerge: true }));
    expect(gh().pulls[0]!.autoMerge).toEqual({ method: 'merge' });
    validate(r.commit!);
    expect(gh().merges).toMatchObject([{ method: 'merge', validated: true }]);
  });
});

describe('the branch follows main, and stays the scout’s', () => {
  it('main moved: the same plan is rebuilt on it (a new commit), so an up-to-date rule is met', async () => {
    gh().protection.set('main', { requiredChecks: ['validate'], strict: true });
    const first = await host().propose(request('add', { autoMerge: true }));
    const moved = gh().pushAsPerson('main', { 'README.md': 'main moves on\n' }, 'Main moves on');
    validate(first.commit!);
    // behind main: GitHub waits
    expect(gh().merges).toEqual([]);
    const again = await host().propose(request('add', { autoMerge: true }));
    expect(again.action).toBe('updated');
    expect(gh().commits.get(again.commit!)!.parents).toEqual([first.commit, moved]);
    validate(again.commit!);
    expect(gh().merges).toMatchObject([{ by: 'auto-merge', head: again.commit, validated: true }]);
  });

  it("GitHub's update-branch merge is recognised as the scout's own: unchanged, and it can still withdraw", async () => {
    await host().propose(request('add'));
    gh().pushAsPerson('main', { 'README.md': 'main moves on\n' }, 'Main moves on');
    const merge = gh().updateBranch(1);
    const r = await host().propose(request('add'));
    expect(r).toMatchObject({ action: 'unchanged', commit: merge });
    const next = await host().propose(request('0be7'));
    expect(next.action).toBe('updated');
    expect(gh().commits.get(next.commit!)!.parents).toEqual([merge]);
    expect((await host().withdraw({ base: 'main', branch: BRANCH, comment: 'done' })).action).toBe('closed');
  });

  it('a merge of main that slips in other content is a person’s: left alone', async () => {
    const first = await host().propose(request('add'));
    const main = gh().pushAsPerson('main', { 'README.md': 'main moves on\n' }, 'Main moves on');
    const tree = gh().writeTree(
      new Map([...gh().mergeTrees(first.commit!, main)!, ['clusters/extra.yaml', gh().writeBlob('mine\n')]]),
    );
    const sneaky = gh().writeCommit({
      tree,
      parents: [first.commit!, main],
      message: `Merge branch 'main' into ${BRANCH}`,
      author: { name: 'A Person', email: 'p@example.com', date: '2026-11-23T12:00:00Z' },
      verified: true,
    });
    gh().refs.set(`heads/${BRANCH}`, sneaky);
    const r = await host().propose(request('0be7'));
    expect(r.action).toBe('left-alone');
    expect(branchHead()).toBe(sneaky);
  });

  it('merged with a merge commit, branch kept, then reverted on main: the same plan is proposed again, built on main', async () => {
    await host().propose(request('add'));
    const mergeCommit = gh().merge(1, { method: 'merge' });
    expect(gh().refs.has(`heads/${BRANCH}`)).toBe(true); // GitHub keeps the head branch by default
    const reverted = gh().revert('main', mergeCommit);
    expect(gh().files('main').get('fleet-config/fleet.yaml')).toBe('clusters: []\n');
    const r = await host().propose(request('add'));
    expect(r).toMatchObject({ action: 'created', number: 2 });
    expect(gh().commits.get(r.commit!)!.parents).toEqual([reverted]);
    expect(gh().files(BRANCH).get('fleet-config/fleet.yaml')).toBe('clusters: [add]\n');
  });
});

describe('a closed proposal means "not this"', () => {
  it('a plan a person closed is not proposed again (reported), a different plan is', async () => {
    await host().propose(request('d7a1'));
    gh().close(1);
    const before = writes();
    const r = await host().propose(request('d7a1'));
    expect(r).toMatchObject({ action: 'declined', number: 1 });
    expect(r.message).toMatch(/^pull request #1 proposed this same plan and was closed without merging .*declined/);
    expect(writes()).toBe(before);
    expect(gh().pulls).toHaveLength(1);
    const other = await host().propose(request('0be7'));
    expect(other).toMatchObject({ action: 'created', number: 2 });
  });

  it('a plan the scout withdrew itself may come back', async () => {
    await host().propose(request('add'));
    await host().withdraw({ base: 'main', branch: BRANCH, comment: 'plan empty' });
    const r = await host().propose(request('add'));
    expect(r).toMatchObject({ action: 'created', number: 2 });
  });
});

describe("GitHub's limits and faults", () => {
  it.each([403, 429])(
    'a primary rate limit (%i) is waited out until x-ratelimit-reset, never retried inside it',
    async (status) => {
      sandbox.faults.push({
        api: 'github',
        kind: 'primary-rate-limit',
        status,
        retryAfterSec: 30,
        times: 1,
        path: /\/pulls$/,
      });
      const start = clock().now().getTime();
      const r = await host().propose(request('add'));
      expect(r.action).toBe('created');
      expect(calls().filter((q) => q.status === status)).toHaveLength(1);
      expect(calls().some((q) => q.insideLimit)).toBe(false);
      expect(clock().now().getTime() - start).toBeGreaterThanOrEqual(30_000);
    },
  );

  it.each([403, 429])('a secondary rate limit (%i) is waited out per Retry-After, once', async (status) => {
    sandbox.faults.push({ api: 'github', kind: 'secondary-rate-limit', status, retryAfterSec: 45, times: 1 });
    const r = await host().propose(request('add'));
    expect(r.action).toBe('created');
    expect(calls().some((q) => q.insideLimit)).toBe(false);
  });

  it('a burst of 429s longer than a sweep may wait stops the sweep without a retry inside the limit', async () => {
    sandbox.faults.push({ api: 'github', kind: 'secondary-rate-limit', status: 429, retryAfterSec: 45, times: 2 });
    const r = await host().propose(request('add'));
    expect(r.action).toBe('stopped');
    expect(r.message).toMatch(/GitHub secondary rate limit \(429\) .* and was still limiting after a wait; stopped/);
    expect(calls().some((q) => q.insideLimit)).toBe(false);
  });

  it('every call has a time limit: an answer that never comes is retried, and the proposal completes', async () => {
    sandbox.faults.push({ api: 'github', kind: 'timeout', times: 1, path: /\/git\/trees$/ });
    const t0 = Date.now();
    const r = await host({ callTimeoutMs: 300 }).propose(request('add'));
    expect(r.action).toBe('created');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(calls().filter((q) => q.path.endsWith('/git/trees') && q.status === 499)).toHaveLength(1);
  });

  it('past the sweep deadline nothing more is called, and the stop says why', async () => {
    const now = clock().now().getTime();
    const r = await host({ deadline: now }).propose(request('add'));
    expect(r).toMatchObject({ action: 'stopped' });
    expect(r.message).toMatch(/^the sweep's deadline passed before GET /);
    expect(calls()).toHaveLength(0);
  });

  it('a label refusal is an outcome, the proposal stands; labels are reconciled on later sweeps', async () => {
    sandbox.faults.push({ api: 'github', kind: 'status', status: 403, path: /\/labels$/, times: 1 });
    const r = await host().propose(request('add'));
    expect(r.action).toBe('created');
    expect(r.message).toMatch(/labels region-scout, placement not added: GitHub answered 403/);
    expect(gh().pulls[0]!.labels).toEqual([]);
    const again = await host().propose(request('add'));
    expect(again.action).toBe('unchanged');
    expect(gh().pulls[0]!.labels).toEqual(['region-scout', 'placement']);
    // a person removes one: put back
    gh().pulls[0]!.labels = ['placement'];
    await host().propose(request('add'));
    expect(gh().pulls[0]!.labels).toEqual(['placement', 'region-scout']);
  });

  it('a create that took effect though its answer never came: the retried one finds the pull request, and it gets its labels', async () => {
    sandbox.faults.push({ api: 'github', kind: 'slow-response', ms: 2000, times: 1, method: 'POST', path: /\/pulls$/ });
    const r = await host({ callTimeoutMs: 500 }).propose(request('add'));
    expect(r).toMatchObject({ action: 'updated', number: 1 });
    expect(gh().pulls).toHaveLength(1);
    expect(gh().pulls[0]!.labels).toEqual(['region-scout', 'placement']);
  });

  it('a pull request merged between the sweep listing it and editing it is not rewritten', async () => {
    await host().propose(request('add'));
    let release!: () => void;
    sandbox.faults.push({
      api: 'github',
      kind: 'hold',
      path: /\/pulls\/1$/,
      times: 1,
      until: new Promise<void>((r) => (release = r)),
      onHold: () => {
        gh().merge(1, { method: 'squash' });
        release();
      },
    });
    const r = await host().propose(request('add', { title: 'region-scout: a newer title', bodyHash: 'newer' }));
    expect(r.message).toMatch(/#1 was merged or closed meanwhile: not edited/);
    expect(gh().pulls[0]!.edits).toBe(0);
    expect(gh().pulls[0]!.title).toBe('region-scout: plan add');
  });
});

describe('identity', () => {
  it('under App auth commits carry no custom author, so GitHub signs them and a signed-commits rule accepts them', async () => {
    gh().requireSignedCommits = true;
    const r = await host({}, 'app').propose(request('add'));
    expect(r.action).toBe('created');
    expect(gh().commits.get(r.commit!)!.verified).toBe(true);
  });

  it('a custom author (token auth) is unsigned: the rule refuses the branch, and the stop says what to do', async () => {
    gh().requireSignedCommits = true;
    const r = await host({ author: { name: 'bot', email: 'bot@example.com' } }).propose(request('add'));
    expect(r.action).toBe('stopped');
    expect(r.message).toMatch(/^GitHub answered 409: Repository rule violations found .* use the GitHub App identity/);
    expect(gh().refs.has(`heads/${BRANCH}`)).toBe(false);
  });

  it('an App installation that does not include the repository is named as such, not as a missing branch', async () => {
    gh().app.includesRepository = false;
    const r = await host({}, 'app').propose(request('add'));
    expect(r.action).toBe('stopped');
    expect(r.message).toMatch(
      /^the GitHub App 424242 is not installed on gpu-fleet\/gpu-fleet \(its installation does not include this repository\)/,
    );
    expect(writes()).toBe(0);
  });

  it('a pull request into a base branch that does not exist is refused with the setting to check', async () => {
    const r = await host().propose(request('add', { base: 'production' }));
    expect(r.action).toBe('stopped');
    expect(r.message).toMatch(/has no branch "production" to propose against: check configSync.branch/);
  });
});
