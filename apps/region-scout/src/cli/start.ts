import type { Command } from 'commander';
import { load, withSandbox, type CliContext } from './shared';

/** `start`: the main job on the embedded sandbox. */
export function registerStart(program: Command, ctx: CliContext): void {
  withSandbox(program.command('start'))
    .description(
      'The main job on the embedded default: a complete sweep cycle on the sandbox (GPUs run out in a serving region; the scout sweeps, decides and proposes the new placement as a local branch).',
    )
    .action(async (options: { seed: number; timeFactor: number }) =>
      ctx.setExit(await load.start().start(ctx.ws(), ctx.io, ctx.logger(), ctx.withClock(options))),
    );
}
