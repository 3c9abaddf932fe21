import { classify } from './classify';

/**
 * Real messages, verbatim or with the project id only, and where each was found. Forms covered:
 * raw codes, gcloud output, JSON error bodies, kubectl describe event lines, autoscaler
 * visibility event ids.
 */
type Row = [source: string, message: string, expected: Partial<ReturnType<typeof classify>>];

const rows: Row[] = [
  // --- stockout -----------------------------------------------------------------------------
  [
    'https://github.com/sgkit-dev/sgkit/issues/611 (GCP log, raw code)',
    '"message": "ZONE_RESOURCE_POOL_EXHAUSTED"',
    { kind: 'stockout', scope: null, zone: null },
  ],
  [
    'https://github.com/cirruslabs/cirrus-ci-docs/issues/131 (API error text)',
    "Failed to start: UNKNOWN: ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS The zone 'projects/cirrus-ci-community/zones/us-central1-f' does not have enough resources available to fulfill the request. '(resource type:pd-standard)'.",
    { kind: 'stockout', scope: 'zone', zone: 'us-central1-f', region: 'us-central1', suggestedZones: [] },
  ],
  [
    'https://github.com/cloud-barista/cb-spider/issues/1125 (JSON error body)',
    '{"message":"Operation errors: The zone \'projects/powerkimhub/zones/us-central1-a\' does not have enough resources available to fulfill the request.  \'(resource type:compute)\'."}',
    { kind: 'stockout', scope: 'zone', zone: 'us-central1-a' },
  ],
  [
    'https://github.com/kubernetes/k8s.io/issues/9834 (gcloud output, localizedMessage with the capacity hint)',
    'ERROR: (gcloud.compute.instances.create) Could not fetch resource: code: ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS message: A n1-standard-4 VM instance with 1 nvidia-tesla-t4 accelerator(s) is currently unavailable in the us-central1-b zone. Consider trying your request in the us-central1-a, us-central1-f zone(s), which currently has capacity to accommodate your request.',
    {
      kind: 'stockout',
      scope: 'zone',
      zone: 'us-central1-b',
      region: 'us-central1',
      gpu: 'nvidia-tesla-t4',
      suggestedZones: ['us-central1-a', 'us-central1-f'],
    },
  ],
  [
    'https://github.com/kubernetes/k8s.io/issues/9834 (errorInfo metadata)',
    "attachment: nvidia-tesla-t4:1 vmType: n1-standard-4 zone: us-central1-b zonesAvailable: us-central1-a,us-central1-f reason: resource_availability message: The zone 'projects/k8s-infra-e2e-boskos-gpu-06/zones/us-central1-b' does not have enough resources available to fulfill the request.  'NULL:0/NULL:0/NULL:0 (state:STOCKOUT",
    {
      kind: 'stockout',
      scope: 'zone',
      zone: 'us-central1-b',
      gpu: 'nvidia-tesla-t4',
      suggestedZones: ['us-central1-a', 'us-central1-f'],
    },
  ],
  [
    'GKE cluster autoscaler pod event (kubectl describe pod), form of https://github.com/huggingface/Google-Cloud-Containers/issues/126 with the out-of-resources reason',
    'Warning  FailedScaleUp  2m  cluster-autoscaler  Node scale up in zones europe-west4-a associated with this pod failed: GCE out of resources. Pod is at risk of not being scheduled.',
    { kind: 'stockout', scope: 'zone', zone: 'europe-west4-a', region: 'europe-west4' },
  ],
  [
    'GKE cluster-autoscaler visibility messageId (gcpdiag clusterautoscaler runbook)',
    'scale.up.error.out.of.resources',
    { kind: 'stockout', scope: null },
  ],
  [
    'https://github.com/2i2c-org/infrastructure/issues/2185 (pod event)',
    "2023-02-08T18:24:48Z [Normal] pod didn't trigger scale-up: 1 node(s) didn't match Pod's node affinity/selector, 1 in backoff after failed scale-up",
    { kind: 'stockout' },
  ],
  [
    'GCE stockout code as logged by provisioners',
    'GCE_STOCKOUT in zone asia-northeast1-c for nvidia-l4',
    { kind: 'stockout', scope: 'zone', zone: 'asia-northeast1-c', gpu: 'nvidia-l4' },
  ],
  [
    'Compute REGION_RESOURCE_POOL_EXHAUSTED (regional MIG)',
    "REGION_RESOURCE_POOL_EXHAUSTED: The region 'projects/p/regions/us-east4' does not have enough resources available to fulfill the request.",
    { kind: 'stockout', scope: 'region', region: 'us-east4', zone: null },
  ],
  // --- quota --------------------------------------------------------------------------------
  [
    'https://github.com/huggingface/Google-Cloud-Containers/issues/126 (Autopilot pod event)',
    'Node scale up in zones us-central1-c associated with this pod failed: GCE quota exceeded. Pod is at risk of not being scheduled.',
    { kind: 'quota', scope: 'region', zone: 'us-central1-c', region: 'us-central1', metric: null },
  ],
  [
    'Compute QUOTA_EXCEEDED (gcloud)',
    "ERROR: (gcloud.compute.instances.create) Could not fetch resource: - Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 0.0 in region us-central1.",
    { kind: 'quota', scope: 'region', region: 'us-central1', metric: 'NVIDIA_L4_GPUS', gpu: 'nvidia-l4' },
  ],
  [
    'Compute QUOTA_EXCEEDED project-wide',
    "Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally.",
    { kind: 'quota', scope: 'project', metric: 'GPUS_ALL_REGIONS' },
  ],
  [
    'Spot GPU quota',
    "QUOTA_EXCEEDED: Quota 'PREEMPTIBLE_NVIDIA_T4_GPUS' exceeded. Limit: 1.0 in region europe-west4.",
    {
      kind: 'quota',
      scope: 'region',
      metric: 'PREEMPTIBLE_NVIDIA_T4_GPUS',
      gpu: 'nvidia-tesla-t4',
      region: 'europe-west4',
    },
  ],
  [
    'https://github.com/GoogleCloudPlatform/stable-diffusion-on-gcp/issues/12 (JSON error body, 429)',
    '"error": { "code": 429, "message": "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus", "status": "RESOURCE_EXHAUSTED" }',
    { kind: 'quota', metric: 'aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus' },
  ],
  ['GKE cluster-autoscaler visibility messageId', 'scale.up.error.quota.exceeded', { kind: 'quota' }],
  [
    'Kubernetes ResourceQuota denial as the Job controller reports it (FailedCreate "Error creating: %v", k8s.io/apiserver admission/plugin/resourcequota/controller.go): the namespace’s own cap, not Google’s',
    'Error creating: pods "gpu-probe-s1-t4-od-" is forbidden: exceeded quota: gpu-probes, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=1, limited: requests.nvidia.com/gpu=1',
    { kind: 'quota', scope: 'namespace', region: null, zone: null, metric: 'requests.nvidia.com/gpu' },
  ],
  // --- rejected -----------------------------------------------------------------------------
  [
    'https://pastebin.com/cVrwvR2j (Autopilot admission, 2025-05)',
    "The requested GPU type 'nvidia-h100' is not supported in Autopilot; allowed values are: [nvidia-a100-80gb, nvidia-h100-80gb, nvidia-h100-mega-80gb, nvidia-h200-141gb, nvidia-l4, nvidia-tesla-a100, nvidia-tesla-p100, nvidia-tesla-p4, nvidia-tesla-t4, nvidia-tesla-v100].",
    { kind: 'rejected', scope: 'project' },
  ],
  [
    'https://github.com/substratusai/helm/issues/8 (Autopilot admission)',
    'admission webhook "warden-validating.common-webhooks.networking.gke.io" denied the request: GKE Warden rejected the request because it violates one or more constraints. You must specify a GPU type with node selector \'cloud.google.com/gke-accelerator\' when GPU is requested on Autopilot workloads; supported values are: [nvidia-a100-80gb, nvidia-tesla-a100, nvidia-tesla-t4].',
    { kind: 'rejected', scope: 'project' },
  ],
  [
    'https://github.com/GoogleCloudPlatform/ai-on-gke/pull/983 (Autopilot rule)',
    "When requesting 'nvidia.com/gpu' resources, you must specify either node selector 'cloud.google.com/gke-accelerator' with accelerator type or node selector 'cloud.google.com/compute-class' with existing custom compute class which has at least one GPU priority rule.",
    { kind: 'rejected' },
  ],
  [
    'Compute: accelerator not offered in the zone',
    "The resource 'projects/p/zones/us-west2-a/acceleratorTypes/nvidia-l4' was not found",
    { kind: 'rejected', scope: 'zone', zone: 'us-west2-a', gpu: 'nvidia-l4' },
  ],
  [
    'https://github.com/cortexlabs/cortex/issues/1685 (autoscaler event)',
    "pod didn't trigger scale-up (it wouldn't fit if a new node is added): 6 Insufficient nvidia.com/gpu",
    { kind: 'rejected' },
  ],
  ['GKE cluster-autoscaler visibility messageId', 'no.scale.up.mig.failing.predicate', { kind: 'rejected' }],
  // --- transient ----------------------------------------------------------------------------
  ['HTTP 503 from an API', '503 Service Unavailable: backendError', { kind: 'transient', scope: null }],
  ['HTTP 429 rate limit', 'Rate Limit Exceeded (429): userRateLimitExceeded', { kind: 'transient' }],
  ['gRPC deadline', '4 DEADLINE_EXCEEDED: Deadline exceeded after 30.001s', { kind: 'transient' }],
  ['socket error', 'request to https://compute.googleapis.com failed, reason: socket hang up', { kind: 'transient' }],
  [
    'GKE cluster-autoscaler visibility messageId',
    'scale.up.error.waiting.for.instances.timeout',
    { kind: 'transient' },
  ],
  // --- unknown ------------------------------------------------------------------------------
  [
    'unrelated event',
    'Successfully assigned default/pod to node gke-x',
    { kind: 'unknown', scope: null, suggestedZones: [] },
  ],
];

