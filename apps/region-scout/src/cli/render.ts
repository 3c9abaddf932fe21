import type { Command } from 'commander';
import { load, type CliContext } from './shared';

/** `render`: write the generated tree from the spec. */
export function registerRender(program: Command, ctx: CliContext): void {
  program
    .command('render')
    .description(
      'Write clusters/*, fleet-config/base, fleet-config/config-cluster, fleet-config/monitoring, fleet.schema.json, docs and .github/workflows/sweep.yml from the spec (atomic, deterministic).',
    )
    .option('--check', 'write nothing; exit 1 and list the files that differ from a fresh render')
    .action((options: { check?: boolean }) => ctx.setExit(load.render().render(ctx.ws(), ctx.io, options)));
}
