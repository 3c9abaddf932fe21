import {
  renderTree,
  writeTree,
  diffTree,
  hasDrift,
  RenderConflictError,
  type Drift,
  type RenderedTree,
} from '@gpu-fleet/manifests';
import { CliError, EXIT } from '../errors';
import { readSpec, type Io, type Workspace } from '../context';

export interface RenderResult {
  drift: Drift;
  files: number;
}

export function render(ws: Workspace, io: Io, opts: { check?: boolean; quiet?: boolean }): number {
  const spec = readSpec(ws);
  const tree = renderTree(spec, ws.catalog);
  if (opts.check) {
    const drift = diffTree(ws.root, tree);
    if (!hasDrift(drift)) {
      if (!opts.quiet) io.out(`render --check: ${tree.files.size} generated files match ${ws.specLabel}`);
      return EXIT.ok;
    }
    io.out(`render --check: the generated tree is out of date with ${ws.specLabel}:`);
    for (const p of drift.added) io.out(`  missing  ${p}`);
    for (const p of drift.changed) io.out(`  changed  ${p}`);
    for (const p of drift.removed) io.out(`  stale    ${p}`);
    io.out('Run `npm run scout -- render` and commit the result.');
    return EXIT.checkFailed;
  }
  const drift = writeRendered(ws, tree);
  if (!opts.quiet) io.out(describeDrift(drift, tree.files.size));
  return EXIT.ok;
}

/** Write the generated tree; a hand-written file where render would write is bad input (exit 2), reported with `note`. */
export function writeRendered(ws: Workspace, tree: RenderedTree, note = ''): Drift {
  try {
    return writeTree(ws.root, tree);
  } catch (e) {
    if (e instanceof RenderConflictError) throw new CliError(e.message + note);
    throw e;
  }
}

export function describeDrift(drift: Drift, total: number): string {
  if (!hasDrift(drift)) return `render: ${total} generated files already up to date`;
  return `render: ${total} generated files (${drift.added.length} added, ${drift.changed.length} changed, ${drift.removed.length} removed)`;
}
