import { EXAMPLE_FLEET_YAML, loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { parse } from 'yaml';
import type { CronJob } from 'kubernetes-types/batch/v1';
import {
  renderTree,
  scoutObserverRbac,
  scoutResources,
  SchemaValidator,
  sweepWorkflow,
  ACTIONS,
  type K8sObject,
} from '../../../index';

const IMAGE = `us-docker.pkg.dev/sd-fleet-test-4821/gpu-fleet/region-scout@sha256:${'c'.repeat(64)}`;
const withScout = (scout: string): FleetSpec =>
  loadFleetSpec(EXAMPLE_FLEET_YAML.replace('clusters:\n', `scout:\n${scout}clusters:\n`)).spec;
const cronJobOf = (spec: FleetSpec) => scoutResources(spec).find((o) => o.kind === 'CronJob') as CronJob;

describe('region-scout CronJob (config cluster)', () => {
  const spec = withScout(`  image: ${IMAGE}\n  schedule: {runner: config-cluster, cron: "*/30 * * * *"}\n`);
  const objects = scoutResources(spec);
  const cron = cronJobOf(spec);
  const pod = cron.spec!.jobTemplate.spec!.template.spec!;
  const container = pod.containers[0]!;

  it('is valid against the Kubernetes v1.32 schemas, every object of it', () => {
    const v = new SchemaValidator();
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'CronJob']);
    for (const resource of objects) expect(v.validate(resource as K8sObject)).toEqual([]);
  });

  it('runs the pinned image on the spec schedule, never overlapping', () => {
    expect(container.image).toBe(IMAGE);
    expect(cron.spec).toMatchObject({
      schedule: '*/30 * * * *',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      suspend: false,
    });
    expect(cron.spec!.jobTemplate.spec!.backoffLimit).toBe(0);
    // Long enough for a probe to wait its full deadline.
    expect(cron.spec!.jobTemplate.spec!.activeDeadlineSeconds).toBeGreaterThan(spec.scout.probeDeadlineSeconds);
  });

  it('sweeps against Google and GitHub with the shared ConfigMap evidence store and no checkout', () => {
    expect(container.args).toEqual([
      '--verbose',
      'sweep',
      '--project',
      'sd-fleet-test-4821',
      '--proposal',
      'github',
      '--repo',
      'gpu-fleet/gpu-fleet',
      '--from-github',
      'main',
      '--evidence',
      'configmap:gpu-fleet-system/region-scout-evidence',
      '--deadline-seconds',
      '1740',
    ]);
    // The sweep's own deadline comes a minute before the Job's (SIGTERM gives 30 s to save the evidence).
    expect(cron.spec!.jobTemplate.spec!.activeDeadlineSeconds).toBe(1740 + 60);
  });

  it('reads the tree from its folder when the spec keeps it in one (configSync.dir)', () => {
    const inDir = loadFleetSpec(
      EXAMPLE_FLEET_YAML.replace('  branch: main\n', '  branch: main\n  dir: ops/fleet\n').replace(
        'clusters:\n',
        `scout:\n  image: ${IMAGE}\nclusters:\n`,
      ),
    ).spec;
    expect(cronJobOf(inDir).spec!.jobTemplate.spec!.template.spec!.containers[0]!.args).toEqual(
      expect.arrayContaining(['--from-github', 'main', '--repo-dir', 'ops/fleet']),
    );
  });

  it('runs as non-root on a read-only root filesystem with requests Autopilot accepts (limits = requests)', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(container.resources!.limits).toEqual(container.resources!.requests);
    // Autopilot minimums: 250m CPU, 512Mi memory; CPU:memory between 1:1 and 1:6.5.
    expect(container.resources!.requests).toEqual({ cpu: '500m', memory: '1Gi', 'ephemeral-storage': '1Gi' });
  });

  it('uses Workload Identity for Google and the spec Secret for GitHub (token or App)', () => {
    const ksa = objects.find((o) => o.kind === 'ServiceAccount')!;
    expect(ksa.metadata!.annotations).toEqual({
      'iam.gke.io/gcp-service-account': 'region-scout@sd-fleet-test-4821.iam.gserviceaccount.com',
    });
    expect(pod.serviceAccountName).toBe('region-scout');
    expect(container.env!.filter((e) => e.valueFrom)).toEqual([
      { name: 'GITHUB_TOKEN', valueFrom: { secretKeyRef: { name: 'region-scout-github', key: 'token' } } },
    ]);
    const app = cronJobOf(withScout(`  image: ${IMAGE}\n  github: {auth: app, secretName: scout-app}\n`));
    expect(
      app
        .spec!.jobTemplate.spec!.template.spec!.containers[0]!.env!.filter((e) => e.valueFrom)
        .map((e) => [e.name, e.valueFrom!.secretKeyRef!.name, e.valueFrom!.secretKeyRef!.key]),
    ).toEqual([
      ['GITHUB_APP_ID', 'scout-app', 'app-id'],
      ['GITHUB_APP_INSTALLATION_ID', 'scout-app', 'installation-id'],
      ['GITHUB_APP_PRIVATE_KEY', 'scout-app', 'private-key'],
    ]);
  });

  it('lets the scout (through Connect Gateway) read and write only its evidence ConfigMap', () => {
    const role = objects.find((o) => o.kind === 'Role') as {
      rules: Array<{ verbs: string[]; resources: string[]; resourceNames?: string[] }>;
    };
    expect(role.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        verbs: ['get', 'update'],
        resourceNames: ['region-scout-evidence'],
      },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
    ]);
    const binding = objects.find((o) => o.kind === 'RoleBinding') as { subjects: unknown[] };
    expect(binding.subjects).toEqual([
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'User',
        name: 'region-scout@sd-fleet-test-4821.iam.gserviceaccount.com',
      },
    ]);
  });

  it('is suspended when GitHub Actions is the runner, and absent without an image', () => {
    expect(cronJobOf(withScout(`  image: ${IMAGE}\n`)).spec!.suspend).toBe(true);
    expect(scoutResources(withScout('  probesPerSweep: 2\n'))).toEqual([]);
    const tree = renderTree(withScout('  probesPerSweep: 2\n'));
    expect([...tree.files.keys()].filter((p) => p.includes('region-scout'))).toEqual([]);
    expect(parse(renderTree(spec).files.get('fleet-config/config-cluster/kustomization.yaml')!).resources).toContain(
      'region-scout.yaml',
    );
  });
});

