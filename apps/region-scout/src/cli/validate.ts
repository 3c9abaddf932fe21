import type { Command } from 'commander';
import { load, type CliContext } from './shared';

/** `validate`: the spec, every overlay built with kustomize, schemas and invariants. */
export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description(
      'Validate the spec, build every overlay with kubectl kustomize, check every object against the vendored schemas and the fleet invariants.',
    )
    .option('--json', 'print the report as one JSON object')
    .action(async (options: { json?: boolean }) =>
      ctx.setExit(await load.validate().validate(ctx.ws(), ctx.io, options)),
    );
}
