import type { Command } from 'commander';
import type { QuotaOptions } from '../commands/quota';
import { load, withCloud, type CliContext } from './shared';

/** `quota`: the GPU quota the spec needs, and the requests. */
export function registerQuota(program: Command, ctx: CliContext): void {
  withCloud(program.command('quota'))
    .description(
      'Print the Compute Engine GPU quota the spec needs (per candidate region and GPU metric, and GPUS_ALL_REGIONS) with the exact gcloud command requesting each; with --live, compare with the current limits and exit 1 while a request is still needed.',
    )
    .option(
      '--live',
      "read the current limits from Compute (the spec's project, or --project; --sandbox for the simulated cloud)",
    )
    .option(
      '--email <address>',
      'contact address for the requests (Google requires one on an increase); default: "$QUOTA_EMAIL" in the commands',
    )
    .option('--json', 'print the needs, limits and commands as JSON')
    .action(async (options: QuotaOptions) =>
      ctx.setExit(await load.quota().quotaCommand(ctx.ws(), ctx.io, ctx.logger(), ctx.withClock(options))),
    );
}
