import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './errors';
import { workspace, type GlobalOptions, type Io } from './context';
import { render } from './commands/render';
import { validate } from './commands/validate';
import { start } from './commands/start';

export interface RunOptions {
  io: Io;
  cwd: string;
}

/**
 * Build the region-scout CLI. Commands return an exit code; errors become one clear line (exit 2)
 * unless --debug asks for the stack.
 */
export function buildProgram({ io, cwd }: RunOptions, setExit: (code: number) => void): Command {
  const program = new Command('region-scout')
    .description('Keep a GPU web app running wherever GPUs can be had on Google Cloud: render, validate and (soon) sweep the fleet.')
    .option('--root <dir>', 'repository root holding fleet-config/ and clusters/', '.')
    .option('--spec <file>', 'fleet spec (default: <root>/fleet-config/fleet.yaml)')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();

  const ws = () => workspace(program.opts<GlobalOptions>(), cwd);

  program
    .command('render')
    .description('Write clusters/*, fleet-config/base, fleet-config/config-cluster, fleet.schema.json and docs from the spec (atomic, deterministic).')
    .option('--check', 'write nothing; exit 1 and list the files that differ from a fresh render')
    .action((o: { check?: boolean }) => setExit(render(ws(), io, o)));

  program
    .command('validate')
    .description('Validate the spec, build every overlay with kubectl kustomize, check every object against the vendored schemas and the fleet invariants.')
    .option('--json', 'print the report as one JSON object')
    .action(async (o: { json?: boolean }) => setExit(await validate(ws(), io, o)));

  program
    .command('start')
    .description('The main job on the embedded default: render and validate the fleet and print its summary.')
    .action(async () => setExit(await start(ws(), io)));

  return program;
}

/** Run the CLI with argv (without node and script); returns the exit code. */
export async function run(argv: string[], opts: RunOptions): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(opts, (c) => (code = c));
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (e instanceof CliError) {
      opts.io.err(debug && e.stack ? e.stack : `error: ${e.message}`);
      return e.exitCode;
    }
    const err = e as Error;
    opts.io.err(debug && err.stack ? err.stack : `error: ${err.message} (run with --debug for details)`);
    return EXIT.badInput;
  }
}
