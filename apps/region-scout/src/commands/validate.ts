import {
  builtObjectCount,
  KubectlMissingError,
  validateTree,
  type Finding,
  type ValidationReport,
} from '@gpu-fleet/manifests';
import { CliError, EXIT } from '../errors';
import { readSpec, type Io, type Workspace } from '../context';
import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Compiled schema validators are kept in node_modules/.cache/gpu-fleet of the checkout (the usual
 * place for tool caches, removed with node_modules); a checkout without node_modules, such as the
 * scout's image, compiles them each run. $GPU_FLEET_CACHE_DIR overrides it; "off" disables it.
 */
export function cacheDir(ws: Workspace): string | undefined {
  const env = process.env.GPU_FLEET_CACHE_DIR;
  if (env) return env === 'off' ? undefined : env;
  return existsSync(join(ws.root, 'node_modules')) ? join(ws.root, 'node_modules', '.cache', 'gpu-fleet') : undefined;
}

export async function runValidation(ws: Workspace, spec: FleetSpec): Promise<ValidationReport> {
  try {
    return await validateTree(ws.root, spec, { catalog: ws.catalog, schemaCacheDir: cacheDir(ws) });
  } catch (e) {
    if (e instanceof KubectlMissingError) throw new CliError(e.message);
    throw e;
  }
}

export const formatFinding = (f: Finding) => `${f.scope}${f.object ? ` ${f.object}` : ''}: ${f.message}`;

export async function validate(ws: Workspace, io: Io, opts: { json?: boolean }): Promise<number> {
  const spec = readSpec(ws);
  const report = await runValidation(ws, spec);
  const objects = builtObjectCount(report);
  if (opts.json) {
    io.out(
      JSON.stringify({
        ok: report.findings.length === 0,
        folders: report.built.size,
        objects,
        findings: report.findings,
        timingsMs: report.timingsMs,
      }),
    );
  } else if (report.findings.length) {
    io.out(`validate: ${report.findings.length} problem(s):`);
    for (const f of report.findings) io.out(`  ${formatFinding(f)}`);
  } else {
    io.out(
      `validate: ${ws.specLabel} ok; ${report.built.size} folders built with kustomize, ${objects} objects valid against the schemas and fleet invariants`,
    );
  }
  return report.findings.length ? EXIT.checkFailed : EXIT.ok;
}
