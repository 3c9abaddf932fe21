import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import {
  fleetJsonSchema,
  fleetSpecMarkdown,
  hedgeActive,
  hedgeCluster,
  kedaNeeded,
  renderedReplicas,
  type ClusterSpec,
  type FleetSpec,
} from '@gpu-fleet/fleet-spec';
import { generatedYaml, SPEC_FILE, REGENERATE, RENDERER_VERSION } from './yaml';
import { CLUSTER_LABEL, GPU_LABEL, MODE_LABEL, REGION_LABEL } from './labels';
import {
  deployment,
  namespace,
  onDemandDeployment,
  podDisruptionBudget,
  readyGateConfigMap,
  service,
  serviceAccount,
} from './builders/workload';
import { probeResources } from './builders/probes';
import { acceleratorSelectorPatch, computeClass } from './builders/compute-class';
import { trafficLayer } from './builders/traffic';
import {
  hedgeScaledObject,
  kedaInstall,
  kedaTriggerAuthentication,
  loadPodMonitoring,
  scaledObject,
  scaledObjectsRendered,
} from './builders/autoscaling';
import { scoutObserverRbac, scoutResources } from './builders/scout';
import { SWEEP_WORKFLOW, sweepWorkflow, withVersionComments } from './builders/workflows';
import { ALERT_POLICIES_DIR, DASHBOARD_FILE, MONITORING_DIR, alertPolicies, dashboard } from './builders/monitoring';

/** Folders render owns entirely: every file in them is generated. */
export const OWNED_DIRS = ['clusters', 'fleet-config/base', 'fleet-config/config-cluster', MONITORING_DIR] as const;
/** Single generated files outside the owned folders. */
export const OWNED_FILES = ['fleet-config/fleet.schema.json', 'docs/reference/fleet-spec.md', SWEEP_WORKFLOW] as const;
/** Hand-written user patches: created once with a starter, never overwritten or deleted. */
export const PATCHES_DIR = 'fleet-config/patches';

export const BASE_DIR = 'fleet-config/base';
export const CONFIG_CLUSTER_DIR = 'fleet-config/config-cluster';
export const clusterDir = (name: string) => `clusters/${name}`;
/** What a sweep reads of the repository (folders end with "/"): the spec, the user patches and everything render owns. */
export const CHECKOUT_PATHS: readonly string[] = [
  SPEC_FILE,
  `${PATCHES_DIR}/`,
  ...OWNED_DIRS.map((d) => `${d}/`),
  ...OWNED_FILES,
];

export interface RenderedTree {
  /** Generated files: repository-relative path → content. */
  files: Map<string, string>;
  /** Files created only when missing (user-owned afterwards). */
  seeds: Map<string, string>;
}

const KUSTOMIZATION = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' };

/** Render the whole GitOps tree from the spec. Pure and deterministic: same spec → same bytes. */
export function renderTree(spec: FleetSpec, catalog: GpuCatalog = GpuCatalog.bundled()): RenderedTree {
  const files = new Map<string, string>();
  const put = (path: string, content: string) => files.set(path, content);
  putBase(spec, put);
  for (const cluster of [...spec.clusters].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const [path, content] of clusterOverlay(spec, cluster, catalog)) put(path, content);
  }
  putConfigCluster(spec, put);
  putMonitoring(spec, put);
  putSingleFiles(spec, put);
  return { files, seeds: patchSeeds() };
}

type Put = (path: string, content: string) => void;

