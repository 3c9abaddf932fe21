import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planTrailer, silentLogger, type ProposalRequest } from '@gpu-fleet/scout-domain';
import { LocalGitHost } from './local-git-host';

let root: string;
const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'P',
      GIT_AUTHOR_EMAIL: 'p@x',
      GIT_COMMITTER_NAME: 'P',
      GIT_COMMITTER_EMAIL: 'p@x',
    },
  }).trim();

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

const request = (
  plan: string,
  files = [
    { path: 'fleet.yaml', content: `clusters: [${plan}]\n` },
    { path: 'old.yaml', content: null },
  ],
): ProposalRequest => ({
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
    // Main is already in the branch's history (two commits down): no merge of it again.
    const third = await host().propose(request('c'));
    expect(git('log', '-1', '--format=%P', 'region-scout/placement')).toBe(next.commit);
    expect(git('rev-list', '--count', '--merges', `main..${third.commit}`)).toBe('0');
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
    // The merge brought main in: the next update sits on the branch head alone.
    const after = await host().propose(request('c'));
    expect(git('log', '-1', '--format=%P', 'region-scout/placement')).toBe(r.commit);
    expect(git('rev-list', '--count', '--merges', `main..${after.commit}`)).toBe('1');
  });

  it('leaves a branch a person committed to alone, and never deletes it', async () => {
    await host().propose(request('a'));
    const tree = git('rev-parse', 'region-scout/placement^{tree}');
    const mine = git('commit-tree', tree, '-p', 'region-scout/placement', '-m', 'my tweak');
    git('update-ref', 'refs/heads/region-scout/placement', mine);
    expect((await host().propose(request('b'))).action).toBe('left-alone');
    expect((await host().withdraw({ base: 'main', branch: 'region-scout/placement', comment: 'empty' })).action).toBe(
      'left-alone',
    );
    expect(git('rev-parse', 'region-scout/placement')).toBe(mine);
  });

  it('withdraws its own proposal when the plan empties', async () => {
    expect((await host().withdraw({ base: 'main', branch: 'region-scout/placement', comment: 'empty' })).action).toBe(
      'nothing-open',
    );
    await host().propose(request('a'));
    expect((await host().withdraw({ base: 'main', branch: 'region-scout/placement', comment: 'empty' })).action).toBe(
      'closed',
    );
    expect(git('branch', '--list', 'region-scout/placement')).toBe('');
    untouched();
  });

  /**
   * Force the race: a `git` wrapper first on PATH holds the next sweep at commit-tree — after it read
   * the branch head, before its compare-and-swap update-ref — until the test releases it, so another
   * sweep moves the branch in between.
   */
  async function raced<T>(held: () => Promise<T>, meanwhile: () => Promise<unknown>): Promise<T> {
    const bin = mkdtempSync(join(tmpdir(), 'git-hold-'));
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    writeFileSync(
      join(bin, 'git'),
      `#!/bin/sh\nif [ "$1" = commit-tree ] && [ -f "${bin}/hold" ]; then\n  rm -f "${bin}/hold"; touch "${bin}/held"\n  while [ ! -f "${bin}/release" ]; do sleep 0.02; done\nfi\nexec "${realGit}" "$@"\n`,
    );
    chmodSync(join(bin, 'git'), 0o755);
    writeFileSync(join(bin, 'hold'), '');
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const first = held();
      while (!existsSync(join(bin, 'held'))) await new Promise((r) => setTimeout(r, 10));
      await meanwhile();
      writeFileSync(join(bin, 'release'), '');
      return await first;
    } finally {
      process.env.PATH = path;
      rmSync(bin, { recursive: true, force: true });
    }
  }

  it('two sweeps creating the branch at once: one commit, the late one finds its plan proposed (the race forced)', async () => {
    let second: Awaited<ReturnType<LocalGitHost['propose']>> | undefined;
    const first = await raced(
      () => host().propose(request('a')),
      async () => (second = await host().propose(request('a'))),
    );
    expect(second!.action).toBe('created');
    // its compare-and-swap expected no branch, found one, re-read it: the same plan is already there
    expect(first).toMatchObject({ action: 'unchanged', commit: second!.commit });
    expect(git('rev-list', '--count', 'main..region-scout/placement')).toBe('1');
    untouched();
  });

  it('two sweeps moving the branch at once: both commits land, fast-forward only (the race forced)', async () => {
    await host().propose(request('a'));
    let d: Awaited<ReturnType<LocalGitHost['propose']>> | undefined;
    const c = await raced(
      () => host().propose(request('c')),
      async () => (d = await host().propose(request('d'))),
    );
    expect([c.action, d!.action]).toEqual(['updated', 'updated']);
    // c was built on the old head; its update was refused, it re-read and committed on top of d
    expect(git('rev-parse', 'region-scout/placement')).toBe(c.commit);
    expect(git('log', '-1', '--format=%P', c.commit!).split(' ')[0]).toBe(d!.commit);
    expect(git('rev-list', '--count', 'main..region-scout/placement')).toBe('3');
    expect(git('show', 'region-scout/placement:fleet.yaml')).toBe('clusters: [c]');
    untouched();
  });

  it('says clearly when the base branch does not exist', async () => {
    await expect(host().propose({ ...request('a'), base: 'trunk' })).rejects.toThrow(
      /base branch "trunk" does not exist/,
    );
  });
});
