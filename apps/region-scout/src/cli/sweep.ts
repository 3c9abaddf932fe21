import { Option, type Command } from 'commander';
import type { SweepCommandOptions } from '../commands/sweep';
import { integer, load, withCloud, type CliContext } from './shared';

/** Where a sweep's proposal goes. */
const withProposal = (cmd: Command) =>
  cmd
    .addOption(
      new Option(
        '--proposal <target>',
        'where the proposal goes: local (a branch in this repository), github (a pull request), none',
      )
        .choices(['local', 'github', 'none'])
        .default('local'),
    )
    .option('--repo <owner/name>', 'GitHub repository (default: from configSync.repo)')
    .option('--github-api <url>', 'GitHub API root (GitHub Enterprise); default https://api.github.com');

/** `sweep`: one sweep, from signals to one idempotent proposal. */
export function registerSweep(program: Command, ctx: CliContext): void {
  withProposal(withCloud(program.command('sweep')))
    .description(
      'One sweep: gather signals, probe the best candidates, decide, write fleet.yaml, render, validate and propose (one idempotent branch / pull request).',
    )
    .option('--dry-run', 'print everything, write nothing (no evidence, no files, no proposal)')
    .option('--no-probes', 'decide on the signals and evidence only')
    .option('--json', 'print the plan, the evidence and the proposal result as JSON')
    .option(
      '--base-commit <sha>',
      'the commit of the base branch this checkout is (e.g. "$(git rev-parse HEAD)" in CI): the proposal is built on it, so a change merged meanwhile conflicts instead of being reverted',
    )
    .option(
      '--repo-dir <dir>',
      'with --from-github: the folder of the gpu-fleet tree inside the repository (configSync.dir; default: the root)',
    )
    .option(
      '--from-github <branch>',
      'read the repository from GitHub at <branch> instead of --root (for runners without a checkout, e.g. the CronJob); needs --proposal github',
    )
    .addOption(
      new Option(
        '--deadline-seconds <n>',
        "finish within n seconds of starting: past it nothing is proposed and no GitHub call is made (the evidence is saved); set below the runner's own limit (the CronJob's activeDeadlineSeconds, the workflow's timeout-minutes)",
      ).argParser(integer('--deadline-seconds', 30, 86400)),
    )
    .action(async (options: SweepCommandOptions) =>
      ctx.setExit(await load.sweep().sweepCommand(ctx.ws(), ctx.io, ctx.logger(), ctx.withClock(options))),
    );
}