/** fleet-config/base: the workload every cluster overlay builds on. */
function putBase(spec: FleetSpec, put: Put): void {
  const base: Array<[string, unknown[]]> = [
    ['namespace.yaml', [namespace(spec)]],
    ['serviceaccount.yaml', [serviceAccount(spec)]],
    ['deployment.yaml', [deployment(spec)]],
    ...(readyGateConfigMap(spec).length
      ? ([['ready-gate.yaml', readyGateConfigMap(spec)]] as Array<[string, unknown[]]>)
      : []),
    ['service.yaml', [service(spec)]],
    ['poddisruptionbudget.yaml', [podDisruptionBudget(spec)]],
    ['probes.yaml', probeResources(spec)],
    ['scout-rbac.yaml', scoutObserverRbac(spec)],
    ...(kedaNeeded(spec) ? ([['podmonitoring.yaml', [loadPodMonitoring(spec)]]] as Array<[string, unknown[]]>) : []),
  ];
  for (const [file, objects] of base) put(`${BASE_DIR}/${file}`, generatedYaml(objects));
  put(
    `${BASE_DIR}/kustomization.yaml`,
    generatedYaml(
      [{ ...KUSTOMIZATION, resources: base.map(([f]) => f) }],
      'Workload base shared by every cluster overlay in clusters/.',
    ),
  );
}

/** fleet-config/config-cluster: the global entry point (MCS, MCI and its configs) and the scout's CronJob. */
function putConfigCluster(spec: FleetSpec, put: Put): void {
  const traffic = trafficLayer(spec).objects(spec);
  const configFiles: Array<[string, unknown[]]> = traffic.map((o) => [`${o.kind!.toLowerCase()}.yaml`, [o]]);
  const scout = scoutResources(spec);
  if (scout.length) configFiles.push(['region-scout.yaml', scout]);
  for (const [file, objects] of configFiles) put(`${CONFIG_CLUSTER_DIR}/${file}`, generatedYaml(objects));
  put(
    `${CONFIG_CLUSTER_DIR}/kustomization.yaml`,
    generatedYaml(
      [{ ...KUSTOMIZATION, resources: configFiles.map(([f]) => f).sort() }],
      'Config cluster: the global entry point. Config Sync in the config membership applies this folder.',
    ),
  );
}

/** fleet-config/monitoring: the alert policies and the dashboard infra/ creates. */
function putMonitoring(spec: FleetSpec, put: Put): void {
  for (const [id, policy] of alertPolicies(spec))
    put(
      `${ALERT_POLICIES_DIR}/${id}.yaml`,
      generatedYaml(
        [policy],
        'A Cloud Monitoring alert policy (REST AlertPolicy); infra/monitoring.tf creates it (monitoring.alerts).',
      ),
    );
  if (spec.monitoring.dashboard)
    put(
      DASHBOARD_FILE,
      generatedYaml(
        [dashboard(spec)],
        'A Cloud Monitoring dashboard (REST Dashboard); infra/monitoring.tf creates it (monitoring.dashboard).',
      ),
    );
}

/** The JSON Schema for editors, the spec reference and the sweep workflow. */
function putSingleFiles(spec: FleetSpec, put: Put): void {
  const schema = {
    $comment: `GENERATED by region-scout (renderer ${RENDERER_VERSION}) from libs/fleet-spec (zod schema). Do not edit. Regenerate with: ${REGENERATE}`,
    ...fleetJsonSchema(),
  };
  put('fleet-config/fleet.schema.json', JSON.stringify(schema, null, 2) + '\n');
  put('docs/reference/fleet-spec.md', fleetSpecMarkdown());
  put(
    SWEEP_WORKFLOW,
    withVersionComments(
      generatedYaml(
        [sweepWorkflow(spec)],
        'Scheduled region-scout sweep on GitHub Actions (schedule: scout.schedule in the spec).',
      ),
    ),
  );
}

/** Files created only when missing (user-owned afterwards): the patches Component and its README. */
function patchSeeds(): Map<string, string> {
  return new Map<string, string>([
    [
      `${PATCHES_DIR}/kustomization.yaml`,
      [
        '# Hand-written patches applied to every cluster overlay (a Kustomize Component).',
        '# region-scout never overwrites this folder. Add patch files here and list them below, e.g.:',
        '#   patches:',
        '#     - path: more-memory.yaml',
        'apiVersion: kustomize.config.k8s.io/v1alpha1',
        'kind: Component',
        '# kustomize rejects a Component with no fields at all, hence the empty list.',
        'patches: []',
        '',
      ].join('\n'),
    ],
    [
      `${PATCHES_DIR}/README.md`,
      [
        '# fleet-config/patches',
        '',
        'Hand-written Kustomize patches that every cluster overlay includes (as a Kustomize',
        '[Component](https://kubectl.docs.kubernetes.io/guides/config_management/components/)).',
        '`region-scout render` creates this folder once and never overwrites or deletes it.',
        '',
        'Use it for what the spec does not model, for example an extra environment variable from a',
        'Secret or a sidecar. List each patch file in `kustomization.yaml` under `patches:`.',
        '`npm run scout -- validate` builds every overlay with your patches applied.',
        '',
      ].join('\n'),
    ],
  ]);
}

