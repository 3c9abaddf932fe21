import type { Command } from 'commander';
import type { BacktestCommandOptions } from '../commands/backtest';
import { bounded, load, seedOption, type CliContext } from './shared';

/** `backtest`: capacity replayed through the scout and its alternatives. */
export function registerBacktest(program: Command, ctx: CliContext): void {
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
      const progress = !options.json && process.stderr.isTTY ? progressBar : undefined;
      ctx.setExit(await load.backtest().backtestCommand(ctx.ws(), ctx.io, { ...options, progress }));
    });
}

/** Days simulated so far, on a terminal only (never in --json output or a log). */
function progressBar(done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(
    `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] day ${Math.floor(done / 1440)}/${Math.ceil(total / 1440)}`,
  );
  if (done === total) process.stderr.write('\n');
}
