import {
  EXAMPLE_FLEET_YAML,
  cronIntervalMinutes,
  formatIssue,
  loadFleetSpec,
  parseFleetSpec,
  SpecError,
} from '../index';

/** Apply text replacements to the example and return the formatted issues. */
function problems(edit: (y: string) => string): string[] {
  const r = parseFleetSpec(edit(EXAMPLE_FLEET_YAML), { file: 'fleet.yaml' });
  if (r.ok) throw new Error('expected the edited spec to be invalid');
  return r.issues.map(formatIssue);
}
const replace = (from: string | RegExp, to: string) => (y: string) => {
  const out = y.replace(from, to);
  if (out === y) throw new Error(`fixture edit did not apply: ${String(from)}`);
  return out;
};

describe('parseFleetSpec: the example', () => {
  it('accepts the example and fills documented defaults', () => {
    const { spec } = loadFleetSpec(EXAMPLE_FLEET_YAML);
    expect(spec.app.port).toBe(7860);
    expect(spec.app.args).toContain('--api');
    expect(spec.gpu.provisioning).toBe('on-demand');
    expect(spec.gpu.selection).toBe('compute-class');
    expect(spec.ingress.iap).toEqual({
      enabled: true,
      oauthSecretName: 'iap-oauth',
      members: ['group:sd-users@gpu-fleet.dev'],
    });
    expect(spec.ingress.sessionAffinity).toBe('generated-cookie');
    expect(spec.ingress.healthCheck).toEqual({
      checkIntervalSec: 5,
      timeoutSec: 5,
      healthyThreshold: 1,
      unhealthyThreshold: 2,
    });
    expect(spec.scout.probeNamespace).toBe('gpu-fleet-probes');
    expect(spec.clusters.map((c) => c.mode)).toEqual(['active', 'active', 'standby']);
  });

  it('keeps the YAML document (with comments) for machine edits', () => {
    const { document } = loadFleetSpec(EXAMPLE_FLEET_YAML);
    expect(document.toString()).toContain('# the scout edits this list');
  });
});

