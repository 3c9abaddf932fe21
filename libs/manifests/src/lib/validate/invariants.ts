import { CONFIG_SYNC_MANAGED_BY, resourceQuotaItemProblem, type GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { findPlaceholders, MANAGED_BY_LABEL, renderedReplicas, servingClusters, type ClusterSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import type { K8sObject } from './kustomize';
import { GPU_RESOURCE } from '../builders/workload';

export interface Finding {
  /** Folder (clusters/<name>, fleet-config/config-cluster) or spec file the finding is about. */
  scope: string;
  /** Kind/namespace/name of the object, when about one. */
  object?: string;
  message: string;
}

export const objectId = (o: K8sObject) => [o.kind, o.metadata?.namespace, o.metadata?.name].filter(Boolean).join('/');

type Pod = { nodeSelector?: Record<string, string>; containers?: Array<{ resources?: { limits?: Record<string, string>; requests?: Record<string, string> } }> };

/**
 * Invariants of one built cluster overlay: GPU pods select a type its region offers (through the
 * ComputeClass or the accelerator selector) and replicas match the cluster's mode.
 */
export function clusterInvariants(scope: string, spec: FleetSpec, cluster: ClusterSpec, objects: K8sObject[], catalog: GpuCatalog): Finding[] {
  const findings: Finding[] = [];
  const classes = new Map(objects.filter((o) => o.kind === 'ComputeClass').map((o) => [o.metadata?.name, o as K8sObject & { spec?: { priorities?: Array<{ gpu?: { type?: string } }> } }]));
  for (const o of objects.filter((x) => x.kind === 'Deployment')) {
    const dep = o as K8sObject & { spec?: { replicas?: number; template?: { spec?: Pod } } };
    const pod = dep.spec?.template?.spec ?? {};
    const wantsGpu = (pod.containers ?? []).some((c) => c.resources?.limits?.[GPU_RESOURCE] !== undefined);
    if (!wantsGpu) continue;
    const add = (message: string) => findings.push({ scope, object: objectId(o), message });
    const selectedClass = pod.nodeSelector?.['cloud.google.com/compute-class'];
    const accelerator = pod.nodeSelector?.['cloud.google.com/gke-accelerator'];
    let types: string[] = [];
    if (selectedClass) {
      const cc = classes.get(selectedClass);
      if (!cc) add(`selects ComputeClass "${selectedClass}", which this overlay does not define`);
      types = (cc?.spec?.priorities ?? []).map((p) => p.gpu?.type).filter((t): t is string => !!t);
      if (cc && !types.length) add(`ComputeClass "${selectedClass}" has no GPU priority rule; Autopilot rejects GPU pods selecting it`);
    } else if (accelerator) {
      types = [accelerator];
    } else {
      add('requests nvidia.com/gpu without a cloud.google.com/gke-accelerator or compute-class node selector; Autopilot rejects it');
    }
    for (const t of types) {
      if (!catalog.offers(cluster.region, t)) add(`selects GPU "${t}", which ${cluster.region} does not offer (offered: ${catalog.gpusInRegion(cluster.region).join(', ') || 'none'})`);
      else if (catalog.gpu(t)?.autopilotSupported !== true) add(`selects GPU "${t}", which GKE Autopilot does not support`);
    }
    const want = renderedReplicas(cluster);
    if (dep.spec?.replicas !== want) add(`has ${dep.spec?.replicas} replicas but cluster mode "${cluster.mode}" with replicas ${cluster.replicas} means ${want}`);
  }
  if (!objects.some((o) => o.kind === 'Deployment' && o.metadata?.name === spec.app.name)) {
    findings.push({ scope, message: `builds no Deployment "${spec.app.name}"` });
  }
  return findings;
}

/** Invariants of the config cluster: backends ⊆ active clusters, enough of them, static IP and IAP. */
export function configClusterInvariants(scope: string, spec: FleetSpec, objects: K8sObject[]): Finding[] {
  const findings: Finding[] = [];
  const active = new Set(servingClusters(spec).map((c) => `${c.region}/${c.name}`));
  const mcs = objects.find((o) => o.kind === 'MultiClusterService') as (K8sObject & { spec?: { clusters?: Array<{ link: string }> } }) | undefined;
  const mci = objects.find((o) => o.kind === 'MultiClusterIngress');
  const bc = objects.find((o) => o.kind === 'BackendConfig') as (K8sObject & { spec?: { iap?: { enabled?: boolean } } }) | undefined;
  if (!mcs) findings.push({ scope, message: 'builds no MultiClusterService' });
  if (!mci) {
    const pending = !spec.ingress.staticIp.disabled && !spec.ingress.staticIp.address;
    findings.push({
      scope,
      message: pending
        ? `builds no MultiClusterIngress yet: ingress.staticIp.address is not pinned. After \`terraform apply\` (infra/), run \`npm run scout -- pin --static-ip-address "$(terraform -chdir=infra output -raw static_ip_address)"\` (the infra workflow opens that pull request)`
        : 'builds no MultiClusterIngress',
    });
  }
  if (mcs) {
    const links = mcs.spec?.clusters?.map((c) => c.link);
    if (!links) {
      findings.push({ scope, object: objectId(mcs), message: 'has no spec.clusters: traffic would go to every fleet member, including standby and draining clusters' });
    } else {
      for (const l of links) if (!active.has(l)) findings.push({ scope, object: objectId(mcs), message: `routes to "${l}", which is not an active cluster (active: ${[...active].join(', ') || 'none'})` });
      if (new Set(links).size < spec.placement.minServingRegions) {
        findings.push({ scope, object: objectId(mcs), message: `routes to ${new Set(links).size} cluster(s); placement.minServingRegions is ${spec.placement.minServingRegions}` });
      }
    }
  }
  if (mci) {
    const ip = (mci.metadata?.annotations as Record<string, string> | undefined)?.['networking.gke.io/static-ip'];
    if (!ip && !spec.ingress.staticIp.disabled) {
      findings.push({
        scope,
        object: objectId(mci),
        message: `has no static IP: set ingress.staticIp.address (machine-written from the Terraform output for "${spec.ingress.staticIp.name ?? '?'}"), or disable it with a reason`,
      });
    }
  }
  if (bc && bc.spec?.iap?.enabled !== true && spec.ingress.iap.enabled) {
    findings.push({ scope, object: objectId(bc), message: 'has IAP off although the spec enables it' });
  }
  if (bc && bc.spec?.iap?.enabled !== true && !spec.ingress.iap.reason) {
    findings.push({ scope, object: objectId(bc), message: 'has IAP off without ingress.iap.reason' });
  }
  return findings;
}

/**
 * Rules the platform enforces on any object, checked on everything built (user patches included):
 * - a ResourceQuota on an extended resource uses only the requests. prefix (Kubernetes refuses it);
 * - nothing declares or selects app.kubernetes.io/managed-by, which Config Sync overwrites on every
 *   object it applies (ownership would be silently lost, a selector would stop matching).
 */
export function platformFindings(scope: string, objects: K8sObject[]): Finding[] {
  const findings: Finding[] = [];
  for (const o of objects) {
    const add = (message: string) => findings.push({ scope, object: objectId(o), message });
    if (o.kind === 'ResourceQuota') {
      const hard = ((o as { spec?: { hard?: Record<string, unknown> } }).spec?.hard ?? {}) as Record<string, unknown>;
      for (const item of Object.keys(hard).sort()) {
        const problem = resourceQuotaItemProblem(item);
        if (problem) add(`spec.hard.${problem}`);
      }
    }
    for (const path of keyPaths(o, CONFIG_SYNC_MANAGED_BY.label)) {
      add(`${path}: Config Sync sets ${CONFIG_SYNC_MANAGED_BY.label}=${CONFIG_SYNC_MANAGED_BY.value} on every object it applies, so this would be overwritten (or select nothing); use ${MANAGED_BY_LABEL}`);
    }
  }
  return findings;
}

/** Dotted paths of every object key equal to `key`, anywhere in a value. */
function keyPaths(value: unknown, key: string, at = ''): string[] {
  if (!value || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => keyPaths(v, key, `${at}[${i}]`));
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const here = at ? `${at}.${k.includes('.') || k.includes('/') ? `"${k}"` : k}` : k;
    return [...(k === key ? [here] : []), ...keyPaths(v, key, here)];
  });
}

export function placeholderFindings(scope: string, objects: K8sObject[]): Finding[] {
  return objects.flatMap((o) => findPlaceholders(o).map((p) => ({ scope, object: objectId(o), message: `${p.path}: ${JSON.stringify(p.value)} looks like ${p.why}` })));
}
