import type { FleetSpec } from '@gpu-fleet/fleet-spec';

/**
 * Third-party actions, pinned by commit (a tag can be moved; a commit cannot). The version in the
 * comment is what the commit was tagged as. The hand-written workflows use the same pins, which a
 * test checks.
 */
export const ACTIONS = {
  checkout: 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683', // v4.2.2
  setupNode: 'actions/setup-node@39370e3970a6d050c480ffad4ff0ed4d3fdee5af', // v4.1.0
  gcpAuth: 'google-github-actions/auth@6fc4af4b145ae7821d527454aa9bd537d1f2dc5f', // v2.1.7
  setupTerraform: 'hashicorp/setup-terraform@b9cd54a3c349d3f38e8881555d616ced269862dd', // v3.1.2
  setupGcloud: 'google-github-actions/setup-gcloud@6189d56e4096ee891640bb02ac264be376592d6a', // v2.1.2
} as const;

/** Repository variables the workflows read; infra/ prints their values (`terraform output github_actions_variables`). */
export const WORKFLOW_VARIABLES = {
  provider: 'GCP_WORKLOAD_IDENTITY_PROVIDER',
  scoutServiceAccount: 'REGION_SCOUT_SERVICE_ACCOUNT',
} as const;

export const SWEEP_WORKFLOW = '.github/workflows/sweep.yml';

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
  const evidence = `configmap:${spec.scout.namespace}/${spec.scout.evidenceConfigMap}`;
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
    permissions: { contents: 'write', 'pull-requests': 'write', 'id-token': 'write' },
    concurrency: { group: 'region-scout-sweep', 'cancel-in-progress': false },
    jobs: {
      sweep: {
        'runs-on': 'ubuntu-24.04',
        'timeout-minutes': Math.ceil((spec.scout.probeDeadlineSeconds + 900) / 60),
        steps: [
          { uses: ACTIONS.checkout, with: { ref: spec.configSync.branch } },
          { uses: ACTIONS.setupNode, with: { 'node-version': 20, cache: 'npm' } },
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
            run: `npm run --silent scout -- sweep --project ${spec.project} --proposal github --evidence ${evidence} --base-commit "$(git rev-parse HEAD)" \${{ inputs.dry-run && '--dry-run' || '' }}`,
            env: {
              GITHUB_TOKEN: '${{ secrets.REGION_SCOUT_GITHUB_TOKEN || github.token }}',
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
