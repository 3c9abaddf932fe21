import { createHash } from 'node:crypto';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { parse, parseAllDocuments } from 'yaml';
import {
  renderTree,
  clusterGpuOrder,
  computeClass,
  deployment,
  multiClusterIngressLayer,
  probeResources,
  readyGateConfigMap,
  READY_GATE_PY,
  webuiArgs,
} from '../../../index';
import { RENDERER_VERSION } from '../yaml';

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

  it('uses Autopilot-friendly requests equal to limits, on every container', () => {
    for (const x of [...pod.containers, ...pod.initContainers!])
      expect(x.resources!.requests).toEqual(x.resources!.limits);
    expect(c.resources!.requests).toMatchObject({ cpu: '4', memory: '16Gi', 'ephemeral-storage': '4Gi' });
  });

  it('gives model loading minutes, and is ready only through the ready gate (a tiny generation succeeded)', () => {
    const startupBudget = c.startupProbe!.periodSeconds! * c.startupProbe!.failureThreshold!;
    expect(startupBudget).toBeGreaterThanOrEqual(example.app.probes.startupTimeoutSeconds);
    expect(startupBudget).toBeGreaterThanOrEqual(600);
    expect(c.livenessProbe!.periodSeconds! * c.livenessProbe!.failureThreshold!).toBeGreaterThanOrEqual(120);
    // the WebUI's own paths answer while the model loads: no readiness probe on the WebUI container
    expect(c.readinessProbe).toBeUndefined();
    const gate = pod.initContainers!.find((x) => x.name === 'ready-gate')!;
    // a native sidecar: started before the WebUI, stopped after it
    expect(gate.restartPolicy).toBe('Always');
    expect(gate.image).toBe(example.app.image);
    expect(gate.readinessProbe!.httpGet).toEqual({ path: '/ready', port: 'ready' });
    expect(gate.ports).toEqual([{ name: 'ready', containerPort: 7861, protocol: 'TCP' }]);
    expect(gate.command).toEqual(['python3', '/opt/gpu-fleet/ready_gate.py']);
    expect(gate.args).toEqual([
      '--app-port',
      '7860',
      '--port',
      '7861',
      '--path',
      '/ready',
      '--drain-seconds',
      '900',
      '--detach-seconds',
      '15',
    ]);
    expect(pod.volumes!.find((v) => v.name === 'ready-gate')!.configMap).toEqual({ name: 'sd-webui-ready-gate' });
    expect(readyGateConfigMap(example)[0]!.data!['ready_gate.py']).toBe(READY_GATE_PY);
    expect(dep.spec!.template.metadata!.annotations!['gpu-fleet.dev/ready-gate-sha256']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('with readiness mode http-path: the app’s own path, no gate', () => {
    const spec = specFrom((y) =>
      y.replace('  resources:', '  probes:\n    readiness: {mode: http-path, path: /healthz/model}\n  resources:'),
    );
    const d = deployment(spec);
    expect(d.spec!.template.spec!.initContainers).toBeUndefined();
    expect(d.spec!.template.spec!.containers[0]!.readinessProbe!.httpGet).toEqual({
      path: '/healthz/model',
      port: 'http',
    });
    expect(readyGateConfigMap(spec)).toEqual([]);
  });

  it('renders --no-hashing unless the spec wants checkpoint hashes (one read of the checkpoint per cold start, not two)', () => {
    expect(c.args).toEqual([...example.app.args, '--no-hashing']);
    const hashing: FleetSpec = { ...example, app: { ...example.app, checkpointHashing: true } };
    expect(webuiArgs(hashing.app)).toEqual(example.app.args);
    const already: FleetSpec = { ...example, app: { ...example.app, args: [...example.app.args, '--no-hashing'] } };
    expect(webuiArgs(already.app).filter((a) => a === '--no-hashing')).toHaveLength(1);
  });

  it('holds a stopping pod until in-flight generations end: preStop asks the gate, the grace period covers the drain', () => {
    // an exec hook over loopback: the gate refuses /drain from any other address
    expect(c.lifecycle!.preStop!.exec!.command).toEqual([
      expect.any(String),
      '-c',
      expect.stringContaining("urlopen('http://127.0.0.1:7861/drain', timeout="),
    ]);
    expect(c.lifecycle!.preStop!.httpGet).toBeUndefined();
    // 15 s detach + 900 s draining (= backendTimeoutSec) + 15 s for the WebUI to exit
    expect(pod.terminationGracePeriodSeconds).toBe(930);
  });

  it('never rolls out by removing the only ready pod', () => {
    expect(dep.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('mounts the model bucket read-only through GCS FUSE, with the sidecar’s resources explicit', () => {
    expect(dep.spec!.template.metadata!.annotations).toMatchObject({
      'gke-gcsfuse/volumes': 'true',
      'gke-gcsfuse/cpu-request': '2',
      'gke-gcsfuse/cpu-limit': '2',
      'gke-gcsfuse/memory-request': '1Gi',
      'gke-gcsfuse/memory-limit': '1Gi',
      'gke-gcsfuse/ephemeral-storage-request': '5Gi',
      'gke-gcsfuse/ephemeral-storage-limit': '5Gi',
    });
    const vol = pod.volumes!.find((v) => v.name === 'models')!;
    expect(vol.csi).toMatchObject({
      driver: 'gcsfuse.csi.storage.gke.io',
      readOnly: true,
      volumeAttributes: { bucketName: 'sd-fleet-test-4821-models' },
    });
    expect(c.volumeMounts).toEqual([{ name: 'models', mountPath: '/models', readOnly: true }]);
  });

  it('omits the model volume when the spec has no bucket', () => {
    const spec = specFrom((y) => y.replace(/ {2}modelStorage:\n {4}bucket: .*\n/, ''));
    const d = deployment(spec);
    expect(d.spec!.template.spec!.volumes!.map((v) => v.name)).toEqual(['ready-gate']);
    expect(Object.keys(d.spec!.template.metadata!.annotations!)).toEqual(['gpu-fleet.dev/ready-gate-sha256']);
  });
});

describe('ComputeClass', () => {
  it('lists the cluster GPU first, then the other preferences its region offers', () => {
    expect(clusterGpuOrder(example, cluster(example, 'sd-asia-northeast1'), catalog)).toEqual([
      'nvidia-tesla-t4',
      'nvidia-l4',
    ]);
    expect(clusterGpuOrder(example, cluster(example, 'sd-us-central1'), catalog)).toEqual([
      'nvidia-l4',
      'nvidia-tesla-t4',
    ]);
  });

  it('filters out preferences the region does not offer', () => {
    // europe-west6 offers L4 but no T4 in the bundled catalog
    const spec = specFrom((y) =>
      y
        .replace('asia-northeast1]', 'asia-northeast1, europe-west6]')
        .replace('region: europe-west4', 'region: europe-west6'),
    );
    expect(clusterGpuOrder(spec, cluster(spec, 'sd-europe-west4'), catalog)).toEqual(['nvidia-l4']);
  });

  it('expands spot-then-on-demand into two rules per GPU type', () => {
    const spec = specFrom((y) =>
      y.replace('  count: 1', '  count: 1\n  provisioning: spot-then-on-demand\n  acceptCutGenerations: true'),
    );
    const cc = computeClass(spec, cluster(spec, 'sd-us-central1'), catalog);
    expect(cc.spec.priorities).toEqual([
      { gpu: { type: 'nvidia-l4', count: 1 }, spot: true },
      { gpu: { type: 'nvidia-l4', count: 1 }, spot: false },
      { gpu: { type: 'nvidia-tesla-t4', count: 1 }, spot: true },
      { gpu: { type: 'nvidia-tesla-t4', count: 1 }, spot: false },
    ]);
    expect(cc.spec.whenUnsatisfiable).toBe('DoNotScaleUp');
  });

  it('turns on active migration only where a second replica keeps serving while one pod moves, and the drain fits', () => {
    // Migration evicts with at most Autopilot's 600 s scale-down grace: the example's 900 s drain does not fit
    const fits: FleetSpec = { ...example, ingress: { ...example.ingress, connectionDrainingSec: 570 } };
    // one replica: the PDB (minAvailable 1) would forbid the eviction, and the region would go down for a model reload
    expect(computeClass(fits, cluster(fits, 'sd-us-central1'), catalog).spec.activeMigration).toBeUndefined();
    expect(computeClass(fits, cluster(fits, 'sd-europe-west4'), catalog).spec.activeMigration).toEqual({
      optimizeRulePriority: true,
    });
    expect(computeClass(fits, cluster(fits, 'sd-asia-northeast1'), catalog).spec.activeMigration).toBeUndefined();
    // 571 s of draining + 30 s to stop = 601 s > 600 s: a generation could be killed mid-way
    const over: FleetSpec = { ...example, ingress: { ...example.ingress, connectionDrainingSec: 571 } };
    expect(computeClass(over, cluster(over, 'sd-europe-west4'), catalog).spec.activeMigration).toBeUndefined();
    expect(computeClass(example, cluster(example, 'sd-europe-west4'), catalog).spec.activeMigration).toBeUndefined();
    // unless the spec accepts cut generations
    const accepting: FleetSpec = { ...example, gpu: { ...example.gpu, acceptCutGenerations: true } };
    expect(computeClass(accepting, cluster(accepting, 'sd-europe-west4'), catalog).spec.activeMigration).toEqual({
      optimizeRulePriority: true,
    });
  });
});

describe('traffic layer (config cluster)', () => {
  const objects = multiClusterIngressLayer.objects(example);
  const byKind = (k: string) =>
    objects.find((o) => o.kind === k) as {
      metadata: { annotations?: Record<string, string> };
      spec: Record<string, unknown>;
    };

  it('restricts MultiClusterService backends to the active clusters', () => {
    expect(byKind('MultiClusterService').spec.clusters).toEqual([
      { link: 'europe-west4/sd-europe-west4' },
      { link: 'us-central1/sd-us-central1' },
    ]);
  });

  it('configures BackendConfig for fast failover, long generations, sticky sessions and IAP', () => {
    const bc = byKind('BackendConfig').spec as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    // the health check asks the ready gate (its own port and path), as the kubelet does
    expect(bc.healthCheck).toMatchObject({ type: 'HTTP', requestPath: '/ready', port: 7861 });
    expect(bc.healthCheck.checkIntervalSec * bc.healthCheck.unhealthyThreshold).toBeLessThanOrEqual(15);
    expect(bc.timeoutSec).toBe(900);
    // draining covers the longest request
    expect(bc.connectionDraining).toEqual({ drainingTimeoutSec: 900 });
    expect(bc.sessionAffinity).toEqual({ affinityType: 'GENERATED_COOKIE', affinityCookieTtlSec: 3600 });
    expect(bc.iap).toEqual({ enabled: true, oauthclientCredentials: { secretName: 'iap-oauth' } });
    expect(byKind('MultiClusterService').metadata.annotations).toEqual({
      'cloud.google.com/backend-config': '{"ports":{"7860":"sd-webui"}}',
    });
  });

  it('uses the static IP address, pre-shared certs and an HTTPS redirect', () => {
    expect(byKind('MultiClusterIngress').metadata.annotations).toEqual({
      'networking.gke.io/static-ip': '34.149.46.112',
      'networking.gke.io/pre-shared-certs': 'sd-webui-cert',
      'networking.gke.io/frontend-config': 'sd-webui',
    });
    expect(byKind('FrontendConfig').spec).toEqual({
      redirectToHttps: { enabled: true, responseCodeName: 'MOVED_PERMANENTLY_DEFAULT' },
    });
  });

  it('attaches the Google-managed certificate infra/ creates, before the pre-shared ones', () => {
    const spec = specFrom((y) =>
      y.replace(
        '  preSharedCertificates: [sd-webui-cert]\n',
        '  managedCertificate:\n    name: sd-managed\n  preSharedCertificates: [sd-webui-cert]\n',
      ),
    );
    const mci = multiClusterIngressLayer.objects(spec).find((o) => o.kind === 'MultiClusterIngress')!;
    // named after its domains (infra/network.tf computes the same name): a new domain set, a new certificate
    const hash = createHash('sha256').update(spec.ingress.domains.join(',')).digest('hex').slice(0, 8);
    expect(mci.metadata!.annotations!['networking.gke.io/pre-shared-certs']).toBe(`sd-managed-${hash},sd-webui-cert`);
  });

  it('emits no FrontendConfig and no IAP without certificates', () => {
    const spec = specFrom((y) =>
      y
        .replace('  preSharedCertificates: [sd-webui-cert]\n', '')
        .replace(
          '  iap: {members: [group:sd-users@gpu-fleet.dev]}\n',
          '  iap:\n    enabled: false\n    reason: internal demo behind a VPN\n',
        ),
    );
    const objs = multiClusterIngressLayer.objects(spec);
    expect(objs.map((o) => o.kind)).not.toContain('FrontendConfig');
    expect((objs.find((o) => o.kind === 'BackendConfig') as { spec: { iap: unknown } }).spec.iap).toEqual({
      enabled: false,
    });
  });
});

describe('probe sandbox', () => {
  it('caps GPUs, limits RBAC to jobs/pods/events and binds the scout identity', () => {
    const [ns, quota, , role, binding] = probeResources(example);
    expect(ns.metadata!.name).toBe('gpu-fleet-probes');
    expect(quota.spec!.hard!['requests.nvidia.com/gpu']).toBe('1');
    expect(role.rules!.flatMap((r) => r.resources)).toEqual(['jobs', 'pods', 'pods/log', 'events', 'events']);
    expect(role.rules!.flatMap((r) => r.verbs)).not.toContain('*');
    expect(binding.subjects).toEqual([
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'User',
        name: 'region-scout@sd-fleet-test-4821.iam.gserviceaccount.com',
      },
    ]);
  });
});

describe('renderTree', () => {
  const tree = renderTree(example, catalog);

  it('is deterministic: same spec, byte-identical files', () => {
    expect(renderTree(specFrom(), catalog).files).toEqual(tree.files);
  });

  it('starts every generated YAML file with a header saying how to regenerate it', () => {
    for (const [path, content] of tree.files) {
      if (path.endsWith('.yaml'))
        expect(
          content.startsWith(
            `# GENERATED by region-scout (renderer ${RENDERER_VERSION}) from fleet-config/fleet.yaml. Do not edit`,
          ),
        ).toBe(true);
    }
    expect(tree.files.get('fleet-config/fleet.schema.json')).toContain('"$comment": "GENERATED by region-scout');
  });

  it('patches replicas by mode and labels metadata only (no pod restarts on mode changes)', () => {
    const k = (name: string) => parse(tree.files.get(`clusters/${name}/kustomization.yaml`)!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(k('sd-europe-west4').replicas).toEqual([{ name: 'sd-webui', count: 2 }]);
    expect(k('sd-asia-northeast1').replicas).toEqual([{ name: 'sd-webui', count: 0 }]);
    expect(k('sd-asia-northeast1').labels[0]).toEqual({
      pairs: {
        'gpu-fleet.dev/cluster': 'sd-asia-northeast1',
        'gpu-fleet.dev/region': 'asia-northeast1',
        'gpu-fleet.dev/mode': 'standby',
        'gpu-fleet.dev/gpu': 'nvidia-tesla-t4',
      },
      includeSelectors: false,
      includeTemplates: false,
    });
    expect(k('sd-us-central1').components).toEqual(['../../fleet-config/patches']);
  });

  it('uses an accelerator selector patch instead of a ComputeClass when asked', () => {
    const spec = specFrom((y) =>
      y.replace(
        '  count: 1',
        '  count: 1\n  selection: node-selector\n  provisioning: spot\n  acceptCutGenerations: true',
      ),
    );
    const t = renderTree(spec, catalog);
    expect(t.files.has('clusters/sd-us-central1/computeclass.yaml')).toBe(false);
    const patch = parseAllDocuments(t.files.get('clusters/sd-asia-northeast1/gpu-patch.yaml')!)[0]!.toJS();
    expect(patch.spec.template.spec.nodeSelector).toEqual({
      'cloud.google.com/gke-accelerator': 'nvidia-tesla-t4',
      'cloud.google.com/gke-spot': 'true',
    });
  });

  it('matches the snapshot of the rendered example tree', () => {
    expect(
      Object.fromEntries([...tree.files].filter(([p]) => !p.startsWith('docs/') && !p.endsWith('.json'))),
    ).toMatchSnapshot();
  });
});
