import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planTrailer, silentLogger, type ProposalRequest } from '@gpu-fleet/scout-domain';
import { LocalGitHost } from './local-git-host';

let root: string;
const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'P', GIT_AUTHOR_EMAIL: 'p@x', GIT_COMMITTER_NAME: 'P', GIT_COMMITTER_EMAIL: 'p@x' } }).trim();

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'local-git-host-'));
  git('init', '-q', '-b', 'main');
  writeFileSync(join(root, 'fleet.yaml'), 'clusters: []\n');
  writeFileSync(join(root, 'old.yaml'), 'gone soon\n');
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  // A person is working: a dirty working tree and a staged change must survive every proposal.
  writeFileSync(join(root, 'notes.txt'), 'uncommitted\n');
  writeFileSync(join(root, 'fleet.yaml'), 'clusters: [dirty]\n');
  git('add', 'fleet.yaml');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const request = (plan: string, files = [{ path: 'fleet.yaml', content: `clusters: [${plan}]\n` }, { path: 'old.yaml', content: null }]): ProposalRequest => ({
  base: 'main',
  branch: 'region-scout/placement',
  title: `plan ${plan}`,
  body: 'body',
  commitMessage: `plan ${plan}\n\n${planTrailer(`${plan}00000000`)}`,
  files,
  planHash: `${plan}00000000`,
  bodyHash: 'b',
  labels: [],
  autoMerge: false,
});
const host = () => new LocalGitHost({ root, logger: silentLogger, now: () => new Date('2026-11-23T12:00:00Z') });
const untouched = () => {
  expect(git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
  expect(git('diff', '--cached', '--name-only')).toBe('fleet.yaml');
  expect(readFileSync(join(root, 'notes.txt'), 'utf8')).toBe('uncommitted\n');
  expect(readFileSync(join(root, 'fleet.yaml'), 'utf8')).toBe('clusters: [dirty]\n');
};

describe('LocalGitHost', () => {
  it('commits the plan on the branch without touching the working tree, the index or HEAD', async () => {
    const r = await host().propose(request('a'));
    expect(r.action).toBe('created');
    expect(git('show', 'region-scout/placement:fleet.yaml')).toBe('clusters: [a]');
    expect(git('ls-tree', '--name-only', 'region-scout/placement')).toBe('fleet.yaml');
    expect(git('log', '-1', '--format=%P', 'region-scout/placement')).toBe(git('rev-parse', 'main'));
    expect(readFileSync(join(root, '.gpu-fleet/proposal.md'), 'utf8')).toBe('# plan a\n\nbody\n');
    untouched();
  });

  it('is idempotent: the same plan makes no new commit; a new plan fast-forwards the branch', async () => {
    const first = await host().propose(request('a'));
    const again = await host().propose(request('a'));
    expect(again).toMatchObject({ action: 'unchanged', commit: first.commit });
    const next = await host().propose(request('b'));
    expect(next.action).toBe('updated');
    expect(git('log', '-1', '--format=%P', 'region-scout/placement')).toBe(first.commit);
    expect(git('show', 'region-scout/placement:fleet.yaml')).toBe('clusters: [b]');
    untouched();
  });

  it('merges the base in when main moved, so the branch diff stays the plan', async () => {
    await host().propose(request('a'));
    git('stash', '-q');
    writeFileSync(join(root, 'other.txt'), 'x\n');
    git('add', 'other.txt');
    git('commit', '-q', '-m', 'main moves on');
    const r = await host().propose(request('b'));
    expect(git('log', '-1', '--format=%P', 'region-scout/placement').split(' ')).toHaveLength(2);
    expect(git('diff', '--name-only', `main...${r.commit}`)).toBe('fleet.yaml\nold.yaml');
  });

  it('leaves a branch a person committed to alone, and never deletes it', async () => {
    await host().propose(request('a'));
    const tree = git('rev-parse', 'region-scout/placement^{tree}');
    const mine = git('commit-tree', tree, '-p', 'region-scout/placement', '-m', 'my tweak');
    git('update-ref', 'refs/heads/region-scout/placement', mine);
    expect((await host().propose(request('b'))).action).toBe('left-alone');
    expect((await host().withdraw({ base: 'main', branch: 'region-scout/placement', comment: 'empty' })).action).toBe('left-alone');
    expect(git('rev-parse', 'region-scout/placement')).toBe(mine);
  });

  it('withdraws its own proposal when the plan empties', async () => {
    expect((await host().withdraw({ base: 'main', branch: 'region-scout/placement', comment: 'empty' })).action).toBe('nothing-open');
    await host().propose(request('a'));
    expect((await host().withdraw({ base: 'main', branch: 'region-scout/placement', comment: 'empty' })).action).toBe('closed');
    expect(git('branch', '--list', 'region-scout/placement')).toBe('');
    untouched();
  });

  it('two concurrent sweeps: one branch, one commit per plan, no lost update', async () => {
    const [a, b] = await Promise.all([host().propose(request('a')), host().propose(request('a'))]);
    expect([a.action, b.action].sort()).toEqual(['created', 'unchanged']);
    expect(git('rev-list', '--count', 'main..region-scout/placement')).toBe('1');
    const [c, d] = await Promise.all([host().propose(request('c')), host().propose(request('d'))]);
    // Both landed in order (compare-and-swap, re-read, fast-forward): the branch holds both commits.
    expect([c.action, d.action]).toEqual(['updated', 'updated']);
    expect(git('rev-list', '--count', 'main..region-scout/placement')).toBe('3');
  });

  it('says clearly when the base branch does not exist', async () => {
    await expect(host().propose({ ...request('a'), base: 'trunk' })).rejects.toThrow(/base branch "trunk" does not exist/);
  });
});
