import type { Command } from 'commander';
import type { PinOptions } from '../commands/pin';
import { load, type CliContext } from './shared';

/** `pin`: machine-owned values written into the spec. */
export function registerPin(program: Command, ctx: CliContext): void {
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
    .action((options: PinOptions) => ctx.setExit(load.pin().pin(ctx.ws(), ctx.io, options)));
}
