import type { Command } from 'commander';
import type { StatusOptions } from '../commands/status';
import { load, withCloud, type CliContext } from './shared';

/** `status`: each cluster and the fleet facts; exit 1 below the minimum. */
export function registerStatus(program: Command, ctx: CliContext): void {
  withCloud(program.command('status'))
    .description(
      "Show each cluster's mode, GPU, GKE and Config Sync state, ready pods and serving health; exit 1 when fewer than minServingRegions serve.",
    )
    .option('--json', 'print the status as JSON')
    .action(async (options: StatusOptions) =>
      ctx.setExit(await load.status().statusCommand(ctx.ws(), ctx.io, ctx.logger(), ctx.withClock(options))),
    );
}
