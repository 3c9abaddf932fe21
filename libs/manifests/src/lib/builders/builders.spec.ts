import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { parse, parseAllDocuments } from 'yaml';
import { renderTree, clusterGpuOrder, computeClass, deployment, multiClusterIngressLayer, probeResources } from '../../index';

const catalog = GpuCatalog.bundled();
const specFrom = (edit: (y: string) => string = (y) => y): FleetSpec => loadFleetSpec(edit(EXAMPLE_FLEET_YAML)).spec;
const example = specFrom();
const cluster = (spec: FleetSpec, name: string) => spec.clusters.find((c) => c.name === name)!;

describe('Deployment', () => {
  const dep = deployment(example);
  const pod = dep.spec!.template.spec!;
  const c = pod.containers[0]!;

  it('requests the GPU as an extended resource and selects the per-cluster ComputeClass', () => {
    expect(c.resources!.limits!['nvidia.com/gpu']).toBe('1');
    expect(c.resources!.requests!['nvidia.com/gpu']).toBe('1');
    expect(pod.nodeSelector).toEqual({ 'cloud.google.com/compute-class': 'sd-webui-gpu' });
  });

  it('uses Autopilot-friendly requests equal to limits', () => {
    expect(c.resources!.requests).toEqual(c.resources!.limits);
    expect(c.resources!.requests).toMatchObject({ cpu: '4', memory: '16Gi', 'ephemeral-storage': '30Gi' });
  });

  it('gives model loading minutes and only reports ready once the model is loaded', () => {
    const startupBudget = c.startupProbe!.periodSeconds! * c.startupProbe!.failureThreshold!;
    expect(startupBudget).toBeGreaterThanOrEqual(example.app.probes.startupTimeoutSeconds);
    expect(startupBudget).toBeGreaterThanOrEqual(600);
    expect(c.readinessProbe!.httpGet!.path).toBe(example.app.probes.readinessPath);
    expect(c.livenessProbe!.periodSeconds! * c.livenessProbe!.failureThreshold!).toBeGreaterThanOrEqual(120);
  });

  it('lets an in-flight generation finish before the pod stops', () => {
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(example.ingress.backendTimeoutSec);
    expect(c.lifecycle?.preStop?.sleep?.seconds).toBeGreaterThan(0);
  });

  it('never rolls out by removing the only ready pod', () => {
    expect(dep.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('mounts the model bucket read-only through GCS FUSE', () => {
    expect(dep.spec!.template.metadata!.annotations).toEqual({ 'gke-gcsfuse/volumes': 'true' });
    const vol = pod.volumes!.find((v) => v.name === 'models')!;
    expect(vol.csi).toMatchObject({ driver: 'gcsfuse.csi.storage.gke.io', readOnly: true, volumeAttributes: { bucketName: 'sd-fleet-test-4821-models' } });
    expect(c.volumeMounts).toEqual([{ name: 'models', mountPath: '/models', readOnly: true }]);
  });

  it('omits the model volume when the spec has no bucket', () => {
    const spec = specFrom((y) => y.replace(/ {2}modelStorage:\n {4}bucket: .*\n/, ''));
    const d = deployment(spec);
    expect(d.spec!.template.spec!.volumes).toBeUndefined();
    expect(d.spec!.template.metadata!.annotations).toBeUndefined();
  });
});

describe('ComputeClass', () => {
  it('lists the cluster GPU first, then the other preferences its region offers', () => {
    expect(clusterGpuOrder(example, cluster(example, 'sd-asia-northeast1'), catalog)).toEqual(['nvidia-tesla-t4', 'nvidia-l4']);
    expect(clusterGpuOrder(example, cluster(example, 'sd-us-central1'), catalog)).toEqual(['nvidia-l4', 'nvidia-tesla-t4']);
  });

  it('filters out preferences the region does not offer', () => {
    // europe-west6 offers L4 but no T4 in the bundled catalog
    const spec = specFrom((y) => y.replace('asia-northeast1]', 'asia-northeast1, europe-west6]').replace('region: europe-west4', 'region: europe-west6'));
    expect(clusterGpuOrder(spec, cluster(spec, 'sd-europe-west4'), catalog)).toEqual(['nvidia-l4']);
  });

  it('expands spot-then-on-demand into two rules per GPU type', () => {
    const spec = specFrom((y) => y.replace('  count: 1', '  count: 1\n  provisioning: spot-then-on-demand'));
    const cc = computeClass(spec, cluster(spec, 'sd-us-central1'), catalog);
    expect(cc.spec.priorities).toEqual([
      { gpu: { type: 'nvidia-l4', count: 1 }, spot: true },
      { gpu: { type: 'nvidia-l4', count: 1 }, spot: false },
      { gpu: { type: 'nvidia-tesla-t4', count: 1 }, spot: true },
      { gpu: { type: 'nvidia-tesla-t4', count: 1 }, spot: false },
    ]);
    expect(cc.spec.whenUnsatisfiable).toBe('DoNotScaleUp');
  });
});

describe('traffic layer (config cluster)', () => {
  const objects = multiClusterIngressLayer.objects(example);
  const byKind = (k: string) => objects.find((o) => o.kind === k) as { metadata: { annotations?: Record<string, string> }; spec: Record<string, unknown> };

  it('restricts MultiClusterService backends to the active clusters', () => {
    expect(byKind('MultiClusterService').spec.clusters).toEqual([{ link: 'europe-west4/sd-europe-west4' }, { link: 'us-central1/sd-us-central1' }]);
  });

  it('configures BackendConfig for fast failover, long generations, sticky sessions and IAP', () => {
    const bc = byKind('BackendConfig').spec as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(bc.healthCheck.requestPath).toBe(example.app.probes.readinessPath);
    expect(bc.healthCheck.checkIntervalSec * bc.healthCheck.unhealthyThreshold).toBeLessThanOrEqual(15);
    expect(bc.timeoutSec).toBe(900);
    expect(bc.connectionDraining).toEqual({ drainingTimeoutSec: 60 });
    expect(bc.sessionAffinity).toEqual({ affinityType: 'GENERATED_COOKIE', affinityCookieTtlSec: 3600 });
    expect(bc.iap).toEqual({ enabled: true, oauthclientCredentials: { secretName: 'iap-oauth' } });
    expect(byKind('MultiClusterService').metadata.annotations).toEqual({ 'cloud.google.com/backend-config': '{"ports":{"7860":"sd-webui"}}' });
  });

  it('uses the static IP address, pre-shared certs and an HTTPS redirect', () => {
    expect(byKind('MultiClusterIngress').metadata.annotations).toEqual({
      'networking.gke.io/static-ip': '34.149.46.112',
      'networking.gke.io/pre-shared-certs': 'sd-webui-cert',
      'networking.gke.io/frontend-config': 'sd-webui',
    });
    expect(byKind('FrontendConfig').spec).toEqual({ redirectToHttps: { enabled: true, responseCodeName: 'MOVED_PERMANENTLY_DEFAULT' } });
  });

  it('attaches the Google-managed certificate infra/ creates, before the pre-shared ones', () => {
    const spec = specFrom((y) => y.replace('  preSharedCertificates: [sd-webui-cert]\n', '  managedCertificate:\n    name: sd-managed\n  preSharedCertificates: [sd-webui-cert]\n'));
    const mci = multiClusterIngressLayer.objects(spec).find((o) => o.kind === 'MultiClusterIngress')!;
    expect(mci.metadata!.annotations!['networking.gke.io/pre-shared-certs']).toBe('sd-managed,sd-webui-cert');
  });

  it('emits no FrontendConfig and no IAP without certificates', () => {
    const spec = specFrom((y) =>
      y.replace('  preSharedCertificates: [sd-webui-cert]\n', '  iap:\n    enabled: false\n    reason: internal demo behind a VPN\n'),
    );
    const objs = multiClusterIngressLayer.objects(spec);
    expect(objs.map((o) => o.kind)).not.toContain('FrontendConfig');
    expect((objs.find((o) => o.kind === 'BackendConfig') as { spec: { iap: unknown } }).spec.iap).toEqual({ enabled: false });
  });
});

describe('probe sandbox', () => {
  it('caps GPUs, limits RBAC to jobs/pods/events and binds the scout identity', () => {
    const [ns, quota, , role, binding] = probeResources(example);
    expect(ns.metadata!.name).toBe('gpu-fleet-probes');
    expect(quota.spec!.hard!['requests.nvidia.com/gpu']).toBe('1');
    expect(role.rules!.flatMap((r) => r.resources)).toEqual(['jobs', 'pods', 'pods/log', 'events', 'events']);
    expect(role.rules!.flatMap((r) => r.verbs)).not.toContain('*');
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'region-scout@sd-fleet-test-4821.iam.gserviceaccount.com' }]);
  });
});

