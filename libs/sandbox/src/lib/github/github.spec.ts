import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { ManualClock } from '../clock';
import { startSandbox, type Sandbox } from '../sandbox';
import { SandboxWorld } from '../world';

/** The sandbox's GitHub answers as GitHub does: merging, auto-merge, protection and limits, over HTTP. */
let sandbox: Sandbox;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock(new Date('2026-11-23T12:00:00Z'));
  const world = new SandboxWorld({ seed: 1, clock, spec: loadFleetSpec(EXAMPLE_FLEET_YAML).spec });
  sandbox = await startSandbox(world, { githubFiles: { 'a.txt': 'a\n' } });
});
afterEach(() => sandbox.close());

const gh = () => sandbox.github;
async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sandbox.endpoints.github}${path}`, {
    method,
    headers: { authorization: `token ${sandbox.githubToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json().catch(() => null)) as Record<string, unknown>,
  };
}
const repo = () => `/repos/${gh().owner}/${gh().repo}`;
/** A branch with one commit on main, and its pull request. */
function proposal(branch = 'feature', files: Record<string, string> = { 'b.txt': 'b\n' }) {
  gh().refs.set(`heads/${branch}`, gh().refs.get('heads/main')!);
  const head = gh().pushAsPerson(branch, files, 'change');
  const pr = gh().createPull({ head: branch, base: 'main', title: 't', body: 'b' });
  return { pr, head };
}

describe('merging', () => {
  it('the REST merge: 405 while a required check has not passed, 409 when sha is not the head, then merged; the branch stays', async () => {
    const { pr, head } = proposal();
    expect((await api('PUT', `${repo()}/pulls/${pr.number}/merge`, { merge_method: 'squash' })).status).toBe(405);
    gh().setCheck(head, 'validate', 'completed', 'success');
    const stale = await api('PUT', `${repo()}/pulls/${pr.number}/merge`, {
      merge_method: 'squash',
      sha: gh().refs.get('heads/main'),
    });
    expect([stale.status, stale.body.message]).toEqual([
      409,
      'Head branch was modified. Review and try the merge again.',
    ]);
    const ok = await api('PUT', `${repo()}/pulls/${pr.number}/merge`, { merge_method: 'squash', sha: head });
    expect(ok.status).toBe(200);
    expect(gh().merges).toMatchObject([{ number: pr.number, by: 'api', method: 'squash', head, validated: true }]);
    expect(gh().refs.has('heads/feature')).toBe(true);
    expect(gh().commits.get(gh().refs.get('heads/main')!)!.parents).toHaveLength(1);
    expect(gh().files('main').get('b.txt')).toBe('b\n');
  });

  it('a disallowed method is refused; a repository that deletes head branches does', async () => {
    const { pr, head } = proposal();
    gh().setCheck(head, 'validate', 'completed', 'success');
    gh().mergeMethods.merge = false;
    const refused = await api('PUT', `${repo()}/pulls/${pr.number}/merge`, { merge_method: 'merge' });
    expect([refused.status, refused.body.message]).toEqual([405, 'Merge commits are not allowed on this repository.']);
    gh().deleteBranchOnMerge = true;
    expect((await api('PUT', `${repo()}/pulls/${pr.number}/merge`, { merge_method: 'rebase' })).status).toBe(200);
    expect(gh().refs.has('heads/feature')).toBe(false);
  });

  it('mergeable states: blocked, then clean; unstable when another check failed; behind under strict; dirty on a conflict', () => {
    const { pr, head } = proposal('feature', { 'a.txt': 'mine\n' });
    expect(gh().mergeableState(pr)).toBe('blocked');
    gh().setCheck(head, 'validate', 'completed', 'success');
    expect(gh().mergeableState(pr)).toBe('clean');
    gh().setCheck(head, 'lint', 'completed', 'failure');
    expect(gh().mergeableState(pr)).toBe('unstable');
    gh().protection.set('main', { requiredChecks: ['validate'], strict: true });
    gh().pushAsPerson('main', { 'c.txt': 'c\n' });
    expect(gh().mergeableState(pr)).toBe('behind');
    gh().pushAsPerson('main', { 'a.txt': 'theirs\n' });
    expect(gh().mergeableState(pr)).toBe('dirty');
  });
});

