import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Logger } from '@gpu-fleet/scout-domain';
import type { SimClock } from '@gpu-fleet/sandbox';
import type * as Classify from './commands/classify';
import type * as Pin from './commands/pin';
import type * as Probe from './commands/probe';
import type * as Quota from './commands/quota';
import type * as Backtest from './commands/backtest';
import type * as Render from './commands/render';
import type * as Review from './commands/review';
import type * as Sandbox from './commands/sandbox';
import type * as Signals from './commands/signals';
import type * as Start from './commands/start';
import type * as Status from './commands/status';
import type * as Sweep from './commands/sweep';
import type * as Validate from './commands/validate';
import type * as Context from './context';
import type * as LoggerModule from './logger';
import type { GlobalOptions, Io } from './context';
import type { SignalsOptions } from './commands/signals';
import type { ProbeCommandOptions } from './commands/probe';
import type { SweepCommandOptions } from './commands/sweep';
import type { StatusOptions } from './commands/status';
import type { PinOptions } from './commands/pin';
import type { QuotaOptions } from './commands/quota';
import type { BacktestCommandOptions } from './commands/backtest';
import { CliError, EXIT } from './errors';

/*
 * Every command's module is loaded when that command runs, never before: between them they pull in
 * the Google clients, the Kubernetes client, Octokit, Ajv and the sandbox, which `--help`, `get` or
 * `render` never need. Loading them all made `--help` take seconds (docs/benchmarks.md, cold start).
 * `require` rather than `import()`: the CLI runs as CommonJS (tsx's in-process require hook, jest,
 * the esbuild bundle), where it is synchronous and needs no ESM loader.
 */
const load = {
  backtest: () => require('./commands/backtest') as typeof Backtest,
  classify: () => require('./commands/classify') as typeof Classify,
  pin: () => require('./commands/pin') as typeof Pin,
  probe: () => require('./commands/probe') as typeof Probe,
  quota: () => require('./commands/quota') as typeof Quota,
  render: () => require('./commands/render') as typeof Render,
  review: () => require('./commands/review') as typeof Review,
  sandbox: () => require('./commands/sandbox') as typeof Sandbox,
  signals: () => require('./commands/signals') as typeof Signals,
  start: () => require('./commands/start') as typeof Start,
  status: () => require('./commands/status') as typeof Status,
  sweep: () => require('./commands/sweep') as typeof Sweep,
  validate: () => require('./commands/validate') as typeof Validate,
  context: () => require('./context') as typeof Context,
  logger: () => require('./logger') as typeof LoggerModule,
};

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

