import type AjvClass from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Script } from 'node:vm';
import writeFileAtomic from 'write-file-atomic';
import type { K8sObject } from '../pure/k8s-object';

/**
 * Schema file per apiVersion/kind, all vendored under libs/manifests/schemas (see SOURCES.md there).
 * An object with no schema is an error: everything gpu-fleet applies must be checked.
 */
const SCHEMA_FILES: Record<string, string> = {
  'v1/Namespace': 'kubernetes/namespace-v1.json',
  'v1/ServiceAccount': 'kubernetes/serviceaccount-v1.json',
  'v1/Service': 'kubernetes/service-v1.json',
  'v1/ConfigMap': 'kubernetes/configmap-v1.json',
  'v1/Secret': 'kubernetes/secret-v1.json',
  'v1/ResourceQuota': 'kubernetes/resourcequota-v1.json',
  'v1/LimitRange': 'kubernetes/limitrange-v1.json',
  'v1/PersistentVolumeClaim': 'kubernetes/persistentvolumeclaim-v1.json',
  'apps/v1/Deployment': 'kubernetes/deployment-apps-v1.json',
  'batch/v1/Job': 'kubernetes/job-batch-v1.json',
  'batch/v1/CronJob': 'kubernetes/cronjob-batch-v1.json',
  'policy/v1/PodDisruptionBudget': 'kubernetes/poddisruptionbudget-policy-v1.json',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes/horizontalpodautoscaler-autoscaling-v2.json',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes/networkpolicy-networking-v1.json',
  'rbac.authorization.k8s.io/v1/Role': 'kubernetes/role-rbac-v1.json',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'kubernetes/rolebinding-rbac-v1.json',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'kubernetes/clusterrole-rbac-v1.json',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'kubernetes/clusterrolebinding-rbac-v1.json',
  'scheduling.k8s.io/v1/PriorityClass': 'kubernetes/priorityclass-scheduling-v1.json',
  'cloud.google.com/v1/ComputeClass': 'crds/cloud.google.com/computeclass_v1.json',
  'cloud.google.com/v1/BackendConfig': 'crds/cloud.google.com/backendconfig_v1.json',
  'networking.gke.io/v1beta1/FrontendConfig': 'crds/networking.gke.io/frontendconfig_v1beta1.json',
  'networking.gke.io/v1/MultiClusterIngress': 'crds/networking.gke.io/multiclusteringress_v1.json',
  'networking.gke.io/v1/MultiClusterService': 'crds/networking.gke.io/multiclusterservice_v1.json',
  'configsync.gke.io/v1beta1/RootSync': 'crds/configsync.gke.io/rootsync_v1beta1.json',
  'keda.sh/v1alpha1/ScaledObject': 'crds/keda.sh/scaledobject_v1alpha1.json',
  'keda.sh/v1alpha1/ClusterTriggerAuthentication': 'crds/keda.sh/clustertriggerauthentication_v1alpha1.json',
  'monitoring.googleapis.com/v1/PodMonitoring': 'crds/monitoring.googleapis.com/podmonitoring_v1.json',
};

/** Where the vendored schemas are: $GPU_FLEET_SCHEMAS, next to the bundled app, or in the source tree. */
export function defaultSchemaDir(): string {
  const candidates = [
    process.env.GPU_FLEET_SCHEMAS,
    join(__dirname, 'schemas'),
    resolve(__dirname, '../../../schemas'),
  ];
  const found = candidates.find((c): c is string => !!c && existsSync(join(c, 'kubernetes')));
  if (!found)
    throw new Error(
      `vendored JSON Schemas not found (looked in ${candidates.filter(Boolean).join(', ')}); set GPU_FLEET_SCHEMAS`,
    );
  return found;
}

export interface SchemaProblem {
  message: string;
}

export interface SchemaValidatorOptions {
  /** Folder of the vendored schemas (default: defaultSchemaDir()). */
  dir?: string;
  /**
   * Where compiled validators are kept between runs, or none. Compiling the Deployment, Job and
   * CronJob schemas (each inlines the whole PodSpec, ~0.7 MB) takes over a second; loading the
   * code Ajv generated for them takes a fraction of that (docs/benchmarks.md, cold start). Entries
   * are keyed by the schema's bytes, Ajv's version and its options, so a changed schema or upgrade
   * never reuses stale code.
   */
  cacheDir?: string;
}

/** Ajv's options: part of the cache key, since the generated code depends on them. */
const AJV_OPTIONS = {
  strict: false,
  allErrors: true,
  validateFormats: false,
  logger: false,
  // The standalone schemas inline every definition (the Deployment one is ~0.7 MB); Ajv's code
  // optimiser makes compiling it 2-3× slower for no measurable gain on a few hundred objects
  // (docs/benchmarks.md).
  code: { optimize: false, source: true },
} as const;
const AJV_VERSION = (require('ajv/package.json') as { version: string }).version;

export class SchemaValidator {
  private ajvInstance: AjvClass | undefined;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly loaded: LoadedValidator[] = [];
  private readonly dir: string;
  private readonly cacheDir: string | undefined;

