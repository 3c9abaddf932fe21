import { RequestError, type Octokit } from 'octokit';
import { z } from 'zod';
import type { Logger } from '@gpu-fleet/scout-domain';
import { GitHubStopError } from './client';

type Client = InstanceType<typeof Octokit>;
type MergeMethod = 'squash' | 'merge' | 'rebase';

/** What the pull request needs of this module: its identity, base and whether auto-merge is on. */
export interface AutoMergePull {
  number: number;
  node_id: string;
  base: { ref: string };
}

const BranchSchema = z.object({
  protection: z
    .object({
      required_status_checks: z
        .object({
          contexts: z.array(z.string()).default([]),
          checks: z.array(z.object({ context: z.string() })).default([]),
        })
        .nullable()
        .optional(),
    })
    .optional(),
});
const RulesSchema = z.array(
  z.object({
    type: z.string(),
    parameters: z
      .object({ required_status_checks: z.array(z.object({ context: z.string() })).optional() })
      .passthrough()
      .optional(),
  }),
);
const RepoSchema = z.object({
  allow_squash_merge: z.boolean().optional(),
  allow_merge_commit: z.boolean().optional(),
  allow_rebase_merge: z.boolean().optional(),
});
const CheckRunsSchema = z.object({
  check_runs: z.array(z.object({ name: z.string(), status: z.string(), conclusion: z.string().nullable() })),
});

/**
 * Auto-merge for capacity-only plans, and nothing else merged unvalidated:
 * - Enabled only when the base requires the validation check (classic protection or a ruleset):
 *   with nothing required, GitHub calls a new pull request mergeable ("clean") before any
 *   workflow has started, and auto-merge — or a merge — would skip validation.
 * - Enabled with `expectedHeadOid` = the head the scout just proposed, so it is never switched on
 *   for a head another sweep pushed meanwhile. https://docs.github.com/en/graphql/reference/mutations#enablepullrequestautomerge
 * - GitHub refuses to enable it on a pull request that can merge now ("clean status", "unstable
 *   status"); the scout then merges it itself only when the validation check succeeded on that very
 *   head, and names the head (`sha`: GitHub answers 409 if it moved).
 *   https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request
 * - Off (disablePullRequestAutoMerge) before the branch moves to a plan that may not merge itself.
 * The method is the first the repository allows of squash, merge, rebase.
 */
export class AutoMerge {
  private readonly check: string;

  constructor(
    private readonly gh: Client,
    private readonly repo: { owner: string; repo: string },
    private readonly settings: { logger: Logger; validationCheck?: string },
    private readonly permissions: Record<string, string> | null,
  ) {
    this.check = settings.validationCheck ?? 'validate';
  }

  /** Turn auto-merge off; a refusal stops the sweep before the branch moves. */
  async disable(pr: AutoMergePull): Promise<void> {
    try {
      await this.gh.graphql(
        'mutation($pullRequestId: ID!) { disablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId }) { pullRequest { number } } }',
        { pullRequestId: pr.node_id },
      );
    } catch (e) {
      const said = graphqlErrors(e);
      if (!said) throw e;
      throw new GitHubStopError(
        `could not turn auto-merge off on #${pr.number} (GitHub said "${said.join('; ')}"): the branch was not moved to a plan that may not merge itself; the next sweep tries again`,
      );
    }
    this.settings.logger.info({ pr: pr.number }, 'auto-merge turned off before a plan that is not capacity-only');
  }

  /** Enable auto-merge for `head`, or say why not; `merged` when the scout merged it itself (clean status). */
  async enable(pr: AutoMergePull, head: string): Promise<{ note: string | null; merged: boolean }> {
    const { logger } = this.settings;
    const base = pr.base.ref;
    if (!(await this.requiredChecks(base)).has(this.check)) {
      const note = `auto-merge not enabled: ${base} does not require the \`${this.check}\` check, so GitHub would merge before validation ran (with nothing required a new pull request is mergeable at once); require it — Settings → Branches → the rule for ${base} → Require status checks to pass before merging → \`${this.check}\` (or a ruleset's "Require status checks to pass") — until then a person merges`;
      logger.warn({ pr: pr.number, base }, note);
      return { note, merged: false };
    }
    const method = await this.method();
    try {
      await this.gh.graphql(
        'mutation($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!, $expectedHeadOid: GitObjectID!) { enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: $mergeMethod, expectedHeadOid: $expectedHeadOid }) { pullRequest { number } } }',
        { pullRequestId: pr.node_id, mergeMethod: method.toUpperCase(), expectedHeadOid: head },
      );
      return { note: null, merged: false };
    } catch (e) {
      const said = graphqlErrors(e);
      if (!said) throw e;
      // GitHub's words for these refusals are not documented; they are matched as reported.
      if (said.some((m) => /(clean|unstable) status/i.test(m))) return this.mergeValidated(pr, head, method);
      const note = said.some((m) => /not allowed for this repository/i.test(m))
        ? 'auto-merge is off in this repository (Settings → General → Pull Requests → Allow auto-merge): a person merges it; the next sweep tries again'
        : said.some((m) => /protected branch rules not configured/i.test(m))
          ? `auto-merge not enabled: ${base} has no branch protection (Settings → Branches → add a rule for ${base} requiring \`${this.check}\`): a person merges it`
          : `auto-merge not enabled: GitHub said "${said.join('; ')}"; the next sweep tries again`;
      logger.warn({ pr: pr.number }, note);
      return { note, merged: false };
    }
  }