const integer = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got "${value}".`);
  return n;
};

const seedOption = (help: string) => new Option('--seed <n>', help).argParser(integer('--seed', 0, 2 ** 31));
const timeFactorOption = (help: string) =>
  new Option('--time-factor <n>', help).argParser(integer('--time-factor', 1, 100000));

/**
 * The embedded sandbox is chosen explicitly, never by default: a command without --sandbox talks to
 * Google, so simulated data can never be taken for real by accident.
 */
function withSandbox(cmd: Command): Command {
  return cmd
    .option(
      '--sandbox',
      'use the embedded sandbox: a simulated cloud on loopback (Compute, GKE, GKE Hub, Kubernetes, GitHub) seeded from real catalog data; nothing reaches Google',
    )
    .addOption(seedOption('with --sandbox: world seed (default 1)'))
    .addOption(timeFactorOption('with --sandbox: simulated seconds per real second (default 120)'));
}

/** Options shared by the commands that talk to Google (or, with --sandbox, the simulated cloud). */
function withCloud(cmd: Command): Command {
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

  const ws = () => load.context().workspace(program.opts<GlobalOptions>(), cwd);
  const logger = (): Logger => {
    const options = program.opts<{ debug?: boolean; verbose?: boolean }>();
    return (
      injected ?? load.logger().createLogger({ level: options.debug ? 'debug' : options.verbose ? 'info' : 'warn' })
    );
  };

  program
    .command('render')
    .description(
      'Write clusters/*, fleet-config/base, fleet-config/config-cluster, fleet-config/monitoring, fleet.schema.json, docs and .github/workflows/sweep.yml from the spec (atomic, deterministic).',
    )
    .option('--check', 'write nothing; exit 1 and list the files that differ from a fresh render')
    .action((options: { check?: boolean }) => setExit(load.render().render(ws(), io, options)));

  program
    .command('validate')
    .description(
      'Validate the spec, build every overlay with kubectl kustomize, check every object against the vendored schemas and the fleet invariants.',
    )
    .option('--json', 'print the report as one JSON object')
    .action(async (options: { json?: boolean }) => setExit(await load.validate().validate(ws(), io, options)));

  program
    .command('pin')
    .description(
      'Write machine-owned values into the spec and re-render: the static IP address (a Terraform output) and the scout image digest (a build). Validated first; nothing is written on bad input.',
    )
    .option(
      '--static-ip-address <ip>',
      'the address of ingress.staticIp.name, e.g. "$(terraform -chdir=infra output -raw static_ip_address)"',
    )
    .option('--scout-image <ref@sha256:digest>', 'the region-scout image the CronJob runs, pinned by digest')
    .action((options: PinOptions) => setExit(load.pin().pin(ws(), io, options)));

  program
    .command('review')
    .description(
      'Summarise what the spec change since --base does to the fleet: per cluster, for traffic, and what Terraform does on merge (Markdown for the pull request comment).',
    )
    .requiredOption('--base <ref|file>', 'the spec to compare with: a git ref (e.g. origin/main) or a file')
    .option('--json', 'print the review as JSON')
    .action((options: { base: string; json?: boolean }) => setExit(load.review().review(ws(), io, options)));

  program
    .command('get')
    .description(
      'Print one value of the validated spec, defaults applied (e.g. `get project`, `get configCluster.name`); strings raw, the rest as JSON.',
    )
    .argument('<path>', 'dotted field path')
    .action((path: string) => setExit(load.pin().get(ws(), io, path)));

  withSandbox(program.command('start'))
    .description(
      'The main job on the embedded default: a complete sweep cycle on the sandbox (GPUs run out in a serving region; the scout sweeps, decides and proposes the new placement as a local branch).',
    )
    .action(async (options: { seed: number; timeFactor: number }) =>
      setExit(await load.start().start(ws(), io, logger(), withClock(options))),
    );

  const withProposal = (cmd: Command) =>
    cmd
      .addOption(
        new Option(
          '--proposal <target>',
          'where the proposal goes: local (a branch in this repository), github (a pull request), none',
        )
          .choices(['local', 'github', 'none'])
          .default('local'),
      )
      .option('--repo <owner/name>', 'GitHub repository (default: from configSync.repo)')
      .option('--github-api <url>', 'GitHub API root (GitHub Enterprise); default https://api.github.com');

  withProposal(withCloud(program.command('sweep')))
    .description(
      'One sweep: gather signals, probe the best candidates, decide, write fleet.yaml, render, validate and propose (one idempotent branch / pull request).',
    )
    .option('--dry-run', 'print everything, write nothing (no evidence, no files, no proposal)')
    .option('--no-probes', 'decide on the signals and evidence only')
    .option('--json', 'print the plan, the evidence and the proposal result as JSON')
    .option(
      '--base-commit <sha>',
      'the commit of the base branch this checkout is (e.g. "$(git rev-parse HEAD)" in CI): the proposal is built on it, so a change merged meanwhile conflicts instead of being reverted',
    )
    .option(
      '--repo-dir <dir>',
      'with --from-github: the folder of the gpu-fleet tree inside the repository (configSync.dir; default: the root)',
    )
    .option(
      '--from-github <branch>',
      'read the repository from GitHub at <branch> instead of --root (for runners without a checkout, e.g. the CronJob); needs --proposal github',
    )
    .addOption(
      new Option(
        '--deadline-seconds <n>',
        "finish within n seconds of starting: past it nothing is proposed and no GitHub call is made (the evidence is saved); set below the runner's own limit (the CronJob's activeDeadlineSeconds, the workflow's timeout-minutes)",
      ).argParser(integer('--deadline-seconds', 30, 86400)),
    )
    .action(async (options: SweepCommandOptions) =>
      setExit(await load.sweep().sweepCommand(ws(), io, logger(), withClock(options))),
    );

  withCloud(program.command('plan'))
    .description(
      'Show the placement decision on current signals and evidence, without probes or a proposal; writes nothing.',
    )
    .option('--json', 'print the plan as JSON')
    .action(async (options: StatusOptions) =>
      setExit(await load.sweep().planCommand(ws(), io, logger(), withClock(options))),
    );

  withCloud(program.command('status'))
    .description(
      "Show each cluster's mode, GPU, GKE and Config Sync state, ready pods and serving health; exit 1 when fewer than minServingRegions serve.",
    )
    .option('--json', 'print the status as JSON')
    .action(async (options: StatusOptions) =>
      setExit(await load.status().statusCommand(ws(), io, logger(), withClock(options))),
    );

  withCloud(program.command('quota'))
    .description(
      'Print the Compute Engine GPU quota the spec needs (per candidate region and GPU metric, and GPUS_ALL_REGIONS) with the exact gcloud command requesting each; with --live, compare with the current limits and exit 1 while a request is still needed.',
    )
    .option(
      '--live',
      "read the current limits from Compute (the spec's project, or --project; --sandbox for the simulated cloud)",
    )
    .option(
      '--email <address>',
      'contact address for the requests (Google requires one on an increase); default: "$QUOTA_EMAIL" in the commands',
    )
    .option('--json', 'print the needs, limits and commands as JSON')
    .action(async (options: QuotaOptions) =>
      setExit(await load.quota().quotaCommand(ws(), io, logger(), withClock(options))),
    );

  /** An integer option checked against [min, max]; its error names the flag. */
  const bounded = (flags: string, help: string, min: number, max: number) =>
    new Option(flags, help).argParser(integer(flags.split(' ')[0]!, min, max));
  program
    .command('backtest')
    .description(
      "Replay GPU capacity (real traces with --traces, else the sandbox's seeded stockout process) through the real scout and its alternatives (static, in-region, failover as SkyPilot's EAGER_NEXT_REGION, failover-same-region, SkyServe's SpotHedge at any size) and the oracles; prints availability, target-ready share, outages, full cost (GPUs, cluster fees, probes, controller) and churn per policy. Every delay is a documented default you can override (docs/benchmarks.md).",
    )
    .option('--traces <folder>', 'folder with traces.yaml and trace files ({"metadata":{"gap_seconds":N},"data":[…]})')
    .addOption(bounded('--days <n>', 'simulated days (a shorter trace ends the run)', 1, 365).default(30))
    .addOption(seedOption('seeds node events and synthetic capacity').default(1))
    .option(
      '--policies <list>',
      'comma-separated: static,in-region,failover,failover-same-region,spothedge,scout,autoscaled (the scout with autoscaling on)',
      'static,in-region,failover,scout',
    )
    .option('--demand <model>', 'users: none, diurnal (seeded daily cycle per continent) or file', 'none')
    .option(
      '--demand-file <file.csv>',
      'with --demand file: generations/minute per hour, header hour,America,Europe,Asia',
    )
    .option('--provisioning <model>', 'on-demand, spot, spot-then-on-demand or hedged (default: gpu.provisioning)')
    .option(
      '--spothedge <sizes>',
      "SpotHedge's sizes, each run as its own policy spothedge-<target>+<extra>: comma-separated <target>+<extra>, e.g. 2+0,2+1 (default: the spec's serving replicas +0, SkyServe's default over-provisioning)",
    )
    .option(
      '--on-demand-capacity <rule>',
      'always (default: the records measure spot; on-demand is taken as obtainable) or trace (a new on-demand node needs the record too), for every policy',
    )
    .addOption(
      bounded(
        '--scale-up-failure-minutes <min>',
        "a GKE scale-up finding no capacity to the autoscaler's FailedScaleUp and back-off (default 2)",
        0,
        60,
      ),
    )
    .option('--json', 'print one JSON document {period, oracle, policies}')
    .option('--report <file.html>', 'write a self-contained HTML report (timelines, table, map)')
    .addOption(bounded('--sweep-interval <min>', 'minutes between sweeps (default: scout.schedule.cron)', 1, 1440))
    .addOption(bounded('--auto-merge-minutes <min>', 'merge delay of auto-merged PRs (default 10)', 0, 10080))
    .addOption(bounded('--person-merge-minutes <min>', 'merge delay of PRs a person merges (default 240)', 0, 10080))
    .addOption(bounded('--config-sync-seconds <s>', 'merge to applied (default 15, Config Sync poll)', 0, 3600))
    .addOption(bounded('--cluster-create-minutes <min>', "infra/ creating a new region's cluster (default 15)", 0, 240))
    .addOption(bounded('--node-provision-minutes <min>', 'GPU node creation (default 6)', 0, 120))
    .addOption(bounded('--app-start-minutes <min>', 'image pull and model load (default 5)', 0, 120))
    .addOption(
      bounded('--health-check-seconds <s>', 'Ready to receiving traffic (default: ingress.healthCheck)', 0, 3600),
    )
    .addOption(bounded('--node-events-per-month <n>', 'node events per GPU node per 30 days (default 1)', 0, 30))
    .action(async (options: BacktestCommandOptions) => {
      const tty = !options.json && process.stderr.isTTY;
      const progress = tty
        ? (done: number, total: number) => {
            const width = 30;
            const filled = Math.round((done / total) * width);
            process.stderr.write(
              `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] day ${Math.floor(done / 1440)}/${Math.ceil(total / 1440)}`,
            );
            if (done === total) process.stderr.write('\n');
          }
        : undefined;
      setExit(await load.backtest().backtestCommand(ws(), io, { ...options, progress }));
    });

  program
    .command('classify')
    .description(
      'Classify GCE/GKE error and event messages read from stdin, one per line — a message, or a JSON object {"message", "reason" (a Kubernetes event reason), "code" (a Google error code), "httpStatus"} whose fields decide first; prints one JSON object per line {kind, scope, zone, region, gpu, suggestedZones, metric}.',
    )
    .action(async () => setExit(await load.classify().classifyCommand(stdin ?? process.stdin, io)));

  program
    .command('sandbox')
    .addOption(seedOption('world seed').default(1))
    .addOption(timeFactorOption('simulated seconds per real second').default(120))
    .description(
      'Serve the embedded sandbox (Compute, GKE, GKE Hub, Connect Gateway, GitHub wire formats on loopback) until interrupted; prints its endpoints as one JSON line.',
    )
    .action(async (options: { seed: number; timeFactor: number }) =>
      setExit(await load.sandbox().sandboxCommand(ws(), io, { ...options, signal })),
    );

  withCloud(program.command('signals'))
    .description(
      'Gather every signal once (GPU offering, quotas, clusters and Config Sync, pending pods, evidence) and print a table per region.',
    )
    .option('--json', 'print the report as JSON')
    .option('--all-regions', 'every catalog region, not only the spec’s candidates')
    .action(async (options: SignalsOptions) =>
      setExit(await load.signals().signalsCommand(ws(), io, logger(), withClock(options))),
    );

  withCloud(program.command('probe'))
    .description(
      'Run one short-lived GPU probe Job in a cluster (within the daily probe budget) and record the outcome.',
    )
    .requiredOption('--cluster <name>', 'cluster of the spec to probe in')
    .requiredOption('--gpu <type>', 'accelerator type, e.g. nvidia-l4')
    .option('--spot', 'probe Spot capacity')
    .addOption(new Option('--count <n>', 'GPUs (default: gpu.count of the spec)').argParser(integer('--count', 1, 16)))
    .option('--json', 'print the result as JSON')
    .action(async (options: ProbeCommandOptions) =>
      setExit(await load.probe().probeCommand(ws(), io, logger(), withClock(options))),
    );

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
