import { Command, CommanderError } from 'commander';
import type { Logger } from '@gpu-fleet/scout-domain';
import type { SimClock } from '@gpu-fleet/sandbox';
import type * as Context from './context';
import type * as LoggerModule from './logger';
import type { GlobalOptions, Io } from './context';
import { CliError, EXIT } from './errors';
import { COMMANDS, type CliContext } from './cli';

/* Loaded when a command runs (see cli/shared.ts: `--help` stays fast). */
const loadContext = () => require('./context') as typeof Context;
const loadLogger = () => require('./logger') as typeof LoggerModule;

export interface RunOptions {
  io: Io;
  cwd: string;
  stdin?: NodeJS.ReadableStream;
  logger?: Logger;
  /** Stops long-running commands (sandbox) in tests. */
  signal?: AbortSignal;
  /** With --sandbox: run the sandbox on this clock (tests pass a ManualClock so no outcome depends on the machine's speed). */
  sandboxClock?: SimClock;
}

/**
 * Build the region-scout CLI. Commands return an exit code; errors become one clear line (exit 2)
 * unless --debug asks for the stack.
 */
export function buildProgram(
  { io, cwd, stdin, logger: injected, signal, sandboxClock }: RunOptions,
  setExit: (code: number) => void,
): Command {
  const withClock = <T extends object>(options: T): T & { clock?: SimClock } =>
    sandboxClock ? { ...options, clock: sandboxClock } : options;
  const program = new Command('region-scout')
    .description(
      'Keep a GPU web app running wherever GPUs can be had on Google Cloud: sweep for GPUs, decide safely, propose the placement as one pull request; render and validate the fleet.',
    )
    .option('--root <dir>', 'repository root holding fleet-config/ and clusters/', '.')
    .option('--spec <file>', 'fleet spec (default: <root>/fleet-config/fleet.yaml)')
    .option('--debug', 'print stack traces on errors and debug logs')
    .option('--verbose', 'info-level logs on stderr')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();

  const ctx: CliContext = {
    io,
    stdin,
    signal,
    setExit,
    withClock,
    ws: () => loadContext().workspace(program.opts<GlobalOptions>(), cwd),
    logger: (): Logger => {
      const options = program.opts<{ debug?: boolean; verbose?: boolean }>();
      return (
        injected ?? loadLogger().createLogger({ level: options.debug ? 'debug' : options.verbose ? 'info' : 'warn' })
      );
    },
  };
  for (const register of COMMANDS) register(program, ctx);
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