describe('classify (real messages)', () => {
  it.each(rows)('%s', (_source, message, expected) => {
    expect(classify(message)).toMatchObject(expected);
  });

  it('always returns the full shape', () => {
    expect(classify('')).toEqual({
      kind: 'unknown',
      scope: null,
      zone: null,
      region: null,
      gpu: null,
      suggestedZones: [],
      metric: null,
    });
  });

  it('does not mistake GPU names for regions', () => {
    expect(classify('GCE out of resources for nvidia-tesla-t4').region).toBeNull();
  });
});

describe('classify: structured fields decide before the wording', () => {
  // GKE's FailedScaleUp pod event: "Node scale up in zones %v associated with this pod failed: %v.
  // Pod is at risk of not being scheduled." with a fixed cause text (cluster-autoscaler-visibility).
  const scaleUp = (cause: string) =>
    `Node scale up in zones us-central1-c associated with this pod failed: ${cause}. Pod is at risk of not being scheduled.`;

  it('FailedScaleUp: the cause GKE names', () => {
    expect(classify(scaleUp('GCE out of resources'), { reason: 'FailedScaleUp' })).toMatchObject({
      kind: 'stockout',
      scope: 'zone',
      zone: 'us-central1-c',
    });
    expect(classify(scaleUp('GCE quota exceeded'), { reason: 'FailedScaleUp' })).toMatchObject({
      kind: 'quota',
      region: 'us-central1',
    });
    expect(classify(scaleUp('IP space exhausted'), { reason: 'FailedScaleUp' }).kind).toBe('unknown');
    expect(
      classify(scaleUp('Some nodes in node group "gk3-pool" failed to appear in time'), { reason: 'FailedScaleUp' })
        .kind,
    ).toBe('transient');
    expect(classify(scaleUp('Invalid TPU topology'), { reason: 'FailedScaleUp' }).kind).toBe('rejected');
  });

  it('NotTriggerScaleUp: backoff is a stockout, operator limits are not evidence, anything else cannot fit', () => {
    const ev = (m: string) => classify(`pod didn't trigger scale-up: ${m}`, { reason: 'NotTriggerScaleUp' }).kind;
    expect(ev('2 in backoff after failed scale-up')).toBe('stockout');
    expect(ev('1 max node group size reached')).toBe('unknown');
    expect(ev("3 node(s) didn't match Pod's node affinity/selector")).toBe('rejected');
    // the same words without the reason say nothing decisive
    expect(classify("pod didn't trigger scale-up: 3 node(s) had untolerated taint {x: y}").kind).toBe('unknown');
  });

  it('FailedScheduling is the scheduler’s view, never Google’s capacity', () => {
    expect(
      classify('0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available', {
        reason: 'FailedScheduling',
      }).kind,
    ).toBe('unknown');
  });

  it('Compute and GKE error codes decide even when the text is vague or misleading', () => {
    expect(classify('Operation failed').kind).toBe('unknown');
    expect(classify('Operation failed', { code: 'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS' }).kind).toBe('stockout');
    expect(classify('Operation failed', { code: 'GCE_STOCKOUT' }).kind).toBe('stockout');
    expect(classify('Operation failed', { code: 'GCE_QUOTA_EXCEEDED' }).kind).toBe('quota');
    expect(classify('Operation failed', { code: 'QUOTA_EXCEEDED' }).kind).toBe('quota');
    // a bare 503 is transient by its words; the bulk API's insufficientCapacity says stockout
    expect(classify('503 Service Unavailable').kind).toBe('transient');
    expect(classify('503 Service Unavailable', { code: 'insufficientCapacity', httpStatus: 503 }).kind).toBe(
      'stockout',
    );
    // a rate quota is worded as a quota; its code says it passes
    expect(
      classify("Quota exceeded for quota metric 'Queries' and limit 'Queries per minute'", {
        code: 'rateLimitExceeded',
      }).kind,
    ).toBe('transient');
  });

  it('the HTTP status alone decides last, only where nothing else does', () => {
    expect(classify('upstream connect error', { httpStatus: 503 }).kind).toBe('transient');
    expect(classify('upstream connect error', { httpStatus: 400 }).kind).toBe('rejected');
    expect(classify('upstream connect error', { httpStatus: 403 }).kind).toBe('unknown');
    // the text still wins over the status: a quota answered with 429 stays a quota
    expect(classify("Quota 'NVIDIA_L4_GPUS' exceeded. Limit: 0.0 in region us-east4.", { httpStatus: 429 }).kind).toBe(
      'quota',
    );
  });
});