describe('renderTree', () => {
  const tree = renderTree(example, catalog);

  it('is deterministic: same spec, byte-identical files', () => {
    expect(renderTree(specFrom(), catalog).files).toEqual(tree.files);
  });

  it('starts every generated YAML file with a header saying how to regenerate it', () => {
    for (const [path, content] of tree.files) {
      if (path.endsWith('.yaml')) expect(content.startsWith('# GENERATED by region-scout from fleet-config/fleet.yaml. Do not edit')).toBe(true);
    }
    expect(tree.files.get('fleet-config/fleet.schema.json')).toContain('"$comment": "GENERATED by region-scout');
  });

  it('patches replicas by mode and labels metadata only (no pod restarts on mode changes)', () => {
    const k = (name: string) => parse(tree.files.get(`clusters/${name}/kustomization.yaml`)!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(k('sd-europe-west4').replicas).toEqual([{ name: 'sd-webui', count: 2 }]);
    expect(k('sd-asia-northeast1').replicas).toEqual([{ name: 'sd-webui', count: 0 }]);
    expect(k('sd-asia-northeast1').labels[0]).toEqual({
      pairs: { 'gpu-fleet.dev/cluster': 'sd-asia-northeast1', 'gpu-fleet.dev/region': 'asia-northeast1', 'gpu-fleet.dev/mode': 'standby', 'gpu-fleet.dev/gpu': 'nvidia-tesla-t4' },
      includeSelectors: false,
      includeTemplates: false,
    });
    expect(k('sd-us-central1').components).toEqual(['../../fleet-config/patches']);
  });

  it('uses an accelerator selector patch instead of a ComputeClass when asked', () => {
    const spec = specFrom((y) => y.replace('  count: 1', '  count: 1\n  selection: node-selector\n  provisioning: spot'));
    const t = renderTree(spec, catalog);
    expect(t.files.has('clusters/sd-us-central1/computeclass.yaml')).toBe(false);
    const patch = parseAllDocuments(t.files.get('clusters/sd-asia-northeast1/gpu-patch.yaml')!)[0]!.toJS();
    expect(patch.spec.template.spec.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-tesla-t4', 'cloud.google.com/gke-spot': 'true' });
  });

  it('matches the snapshot of the rendered example tree', () => {
    expect(Object.fromEntries([...tree.files].filter(([p]) => !p.startsWith('docs/') && !p.endsWith('.json')))).toMatchSnapshot();
  });
});
