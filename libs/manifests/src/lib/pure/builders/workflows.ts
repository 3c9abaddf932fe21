import { evidenceFlag, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { sweepDeadlineSeconds, sweepTimeLimitSeconds } from './scout';

/**
 * Third-party actions, pinned by commit (a tag can be moved; a commit cannot). The version in the
 * comment is what the commit was tagged as. The hand-written workflows use the same pins, which a
 * test checks.
 */
export const ACTIONS = {
  checkout: 'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1', // v7.0.1
  setupNode: 'actions/setup-node@820762786026740c76f36085b0efc47a31fe5020', // v7.0.0
  gcpAuth: 'google-github-actions/auth@7c6bc770dae815cd3e89ee6cdf493a5fab2cc093', // v3.0.0
  setupTerraform: 'hashicorp/setup-terraform@dfe3c3f87815947d99a8997f908cb6525fc44e9e', // v4.0.1
  setupGcloud: 'google-github-actions/setup-gcloud@aa5489c8933f4cc7a4f7d45035b3b1440c9c10db', // v3.0.1
  appToken: 'actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3', // v3.1.1
} as const;

/** The version each pinned commit was tagged as, written beside the pin in the rendered workflow. */
export const ACTION_VERSIONS: Record<(typeof ACTIONS)[keyof typeof ACTIONS], string> = {
  [ACTIONS.checkout]: 'v7.0.1',
  [ACTIONS.setupNode]: 'v7.0.0',
  [ACTIONS.gcpAuth]: 'v3.0.0',
  [ACTIONS.setupTerraform]: 'v4.0.1',
  [ACTIONS.setupGcloud]: 'v3.0.1',
  [ACTIONS.appToken]: 'v3.1.1',
};

/** A rendered workflow's `uses:` lines with the pinned commit's version beside them, as in the hand-written ones. */
export function withVersionComments(yaml: string): string {
  return yaml.replace(/^(\s*(?:- )?uses: )(\S+)$/gm, (line, head: string, ref: string) => {
    const version = (ACTION_VERSIONS as Record<string, string>)[ref];
    return version ? `${head}${ref} # ${version}` : line;
  });
}

/**
 * The Node.js the workflows (and the scout image) run on: a maintained LTS. Node 20 reached end of
 * life on 2026-04-30; 24 is LTS until 2028-04-30 (https://github.com/nodejs/Release). The code also
 * runs on Node 20, where this project's development machines and CI still are.
 */
export const WORKFLOW_NODE_VERSION = 24;

/** Repository variables the workflows read; infra/ prints their values (`terraform output github_actions_variables`). */
export const WORKFLOW_VARIABLES = {
  provider: 'GCP_WORKLOAD_IDENTITY_PROVIDER',
  scoutServiceAccount: 'REGION_SCOUT_SERVICE_ACCOUNT',
} as const;

export const SWEEP_WORKFLOW = '.github/workflows/sweep.yml';

/** The sweep workflow's first step: a precise error when neither GitHub identity is set (docs/runbook.md step 7). */
export const SWEEP_IDENTITY_CHECK = [
  'if [ "$HAS_TOKEN" != true ] && [ "$HAS_APP" != true ]; then',
  '  echo "::error title=region-scout has no GitHub identity::Set the repository secrets REGION_SCOUT_APP_ID, REGION_SCOUT_APP_INSTALLATION_ID and REGION_SCOUT_APP_PRIVATE_KEY (a GitHub App, docs/runbook.md step 7) or REGION_SCOUT_GITHUB_TOKEN. The workflow\'s own GITHUB_TOKEN cannot open pull requests where Actions may not, and the pull requests it opens do not run validate.yml."',
  '  exit 1',
  'fi',
  '',
].join('\n');

/**
 * The scheduled sweep on GitHub Actions. Rendered from the spec because the schedule lives there
 * (GitHub reads `on.schedule` literally). The schedule is emitted only when GitHub Actions is the
 * runner; a manual run is always possible.
 * - concurrency group without cancel-in-progress: runs queue, never overlap, never kill a sweep
 *   mid-proposal. https://docs.github.com/en/actions/using-jobs/using-concurrency
 * - Workload Identity Federation: no service account key. https://github.com/google-github-actions/auth
 * - A pull request opened with the workflow's own GITHUB_TOKEN does not trigger other workflows
 *   (validate.yml would not run on it), hence a dedicated token or App secret when one is set.
 *   https://docs.github.com/en/actions/security-for-github-actions/security-guides/automatic-token-authentication#using-the-github_token-in-a-workflow
 */
export function sweepWorkflow(spec: FleetSpec): Record<string, unknown> {
  const evidence = evidenceFlag(spec);
  const scheduled = spec.scout.schedule.runner === 'github-actions';
  return {
    name: 'region-scout sweep',
    on: {
      ...(scheduled ? { schedule: [{ cron: spec.scout.schedule.cron }] } : {}),
      workflow_dispatch: {
        inputs: {
          'dry-run': { description: 'Decide and print, propose nothing', type: 'boolean', default: false },
        },
      },
    },
    // The scout proposes with the App or a token of its own (the first step refuses to run without
    // one), never GITHUB_TOKEN: the workflow's token only checks out (contents: read) and asks for
    // the OIDC token Workload Identity Federation exchanges (id-token: write).
    // https://docs.github.com/en/actions/security-for-github-actions/security-guides/automatic-token-authentication#modifying-the-permissions-for-the-github_token
    permissions: { contents: 'read', 'id-token': 'write' },
    concurrency: { group: 'region-scout-sweep', 'cancel-in-progress': false },
    jobs: {
      sweep: {
        'runs-on': 'ubuntu-24.04',
        'timeout-minutes': Math.ceil(sweepTimeLimitSeconds(spec) / 60),
        steps: [
          {
            // Fail fast without the scout's own GitHub identity: the workflow's GITHUB_TOKEN cannot open
            // pull requests where Actions may not (the default for new repositories and organisations),
            // and a pull request it opens does not trigger validate.yml (see above). A dry run proposes nothing.
            name: "Check the scout's GitHub identity",
            if: '${{ !inputs.dry-run }}',
            env: {
              HAS_TOKEN: "${{ secrets.REGION_SCOUT_GITHUB_TOKEN != '' }}",
              HAS_APP:
                "${{ secrets.REGION_SCOUT_APP_ID != '' && secrets.REGION_SCOUT_APP_INSTALLATION_ID != '' && secrets.REGION_SCOUT_APP_PRIVATE_KEY != '' }}",
            },
            run: SWEEP_IDENTITY_CHECK,
          },
          { uses: ACTIONS.checkout, with: { ref: spec.configSync.branch } },
          { uses: ACTIONS.setupNode, with: { 'node-version': WORKFLOW_NODE_VERSION, cache: 'npm' } },
          { run: 'npm ci' },
          {
            uses: ACTIONS.gcpAuth,
            with: {
              workload_identity_provider: `\${{ vars.${WORKFLOW_VARIABLES.provider} }}`,
              service_account: `\${{ vars.${WORKFLOW_VARIABLES.scoutServiceAccount} }}`,
            },
          },
          {
            name: 'Sweep',
            run: `npm run --silent scout -- sweep --project ${spec.project} --proposal github --evidence ${evidence} --base-commit "$(git rev-parse HEAD)" --deadline-seconds ${sweepDeadlineSeconds(spec, 'github-actions')} \${{ inputs.dry-run && '--dry-run' || '' }}`,
            env: {
              GITHUB_TOKEN: '${{ secrets.REGION_SCOUT_GITHUB_TOKEN }}',
              GITHUB_APP_ID: '${{ secrets.REGION_SCOUT_APP_ID }}',
              GITHUB_APP_INSTALLATION_ID: '${{ secrets.REGION_SCOUT_APP_INSTALLATION_ID }}',
              GITHUB_APP_PRIVATE_KEY: '${{ secrets.REGION_SCOUT_APP_PRIVATE_KEY }}',
            },
          },
        ],
      },
    },
  };
}
