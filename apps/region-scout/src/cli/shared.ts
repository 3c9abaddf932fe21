import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from '@gpu-fleet/scout-domain';
import type { SimClock } from '@gpu-fleet/sandbox';
import type * as Classify from '../commands/classify';
import type * as Pin from '../commands/pin';
import type * as Probe from '../commands/probe';
import type * as Quota from '../commands/quota';
import type * as Backtest from '../commands/backtest';
import type * as Render from '../commands/render';
import type * as Review from '../commands/review';
import type * as Sandbox from '../commands/sandbox';
import type * as Signals from '../commands/signals';
import type * as Start from '../commands/start';
import type * as Status from '../commands/status';
import type * as Sweep from '../commands/sweep';
import type * as Validate from '../commands/validate';
import type { Io, Workspace } from '../context';

/*
 * Every command's module is loaded when that command runs, never before: between them they pull in
 * the Google clients, the Kubernetes client, Octokit, Ajv and the sandbox, which `--help`, `get` or
 * `render` never need. Loading them all made `--help` take seconds (docs/benchmarks.md, cold start).
 * `require` rather than `import()`: the CLI runs as CommonJS (tsx's in-process require hook, jest,
 * the esbuild bundle), where it is synchronous and needs no ESM loader. The modules in this folder
 * only declare the commands, so they import types alone.
 */
export const load = {
  backtest: () => require('../commands/backtest') as typeof Backtest,
  classify: () => require('../commands/classify') as typeof Classify,
  pin: () => require('../commands/pin') as typeof Pin,
  probe: () => require('../commands/probe') as typeof Probe,
  quota: () => require('../commands/quota') as typeof Quota,
  render: () => require('../commands/render') as typeof Render,
  review: () => require('../commands/review') as typeof Review,
  sandbox: () => require('../commands/sandbox') as typeof Sandbox,
  signals: () => require('../commands/signals') as typeof Signals,
  start: () => require('../commands/start') as typeof Start,
  status: () => require('../commands/status') as typeof Status,
  sweep: () => require('../commands/sweep') as typeof Sweep,
  validate: () => require('../commands/validate') as typeof Validate,
};

/** What every command's action gets: the workspace, output, logger and the exit code setter, resolved when it runs. */
export interface CliContext {
  io: Io;
  ws: () => Workspace;
  logger: () => Logger;
  setExit: (code: number) => void;
  /** With --sandbox in tests: the injected clock. */
  withClock: <T extends object>(options: T) => T & { clock?: SimClock };
  stdin?: NodeJS.ReadableStream;
  signal?: AbortSignal;
}

/** A command module: declares its command, options and action on the program. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export const integer = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got "${value}".`);
  return n;
};

/** An integer option checked against [min, max]; its error names the flag. */
export const bounded = (flags: string, help: string, min: number, max: number) =>
  new Option(flags, help).argParser(integer(flags.split(' ')[0]!, min, max));

export const seedOption = (help: string) => new Option('--seed <n>', help).argParser(integer('--seed', 0, 2 ** 31));
export const timeFactorOption = (help: string) =>
  new Option('--time-factor <n>', help).argParser(integer('--time-factor', 1, 100000));

/**
 * The embedded sandbox is chosen explicitly, never by default: a command without --sandbox talks to
 * Google, so simulated data can never be taken for real by accident.
 */
export function withSandbox(cmd: Command): Command {
  return cmd
    .option(
      '--sandbox',
      'use the embedded sandbox: a simulated cloud on loopback (Compute, GKE, GKE Hub, Kubernetes, GitHub) seeded from real catalog data; nothing reaches Google',
    )
    .addOption(seedOption('with --sandbox: world seed (default 1)'))
    .addOption(timeFactorOption('with --sandbox: simulated seconds per real second (default 120)'));
}

/** Options shared by the commands that talk to Google (or, with --sandbox, the simulated cloud). */
export function withCloud(cmd: Command): Command {
  return withSandbox(
    cmd.option(
      '--project <id>',
      "GCP project to query with Application Default Credentials (default: the spec's project)",
    ),
  ).option(
    '--evidence <file|configmap:ns/name|gcs://bucket/object>',
    'evidence store: a file (default: .gpu-fleet/evidence.json, or sandbox-evidence.json with --sandbox), configmap:<namespace>/<name> in the config cluster, or gcs://<bucket>/<object> in Cloud Storage (both shared by every runner)',
  );
}