describe('sweep workflow (GitHub Actions)', () => {
  it('schedules only when GitHub Actions is the runner; always allows a manual run', () => {
    const actions = sweepWorkflow(withScout('  schedule: {cron: "7 * * * *"}\n')) as { on: Record<string, unknown> };
    expect(actions.on.schedule).toEqual([{ cron: '7 * * * *' }]);
    expect(actions.on.workflow_dispatch).toBeDefined();
    const cron = sweepWorkflow(withScout(`  image: ${IMAGE}\n  schedule: {runner: config-cluster}\n`)) as {
      on: Record<string, unknown>;
    };
    expect(cron.on.schedule).toBeUndefined();
    expect(cron.on.workflow_dispatch).toBeDefined();
  });

  it('never overlaps, authenticates with Workload Identity Federation and pins every action by commit', () => {
    const wf = sweepWorkflow(withScout('  probesPerSweep: 2\n')) as {
      concurrency: Record<string, unknown>;
      permissions: Record<string, string>;
      jobs: { sweep: { steps: Array<{ uses?: string; run?: string; with?: Record<string, string> }> } };
    };
    expect(wf.concurrency).toEqual({ group: 'region-scout-sweep', 'cancel-in-progress': false });
    expect(wf.permissions['id-token']).toBe('write');
    const steps = wf.jobs.sweep.steps;
    for (const s of steps.filter((s) => s.uses)) expect(s.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    expect(steps.find((s) => s.uses === ACTIONS.gcpAuth)!.with).toEqual({
      workload_identity_provider: '${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}',
      service_account: '${{ vars.REGION_SCOUT_SERVICE_ACCOUNT }}',
    });
    expect(steps.at(-1)!.run).toContain(
      'sweep --project sd-fleet-test-4821 --proposal github --evidence configmap:gpu-fleet-system/region-scout-evidence',
    );
  });
});

describe('scout observer RBAC (every GPU cluster)', () => {
  it('lets the scout read only pods and events in the app namespace', () => {
    const spec = withScout('  probesPerSweep: 2\n');
    const [role, binding] = scoutObserverRbac(spec);
    expect(role.metadata!.namespace).toBe('sd-webui');
    expect(role.rules!.flatMap((r) => r.verbs)).toEqual(['get', 'list', 'watch', 'get', 'list', 'watch']);
    expect(role.rules!.flatMap((r) => r.resources)).toEqual(['pods', 'events', 'events']);
    expect(binding.subjects).toEqual([
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'User',
        name: 'region-scout@sd-fleet-test-4821.iam.gserviceaccount.com',
      },
    ]);
    expect(parse(renderTree(spec).files.get('fleet-config/base/kustomization.yaml')!).resources).toContain(
      'scout-rbac.yaml',
    );
  });
});

describe('the evidence store both runners share (scout.evidenceStore)', () => {
  it('renders --evidence for the Cloud Storage object when kind is gcs, the ConfigMap otherwise', () => {
    const gcs = withScout(
      `  image: ${IMAGE}\n  schedule: {runner: config-cluster, cron: "*/30 * * * *"}\n  evidenceStore: {kind: gcs, bucket: sd-scout-evidence}\n`,
    );
    const args = cronJobOf(gcs).spec!.jobTemplate.spec!.template.spec!.containers[0]!.args!;
    expect(args[args.indexOf('--evidence') + 1]).toBe('gcs://sd-scout-evidence/region-scout/evidence.json');
    const run = (sweepWorkflow(gcs) as { jobs: { sweep: { steps: Array<{ run?: string }> } } }).jobs.sweep.steps.at(
      -1,
    )!.run!;
    expect(run).toContain('--evidence gcs://sd-scout-evidence/region-scout/evidence.json');
    const cm = withScout(`  image: ${IMAGE}\n  schedule: {runner: config-cluster, cron: "*/30 * * * *"}\n`);
    const cmArgs = cronJobOf(cm).spec!.jobTemplate.spec!.template.spec!.containers[0]!.args!;
    expect(cmArgs[cmArgs.indexOf('--evidence') + 1]).toBe('configmap:gpu-fleet-system/region-scout-evidence');
  });

  it('refuses kind gcs without a bucket, and a bucket with kind configmap', () => {
    const bad = (scout: string) => {
      try {
        withScout(scout);
        return [];
      } catch (e) {
        return (e as { issues: Array<{ path: string; message: string }> }).issues.map((i) => `${i.path}: ${i.message}`);
      }
    };
    expect(bad('  evidenceStore: {kind: gcs}\n')).toEqual([
      'scout.evidenceStore.bucket: is required with kind "gcs": name the bucket infra/ creates for the evidence (for example "sd-fleet-test-4821-scout-evidence"), or use kind "configmap"',
    ]);
    expect(bad('  evidenceStore: {bucket: sd-scout-evidence}\n')).toEqual([
      'scout.evidenceStore.bucket: "sd-scout-evidence" is set but kind is "configmap", which keeps the evidence in scout.evidenceConfigMap; set kind "gcs" or remove bucket',
    ]);
  });
});
