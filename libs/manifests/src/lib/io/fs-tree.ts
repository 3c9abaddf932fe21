import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { CHECKOUT_PATHS, OWNED_DIRS, OWNED_FILES, type RenderedTree } from '../pure/tree';
import { isGenerated } from '../pure/yaml';

export interface Drift {
  added: string[];
  changed: string[];
  removed: string[];
}

export const hasDrift = (d: Drift) => d.added.length + d.changed.length + d.removed.length > 0;

/** A file render would have to replace or delete but that it did not generate. */
export class RenderConflictError extends Error {
  constructor(readonly paths: string[]) {
    super(
      `render refuses to replace files it did not generate:\n${paths.map((p) => `  ${p}`).join('\n')}\n` +
        'These folders are generated from fleet-config/fleet.yaml. Move hand-written changes to fleet-config/patches/ (applied to every cluster), then delete these files and re-run render.',
    );
    this.name = 'RenderConflictError';
  }
}

function listFiles(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(abs);
  return out;
}

/** Files currently on disk that render owns. */
export function ownedFilesOnDisk(root: string): string[] {
  return [
    ...OWNED_DIRS.flatMap((d) => listFiles(root, d)),
    ...OWNED_FILES.filter((f) => existsSync(join(root, f))),
  ].sort();
}

/** Compare the rendered tree with what is on disk. */
export function diffTree(root: string, tree: RenderedTree): Drift {
  const onDisk = new Set(ownedFilesOnDisk(root));
  const drift: Drift = { added: [], changed: [], removed: [] };
  for (const [path, content] of [...tree.files].sort(([a], [b]) => a.localeCompare(b))) {
    if (!onDisk.has(path)) drift.added.push(path);
    else if (readFileSync(join(root, path), 'utf8') !== content) drift.changed.push(path);
    onDisk.delete(path);
  }
  drift.removed = [...onDisk].sort();
  return drift;
}

/**
 * Write the rendered tree atomically: stage everything in a folder inside the repository root, then
 * swap each owned folder in with a rename and restore the previous folders if any step fails. Never
 * touches fleet-config/patches/ beyond creating its starter files once, and refuses to replace files
 * that are not generated.
 */
export function writeTree(root: string, tree: RenderedTree): Drift {
  const drift = diffTree(root, tree);
  const notOurs = [...drift.changed, ...drift.removed].filter((p) => !isGenerated(readFileSync(join(root, p), 'utf8')));
  if (notOurs.length) throw new RenderConflictError(notOurs);

  for (const [path, content] of tree.seeds) {
    const abs = join(root, path);
    if (!existsSync(abs)) {
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, content);
    }
  }
  if (!hasDrift(drift)) return drift;

  const staging = mkdtempSync(join(root, '.gpu-fleet-render-'));
  const backup = mkdtempSync(join(root, '.gpu-fleet-backup-'));
  const swapped: Array<{ target: string; saved: string | null }> = [];
  try {
    for (const [path, content] of tree.files) {
      const abs = join(staging, path);
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, content);
    }
    for (const unit of [...OWNED_DIRS, ...OWNED_FILES]) {
      const target = join(root, unit);
      const staged = join(staging, unit);
      let saved: string | null = null;
      if (existsSync(target)) {
        saved = join(backup, unit);
        mkdirSync(dirname(saved), { recursive: true });
        renameSync(target, saved);
      }
      swapped.push({ target, saved });
      if (existsSync(staged)) {
        mkdirSync(dirname(target), { recursive: true });
        renameSync(staged, target);
      }
    }
  } catch (err) {
    for (const { target, saved } of swapped.reverse()) {
      rmSync(target, { recursive: true, force: true });
      if (saved) renameSync(saved, target);
    }
    throw err;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(backup, { recursive: true, force: true });
  }
  return drift;
}

/** For tests and tools: a content snapshot of every owned file. */
export function readOwnedTree(root: string): Map<string, string> {
  return new Map(ownedFilesOnDisk(root).map((p) => [p, readFileSync(join(root, p), 'utf8')]));
}

/** The files a sweep reads (CHECKOUT_PATHS) as they are on disk under root. */
export function readCheckout(root: string): Map<string, string> {
  const paths = CHECKOUT_PATHS.flatMap((p) =>
    p.endsWith('/') ? listFiles(root, p.slice(0, -1)) : existsSync(join(root, p)) ? [p] : [],
  );
  return new Map([...new Set(paths)].sort().map((p) => [p, readFileSync(join(root, p), 'utf8')]));
}

/** Write repository files (path → content) under a new folder in `parent`; returns the folder. Paths may not leave it. */
export function writeCheckout(parent: string, files: ReadonlyMap<string, string>): string {
  const dir = mkdtempSync(join(parent, 'gpu-fleet-checkout-'));
  for (const [path, content] of files) {
    const abs = join(dir, path);
    if (!abs.startsWith(dir + sep)) throw new Error(`refusing to write ${JSON.stringify(path)} outside the checkout`);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
  return dir;
}
