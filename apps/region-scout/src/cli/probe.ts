import { Option, type Command } from 'commander';
import type { ProbeCommandOptions } from '../commands/probe';
import { integer, load, withCloud, type CliContext } from './shared';

/** `probe`: one GPU probe, recorded as evidence. */
export function registerProbe(program: Command, ctx: CliContext): void {
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
      ctx.setExit(await load.probe().probeCommand(ctx.ws(), ctx.io, ctx.logger(), ctx.withClock(options))),
    );
}
