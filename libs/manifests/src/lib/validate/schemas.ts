import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { K8sObject } from './kustomize';

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
};

/** Where the vendored schemas are: $GPU_FLEET_SCHEMAS, next to the bundled app, or in the source tree. */
export function defaultSchemaDir(): string {
  const candidates = [process.env.GPU_FLEET_SCHEMAS, join(__dirname, 'schemas'), resolve(__dirname, '../../../schemas')];
  const found = candidates.find((c): c is string => !!c && existsSync(join(c, 'kubernetes')));
  if (!found) throw new Error(`vendored JSON Schemas not found (looked in ${candidates.filter(Boolean).join(', ')}); set GPU_FLEET_SCHEMAS`);
  return found;
}

export interface SchemaProblem {
  message: string;
}

export class SchemaValidator {
  // The standalone schemas inline every definition (the Deployment one is ~1 MB); Ajv's code
  // optimiser makes compiling it 2-3× slower for no measurable gain on a few hundred objects
  // (docs/benchmarks.md).
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false, code: { optimize: false } });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly dir: string = defaultSchemaDir()) {}

  validate(obj: K8sObject): SchemaProblem[] {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const file = SCHEMA_FILES[key];
    if (!file) return [{ message: `no vendored schema for ${key}; add one to libs/manifests/schemas and SCHEMA_FILES` }];
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as object);
      this.compiled.set(key, validate);
    }
    if (validate(obj)) return [];
    return (validate.errors ?? []).map((e) => ({ message: describe(e) }));
  }
}

function describe(e: ErrorObject): string {
  const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(object)';
  if (e.keyword === 'additionalProperties') return `${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'enum') return `${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${at}: ${e.message ?? e.keyword}`;
}
