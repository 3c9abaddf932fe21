import type { Command } from 'commander';
import { load, type CliContext } from './shared';

/** `get`: one value of the validated spec. */
export function registerGet(program: Command, ctx: CliContext): void {
  program
    .command('get')
    .description(
      'Print one value of the validated spec, defaults applied (e.g. `get project`, `get configCluster.name`); strings raw, the rest as JSON.',
    )
    .argument('<path>', 'dotted field path')
    .action((path: string) => ctx.setExit(load.pin().get(ctx.ws(), ctx.io, path)));
}
