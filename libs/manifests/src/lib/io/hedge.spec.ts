import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, hedgeCluster, hedgeTarget, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import {
  CAPACITY_LABEL,
  clusterInvariants,
  renderTree,
  SERVES_LABEL,
  validateTree,
  writeTree,
  type K8sObject,
} from '../../index';

/** gpu.provisioning hedged, rendered and built with kustomize: Spot slots, one on-demand hedge, KEDA sizing it. */
const catalog = GpuCatalog.bundled();
const hedgedYaml = (stage: string) =>
  EXAMPLE_FLEET_YAML.replace(
    '  count: 1\n',
    `  count: 1\n  provisioning: hedged\n  acceptCutGenerations: true\n  hedge:\n    stage: ${stage}\n`,
  );
const spec = loadFleetSpec(hedgedYaml('hedge')).spec;
let root: string;
let built: Map<string, K8sObject[]>;
const find = (objs: K8sObject[], kind: string, name?: string) =>
  objs.find((o) => o.kind === kind && (!name || o.metadata?.name === name)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'gpu-fleet-hedge-'));
  writeTree(root, renderTree(spec, catalog));
  const report = await validateTree(root, spec, { catalog });
  expect(report.findings).toEqual([]);
  built = report.built;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('hedged render', () => {
  const hedge = () => hedgeCluster(spec, catalog)!.name;

  it('puts the on-demand Deployment and its ScaledObject in the hedge cluster only; every cluster installs KEDA', () => {
    expect(hedge()).toBe('sd-us-central1');
    for (const [scope, objs] of built) {
      if (!scope.startsWith('clusters/')) continue;
      const od = find(objs, 'Deployment', 'sd-webui-on-demand');
      expect({ scope, hedge: !!od }).toEqual({ scope, hedge: scope === `clusters/${hedge()}` });
      expect(find(objs, 'RootSync', 'keda')).toBeDefined();
    }
  });

  it('sizes the hedge to the Spot replicas missing fleet-wide, from 0, released after the cooldown one pod a minute', () => {
    const so = find(built.get(`clusters/${hedge()}`)!, 'ScaledObject', 'sd-webui-on-demand');
    expect(so.spec).toMatchObject({
      scaleTargetRef: { name: 'sd-webui-on-demand' },
      minReplicaCount: 0,
      maxReplicaCount: hedgeTarget(spec),
      cooldownPeriod: 1200,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleDown: { stabilizationWindowSeconds: 1200, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
          },
        },
      },
    });
    expect(so.spec.triggers[0].metadata.query).toBe(
      `clamp_min(${hedgeTarget(spec)} - (sum(max_over_time(gpu_fleet_webui_ready{capacity="spot",namespace="sd-webui"}[1m])) or vector(0)), 0)`,
    );
    expect(find(built.get(`clusters/${hedge()}`)!, 'Deployment', 'sd-webui-on-demand').spec.replicas).toBeUndefined();
  });

  it('labels the pods so the Service takes both and each Deployment keeps its own; the PodMonitoring says which is Spot', () => {
    const objs = built.get(`clusters/${hedge()}`)!;
    const spot = find(objs, 'Deployment', 'sd-webui');
    const od = find(objs, 'Deployment', 'sd-webui-on-demand');
    expect(spot.spec.template.metadata.labels).toMatchObject({ [SERVES_LABEL]: 'sd-webui', [CAPACITY_LABEL]: 'spot' });
    expect(od.spec.template.metadata.labels).toMatchObject({
      [SERVES_LABEL]: 'sd-webui',
      [CAPACITY_LABEL]: 'on-demand',
    });
    expect(spot.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'sd-webui' });
    expect(od.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'sd-webui-on-demand' });
    expect(find(objs, 'Service').spec.selector).toEqual({ [SERVES_LABEL]: 'sd-webui' });
    expect(find(objs, 'PodMonitoring').spec.targetLabels).toEqual({
      fromPod: [{ from: CAPACITY_LABEL, to: 'capacity' }],
    });
    const mcs = find(built.get('fleet-config/config-cluster')!, 'MultiClusterService');
    expect(mcs.spec.template.spec.selector).toEqual({ [SERVES_LABEL]: 'sd-webui' });
  });

  it('Spot-only ComputeClass for the slots, on-demand-only for the hedge', () => {
    const objs = built.get(`clusters/${hedge()}`)!;
    expect(find(objs, 'ComputeClass', 'sd-webui-gpu').spec.priorities.every((p: { spot: boolean }) => p.spot)).toBe(
      true,
    );
    expect(
      find(objs, 'ComputeClass', 'sd-webui-gpu-on-demand').spec.priorities.every((p: { spot: boolean }) => !p.spot),
    ).toBe(true);
  });

  describe('validate refuses a broken hedge', () => {
    const scope = () => `clusters/${hedge()}`;
    const check = (mutate: (objs: K8sObject[]) => void) => {
      const objs = structuredClone(built.get(scope())!);
      mutate(objs);
      return clusterInvariants(
        scope(),
        spec,
        spec.clusters.find((c) => c.name === hedge())!,
        objs,
        catalog,
      ).map((f) => `${f.object ?? ''}: ${f.message}`);
    };
    it('an on-demand rule in a Spot slot', () => {
      expect(
        check((o) =>
          find(o, 'ComputeClass', 'sd-webui-gpu').spec.priorities.push({
            gpu: { type: 'nvidia-l4', count: 1 },
            spot: false,
          }),
        ),
      ).toEqual([
        expect.stringMatching(
          /Deployment.*sd-webui: is a Spot slot of a hedged fleet but its ComputeClass has on-demand rules/,
        ),
      ]);
    });
    it('a Spot rule in the hedge', () => {
      expect(check((o) => (find(o, 'ComputeClass', 'sd-webui-gpu-on-demand').spec.priorities[0].spot = true))).toEqual([
        expect.stringMatching(
          /sd-webui-on-demand: is the hedge's on-demand Deployment but its ComputeClass has Spot rules/,
        ),
      ]);
    });
    it('on-demand pods the Service does not select, and overlapping selectors', () => {
      const found = check((o) => {
        find(o, 'Deployment', 'sd-webui-on-demand').spec.template.metadata.labels = {
          'app.kubernetes.io/name': 'sd-webui',
        };
      });
      expect(found).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/sd-webui-on-demand: its pods do not match Service "sd-webui"'s selector/),
          expect.stringMatching(/sd-webui: its selector also matches the pods of Deployment "sd-webui-on-demand"/),
        ]),
      );
    });
  });

  it('step 1 (gpu.hedge.stage install-keda, the default): KEDA and the labels, each region still falling back to on-demand, no ScaledObject', async () => {
    const step1 = loadFleetSpec(hedgedYaml('install-keda')).spec;
    const dir = mkdtempSync(join(tmpdir(), 'gpu-fleet-hedge1-'));
    try {
      writeTree(dir, renderTree(step1, catalog));
      const report = await validateTree(dir, step1, { catalog });
      expect(report.findings).toEqual([]);
      for (const [scope, objs] of report.built) {
        if (!scope.startsWith('clusters/')) continue;
        expect(objs.some((o) => o.kind === 'ScaledObject')).toBe(false);
        expect(find(objs, 'Deployment', 'sd-webui-on-demand')).toBeUndefined();
        expect(find(objs, 'RootSync', 'keda')).toBeDefined();
        const rules = find(objs, 'ComputeClass', 'sd-webui-gpu').spec.priorities.map((p: { spot: boolean }) => p.spot);
        expect(rules.slice(0, 2)).toEqual([true, false]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
