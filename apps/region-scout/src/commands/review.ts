import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parseFleetSpec, SpecError } from '@gpu-fleet/fleet-spec';
import { formatReview, reviewSpecChange } from '@gpu-fleet/scout-decide';
import { readSpec, type Io, type Workspace } from '../context';
import { CliError, EXIT } from '../errors';

/**
 * `review --base <ref|file>`: what the spec change does to the fleet, per cluster and for traffic,
 * as the Markdown of the pull request comment the validate workflow keeps up to date.
 */
export function review(ws: Workspace, io: Io, options: { base: string; json?: boolean }): number {
  const after = readSpec(ws);
  const text = existsSync(options.base) ? readFileSync(options.base, 'utf8') : gitShow(ws, options.base);
  const parsed = parseFleetSpec(text, { file: `${options.base}:${ws.specLabel}`, catalog: ws.catalog });
  if (!parsed.ok)
    throw new CliError(
      `--base: the spec at ${options.base} is not valid, so there is nothing to compare with:\n${new SpecError(`${options.base}:${ws.specLabel}`, parsed.issues).message}`,
    );
  const r = reviewSpecChange(parsed.spec, after, ws.catalog);
  io.out(options.json ? JSON.stringify(r) : formatReview(r));
  return EXIT.ok;
}

function gitShow(ws: Workspace, ref: string): string {
  try {
    return execFileSync('git', ['show', `${ref}:${ws.specLabel}`], {
      cwd: ws.root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim();
    throw new CliError(
      `--base: cannot read ${ws.specLabel} at "${ref}" (${stderr || (e as Error).message}); pass a git ref that has the spec (e.g. origin/main) or a file path`,
    );
  }
}
