import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { renderTree, validateTree, writeTree, type K8sObject } from '../../index';

/**
 * Autoscaling rendered for real: both handover steps are built with kubectl's kustomize, every
 * object checked against its vendored schema (KEDA's, Config Sync's RootSync, PodMonitoring) and
 * the fleet invariants.
 */
jest.setTimeout(60_000);
const catalog = GpuCatalog.bundled();
const specWith = (section: string): FleetSpec =>
  loadFleetSpec(EXAMPLE_FLEET_YAML.replace('clusters:\n', `autoscaling:\n${section}clusters:\n`)).spec;

async function build(spec: FleetSpec) {
  const root = mkdtempSync(join(tmpdir(), 'gpu-fleet-autoscaling-'));
  try {
    const tree = renderTree(spec, catalog);
    writeTree(root, tree);
    const report = await validateTree(root, spec, { catalog });
    return { tree, findings: report.findings, built: report.built };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const kinds = (objs: K8sObject[]) => objs.map((o) => `${o.kind}/${o.metadata?.name}`);
const one = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind) as Any[];
const first = (objs: K8sObject[], kind: string): Any => {
  const found = one(objs, kind)[0];
  if (!found) throw new Error(`no ${kind} among ${kinds(objs).join(', ')}`);
  return found;
};

describe('autoscaling, rendered and validated', () => {
  it('off (the default): no KEDA, no ScaledObject, replicas declared', async () => {
    const { tree } = await build(specWith('  enabled: false\n'));
    const paths = [...tree.files.keys()];
    expect(paths.filter((p) => /keda|scaledobject|podmonitoring/.test(p))).toEqual([]);
  });

  it('step 1 (replicasOwner config-sync): KEDA installed from its chart in every GPU cluster, replicas still declared', async () => {
    const spec = specWith('  enabled: true\n');
    const { findings, built } = await build(spec);
    expect(findings).toEqual([]);
    for (const c of spec.clusters) {
      const objs = built.get(`clusters/${c.name}`)!;
      expect(kinds(objs)).toEqual(
        expect.arrayContaining(['Namespace/keda', 'RootSync/keda', 'PodMonitoring/sd-webui-load']),
      );
      expect(one(objs, 'ScaledObject')).toEqual([]);
      const rootSync = first(objs, 'RootSync');
      expect(rootSync.metadata.namespace).toBe('config-management-system');
      expect(rootSync.spec).toEqual({
        sourceFormat: 'unstructured',
        sourceType: 'helm',
        helm: {
          repo: 'https://kedacore.github.io/charts',
          chart: 'keda',
          version: '2.20.2',
          releaseName: 'keda',
          namespace: 'keda',
          auth: 'none',
          values: {
            podIdentity: {
              gcp: { enabled: true, gcpIAMServiceAccount: `keda-operator@${spec.project}.iam.gserviceaccount.com` },
            },
          },
        },
      });
      const dep = first(objs, 'Deployment');
      expect(dep.spec.replicas).toBe(c.mode === 'standby' ? 0 : c.replicas);
    }
  });

  it('step 2 (replicasOwner autoscaler): active clusters get a ScaledObject and no replicas; warm from its replicas, cold from 0 and woken by users nearby, the warm regions being full or down', async () => {
    const spec = specWith('  enabled: true\n  replicasOwner: autoscaler\n  idleMinutesBeforeZero: 20\n');
    const { findings, built } = await build(spec);
    expect(findings).toEqual([]);
    const us = built.get('clusters/sd-us-central1')!;
    const eu = built.get('clusters/sd-europe-west4')!;
    const asia = built.get('clusters/sd-asia-northeast1')!;
    for (const objs of [us, eu]) {
      expect(first(objs, 'Deployment').spec.replicas).toBeUndefined();
      expect(first(objs, 'ClusterTriggerAuthentication').spec).toEqual({ podIdentity: { provider: 'gcp' } });
    }
    // standby: no ScaledObject, replicas 0 declared (the overlay's replicas transformer adds the field)
    expect(one(asia, 'ScaledObject')).toEqual([]);
    expect(first(asia, 'Deployment').spec.replicas).toBe(0);

    const warm = first(us, 'ScaledObject');
    const cold = first(eu, 'ScaledObject');
    expect(warm.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'sd-webui' },
      minReplicaCount: 1,
      maxReplicaCount: 2,
      cooldownPeriod: 1200,
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 1200 } } } },
    });
    expect(warm.spec.triggers.map((t: Any) => t.name)).toEqual(['load']);
    expect(warm.spec.triggers[0].metadata).toEqual({
      serverAddress: `https://monitoring.googleapis.com/v1/projects/${spec.project}/location/global/prometheus`,
      query: 'sum(avg_over_time(gpu_fleet_webui_generations{cluster="sd-us-central1",namespace="sd-webui"}[10m]))',
      threshold: '1',
    });
    expect(cold.spec.minReplicaCount).toBe(0);
    expect(cold.spec.triggers.map((t: Any) => t.name)).toEqual(['load', 'users-nearby', 'warm-full', 'warm-down']);
    expect(cold.spec.triggers[1].metadata.query).toContain('"proxy_continent"="Europe"');
    expect(cold.spec.triggers[2].metadata).toMatchObject({
      query: 'sum(avg_over_time(gpu_fleet_webui_generations{cluster="sd-us-central1",namespace="sd-webui"}[10m]))',
      // one warm region × 2 replicas × 1 generation each
      activationThreshold: '2',
    });
    expect(cold.spec.triggers[3].metadata).toMatchObject({
      query: '1 - (sum(gpu_fleet_webui_ready{cluster="sd-us-central1",namespace="sd-webui"}) or vector(0))',
      activationThreshold: '0',
    });
  });

  it('a cluster replacing another stays warm until make-before-break is done', async () => {
    const yaml = EXAMPLE_FLEET_YAML.replace(
      'clusters:\n',
      'autoscaling:\n  enabled: true\n  replicasOwner: autoscaler\nclusters:\n',
    ).replace('    replicas: 2\n', '    replicas: 1\n    replaces: sd-us-central1\n');
    const spec = loadFleetSpec(yaml).spec;
    const { findings, built } = await build(spec);
    expect(findings).toEqual([]);
    expect(first(built.get('clusters/sd-europe-west4')!, 'ScaledObject').spec.minReplicaCount).toBe(1);
  });

  it('the invariants catch a Deployment that still declares replicas beside its ScaledObject', async () => {
    const spec = specWith('  enabled: true\n  replicasOwner: autoscaler\n');
    const root = mkdtempSync(join(tmpdir(), 'gpu-fleet-autoscaling-'));
    try {
      const tree = renderTree(spec, catalog);
      const path = 'fleet-config/base/deployment.yaml';
      tree.files.set(path, tree.files.get(path)!.replace(/^spec:\n/m, 'spec:\n  replicas: 1\n'));
      writeTree(root, tree);
      const { findings } = await validateTree(root, spec, { catalog });
      expect(findings.map((f) => `${f.scope} ${f.message}`).sort()).toEqual([
        expect.stringMatching(
          /^clusters\/sd-europe-west4 declares 1 replicas while ScaledObject "sd-webui" scales it: Config Sync would reset .*drop replicas/,
        ),
        expect.stringMatching(/^clusters\/sd-us-central1 declares 1 replicas while ScaledObject "sd-webui" scales it/),
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
