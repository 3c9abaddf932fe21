import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { parse as parseYaml } from 'yaml';
import { CONFIG_CLUSTER_DIR, clusterDir } from '../pure/tree';
import { ALERT_POLICIES_DIR, DASHBOARD_FILE } from '../pure/builders/monitoring';
import { monitoringFileProblems } from '../pure/monitoring-schema';
import { kustomizeBuildAll, type K8sObject, type KustomizeOptions } from './kustomize';
import { SchemaValidator } from './schemas';
import {
  clusterInvariants,
  configClusterInvariants,
  objectId,
  placeholderFindings,
  platformFindings,
  type Finding,
} from '../pure/invariants';

/** Objects built across every folder of a report. */
export const builtObjectCount = (report: Pick<ValidationReport, 'built'>): number =>
  [...report.built.values()].reduce((n, objects) => n + objects.length, 0);

export interface ValidationReport {
  findings: Finding[];
  /** Objects built per folder. */
  built: Map<string, K8sObject[]>;
  timingsMs: { kustomize: number; schemas: number; invariants: number };
}

export interface ValidateOptions extends KustomizeOptions {
  catalog: GpuCatalog;
  schemas?: SchemaValidator;
  /** Where compiled schema validators are kept between runs (SchemaValidatorOptions.cacheDir). */
  schemaCacheDir?: string;
}

/**
 * Validate the rendered tree on disk: build every cluster folder and the config-cluster folder with
 * the real kustomize, check every object against the vendored schemas, then the fleet invariants.
 */
export async function validateTree(root: string, spec: FleetSpec, options: ValidateOptions): Promise<ValidationReport> {
  const findings: Finding[] = [];
  const built = new Map<string, K8sObject[]>();
  const scopes = [...spec.clusters.map((c) => clusterDir(c.name)), CONFIG_CLUSTER_DIR];

  const clustersRoot = join(root, 'clusters');
  if (existsSync(clustersRoot)) {
    const expected = new Set(spec.clusters.map((c) => c.name));
    for (const d of readdirSync(clustersRoot, { withFileTypes: true })) {
      if (d.isDirectory() && !expected.has(d.name))
        findings.push({
          scope: `clusters/${d.name}`,
          message: 'is not in the spec; run `npm run scout -- render` to remove it',
        });
    }
  }
  const present = scopes.filter((s) => {
    if (existsSync(join(root, s, 'kustomization.yaml'))) return true;
    findings.push({ scope: s, message: 'is missing (no kustomization.yaml); run `npm run scout -- render`' });
    return false;
  });

  let t = performance.now();
  const building = kustomizeBuildAll(
    present.map((s) => join(root, s)),
    options,
  );
  // kubectl runs in its own processes: get the validators of the kinds on disk ready meanwhile.
  const schemas = options.schemas ?? new SchemaValidator({ cacheDir: options.schemaCacheDir });
  let prepareMs = performance.now();
  schemas.prepare(kindsOnDisk(root));
  prepareMs = performance.now() - prepareMs;
  const results = await building;
  const kustomizeMs = performance.now() - t - prepareMs;
  for (const s of present) {
    const r = results.get(join(root, s))!;
    if (r instanceof Error) findings.push({ scope: s, message: r.message.replace(join(root, s), s) });
    else built.set(s, r);
  }

  t = performance.now();
  for (const [scope, objects] of built) {
    for (const resource of objects)
      for (const p of schemas.validate(resource))
        findings.push({ scope, object: objectId(resource), message: p.message });
  }
  schemas.persist();
  const schemasMs = performance.now() - t + prepareMs;

  t = performance.now();
  for (const cluster of spec.clusters) {
    const scope = clusterDir(cluster.name);
    const objects = built.get(scope);
    if (objects) findings.push(...clusterInvariants(scope, spec, cluster, objects, options.catalog));
  }
  const cc = built.get(CONFIG_CLUSTER_DIR);
  if (cc) findings.push(...configClusterInvariants(CONFIG_CLUSTER_DIR, spec, cc));
  for (const [scope, objects] of built)
    findings.push(...placeholderFindings(scope, objects), ...platformFindings(scope, objects));
  findings.push(...monitoringFindings(root));
  const invariantsMs = performance.now() - t;

  return { findings, built, timingsMs: { kustomize: kustomizeMs, schemas: schemasMs, invariants: invariantsMs } };
}

/**
 * The Cloud Monitoring files (fleet-config/monitoring/) against their narrow schemas, queries parsed
 * as PromQL: infra/ hands them to the API as they are, so a bad one would fail `terraform apply`.
 */
export function monitoringFindings(root: string): Finding[] {
  const files: Array<[string, 'alert-policy' | 'dashboard']> = [];
  const dir = join(root, ALERT_POLICIES_DIR);
  if (existsSync(dir))
    for (const f of readdirSync(dir).sort())
      if (f.endsWith('.yaml')) files.push([`${ALERT_POLICIES_DIR}/${f}`, 'alert-policy']);
  if (existsSync(join(root, DASHBOARD_FILE))) files.push([DASHBOARD_FILE, 'dashboard']);
  return files.flatMap(([file, kind]) => {
    let value: unknown;
    try {
      value = parseYaml(readFileSync(join(root, file), 'utf8'));
    } catch (e) {
      return [{ scope: file, message: `is not YAML: ${(e as Error).message}; run \`npm run scout -- render\`` }];
    }
    return monitoringFileProblems(kind, value).map((message) => ({ scope: file, message }));
  });
}

/** "apiVersion/kind" of every document in the generated tree (clusters/, fleet-config/), read with a cheap scan. */
function kindsOnDisk(root: string): Set<string> {
  const keys = new Set<string>();
  const visit = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, d.name);
      if (d.isDirectory()) visit(path);
      else if (d.name.endsWith('.yaml') && d.name !== 'kustomization.yaml') {
        for (const doc of readFileSync(path, 'utf8').split(/^---$/m)) {
          const api = /^apiVersion:\s*(\S+)/m.exec(doc)?.[1];
          const kind = /^kind:\s*(\S+)/m.exec(doc)?.[1];
          if (api && kind) keys.add(`${api}/${kind}`);
        }
      }
    }
  };
  visit(join(root, 'clusters'));
  visit(join(root, 'fleet-config'));
  return keys;
}

export { KubectlMissingError, KustomizeBuildError, kustomizeBuild, kustomizeBuildAll } from './kustomize';
export type { K8sObject, KustomizeOptions } from './kustomize';
export { SchemaValidator, defaultSchemaDir } from './schemas';
export type { SchemaValidatorOptions } from './schemas';
export {
  clusterInvariants,
  configClusterInvariants,
  placeholderFindings,
  platformFindings,
  objectId,
} from '../pure/invariants';
export type { Finding } from '../pure/invariants';
