import type { Command } from 'commander';
import { load, type CliContext } from './shared';

/** `classify`: GCE/GKE messages on stdin classified. */
export function registerClassify(program: Command, ctx: CliContext): void {
  program
    .command('classify')
    .description(
      'Classify GCE/GKE error and event messages read from stdin, one per line — a message, or a JSON object {"message", "reason" (a Kubernetes event reason), "code" (a Google error code), "httpStatus"} whose fields decide first; prints one JSON object per line {kind, scope, zone, region, gpu, suggestedZones, metric}.',
    )
    .action(async () => ctx.setExit(await load.classify().classifyCommand(ctx.stdin ?? process.stdin, ctx.io)));
}
