import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { SPEC_FILE } from '@gpu-fleet/manifests';
import { SpecError, parseFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import type { Document } from 'yaml';
import { CliError } from './errors';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface GlobalOptions {
  root?: string;
  spec?: string;
  debug?: boolean;
}

/** Where the spec lives in a repository: the path render, the checkout and the headers all use. */
export const DEFAULT_SPEC = SPEC_FILE;

/** What every command works on: the repository root, the spec path, the catalog. */
export interface Workspace {
  root: string;
  specPath: string;
  /** Spec path as shown to the user (relative to the root when inside it). */
  specLabel: string;
  catalog: GpuCatalog;
}

export function workspace(opts: GlobalOptions, cwd: string): Workspace {
  const root = resolve(cwd, opts.root ?? '.');
  const specPath = opts.spec ? (isAbsolute(opts.spec) ? opts.spec : resolve(cwd, opts.spec)) : join(root, DEFAULT_SPEC);
  const specLabel = specPath.startsWith(root + '/') ? specPath.slice(root.length + 1) : specPath;
  return { root, specPath, specLabel, catalog: GpuCatalog.bundled() };
}

/** Read and validate the spec; every problem becomes one line of a CliError (exit 2). */
export function readSpec(ws: Workspace): FleetSpec {
  return readSpecDocument(ws).spec;
}

/** The spec and its YAML document (for edits that keep comments). */
export function readSpecDocument(ws: Workspace): { spec: FleetSpec; document: Document; text: string } {
  if (!existsSync(ws.specPath)) {
    throw new CliError(
      `${ws.specLabel}: file not found. Run region-scout from the repository root, or pass --root <dir> / --spec <file>.`,
    );
  }
  const text = readFileSync(ws.specPath, 'utf8');
  const r = parseFleetSpec(text, { file: ws.specLabel, catalog: ws.catalog });
  if (!r.ok) throw new CliError(new SpecError(ws.specLabel, r.issues).message);
  return { spec: r.spec, document: r.document, text };
}
