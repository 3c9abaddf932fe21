import type { Command } from 'commander';
import { load, type CliContext } from './shared';

/** `review`: what a spec change does to the fleet, for the pull request. */
export function registerReview(program: Command, ctx: CliContext): void {
  program
    .command('review')
    .description(
      'Summarise what the spec change since --base does to the fleet: per cluster, for traffic, and what Terraform does on merge (Markdown for the pull request comment).',
    )
    .requiredOption('--base <ref|file>', 'the spec to compare with: a git ref (e.g. origin/main) or a file')
    .option('--json', 'print the review as JSON')
    .action((options: { base: string; json?: boolean }) =>
      ctx.setExit(load.review().review(ctx.ws(), ctx.io, options)),
    );
}
