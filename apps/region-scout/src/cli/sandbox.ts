import type { Command } from 'commander';
import { load, seedOption, timeFactorOption, type CliContext } from './shared';

/** `sandbox`: serve the embedded sandbox until interrupted. */
export function registerSandbox(program: Command, ctx: CliContext): void {
  program
    .command('sandbox')
    .addOption(seedOption('world seed').default(1))
    .addOption(timeFactorOption('simulated seconds per real second').default(120))
    .description(
      'Serve the embedded sandbox (Compute, GKE, GKE Hub, Connect Gateway, GitHub wire formats on loopback) until interrupted; prints its endpoints as one JSON line.',
    )
    .action(async (options: { seed: number; timeFactor: number }) =>
      ctx.setExit(await load.sandbox().sandboxCommand(ctx.ws(), ctx.io, { ...options, signal: ctx.signal })),
    );
}