describe('auto-merge over GraphQL', () => {
  const mutation = (op: string, id: string, method?: string) =>
    api('POST', '/graphql', {
      query: `mutation { ${op}(input: {}) { pullRequest { number } } }`,
      variables: { pullRequestId: id, ...(method ? { mergeMethod: method } : {}) },
    });

  it('refused in GitHub’s words without protection, for a disallowed method and when clean; merges once checks pass; can be disabled', async () => {
    const { pr, head } = proposal();
    gh().protection.delete('main');
    const noRules = await mutation('enablePullRequestAutoMerge', pr.node_id, 'SQUASH');
    expect((noRules.body.errors as Array<{ message: string }>)[0]!.message).toBe(
      'Pull request Protected branch rules not configured for this branch',
    );
    gh().protection.set('main', { requiredChecks: ['validate'], strict: false });
    gh().mergeMethods.squash = false;
    const method = await mutation('enablePullRequestAutoMerge', pr.node_id, 'SQUASH');
    expect((method.body.errors as Array<{ message: string }>)[0]!.message).toBe(
      'Merge method squash merging is not allowed on this repository',
    );
    gh().mergeMethods.squash = true;
    expect((await mutation('enablePullRequestAutoMerge', pr.node_id, 'SQUASH')).body.errors).toBeUndefined();
    expect((await mutation('disablePullRequestAutoMerge', pr.node_id)).body.errors).toBeUndefined();
    gh().setCheck(head, 'validate', 'completed', 'success');
    expect(gh().merges).toEqual([]); // disabled: nothing merged
    const clean = await mutation('enablePullRequestAutoMerge', pr.node_id, 'SQUASH');
    expect((clean.body.errors as Array<{ message: string }>)[0]!.message).toBe(
      'Pull request Pull request is in clean status',
    );
  });

  it('enabled while blocked, it merges when the required check passes, with its method', async () => {
    const { pr, head } = proposal();
    await mutation('enablePullRequestAutoMerge', pr.node_id, 'REBASE');
    gh().setCheck(head, 'validate', 'in_progress');
    expect(gh().merges).toEqual([]);
    gh().setCheck(head, 'validate', 'completed', 'success');
    expect(gh().merges).toMatchObject([{ by: 'auto-merge', method: 'rebase', validated: true }]);
  });
});

describe('rate limits', () => {
  it.each([403, 429])(
    'a secondary limit (%i) refuses every request until Retry-After has passed on the clock',
    async (status) => {
      sandbox.faults.push({ api: 'github', kind: 'secondary-rate-limit', status, retryAfterSec: 30, times: 1 });
      const first = await api('GET', `${repo()}/branches/main`);
      expect([first.status, first.headers.get('retry-after')]).toEqual([status, '30']);
      expect(first.body.message).toMatch(/secondary rate limit/);
      clock.advance(10_000);
      const again = await api('GET', `${repo()}/branches/main`);
      expect([again.status, again.headers.get('retry-after')]).toEqual([status, '20']);
      clock.advance(21_000);
      expect((await api('GET', `${repo()}/branches/main`)).status).toBe(200);
      expect(sandbox.requests.map((r) => r.insideLimit ?? false)).toEqual([false, true, false]);
    },
  );

  it('a primary limit says x-ratelimit-remaining 0 and when it resets', async () => {
    sandbox.faults.push({ api: 'github', kind: 'primary-rate-limit', status: 429, retryAfterSec: 60, times: 1 });
    const r = await api('GET', `${repo()}/branches/main`);
    expect(r.status).toBe(429);
    expect(r.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(r.headers.get('x-ratelimit-reset'))).toBe(Math.ceil(clock.now().getTime() / 1000) + 60);
  });
});

it('a pull request to a base that does not exist is refused as GitHub does', async () => {
  gh().refs.set('heads/feature', gh().refs.get('heads/main')!);
  gh().pushAsPerson('feature', { 'b.txt': 'b\n' });
  const r = await api('POST', `${repo()}/pulls`, { head: 'feature', base: 'nope', title: 't' });
  expect(r.status).toBe(422);
  expect(r.body.errors).toEqual([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
});