  constructor(options: SchemaValidatorOptions | string = {}) {
    const settings = typeof options === 'string' ? { dir: options } : options;
    this.dir = settings.dir ?? defaultSchemaDir();
    this.cacheDir = settings.cacheDir;
  }

  /** Compile (or load) the validators of these apiVersion/kind keys now, e.g. while kustomize runs. */
  prepare(keys: Iterable<string>): void {
    for (const key of keys) if (SCHEMA_FILES[key]) this.validatorFor(key, SCHEMA_FILES[key]);
  }

  validate(obj: K8sObject): SchemaProblem[] {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const file = SCHEMA_FILES[key];
    if (!file)
      return [{ message: `no vendored schema for ${key}; add one to libs/manifests/schemas and SCHEMA_FILES` }];
    const validate = this.validatorFor(key, file);
    if (validate(obj)) return [];
    return (validate.errors ?? []).map((e) => ({ message: describe(e) }));
  }

  private validatorFor(key: string, file: string): ValidateFunction {
    const known = this.compiled.get(key);
    if (known) return known;
    const text = readFileSync(join(this.dir, file), 'utf8');
    const validate = this.fromCache(text) ?? this.compile(text);
    this.compiled.set(key, validate);
    return validate;
  }

  private cachePath(text: string): string | undefined {
    if (!this.cacheDir) return undefined;
    const hash = createHash('sha256')
      .update(`ajv ${AJV_VERSION} ${JSON.stringify(AJV_OPTIONS)}\n`)
      .update(text)
      .digest('hex')
      .slice(0, 32);
    return join(this.cacheDir, `validator-${hash}.cjs`);
  }

  private fromCache(text: string): ValidateFunction | undefined {
    const path = this.cachePath(text);
    if (!path || !existsSync(path)) return undefined;
    try {
      const loaded = loadValidator(path);
      this.loaded.push(loaded);
      return loaded.fn;
    } catch {
      return undefined; // a damaged entry is recompiled and rewritten
    }
  }

  /**
   * Write V8's code cache for validators loaded without one. Called after validating: the cache then
   * holds the functions validation compiled too, not only the top level.
   */
  persist(): void {
    for (const l of this.loaded.filter((x) => x.stale)) {
      try {
        writeFileAtomic.sync(l.cachePath, l.script.createCachedData());
        l.stale = false;
      } catch {
        // only the next run's speed is lost
      }
    }
  }

  /** Ajv itself loads only when a validator has to be compiled (a cached run never needs it). */
  private get ajv(): AjvClass {
    const Ajv = (require('ajv') as { default: typeof AjvClass }).default;
    return (this.ajvInstance ??= new Ajv({ ...AJV_OPTIONS, code: { ...AJV_OPTIONS.code } }));
  }

  private compile(text: string): ValidateFunction {
    const validate = this.ajv.compile(JSON.parse(text) as object);
    const path = this.cachePath(text);
    if (path) {
      try {
        mkdirSync(this.cacheDir!, { recursive: true });
        // Atomic: a concurrent run never loads a half-written validator.
        const standaloneCode = (
          require('ajv/dist/standalone') as { default: (ajv: AjvClass, v: ValidateFunction) => string }
        ).default;
        writeFileAtomic.sync(path, standaloneCode(this.ajv, validate));
      } catch {
        // A read-only or full disk only costs the next run the compile time.
      }
    }
    return validate;
  }
}

/** A validator module loaded from the cache, and whether V8's code cache for it should be (re)written. */
interface LoadedValidator {
  fn: ValidateFunction;
  script: Script;
  cachePath: string;
  stale: boolean;
}

/**
 * Load Ajv's generated CommonJS module with V8's code cache (`<path>.v8`), bypassing any require
 * hook (a TypeScript loader would otherwise scan megabytes of generated code). The code cache skips
 * most of parsing and compiling; V8 rejects it after an upgrade, and it is rewritten then.
 * https://nodejs.org/api/vm.html#scriptcreatecacheddata
 */
function loadValidator(path: string): LoadedValidator {
  const code = readFileSync(path, 'utf8');
  const cachePath = `${path}.v8`;
  const cachedData = existsSync(cachePath) ? readFileSync(cachePath) : undefined;
  const script = new Script(`(function (exports, require, module) {${code}\n})`, { filename: path, cachedData });
  const mod: { exports: ValidateFunction | { default?: ValidateFunction } } = { exports: {} };
  (script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: typeof mod) => void)(
    mod.exports,
    createRequire(__filename),
    mod,
  );
  const fn = typeof mod.exports === 'function' ? mod.exports : mod.exports.default;
  if (typeof fn !== 'function') throw new Error(`${path} does not export a validator`);
  return { fn, script, cachePath, stale: !cachedData || script.cachedDataRejected === true };
}

function describe(e: ErrorObject): string {
  const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(object)';
  if (e.keyword === 'additionalProperties')
    return `${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'enum')
    return `${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${at}: ${e.message ?? e.keyword}`;
}