  /**
   * Merge now, as auto-merge would have — only when the validation check concluded success on `head`,
   * and naming `head` so that a push in between makes GitHub refuse (409) instead of merging
   * something unvalidated.
   */
  private async mergeValidated(
    pr: AutoMergePull,
    head: string,
    method: MergeMethod,
  ): Promise<{ note: string | null; merged: boolean }> {
    const { logger } = this.settings;
    if (this.permissions && !this.permissions.checks)
      return {
        note: `not merged: the scout cannot read check runs (the App needs Checks: read) to see \`${this.check}\` pass on ${head.slice(0, 7)}`,
        merged: false,
      };
    let passed: boolean;
    try {
      const { data } = await this.gh.rest.checks.listForRef({ ...this.repo, ref: head, check_name: this.check });
      passed = CheckRunsSchema.parse(data).check_runs.some(
        (r) => r.name === this.check && r.status === 'completed' && r.conclusion === 'success',
      );
    } catch (e) {
      if (!(e instanceof RequestError)) throw e;
      return {
        note: `not merged: reading the check runs of ${head.slice(0, 7)} was refused (GitHub answered ${e.status}; the scout's identity needs Checks: read)`,
        merged: false,
      };
    }
    if (!passed) {
      const note = `waiting for \`${this.check}\` to pass on ${head.slice(0, 7)} before merging (GitHub calls the pull request mergeable already); the next sweep merges it`;
      logger.info({ pr: pr.number }, note);
      return { note, merged: false };
    }
    try {
      await this.gh.rest.pulls.merge({ ...this.repo, pull_number: pr.number, merge_method: method, sha: head });
      logger.info({ pr: pr.number, head }, 'merged: validated and mergeable');
      return {
        note: `merged #${pr.number} (\`${this.check}\` passed on ${head.slice(0, 7)}; GitHub does not queue auto-merge on a pull request that can merge now)`,
        merged: true,
      };
    } catch (m) {
      if (!(m instanceof RequestError)) throw m;
      const note =
        m.status === 409
          ? `not merged: the head moved after ${head.slice(0, 7)} was validated; the next sweep looks again`
          : `not merged: GitHub answered ${m.status}: ${m.message.split('\n')[0]}; the next sweep tries again`;
      logger.warn({ pr: pr.number, status: m.status }, note);
      return { note, merged: false };
    }
  }

  /**
   * The checks the base branch requires: classic protection (GET /branches/{branch}) and active
   * rulesets (GET /rules/branches/{branch}, which lists rulesets only).
   * https://docs.github.com/en/rest/branches/branches#get-a-branch https://docs.github.com/en/rest/repos/rules#get-rules-for-a-branch
   * What cannot be read counts as not required: the safe side.
   */
  private async requiredChecks(base: string): Promise<Set<string>> {
    const out = new Set<string>();
    const read = async (fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (e) {
        if (!(e instanceof RequestError)) throw e;
        this.settings.logger.debug({ status: e.status, base }, 'branch requirements not readable');
      }
    };
    await read(async () => {
      const { data } = await this.gh.rest.repos.getBranch({ ...this.repo, branch: base });
      const checks = BranchSchema.parse(data).protection?.required_status_checks;
      for (const c of checks?.contexts ?? []) out.add(c);
      for (const c of checks?.checks ?? []) out.add(c.context);
    });
    await read(async () => {
      const { data } = await this.gh.rest.repos.getBranchRules({ ...this.repo, branch: base });
      for (const rule of RulesSchema.parse(data))
        if (rule.type === 'required_status_checks')
          for (const c of rule.parameters?.required_status_checks ?? []) out.add(c.context);
    });
    return out;
  }

  /** The first merge method the repository allows (its merge settings need Contents: write to be seen; default squash). */
  private async method(): Promise<MergeMethod> {
    const { data } = await this.gh.rest.repos.get(this.repo);
    const r = RepoSchema.parse(data);
    if (r.allow_squash_merge !== false) return 'squash';
    if (r.allow_merge_commit !== false) return 'merge';
    return r.allow_rebase_merge !== false ? 'rebase' : 'squash';
  }
}

/** The messages of a GraphQL error response (octokit's GraphqlResponseError carries them in `errors`), or null. */
export function graphqlErrors(e: unknown): string[] | null {
  const errors = (e as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || !errors.length) return null;
  return errors.map((x) => String((x as { message?: unknown }).message ?? x));
}