function clusterOverlay(spec: FleetSpec, cluster: ClusterSpec, catalog: GpuCatalog): Array<[string, string]> {
  const dir = clusterDir(cluster.name);
  const out: Array<[string, string]> = [];
  const resources = ['../../fleet-config/base'];
  const patches: Array<{ path: string }> = [];
  if (spec.gpu.selection === 'compute-class') {
    out.push([`${dir}/computeclass.yaml`, generatedYaml([computeClass(spec, cluster, catalog)])]);
    resources.push('computeclass.yaml');
  } else {
    out.push([`${dir}/gpu-patch.yaml`, generatedYaml([acceleratorSelectorPatch(spec, cluster)])]);
    patches.push({ path: 'gpu-patch.yaml' });
  }
  // KEDA in every GPU cluster: the hedge moves with the active clusters, autoscaling runs in each.
  if (kedaNeeded(spec)) {
    out.push([`${dir}/keda.yaml`, generatedYaml(kedaInstall(spec))]);
    resources.push('keda.yaml');
  }
  // Step 2 of the handover: the autoscaler owns an active cluster's replicas.
  const autoscaled = scaledObjectsRendered(spec) && cluster.mode === 'active';
  if (autoscaled) {
    out.push([
      `${dir}/scaledobject.yaml`,
      generatedYaml([kedaTriggerAuthentication(spec), scaledObject(spec, cluster)]),
    ]);
    resources.push('scaledobject.yaml');
  }
  // gpu.provisioning hedged, step 2 (gpu.hedge.stage hedge, KEDA's CRDs exist): the hedge cluster
  // runs the on-demand Deployment and its ScaledObject (docs/hedging.md); every cluster runs Spot only.
  if (hedgeActive(spec) && hedgeCluster(spec, catalog)?.name === cluster.name) {
    out.push([
      `${dir}/hedge.yaml`,
      generatedYaml(
        [
          computeClass(spec, cluster, catalog, 'on-demand'),
          onDemandDeployment(spec),
          ...(autoscaled ? [] : [kedaTriggerAuthentication(spec)]),
          hedgeScaledObject(spec),
        ],
        `The fleet's on-demand hedge (gpu.provisioning hedged): replicas for the Spot ones missing fleet-wide. This cluster holds it: ${spec.gpu.hedge.onDemandCluster === cluster.name ? 'gpu.hedge.onDemandCluster' : 'the active cluster with the cheapest on-demand GPU'}.`,
      ),
    ]);
    resources.push('hedge.yaml');
  }
  const kustomization = {
    ...KUSTOMIZATION,
    resources,
    components: ['../../fleet-config/patches'],
    // Metadata only: a label on the pod template would restart GPU pods whenever the mode changes.
    labels: [
      {
        pairs: {
          [CLUSTER_LABEL]: cluster.name,
          [REGION_LABEL]: cluster.region,
          [MODE_LABEL]: cluster.mode,
          [GPU_LABEL]: cluster.gpu,
        },
        includeSelectors: false,
        includeTemplates: false,
      },
    ],
    ...(autoscaled ? {} : { replicas: [{ name: spec.app.name, count: renderedReplicas(cluster) }] }),
    ...(patches.length ? { patches } : {}),
  };
  out.push([
    `${dir}/kustomization.yaml`,
    generatedYaml(
      [kustomization],
      `Cluster ${cluster.name} (${cluster.region}): mode ${cluster.mode}, GPU ${cluster.gpu}.\nConfig Sync in this cluster applies this folder. Source: ${SPEC_FILE} clusters[name=${cluster.name}].`,
    ),
  ]);
  return out;
}
