import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  nextProposalCommit,
  readPlanTrailer,
  type GitHostPort,
  type Logger,
  type ProposalRequest,
  type ProposalResult,
} from '@gpu-fleet/scout-domain';
import { retryOnConflict } from '@gpu-fleet/retry';
import writeFileAtomic from 'write-file-atomic';

export interface LocalGitHostOptions {
  /** Repository root (the working tree is never touched). */
  root: string;
  logger: Logger;
  /** Where the pull-request body preview is written (default: <root>/.gpu-fleet/proposal.md). */
  previewFile?: string;
  /** Commit timestamps (the injected clock), so sandbox runs are reproducible. */
  now?: () => Date;
}

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')}: ${stderr.trim().split('\n')[0]}`);
    this.name = 'GitError';
  }
}

const ZERO = '0'.repeat(40);

/**
 * Proposals as a branch of the local repository, written with git plumbing (hash-object, a
 * private index, write-tree, commit-tree, update-ref) so the working tree, the index and the
 * checked-out branch are never touched. update-ref with the old value is a compare-and-swap: a
 * concurrent sweep that moved the branch first makes ours fail, and we re-read and converge.
 * Same idempotency as GitHub: the same plan makes no new commit; a head without the plan trailer
 * was committed by a person and is left alone.
 */
export class LocalGitHost implements GitHostPort {
  constructor(private readonly options: LocalGitHostOptions) {}

  describe(): string {
    return `local git repository ${this.options.root}`;
  }

  private git(
    args: string[],
    opts: { env?: Record<string, string>; input?: string; allowFail?: boolean } = {},
  ): Promise<{ ok: boolean; out: string }> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        'git',
        args,
        {
          cwd: this.options.root,
          env: { ...process.env, ...opts.env, GIT_TERMINAL_PROMPT: '0' },
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          if (err && !opts.allowFail) return reject(new GitError(args, stderr || err.message));
          resolve({ ok: !err, out: stdout.trim() });
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  }

  private async resolve(ref: string): Promise<string | null> {
    const r = await this.git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFail: true });
    return r.ok && r.out ? r.out : null;
  }

  async propose(req: ProposalRequest): Promise<ProposalResult> {
    // update-ref with the old value is the compare-and-swap: when a concurrent sweep moved the
    // branch first it fails, and we re-read and converge.
    return retryOnConflict(() => this.proposeOnce(req), {
      isConflict: (e) => e instanceof GitError && e.args[0] === 'update-ref',
      onConflict: () =>
        this.options.logger.info({ branch: req.branch }, 'branch moved by a concurrent sweep; re-reading'),
    });
  }

  private async proposeOnce(req: ProposalRequest): Promise<ProposalResult> {
    const base = await this.resolve(req.baseCommit ?? `refs/heads/${req.base}`);
    if (!base) {
      throw new GitError(
        ['rev-parse', req.baseCommit ?? req.base],
        req.baseCommit
          ? `base commit ${req.baseCommit} does not exist in ${this.options.root}`
          : `base branch "${req.base}" does not exist in ${this.options.root}; commit the fleet there first (configSync.branch)`,
      );
    }
    const ref = `refs/heads/${req.branch}`;
    const head = await this.resolve(ref);
    await this.preview(req);
    let position = null;
    if (head) {
      const message = (await this.git(['log', '-1', '--format=%B', head])).out;
      const trailer = readPlanTrailer(message);
      if (!trailer) {
        const msg = `${req.branch} has a commit a person made (${head.slice(0, 7)}): left alone; delete the branch or merge it to let the scout propose again`;
        this.options.logger.warn({ branch: req.branch, head }, msg);
        return { action: 'left-alone', branch: req.branch, commit: head, url: null, number: null, message: msg };
      }
      // `git merge-base --is-ancestor A B` exits 0 when A is in B's history (https://git-scm.com/docs/git-merge-base).
      const isAncestor = async (a: string, b: string) =>
        (await this.git(['merge-base', '--is-ancestor', a, b], { allowFail: true })).ok;
      position = {
        sha: head,
        planHash: trailer,
        baseInHistory: await isAncestor(base, head),
        inBase: await isAncestor(head, base),
      };
    }
    const next = nextProposalCommit(base, position, req.planHash);
    if (!next)
      return {
        action: 'unchanged',
        branch: req.branch,
        commit: head,
        url: null,
        number: null,
        message: `${req.branch} already proposes this plan (${head!.slice(0, 7)})`,
      };
    const commit = await this.commit(req, base, next.parents);
    await this.git(['update-ref', '-m', 'region-scout: propose placement', ref, commit, head ?? ZERO]);
    return {
      action: head ? 'updated' : 'created',
      branch: req.branch,
      commit,
      url: null,
      number: null,
      message: `${head ? 'updated' : 'created'} branch ${req.branch} at ${commit.slice(0, 7)} (review: git diff ${req.base}...${req.branch})`,
    };
  }

  async withdraw(req: { base: string; branch: string; comment: string }): Promise<ProposalResult> {
    const ref = `refs/heads/${req.branch}`;
    const head = await this.resolve(ref);
    if (!head)
      return {
        action: 'nothing-open',
        branch: req.branch,
        commit: null,
        url: null,
        number: null,
        message: 'no open proposal',
      };
    const message = (await this.git(['log', '-1', '--format=%B', head])).out;
    if (!readPlanTrailer(message)) {
      return {
        action: 'left-alone',
        branch: req.branch,
        commit: head,
        url: null,
        number: null,
        message: `${req.branch} has a commit a person made (${head.slice(0, 7)}): left alone`,
      };
    }
    // The branch is the proposal: removing it (compare-and-swap on its head) closes it.
    await this.git(['update-ref', '-m', `region-scout: ${req.comment}`, '-d', ref, head]);
    return {
      action: 'closed',
      branch: req.branch,
      commit: null,
      url: null,
      number: null,
      message: `deleted branch ${req.branch}: ${req.comment}`,
    };
  }

  /** A commit of the base tree plus the files, built in a private index. */
  private async commit(req: ProposalRequest, base: string, parents: string[]): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'region-scout-index-'));
    const env = { GIT_INDEX_FILE: join(dir, 'index') };
    try {
      await this.git(['read-tree', base], { env });
      for (const f of req.files) {
        if (f.content === null) {
          await this.git(['update-index', '--force-remove', '--', f.path], { env });
          continue;
        }
        const blob = (await this.git(['hash-object', '-w', '--stdin'], { input: f.content })).out;
        await this.git(['update-index', '--add', '--cacheinfo', `100644,${blob},${f.path}`], { env });
      }
      const tree = (await this.git(['write-tree'], { env })).out;
      const when = (this.options.now?.() ?? new Date()).toISOString();
      const who = {
        GIT_AUTHOR_NAME: 'region-scout',
        GIT_AUTHOR_EMAIL: 'region-scout@localhost',
        GIT_COMMITTER_NAME: 'region-scout',
        GIT_COMMITTER_EMAIL: 'region-scout@localhost',
        GIT_AUTHOR_DATE: when,
        GIT_COMMITTER_DATE: when,
      };
      return (
        await this.git(['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-F', '-'], {
          env: who,
          input: req.commitMessage,
        })
      ).out;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async preview(req: ProposalRequest): Promise<void> {
    const file = this.options.previewFile ?? join(this.options.root, '.gpu-fleet', 'proposal.md');
    await mkdir(dirname(file), { recursive: true });
    // Written aside under a unique name and renamed (sweeps may run concurrently): a reader never sees half a preview.
    await writeFileAtomic(file, `# ${req.title}\n\n${req.body}\n`);
  }
}
