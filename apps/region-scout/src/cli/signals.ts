import type { Command } from 'commander';
import type { SignalsOptions } from '../commands/signals';
import { load, withCloud, type CliContext } from './shared';

/** `signals`: every signal gathered once, per region. */
export function registerSignals(program: Command, ctx: CliContext): void {
  withCloud(program.command('signals'))
    .description(
      'Gather every signal once (GPU offering, quotas, clusters and Config Sync, pending pods, evidence) and print a table per region.',
    )
    .option('--json', 'print the report as JSON')
    .option('--all-regions', 'every catalog region, not only the spec’s candidates')
    .action(async (options: SignalsOptions) =>
      ctx.setExit(await load.signals().signalsCommand(ctx.ws(), ctx.io, ctx.logger(), ctx.withClock(options))),
    );
}
