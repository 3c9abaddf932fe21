import type { Command } from 'commander';
import type { StatusOptions } from '../commands/status';
import { load, withCloud, type CliContext } from './shared';

/** `plan`: the decision on current signals, writing nothing. */
export function registerPlan(program: Command, ctx: CliContext): void {
  withCloud(program.command('plan'))
    .description(
      'Show the placement decision on current signals and evidence, without probes or a proposal; writes nothing.',
    )
    .option('--json', 'print the plan as JSON')
    .action(async (options: StatusOptions) =>
      ctx.setExit(await load.sweep().planCommand(ctx.ws(), ctx.io, ctx.logger(), ctx.withClock(options))),
    );
}