describe('parseFleetSpec: bad input gets exact, located messages', () => {
  it.each<[string, (y: string) => string, string[]]>([
    [
      'empty file',
      () => '',
      [
        'fleet.yaml: is empty; start from the example fleet-config/fleet.yaml in the repository (see README "Edit the spec")',
      ],
    ],
    [
      'only comments',
      () => '# nothing here\n',
      [
        'fleet.yaml: is empty; start from the example fleet-config/fleet.yaml in the repository (see README "Edit the spec")',
      ],
    ],
    [
      'a list instead of a mapping',
      () => '- a\n- b\n',
      ['fleet.yaml: must be a mapping (apiVersion, kind, project, …), got a list'],
    ],
    [
      'YAML syntax error',
      replace('  branch: main', '  branch: [main'),
      [
        'fleet.yaml:8:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ],
    ],
    [
      'duplicate YAML key',
      replace('kind: Fleet', 'kind: Fleet\nkind: Fleet'),
      ['fleet.yaml:4:1: YAML syntax error: Map keys must be unique'],
    ],
    ['wrong type', replace('count: 1', 'count: one'), ['gpu.count: expected a number, got string "one" (line 18)']],
    ['missing required field', replace(/^project: .*\n/m, ''), ['project: is required (a string) (line 2)']],
    [
      'unknown key with a suggestion',
      replace('  count: 1', '  count: 1\n  provisoning: spot'),
      [
        'gpu.provisoning: unknown key; did you mean "provisioning"? allowed here: preferences, count, provisioning, hedge, acceptCutGenerations, selection (line 19)',
      ],
    ],
    [
      'bad enum value',
      replace('    mode: standby', '    mode: paused'),
      ['clusters[2].mode: "paused" is not allowed; allowed: active, standby, draining (line 45)'],
    ],
    [
      'wrong apiVersion',
      replace('apiVersion: gpu-fleet.dev/v1alpha1', 'apiVersion: v1'),
      ['apiVersion: must be "gpu-fleet.dev/v1alpha1", got "v1" (line 2)'],
    ],
    [
      'unknown GPU type',
      replace('preferences: [nvidia-l4, nvidia-tesla-t4]', 'preferences: [nvidia-l5, nvidia-tesla-t4]'),
      [
        'gpu.preferences[0]: "nvidia-l5" is not a GKE accelerator type; did you mean "nvidia-l4"? (known: nvidia-a100-80gb, nvidia-b200, nvidia-h100-80gb, nvidia-h100-mega-80gb, nvidia-h200-141gb, nvidia-l4, nvidia-rtx-pro-6000, nvidia-tesla-a100, nvidia-tesla-p100, nvidia-tesla-p4, nvidia-tesla-t4, nvidia-tesla-v100) (line 17)',
        'clusters[0].gpu: "nvidia-l4" is not in gpu.preferences (nvidia-l5, nvidia-tesla-t4); add it there or pick one of them (line 36)',
        'clusters[1].gpu: "nvidia-l4" is not in gpu.preferences (nvidia-l5, nvidia-tesla-t4); add it there or pick one of them (line 41)',
      ],
    ],
    [
      'GPU not supported on Autopilot',
      replace('preferences: [nvidia-l4, nvidia-tesla-t4]', 'preferences: [nvidia-l4, nvidia-tesla-t4, nvidia-b200]'),
      [
        'gpu.preferences[2]: "nvidia-b200" is not verified to work on GKE Autopilot; supported: nvidia-a100-80gb, nvidia-h100-80gb, nvidia-h100-mega-80gb, nvidia-h200-141gb, nvidia-l4, nvidia-tesla-a100, nvidia-tesla-p100, nvidia-tesla-p4, nvidia-tesla-t4, nvidia-tesla-v100 (line 17)',
      ],
    ],
    [
      'GPU not offered in the region',
      (y) =>
        replace(
          'asia-northeast1]',
          'asia-northeast1, australia-southeast1]',
        )(y)
          .replace(/region: asia-northeast1/, 'region: australia-southeast1')
          .replace('mode: standby\n    gpu: nvidia-tesla-t4', 'mode: standby\n    gpu: nvidia-l4'),
      ['clusters[2].gpu: "nvidia-l4" is not offered in australia-southeast1; offered there: nvidia-tesla-t4 (line 46)'],
    ],
    [
      'duplicate cluster names',
      replace('name: sd-europe-west4', 'name: sd-us-central1'),
      ['clusters[1].name: "sd-us-central1" is already used by clusters[0]; cluster names must be unique (line 38)'],
    ],
    [
      'cluster name not DNS-1123',
      replace('name: sd-europe-west4', 'name: SD_Europe'),
      [
        'clusters[1].name: "SD_Europe" must be a DNS-1123 label: lowercase letters, digits and "-", starting with a letter and not ending with "-" (a GKE cluster name) (line 38)',
      ],
    ],
    [
      'min > max',
      replace('minServingRegions: 2', 'minServingRegions: 4'),
      [
        'placement.minServingRegions: 4 is greater than placement.maxServingRegions (3); lower it or raise the maximum (line 28)',
        'clusters: 2 active region(s) (us-central1, europe-west4) but placement.minServingRegions is 4; set more clusters to mode "active" (line 33)',
      ],
    ],
    [
      'max > candidates',
      replace('maxServingRegions: 3', 'maxServingRegions: 5'),
      [
        'placement.maxServingRegions: 5 exceeds the number of candidate regions (3); add candidates or lower it (line 29)',
      ],
    ],
    [
      'fewer active than the minimum',
      replace(
        '    mode: active\n    gpu: nvidia-l4\n    replicas: 2',
        '    mode: standby\n    gpu: nvidia-l4\n    replicas: 2',
      ),
      [
        'clusters: 1 active region(s) (us-central1) but placement.minServingRegions is 2; set more clusters to mode "active" (line 33)',
      ],
    ],
    [
      'cluster outside the candidates',
      replace(
        'candidateRegions: [us-central1, europe-west4, asia-northeast1]',
        'candidateRegions: [us-central1, europe-west4, us-east4]',
      ),
      [
        'clusters[2].region: "asia-northeast1" is not in placement.candidateRegions (us-central1, europe-west4, us-east4); add it there first (line 44)',
      ],
    ],
    [
      'misspelt region',
      replace('region: europe-west4', 'region: europe-wset4'),
      ['clusters[1].region: "europe-wset4" is not a Google Cloud region; did you mean "europe-west4"? (line 39)'],
    ],
    [
      'placeholder project',
      replace('project: sd-fleet-test-4821', 'project: my-project'),
      ['project: "my-project" looks like the documentation example project id; set the real value (line 4)'],
    ],
    [
      'IAP without HTTPS',
      replace('  preSharedCertificates: [sd-webui-cert]\n', ''),
      [
        'ingress.iap: IAP needs HTTPS; add ingress.managedCertificate or ingress.preSharedCertificates, or set iap.enabled: false with a reason (line 24)',
      ],
    ],
    [
      'managed certificate without domains',
      replace(
        '  domains: [sd.gpu-fleet.dev]\n  preSharedCertificates: [sd-webui-cert]\n',
        '  managedCertificate:\n    name: sd-cert\n',
      ),
      [
        'ingress.managedCertificate: a Google-managed certificate needs ingress.domains (the names it certifies); add them, or remove managedCertificate (line 24)',
      ],
    ],
    [
      'CronJob runner without an image',
      replace('clusters:\n', 'scout:\n  schedule: {runner: config-cluster}\nclusters:\n'),
      [
        'scout.image: is required when scout.schedule.runner is "config-cluster" (the CronJob runs it); build the image and run `region-scout pin --scout-image <ref@sha256:…>`, or use runner "github-actions" (line 32)',
      ],
    ],
    [
      'scout image by tag',
      replace('clusters:\n', 'scout:\n  image: ghcr.io/acme/region-scout:v1\nclusters:\n'),
      [
        'scout.image: "ghcr.io/acme/region-scout:v1" must be an image pinned by digest, such as "us-docker.pkg.dev/p/gpu-fleet/region-scout@sha256:<64 hex>" (line 32)',
      ],
    ],
    [
      'IAP that lets nobody in',
      replace('  iap: {members: [group:sd-users@gpu-fleet.dev]}', '  iap: {members: []}'),
      [
        'ingress.iap.members: is empty, so IAP would let nobody in (it admits only principals holding roles/iap.httpsResourceAccessor); list who may use the app, e.g. ["group:sd-users@example.com", "domain:example.com"] (line 25)',
      ],
    ],
    [
      'an IAP member that is not a principal',
      replace('group:sd-users@gpu-fleet.dev', 'sd-users@gpu-fleet.dev'),
      [
        'ingress.iap.members[0]: "sd-users@gpu-fleet.dev" must be an IAM principal: "user:alice@example.com", "group:team@example.com", "serviceAccount:x@p.iam.gserviceaccount.com" or "domain:example.com" (line 25)',
      ],
    ],
    [
      'GitHub repository without its numeric ids',
      replace('infra: {githubActions: {repositoryId: "893412765", repositoryOwnerId: "182736451"}}\n', ''),
      [
        "infra.githubActions.repositoryId: is required for a repository on GitHub: the workflows' Workload Identity Federation trusts it by numeric id; set it to the output of `gh api repos/<owner>/<repo> --jq .id` (line 2)",
        'infra.githubActions.repositoryOwnerId: is required for a repository on GitHub: set it to the output of `gh api repos/<owner>/<repo> --jq .owner.id` (line 2)',
      ],
    ],
    [
      'WebUI image in a repository of the project the nodes cannot pull from',
      replace(
        '/sd-fleet-test-4821/gpu-fleet/stable-diffusion-webui@',
        '/sd-fleet-test-4821/webui/stable-diffusion-webui@',
      ),
      [
        'app.image: "us-docker.pkg.dev/sd-fleet-test-4821/webui/stable-diffusion-webui@sha256:0f4... is in Artifact Registry repository "us/webui" of this project, but infra/ creates and lets the nodes pull from "us/gpu-fleet" only; push the image to us-docker.pkg.dev/sd-fleet-test-4821/gpu-fleet/stable-diffusion-webui@sha256:0f4b5f9ce0f8b6e3c2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9, or set infra.artifactRegistry to the repository it is in (line 10)',
      ],
    ],
    [
      'probe image by tag',
      replace('clusters:\n', 'scout:\n  probeImage: nvidia/cuda:12.4.1-base-ubuntu22.04\nclusters:\n'),
      [
        expect.stringMatching(
          /^scout\.probeImage: "nvidia\/cuda:12\.4\.1-base-ubuntu22\.04" must be an image pinned by digest in a registry the fleet controls/,
        ),
      ],
    ],
    [
      'probe image in another Artifact Registry repository of the project',
      replace(
        'clusters:\n',
        `scout:\n  probeImage: us-docker.pkg.dev/sd-fleet-test-4821/mirror/gpu-probe@sha256:${'a'.repeat(64)}\nclusters:\n`,
      ),
      [
        expect.stringMatching(
          /^scout\.probeImage: "us-docker\.pkg\.dev\/sd-fleet-test-4821\/mirror\/gpu-probe@sha256:a+\.\.\. is in Artifact Registry repository "us\/mirror" of this project, but infra\/ creates and lets the nodes pull from "us\/gpu-fleet" only/,
        ),
      ],
    ],
    [
      'probe namespace too small for one probe',
      replace('clusters:\n', 'scout:\n  probeMaxGpus: 0\nclusters:\n'),
      [
        "scout.probeMaxGpus: 0 cannot hold one probe of gpu.count 1 GPU(s): the probe namespace's ResourceQuota would refuse every probe pod; raise it to at least 1, or set scout.probesPerSweep to 0 (line 32)",
      ],
    ],
    [
      'alerts on an irregular schedule',
      replace('clusters:\n', 'scout:\n  schedule: {cron: "5 4 * * 1"}\nclusters:\n'),
      [
        'scout.schedule.cron: "5 4 * * 1" is not a fixed interval, which the alerts are measured in: use "*/N * * * *" (every N minutes), "M * * * *" (hourly) or "M */N * * *" (every N hours), or set monitoring.alerts to false (line 32)',
      ],
    ],
    [
      'a notification channel listed twice',
      replace(
        'clusters:\n',
        'monitoring:\n  notificationChannels: [{email: oncall@gpu-fleet.dev}, {email: OnCall@gpu-fleet.dev}]\nclusters:\n',
      ),
      ['monitoring.notificationChannels[1]: "oncall@gpu-fleet.dev" is listed twice; remove the repeat (line 32)'],
    ],
    [
      'a notification channel that is not a resource name',
      replace('clusters:\n', 'monitoring:\n  notificationChannels: [{id: pagerduty-main}]\nclusters:\n'),
      [expect.stringMatching(/^monitoring\.notificationChannels\[0\]/)],
    ],
    [
      'config cluster named like a GPU cluster',
      replace('clusters:\n', 'configCluster: {name: sd-us-central1}\nclusters:\n'),
      [
        'configCluster.name: "sd-us-central1" is also the name of clusters[0]; the config cluster needs its own name (membership names are unique in a fleet) (line 31)',
      ],
    ],
    [
      'unpinned image',
      replace(/image: .*/, 'image: ghcr.io/acme/webui:latest'),
      [
        'app.image: "ghcr.io/acme/webui:latest" is not pinned; use a version tag (":v1.10.1") or better a digest ("@sha256:…") (line 10)',
      ],
    ],
    [
      'requests Autopilot cannot place (the Pod total, sidecars included)',
      replace('cpu: "4"', 'cpu: "29"'),
      [
        'app.resources.cpu: the Pod requests 31.1 vCPU (webui 29 + ready gate 0.1 + Cloud Storage FUSE sidecar 2), more than Autopilot accepts with 1 × nvidia-l4 (at most 31 vCPU, derived: g2-standard-32 (32 vCPU, 128 GB)); lower app.resources.cpu (line 12)',
      ],
    ],
    [
      'ephemeral storage over Autopilot’s Pod maximum',
      replace('cpu: "4"', 'cpu: "4"\n    ephemeralStorage: 30Gi'),
      [
        'app.resources.ephemeralStorage: the Pod requests 35.06 GiB of ephemeral storage (webui 30 GiB + ready gate 0.06 GiB + Cloud Storage FUSE sidecar 5 GiB), more than the 10 GiB Autopilot allows for all containers of a Pod; lower app.resources.ephemeralStorage or app.modelStorage.sidecar.ephemeralStorage (line 13)',
      ],
    ],
    [
      'readiness on a WebUI path that answers before the model loads',
      replace('  resources:', '  probes:\n    readiness: {mode: http-path, path: /sdapi/v1/sd-models}\n  resources:'),
      [
        'app.probes.readiness.path: "/sdapi/v1/sd-models" answers while the model is still loading (the WebUI loads it in a background thread after its API is up: modules/initialize.py), so new pods would take traffic they cannot serve; use mode "generation" (the ready gate), or a path your image serves only once it can generate (line 12)',
      ],
    ],
    [
      'an IAP member outside the organisation’s allowed domains',
      replace(
        '  iap: {members: [group:sd-users@gpu-fleet.dev]}',
        '  iap: {members: [group:sd-users@gpu-fleet.dev, "user:someone@gmail.com"], organizationDomains: [gpu-fleet.dev]}',
      ),
      [
        'ingress.iap.members[1]: "user:someone@gmail.com" is outside ingress.iap.organizationDomains (gpu-fleet.dev): domain-restricted sharing would refuse the grant and fail the apply; use a member of your organisation, or have an organisation policy administrator add gmail.com\'s customer ID to the project\'s exception and list gmail.com in organizationDomains (line 25)',
      ],
    ],
    [
      'API password the ready gate cannot send',
      replace('  resources:', '  args: [--listen, --api, --port=7860, "--api-auth=admin:s3cret"]\n  resources:'),
      [
        'app.args: "--api-auth=…" puts a password on every WebUI API route, including the txt2img and progress calls the ready gate makes without credentials, so no pod would ever become Ready; remove it and protect the URL with Identity-Aware Proxy (ingress.iap), or set app.probes.readiness.mode "http-path" with a path your image serves once it can generate (line 11)',
      ],
    ],
    [
      'a FUSE sidecar bigger than Autopilot grants it on a GPU node',
      replace(
        '    bucket: sd-fleet-test-4821-models',
        '    bucket: sd-fleet-test-4821-models\n    sidecar: {cpu: "4", memory: 16Gi}',
      ),
      [
        'app.modelStorage.sidecar.cpu: "4" is more than the 2 vCPU the Cloud Storage FUSE sidecar can have on an Autopilot GPU node (gcs-fuse-csi-driver troubleshooting guide, known issue); use "2" or less (line 16)',
        'app.modelStorage.sidecar.memory: "16Gi" is more than the 14 GiB the Cloud Storage FUSE sidecar can have on an Autopilot GPU node (gcs-fuse-csi-driver troubleshooting guide, known issue); use "14Gi" or less (line 16)',
      ],
    ],
    [
      'checkpoint hashing on and off at once',
      replace(
        '  resources:',
        '  args: [--listen, --api, --port=7860, --no-hashing]\n  checkpointHashing: true\n  resources:',
      ),
      [
        'app.checkpointHashing: true while app.args has "--no-hashing", which turns hashing off; remove one of the two (line 12)',
      ],
    ],
    [
      'ready gate on the app’s own port',
      replace('  resources:', '  probes:\n    readiness: {port: 7860}\n  resources:'),
      [
        'app.probes.readiness.port: 7860 is also app.port; the ready gate needs a port of its own, such as 7861 (line 12)',
      ],
    ],
    [
      'draining shorter than the longest request',
      replace(
        '  preSharedCertificates: [sd-webui-cert]',
        '  preSharedCertificates: [sd-webui-cert]\n  connectionDrainingSec: 60',
      ),
      [
        'ingress.connectionDrainingSec: 60 s is shorter than ingress.backendTimeoutSec (900 s): every rollout, drain or scale-down would cut generations after 60 s; raise it to 900 or remove it (it defaults to backendTimeoutSec) (line 25)',
      ],
    ],
    [
      'a request longer than the load balancer can drain',
      replace(
        '  preSharedCertificates: [sd-webui-cert]',
        '  preSharedCertificates: [sd-webui-cert]\n  backendTimeoutSec: 7200',
      ),
      [
        "ingress.backendTimeoutSec: 7200 s cannot be drained: the load balancer keeps a removed backend's connections for at most 3600 s (drainingTimeoutSec), so longer generations would be cut on every rollout or drain; lower it to 3600 or less (line 25)",
      ],
    ],
    [
      'a grace period shorter than a pod’s stop',
      replace('  resources:', '  terminationGracePeriodSeconds: 60\n  resources:'),
      [
        "app.terminationGracePeriodSeconds: 60 s does not cover a pod's stop: 15 s for its endpoint to leave the load balancer + up to 900 s for generations in flight (the draining time) + 15 s for the WebUI to exit = 930 s; raise it to 930 or remove it (line 11)",
      ],
    ],
    [
      'Spot with generations longer than a preempted pod gets',
      replace('  count: 1', '  count: 1\n  provisioning: spot'),
      [
        'gpu.provisioning: "spot" runs pods on Spot VMs, and GKE gives a preempted Spot Pod at most 25 s to stop, while a generation may run 900 s (ingress.backendTimeoutSec): a preemption cuts it; use "on-demand", or set gpu.acceptCutGenerations: true to accept that (line 19)',
      ],
    ],
  ])('%s', (_name, edit, expected) => {
    expect(problems(edit)).toEqual(expected);
  });

  it('counts serving regions, not clusters: two active clusters in one region are one region', () => {
    const twoInOneRegion = (y: string) =>
      y.replace('name: sd-europe-west4\n    region: europe-west4', 'name: sd-us-central1-b\n    region: us-central1');
    expect(problems(twoInOneRegion)).toEqual([
      'clusters: 1 active region(s) (us-central1) but placement.minServingRegions is 2; set more clusters to mode "active" (line 33)',
    ]);
  });

  it('collects every problem of a badly broken spec at once', () => {
    const broken = problems((y) =>
      y
        .replace('count: 1', 'count: "x"')
        .replace('mode: standby', 'mode: paused')
        .replace('region: europe-west4', 'region: nowhere1')
        .replace('project: sd-fleet-test-4821', 'project: my-project'),
    );
    expect(broken).toHaveLength(4);
    // reported in file order
    expect(broken.map((l) => l.split(':')[0])).toEqual([
      'project',
      'gpu.count',
      'clusters[1].region',
      'clusters[2].mode',
    ]);
  });

  it('throws a SpecError listing every issue from loadFleetSpec', () => {
    expect(() => loadFleetSpec('', { file: 'x/fleet.yaml' })).toThrow(SpecError);
    expect(() => loadFleetSpec('', { file: 'x/fleet.yaml' })).toThrow(
      /x\/fleet\.yaml: 1 problem:\n {2}x\/fleet\.yaml: is empty/,
    );
  });
});

describe('cronIntervalMinutes: the sweep interval the alerts are measured in', () => {
  it.each([
    ['*/20 * * * *', 20],
    ['0 * * * *', 60],
    ['7  * * * *', 60],
    ['15 */6 * * *', 360],
    ['5 4 * * 1', null],
    ['0,30 * * * *', null],
  ])('%s → %s', (cron, minutes) => {
    expect(cronIntervalMinutes(cron)).toBe(minutes);
  });

  it('lets an irregular schedule through when alerts are off', () => {
    const r = parseFleetSpec(
      EXAMPLE_FLEET_YAML.replace(
        'clusters:\n',
        'scout:\n  schedule: {cron: "5 4 * * 1"}\nmonitoring: {alerts: false}\nclusters:\n',
      ),
    );
    expect(r.ok).toBe(true);
  });
});
