import { z } from 'zod';
import { GCSFUSE_SIDECAR_DEFAULTS, GCSFUSE_SIDECAR_MODEL_LOADING } from '@gpu-fleet/gcp-catalog';

/**
 * The fleet spec (fleet-config/fleet.yaml): the single source of truth for types, validation,
 * the editor JSON Schema (fleet-config/fleet.schema.json) and docs/reference/fleet-spec.md.
 * Every field carries a description; defaults are documented where they are set.
 */

const DNS1123_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabel = (what: string, max: number) =>
  z
    .string()
    .max(max, { message: `must be at most ${max} characters (${what})` })
    .regex(DNS1123_LABEL, {
      message: `must be a DNS-1123 label: lowercase letters, digits and "-", starting with a letter and not ending with "-" (${what})`,
    });

export const API_VERSION = 'gpu-fleet.dev/v1alpha1';

export const ClusterMode = z
  .enum(['active', 'standby', 'draining'])
  .describe(
    'active: serves traffic (listed in the MultiClusterService) with `replicas` pods. ' +
      'draining: removed from the load balancer, pods kept so in-flight generations finish. ' +
      'standby: no pods (replicas 0) but the cluster stays ready to take over and to run GPU probes.',
  );

export const GpuProvisioning = z
  .enum(['on-demand', 'spot', 'spot-then-on-demand', 'hedged'])
  .describe(
    'on-demand: standard VMs. spot: Spot VMs only (cheaper, preemptible; GKE caps the termination grace period of Spot Pods). ' +
      'spot-then-on-demand: the ComputeClass tries Spot first, then on-demand, for each GPU type. ' +
      'hedged: every serving region runs its replicas on Spot only, and one active cluster (gpu.hedge) starts on-demand replicas while the fleet has fewer Spot replicas serving than it should, keeping them until Spot has served again for gpu.hedge.cooldownMinutes (docs/hedging.md).',
  );

export const HedgeSpec = z
  .strictObject({
    onDemandCluster: z
      .string()
      .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, { message: 'must be the name of a cluster in clusters' })
      .optional()
      .describe(
        'The active cluster that starts the on-demand replicas. Default, and whenever this one is not active: the active cluster with the cheapest on-demand price for its GPU.',
      ),
    cooldownMinutes: z
      .number()
      .int()
      .min(1)
      .max(1440)
      .default(20)
      .describe(
        "Minutes the fleet's Spot replicas must have been serving enough again before an on-demand replica is released (the HPA's scale-down stabilisation window). Default 20: SkyServe's own downscale delay (1200 s), long enough for a Spot region that just came back to prove it stays.",
      ),
    maxOnDemandReplicas: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe('At most this many on-demand replicas at once. Default: the replicas the fleet serves with.'),
    moveAfterMinutes: z
      .number()
      .int()
      .min(0)
      .max(10080)
      .default(120)
      .describe(
        "Minutes a Spot slot must have been without Spot (bad sweeps in a row) before the scout proposes moving it to another region; placement.badSweepsBeforeDrop still applies. The hedge's on-demand replicas serve meanwhile, so waiting costs only their price. Default 120: Spot outages are heavy-tailed — one that has lasted long is likely to last about as long again (docs/hedging.md) — so after two hours a move, ready in about half an hour with auto-merge, is likely to pay, while the many short outages end before a pull request would even be merged.",
      ),
    stage: z
      .enum(['install-keda', 'hedge'])
      .default('install-keda')
      .describe(
        "install-keda (step 1): KEDA is installed in every GPU cluster while each cluster's ComputeClass still falls back to on-demand in its own region; no ScaledObject yet, since Config Sync cannot apply one before KEDA's CRDs exist (KNV1021). hedge (step 2, once `kubectl get crd scaledobjects.keda.sh` answers in every GPU cluster): Spot-only clusters and the on-demand hedge. docs/hedging.md.",
      ),
  })
  .describe('The on-demand hedge of gpu.provisioning hedged.');

const Quantity = (what: string) =>
  z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$/, {
    message: `must be a Kubernetes quantity such as "4", "500m", "16Gi" (${what})`,
  });

export const AppSpec = z
  .strictObject({
    name: dnsLabel('used for the Deployment, Service and Kubernetes ServiceAccount', 40).describe(
      'Name of the app; used for the Deployment, Service, MultiClusterService and ServiceAccount.',
    ),
    namespace: dnsLabel('a Kubernetes namespace', 63)
      .optional()
      .describe('Namespace of the app in every cluster (fleet namespace sameness). Defaults to the app name.'),
    image: z
      .string()
      .regex(
        /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._\-/][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
        {
          message:
            'must be an image reference such as "us-docker.pkg.dev/p/repo/webui:v1.10.1" or "...@sha256:<64 hex>"',
        },
      )
      .describe(
        'Container image of the WebUI. Pin it by digest (`@sha256:…`) for reproducible rollouts; a tag is accepted, `latest` or no tag is not.',
      ),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(7860)
      .describe('Container port the WebUI listens on (Stable Diffusion WebUI default: 7860).'),
    args: z
      .array(z.string())
      .default(['--listen', '--api', '--port=7860', '--xformers', '--enable-insecure-extension-access'])
      .describe(
        'Container arguments. `--api` serves the HTTP API; `--listen` binds 0.0.0.0 so the load balancer can reach it.',
      ),
    checkpointHashing: z
      .boolean()
      .default(false)
      .describe(
        'Let the WebUI compute each checkpoint’s SHA-256 when it loads it. Off (default) renders `--no-hashing`: the WebUI otherwise reads the whole checkpoint once more before loading it (modules/sd_models.py calculate_shorthash → modules/hashes.py) and keeps the hash in a cache under its data directory, on the pod’s ephemeral storage — so every cold start pays one extra full read over the Cloud Storage FUSE mount. Without it, generation info and extensions see no model hash.',
      ),
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be an environment variable name' }),
        z.string(),
      )
      .default({})
      .describe('Environment variables (name → value). Rendered sorted by name. Do not put secrets here.'),
    resources: z
      .strictObject({
        cpu: Quantity('CPU')
          .default('4')
          .describe('CPU request per pod (Autopilot bills requests; limits are set equal).'),
        memory: Quantity('memory').default('16Gi').describe('Memory request per pod.'),
        ephemeralStorage: Quantity('ephemeral storage')
          .default('4Gi')
          .describe(
            'Ephemeral storage request of the WebUI container (outputs, caches; a model downloaded into the image’s folders counts too). Autopilot allows at most 10 GiB for the whole Pod, sidecars included.',
          ),
      })
      .prefault({})
      .describe('Resource requests per pod; must fit what Autopilot accepts for the GPU type and count.'),
    probes: z
      .strictObject({
        readiness: z
          .strictObject({
            mode: z
              .enum(['generation', 'http-path'])
              .default('generation')
              .describe(
                'generation (default): a small sidecar (the ready gate, run with the app image’s Python) waits for the WebUI API, runs one tiny generation — which blocks until the model has loaded — and only then answers `path` on `port` with 200; it also holds a stopping pod until in-flight generations end. The WebUI has no HTTP path that means “a generation can run”: /sdapi/v1/sd-models lists checkpoint files while the model still loads in a background thread (modules/initialize.py, initialize_rest → load_model). http-path: the app itself serves `path` on app.port and answers 200 only when it can serve (for images that add such a path).',
              ),
            path: z
              .string()
              .regex(/^\/\S*$/, { message: 'must be an absolute HTTP path starting with "/"' })
              .default('/ready')
              .describe(
                'Path that answers 200 only once a generation can run: the kubelet readiness probe and the load balancer health check both use it.',
              ),
            port: z
              .number()
              .int()
              .min(1)
              .max(65535)
              .default(7861)
              .describe(
                'Port of the ready gate (mode generation); must differ from app.port. The load balancer health check targets it, so infra/ opens it to Google’s health checkers.',
              ),
            python: z
              .string()
              .regex(/^\S+$/, { message: 'must be a command name or path without spaces, such as "python3"' })
              .default('python3')
              .describe('Python interpreter in the app image that runs the ready gate (standard library only).'),
          })
          .prefault({})
          .describe('When a pod counts as ready: only once a generation can run.'),
        livenessPath: z
          .string()
          .regex(/^\/\S*$/, { message: 'must be an absolute HTTP path starting with "/"' })
          .default('/internal/ping')
          .describe('Cheap HTTP path that answers while the server process is alive.'),
        startupTimeoutSeconds: z
          .number()
          .int()
          .min(60)
          .max(3600)
          .default(1200)
          .describe('How long a new pod may take to pull the image and load the model before it is restarted.'),
      })
      .prefault({})
      .describe('Health probes of the WebUI container.'),
    terminationGracePeriodSeconds: z
      .number()
      .int()
      .min(30)
      .max(3600)
      .optional()
      .describe(
        'Seconds a stopping pod gets: the ready gate holds it until in-flight generations end (at most the connection draining time), then the WebUI stops. Defaults to the draining time + 30; must be at least that.',
      ),
    serviceAccount: z
      .strictObject({
        gcpServiceAccount: z
          .email({ message: 'must be a Google service account email (name@project.iam.gserviceaccount.com)' })
          .optional()
          .describe(
            'Google service account the pods impersonate through Workload Identity (annotation iam.gke.io/gcp-service-account). Omit to grant IAM to the Kubernetes ServiceAccount principal directly.',
          ),
      })
      .prefault({})
      .describe('Identity of the WebUI pods.'),
    modelStorage: z
      .strictObject({
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, {
            message: 'must be a Cloud Storage bucket name (lowercase letters, digits, ".", "_", "-")',
          })
          .describe('Cloud Storage bucket holding the models, mounted read-only with the GCS FUSE CSI driver.'),
        mountPath: z
          .string()
          .regex(/^\/\S+$/, { message: 'must be an absolute path' })
          .default('/models')
          .describe('Where the bucket is mounted in the container.'),
        onlyDir: z.string().optional().describe('Mount only this folder of the bucket.'),
        sidecar: z
          .strictObject({
            cpu: Quantity('CPU')
              .default(GCSFUSE_SIDECAR_MODEL_LOADING.cpu)
              .describe(
                'CPU request (= limit) of the Cloud Storage FUSE sidecar GKE injects. Every cold start streams the checkpoint through it, and a throttled sidecar is the usual cause of slow reads (the driver’s troubleshooting guide), so the default is 2 — the most Autopilot gives the sidecar on a GPU node — not the driver’s 250m.',
              ),
            memory: Quantity('memory')
              .default(GCSFUSE_SIDECAR_MODEL_LOADING.memory)
              .describe(
                'Memory request (= limit) of the Cloud Storage FUSE sidecar: its read buffers (at most 14 GiB on an Autopilot GPU node).',
              ),
            ephemeralStorage: Quantity('ephemeral storage')
              .default(GCSFUSE_SIDECAR_DEFAULTS.ephemeralStorage)
              .describe(
                'Ephemeral storage request (= limit) of the Cloud Storage FUSE sidecar (the driver’s default); counts toward the Pod’s Autopilot maximum.',
              ),
          })
          .prefault({})
          .describe(
            'Resources of the Cloud Storage FUSE sidecar, set explicitly through its gke-gcsfuse/* pod annotations so the Pod total is known.',
          ),
      })
      .optional()
      .describe('Optional model storage: a GCS bucket mounted read-only (pods need roles/storage.objectViewer on it).'),
  })
  .describe('The GPU web app (Stable Diffusion WebUI) served by every active cluster.');

export const GpuSpec = z
  .strictObject({
    preferences: z
      .array(z.string().regex(/^nvidia-[a-z0-9-]+$/, { message: 'must be a GKE accelerator type such as "nvidia-l4"' }))
      .min(1, { message: 'must list at least one GPU type' })
      .describe(
        'Accelerator types in order of preference (GKE names, e.g. nvidia-l4, nvidia-tesla-t4). Each cluster’s ComputeClass tries them in this order, limited to what its region offers.',
      ),
    count: z.number().int().min(1).max(16).default(1).describe('GPUs per pod.'),
    provisioning: GpuProvisioning.default('on-demand'),
    hedge: HedgeSpec.prefault({}),
    acceptCutGenerations: z
      .boolean()
      .default(false)
      .describe(
        'Accept that a Spot preemption cuts in-flight generations: GKE gives a preempted Spot Pod at most 25 s to stop, while a generation may run for ingress.backendTimeoutSec. Required with provisioning spot, spot-then-on-demand or hedged.',
      ),
    selection: z
      .enum(['compute-class', 'node-selector'])
      .default('compute-class')
      .describe(
        'compute-class: a per-cluster custom ComputeClass with a priority list (in-region fallback). node-selector: the plain cloud.google.com/gke-accelerator selector for the cluster’s GPU only.',
      ),
  })
  .describe('GPU preferences.');

export const IngressSpec = z
  .strictObject({
    api: z
      .enum(['multi-cluster-ingress'])
      .default('multi-cluster-ingress')
      .describe('Traffic API in the config cluster. Multi-cluster Gateway is planned behind the same builder.'),
    staticIp: z
      .strictObject({
        name: dnsLabel('a Compute Engine global address name', 63)
          .optional()
          .describe('Name of the reserved global static IP (created by infra/). Required unless `disabled` is true.'),
        address: z
          .ipv4({ message: 'must be an IPv4 address' })
          .optional()
          .describe(
            'Machine-written: the address behind `name`, filled from the Terraform output or Compute globalAddresses.get. MultiClusterIngress needs the address itself; never paste it by hand.',
          ),
        disabled: z
          .boolean()
          .default(false)
          .describe('true: use an ephemeral IP (HTTPS is then impossible). Needs `reason`.'),
        reason: z
          .string()
          .min(10, { message: 'must explain why (at least 10 characters)' })
          .optional()
          .describe('Why the fleet runs without a static IP (required when disabled).'),
      })
      .describe(
        'Reserved global static IP of the load balancer (required for HTTPS), or an explicit opt-out with a reason.',
      ),
    domains: z
      .array(
        z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, {
          message: 'must be a lowercase DNS name such as "sd.example.org"',
        }),
      )
      .default([])
      .describe('Host names served. Empty: any host.'),
    managedCertificate: z
      .strictObject({
        name: dnsLabel('a Compute Engine SSL certificate name prefix', 54).describe(
          'Name prefix of the Google-managed SSL certificate infra/ creates for `domains`: the certificate is named <name>-<first 8 hex digits of sha256 of the domains joined by ",">, so changing `domains` creates a new certificate before the old one is deleted (a managed certificate cannot change its domains, nor be deleted while the load balancer uses it).',
        ),
      })
      .optional()
      .describe(
        'Optional Google-managed SSL certificate for `domains`, created by infra/ (google_compute_managed_ssl_certificate) and attached like a pre-shared certificate. Needs `domains`; their DNS must point at the static IP before Google can issue it.',
      ),
    preSharedCertificates: z
      .array(dnsLabel('a Compute Engine SSL certificate name', 63))
      .default([])
      .describe(
        'Names of Compute Engine SSL certificates (Google-managed or self-managed) attached to the load balancer. ManagedCertificate resources do not work with MultiClusterIngress. When set, HTTP redirects to HTTPS.',
      ),
    iap: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe('Protect the app with Identity-Aware Proxy (default). Turning it off needs `reason`.'),
        oauthSecretName: dnsLabel('a Kubernetes Secret name', 63)
          .default('iap-oauth')
          .describe(
            'Secret (keys client_id, client_secret) in the app namespace of the config cluster holding the IAP OAuth client (docs/runbook.md: OAuth consent screen and client).',
          ),
        members: z
          .array(
            z
              .string()
              .regex(/^(user|group|serviceAccount):[^@\s]+@[^@\s]+\.[a-z]{2,}$|^domain:([a-z0-9-]+\.)+[a-z]{2,}$/, {
                message:
                  'must be an IAM principal: "user:alice@example.com", "group:team@example.com", "serviceAccount:x@p.iam.gserviceaccount.com" or "domain:example.com"',
              }),
          )
          .default([])
          .describe(
            'Who may use the app: IAP admits only principals holding the IAP-secured Web App User role (roles/iap.httpsResourceAccessor), which infra/ grants to each of these, additively. Required when IAP is enabled.',
          ),
        reason: z
          .string()
          .min(10, { message: 'must explain why (at least 10 characters)' })
          .optional()
          .describe('Why the app is public without IAP (required when enabled is false).'),
        organizationDomains: z
          .array(z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, { message: 'must be a domain such as "example.com"' }))
          .optional()
          .describe(
            'The domains your organisation’s domain-restricted sharing (iam.allowedPolicyMemberDomains, enforced by default in organisations created on or after 2024-05-03) lets IAM grants name: its own, and any customer you added as an exception. When set, validate refuses a user, group or domain member outside them, which the Terraform apply would fail on.',
          ),
      })
      .prefault({})
      .describe('Identity-Aware Proxy: on by default; turning it off needs a reason.'),
    backendTimeoutSec: z
      .number()
      .int()
      .min(30)
      .max(86400)
      .default(900)
      .describe(
        'Load balancer backend timeout: the longest request (generation) allowed, in seconds. Connection draining must cover it, so at most 3600.',
      ),
    sessionAffinity: z
      .enum(['generated-cookie', 'none'])
      .default('generated-cookie')
      .describe(
        'generated-cookie keeps a browser on one pod (the WebUI keeps per-session state); none spreads requests.',
      ),
    affinityCookieTtlSec: z
      .number()
      .int()
      .min(0)
      .max(1209600)
      .default(3600)
      .describe('Lifetime of the affinity cookie (seconds).'),
    healthCheck: z
      .strictObject({
        checkIntervalSec: z.number().int().min(1).max(300).default(5).describe('Seconds between health checks.'),
        timeoutSec: z
          .number()
          .int()
          .min(1)
          .max(300)
          .default(5)
          .describe('Health check timeout (seconds); must not exceed the interval.'),
        healthyThreshold: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(1)
          .describe('Consecutive successes to mark a backend healthy.'),
        unhealthyThreshold: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(2)
          .describe(
            'Consecutive failures to mark a backend unhealthy. Failover time ≈ checkIntervalSec × unhealthyThreshold.',
          ),
      })
      .prefault({})
      .describe('Load balancer health check on the readiness path; tuned for fast failover between regions.'),
    connectionDrainingSec: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .optional()
      .describe(
        'Seconds the load balancer keeps existing connections to a removed backend (at most 3600). Defaults to backendTimeoutSec, the longest request: a shorter drain cuts generations on every rollout, drain or scale-down.',
      ),
  })
  .describe('The global entry point: MultiClusterIngress and MultiClusterService in the config cluster.');

export const PlacementPolicy = z
  .strictObject({
    candidateRegions: z
      .array(
        z.string().regex(/^[a-z]+-[a-z]+[0-9]+$/, { message: 'must be a Google Cloud region such as "us-central1"' }),
      )
      .min(1, { message: 'must list at least one region' })
      .describe('Regions the fleet may serve from. Every cluster must be in one of them.'),
    minServingRegions: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('Never fewer active regions than this; the scout will not go below it on its own judgement.'),
    maxServingRegions: z.number().int().min(1).default(2).describe('Never more active regions than this.'),
    badSweepsBeforeDrop: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe('Hysteresis: consecutive bad sweeps before a serving region is drained.'),
    switchMargin: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe('Hysteresis: a replacement must score this fraction better than the current region.'),
    minDwellMinutes: z
      .number()
      .int()
      .min(0)
      .max(10080)
      .default(60)
      .describe('A region stays in its mode at least this long before the scout changes it again.'),
    maxChangesPerSweep: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(1)
      .describe('At most this many cluster changes per proposal.'),
    excludedRegions: z
      .array(
        z.string().regex(/^[a-z]+-[a-z]+[0-9]+$/, { message: 'must be a Google Cloud region such as "us-central1"' }),
      )
      .default([])
      .describe(
        'Regions the scout never activates (data residency, a known incident). Clusters already there are left as they are.',
      ),
    weights: z
      .strictObject({
        capacity: z
          .number()
          .min(0)
          .max(10)
          .default(4)
          .describe(
            'Decayed capacity evidence: probes and app pods that got (or did not get) GPUs, newest weighing most.',
          ),
        price: z
          .number()
          .min(0)
          .max(10)
          .default(2)
          .describe('Cheaper GPU-hour in the region (bundled price list) scores higher.'),
        spread: z
          .number()
          .min(0)
          .max(10)
          .default(1.5)
          .describe('A continent no other serving region covers scores higher (users nearer, failures independent).'),
        stickiness: z
          .number()
          .min(0)
          .max(10)
          .default(1.5)
          .describe('The current placement scores higher: moving has a cost (cold model load, cache).'),
        probe: z
          .number()
          .min(0)
          .max(10)
          .default(1)
          .describe('A recent successful GPU probe in the region confirms capacity.'),
        preference: z.number().min(0).max(10).default(1).describe('GPU types earlier in gpu.preferences score higher.'),
      })
      .prefault({})
      .describe('Relative weights of the placement score (each part is 0…1; the score is their weighted mean).'),
  })
  .describe('Where the fleet may run and how cautiously the scout changes it.');

/**
 * Demand-driven replicas: the warm regions keep at least their `replicas`, the other active regions
 * go to zero when idle and are woken by demand. Rendered as a KEDA ScaledObject per cluster, KEDA
 * itself installed by Config Sync from its Helm chart (docs/autoscaling.md: the engine choice, the
 * metrics and the `replicas` handover, with their sources).
 */
export const AutoscalingSpec = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Scale each region with demand: warm regions never below their `replicas`, the other active regions down to 0 when idle and woken by demand (KEDA, installed by Config Sync). Off: every active cluster runs `replicas` pods around the clock.',
      ),
    warmRegions: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe(
        'Active regions kept at their `replicas` (at least 1) so the global URL always answers: the first active clusters of the clusters list, plus any cluster still replacing another (make-before-break). At least 1, at most placement.minServingRegions.',
      ),
    maxReplicasPerRegion: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(2)
      .describe('Most replicas one region scales to; every active cluster’s `replicas` must fit under it.'),
    targetGenerationsPerReplica: z
      .number()
      .int()
      .min(1)
      .max(8)
      .default(1)
      .describe(
        'Concurrent generations one replica is sized for. The WebUI runs one generation at a time per GPU, so 1 means “add a replica as soon as one queues”.',
      ),
    idleMinutesBeforeZero: z
      .number()
      .int()
      .min(5)
      .max(1440)
      .default(15)
      .describe(
        'Minutes without requests before a non-warm region goes to zero. At least 5: the load balancer’s request metrics are sampled every 60 s and become visible only after up to 210 s (https://cloud.google.com/monitoring/api/metrics_gcp_i_o#loadbalancing), so a shorter window would scale down regions still in use.',
      ),
    wakeRequestsPerSecond: z
      .number()
      .min(0)
      .max(10000)
      .default(1)
      .describe(
        'A cold region wakes when users on its continent (the load balancer’s proxy_continent) send more than this many requests per second, averaged over 5 minutes; until then the warm regions serve them. The WebUI page polls its progress about once a second while a generation runs or waits, so 1 ≈ one user generating without pause; 0 wakes on any visit.',
      ),
    replicasOwner: z
      .enum(['config-sync', 'autoscaler'])
      .default('config-sync')
      .describe(
        'Who sets the Deployment’s replicas. config-sync (step 1 of turning autoscaling on): KEDA is installed and the ScaledObjects are rendered paused, the Deployment keeps `replicas`. autoscaler (step 2, once `kubectl get scaledobject -n <app namespace>` shows READY in every active cluster): the Deployment declares no replicas, so Config Sync never resets what the autoscaler sets (https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling).',
      ),
    kedaVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, 'a chart version such as 2.20.2')
      .default('2.20.2')
      .describe(
        'Version of the KEDA Helm chart (https://kedacore.github.io/charts, chart keda) Config Sync installs in every GPU cluster. Pinned: a range would be re-resolved every hour by Config Sync.',
      ),
  })
  .prefault({})
  .describe('Demand-driven scaling (replicas follow requests; one region always warm).');

export const ClusterSpec = z
  .strictObject({
    name: dnsLabel('a GKE cluster name', 40).describe(
      'GKE cluster and fleet membership name; also the folder clusters/<name>/.',
    ),
    region: z
      .string()
      .regex(/^[a-z]+-[a-z]+[0-9]+$/, { message: 'must be a Google Cloud region such as "us-central1"' })
      .describe('Region of the Autopilot cluster.'),
    mode: ClusterMode,
    gpu: z
      .string()
      .regex(/^nvidia-[a-z0-9-]+$/, { message: 'must be a GKE accelerator type such as "nvidia-l4"' })
      .describe('GPU type this cluster runs first (one of gpu.preferences offered in its region).'),
    replicas: z.number().int().min(0).max(100).default(1).describe('Pods when active or draining (standby renders 0).'),
    replaces: dnsLabel('a cluster name', 40)
      .optional()
      .describe(
        'Written by region-scout (make-before-break): this cluster was activated to replace the named one, which the scout drains only once this cluster has ready replicas. Remove it to cancel the replacement.',
      ),
    deletionProtection: z
      .boolean()
      .optional()
      .describe(
        'This cluster’s Terraform deletion protection (default: infra.deletionProtection). Removing a cluster takes two applied pull requests: Terraform reads the protection from its state, so set this to false first (merge, let infra.yml apply), then remove the entry.',
      ),
  })
  .describe('One GKE Autopilot cluster of the fleet.');

export const ConfigSyncGit = z
  .strictObject({
    repo: z
      .string()
      .regex(/^(https:\/\/|git@)[^\s]+$/, { message: 'must be an https:// or git@ URL of the repository' })
      .describe('Git repository Config Sync reads (this repository).'),
    branch: z.string().min(1).default('main').describe('Branch Config Sync reads.'),
    dir: z
      .string()
      .regex(/^$|^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, {
        message: 'must be a relative folder without leading or trailing "/" (empty for the repository root)',
      })
      .default('')
      .describe(
        'Folder of this gpu-fleet tree inside the repository ("" = root). Each cluster syncs <dir>/clusters/<cluster>, the config cluster <dir>/fleet-config/config-cluster.',
      ),
    auth: z
      .enum(['none', 'token', 'githubapp', 'gcpserviceaccount'])
      .default('token')
      .describe(
        'How Config Sync authenticates to Git: none (public repo), token (Secret git-creds), githubapp, or gcpserviceaccount (Secure Source Manager / Cloud Source).',
      ),
  })
  .describe('The Git source Config Sync applies.');

export const ScoutSpec = z
  .strictObject({
    gcpServiceAccount: z
      .email({ message: 'must be a Google service account email' })
      .optional()
      .describe(
        'Google service account region-scout runs as. Defaults to region-scout@<project>.iam.gserviceaccount.com. It is granted the probe Role in every cluster (through Connect Gateway).',
      ),
    probeNamespace: dnsLabel('a Kubernetes namespace', 63)
      .default('gpu-fleet-probes')
      .describe('Namespace of the short-lived GPU probe Jobs in every cluster.'),
    probeMaxGpus: z
      .number()
      .int()
      .min(0)
      .max(16)
      .default(1)
      .describe('ResourceQuota cap on GPUs the probes may request at once in one cluster.'),
    probeDeadlineSeconds: z
      .number()
      .int()
      .min(60)
      .max(3600)
      .default(900)
      .describe('How long a probe waits for a GPU before it counts as a timeout (GPU nodes take minutes to appear).'),
    probeBudget: z
      .strictObject({
        maxProbesPerDay: z.number().int().min(0).max(1000).default(24).describe('Probes per UTC day across the fleet.'),
        maxGpuMinutesPerDay: z
          .number()
          .int()
          .min(0)
          .max(100000)
          .default(360)
          .describe('GPU-minutes per UTC day the probes may spend (each probe is charged count × deadline up front).'),
      })
      .prefault({})
      .describe('Daily probe budget, enforced before each probe starts.'),
    probesPerSweep: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe(
        'A sweep probes at most this many of its best candidate regions (those without recent probe evidence), within the daily budget.',
      ),
    schedule: z
      .strictObject({
        cron: z
          .string()
          .regex(/^(\S+\s+){4}\S+$/, { message: 'must be a five-field cron expression such as "*/20 * * * *"' })
          .default('*/20 * * * *')
          .describe(
            'When sweeps run (five-field cron, UTC). Used by the CronJob and by the GitHub Actions workflow, whichever is the runner.',
          ),
        runner: z
          .enum(['config-cluster', 'github-actions'])
          .default('github-actions')
          .describe(
            'Who runs scheduled sweeps. config-cluster: a CronJob in the config cluster (needs `scout.image`). github-actions: .github/workflows/sweep.yml on a schedule. Exactly one runs on the schedule; the other can still be started by hand (the CronJob is rendered suspended when an image is set).',
          ),
      })
      .prefault({})
      .describe('Scheduled sweeps.'),
    image: z
      .string()
      .regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._\-/][a-z0-9]+)*)*@sha256:[a-f0-9]{64}$/, {
        message:
          'must be an image pinned by digest, such as "us-docker.pkg.dev/p/gpu-fleet/region-scout@sha256:<64 hex>"',
      })
      .optional()
      .describe(
        'Machine-written: the region-scout image, pinned by digest, the CronJob runs. Written by `region-scout pin --scout-image` after a build (see apps/region-scout/README.md); never paste it by hand. Required when schedule.runner is config-cluster.',
      ),
    probeImage: z
      .string()
      .regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._\-/][a-z0-9]+)*)*@sha256:[a-f0-9]{64}$/, {
        message:
          'must be an image pinned by digest in a registry the fleet controls, such as "us-docker.pkg.dev/p/gpu-fleet/gpu-probe@sha256:<64 hex>"',
      })
      .optional()
      .describe(
        'Image of the GPU probe Job. It only runs the nvidia-smi GKE mounts from the node (/usr/local/nvidia), so any small image with glibc does; pinned by digest, in the fleet’s Artifact Registry. Default: scout.image (distroless, Debian glibc, already pinned there); without either, nvidia/cuda by tag from Docker Hub. Mirror step: docs/runbook.md, step 8.',
      ),
    namespace: dnsLabel('a Kubernetes namespace', 63)
      .default('gpu-fleet-system')
      .describe('Namespace of the CronJob, its ServiceAccount and the evidence ConfigMap in the config cluster.'),
    evidenceConfigMap: dnsLabel('a ConfigMap name', 63)
      .default('region-scout-evidence')
      .describe(
        'ConfigMap in `namespace` of the config cluster holding the evidence ledger, shared by both runners (reached through Connect Gateway, written with optimistic concurrency).',
      ),
    evidenceStore: z
      .strictObject({
        kind: z
          .enum(['configmap', 'gcs'])
          .default('configmap')
          .describe(
            'Where both runners keep the evidence ledger. configmap (default): `evidenceConfigMap` in the config cluster, which holds at most 1 MiB (about 1,800 observations; the oldest are dropped beyond that, with a warning before). gcs: one Cloud Storage object (`bucket`, `object`), written with ifGenerationMatch preconditions (compare-and-swap), no size limit that matters here; infra/ creates the bucket and lets region-scout read and write it.',
          ),
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, {
            message: 'must be a Cloud Storage bucket name (lowercase letters, digits, ".", "_", "-")',
          })
          .optional()
          .describe('kind gcs: the bucket (created by infra/, versioned, in infra.modelBucketLocation).'),
        object: z
          .string()
          .regex(/^[^\s#?*[\]]{1,1024}$/, {
            message: 'must be an object name without spaces, "#", "?", "*", "[" or "]"',
          })
          .default('region-scout/evidence.json')
          .describe('kind gcs: the object holding the ledger.'),
      })
      .prefault({})
      .describe('The evidence store both runners share.'),
    github: z
      .strictObject({
        auth: z
          .enum(['token', 'app'])
          .default('token')
          .describe(
            'token: a fine-grained token (contents and pull requests: write) in key `token`. app: a GitHub App, keys `app-id`, `installation-id`, `private-key`.',
          ),
        secretName: dnsLabel('a Kubernetes Secret name', 63)
          .default('region-scout-github')
          .describe(
            'Secret in `namespace` of the config cluster holding the GitHub credentials the CronJob proposes with (created by hand from a GitHub token or App key, docs/runbook.md step 13; never committed).',
          ),
      })
      .prefault({})
      .describe('How the scheduled scout authenticates to GitHub to open its pull request.'),
    proposal: z
      .strictObject({
        branch: z
          .string()
          .regex(/^[A-Za-z0-9._/-]+$/, { message: 'must be a Git branch name' })
          .default('region-scout/placement')
          .describe('The one branch the scout commits placement proposals to; its pull request is updated in place.'),
        labels: z
          .array(z.string().min(1).max(50))
          .default(['region-scout', 'placement'])
          .describe('Labels put on the pull request.'),
        autoMerge: z
          .enum(['off', 'add-capacity'])
          .default('off')
          .describe(
            'off: a person merges every proposal. add-capacity: enable GitHub auto-merge when the proposal only adds serving capacity (activations, no drain or GPU change) — only where the base branch requires `validationCheck` (branch protection or a ruleset), and off again before the branch moves to any other plan.',
          ),
        validationCheck: z
          .string()
          .min(1)
          .max(100)
          .default('validate')
          .describe(
            'The check run that validates a proposal: the gate job of .github/workflows/validate.yml. Auto-merge is enabled only where the base branch requires it, and the scout merges a pull request itself only after it passed on that head.',
          ),
      })
      .prefault({})
      .describe('How the scout proposes placement changes.'),
  })
  .prefault({})
  .describe('region-scout settings rendered into the clusters.');

const NotificationChannel = z.union([
  z
    .strictObject({
      email: z
        .email({ message: 'must be an email address' })
        .describe('An email channel infra/ creates (Cloud Monitoring channel type "email").'),
    })
    .describe('A channel infra/ creates.'),
  z
    .strictObject({
      id: z
        .string()
        .regex(/^projects\/[^/]+\/notificationChannels\/[0-9]+$/, {
          message: 'must be a channel resource name: projects/PROJECT/notificationChannels/ID',
        })
        .describe(
          'An existing channel (PagerDuty, Slack, webhook…) made in the console or elsewhere, so its key or token stays out of git: `gcloud beta monitoring channels list --format="value(name)"`.',
        ),
    })
    .describe('A channel made elsewhere.'),
]);

/** The share of the ConfigMap's evidence budget from which the store warns and the alert fires. */
export const EVIDENCE_WARN_SHARE_DEFAULT = 0.8;

export const MonitoringSpec = z
  .strictObject({
    alerts: z
      .boolean()
      .default(true)
      .describe(
        'infra/ creates the Cloud Monitoring alert policies rendered to fleet-config/monitoring/alert-policies.yaml (PromQL over the metrics each sweep writes; docs/operate.md lists them).',
      ),
    dashboard: z
      .boolean()
      .default(true)
      .describe('infra/ creates the Cloud Monitoring dashboard rendered to fleet-config/monitoring/dashboard.yaml.'),
    notificationChannels: z
      .array(NotificationChannel)
      .max(16)
      .default([])
      .describe(
        'Who is told when an alert fires: `{email: …}` (infra/ creates the channel) or `{id: projects/…/notificationChannels/…}` (an existing one). Without any, alerts only show in the console.',
      ),
    failoverProposalMaxMinutes: z
      .number()
      .int()
      .min(1)
      .max(1440)
      .default(60)
      .describe(
        'Page when a proposal has stayed open this long while the URL is served by fewer than placement.minServingRegions regions (the merge a person must make).',
      ),
    evidenceBudgetShare: z
      .number()
      .gt(0)
      .max(1)
      .default(EVIDENCE_WARN_SHARE_DEFAULT)
      .describe(
        'Warn when the evidence ledger fills this share of the ConfigMap’s budget (scout.evidenceStore kind configmap); beyond it the oldest observations are dropped.',
      ),
  })
  .prefault({})
  .describe('Alerts and the dashboard over the metrics each sweep writes to Cloud Monitoring (created by infra/).');

export const ConfigClusterSpec = z
  .strictObject({
    name: dnsLabel('a GKE cluster name', 40)
      .default('fleet-config')
      .describe(
        'GKE cluster and fleet membership name of the config cluster (no GPUs): it holds the MultiClusterIngress and MultiClusterService, and the scout CronJob.',
      ),
    region: z
      .string()
      .regex(/^[a-z]+-[a-z]+[0-9]+$/, { message: 'must be a Google Cloud region such as "us-central1"' })
      .optional()
      .describe(
        'Region of the config cluster. Defaults to the first of placement.candidateRegions. Moving it recreates the cluster (and the load balancer’s config membership).',
      ),
  })
  .prefault({})
  .describe('The config cluster: the multi-cluster ingress config membership. Created by infra/ (bootstrap).');

export const InfraSpec = z
  .strictObject({
    releaseChannel: z
      .enum(['RAPID', 'REGULAR', 'STABLE'])
      .default('REGULAR')
      .describe('GKE release channel of every cluster (Autopilot clusters are always enrolled in one).'),
    deletionProtection: z
      .boolean()
      .default(true)
      .describe(
        'Terraform refuses to delete clusters while true (the default of each cluster’s deletionProtection, and the config cluster’s). Turn it off for one cluster with clusters[].deletionProtection; set false (and apply) before destroying the fleet.',
      ),
    artifactRegistry: z
      .strictObject({
        location: z
          .string()
          .regex(/^[a-z]+(-[a-z]+[0-9]+)?$/, {
            message: 'must be an Artifact Registry location such as "us" or "us-central1"',
          })
          .default('us')
          .describe('Location of the Docker repository.'),
        repository: dnsLabel('an Artifact Registry repository id', 63)
          .default('gpu-fleet')
          .describe(
            'Docker repository holding the WebUI image (app.image) and the region-scout image (scout.image); the nodes may pull from it.',
          ),
      })
      .prefault({})
      .describe('Artifact Registry repository for the WebUI and region-scout images (created by infra/).'),
    modelBucketLocation: z
      .string()
      .regex(/^[A-Za-z]+[A-Za-z0-9-]*$/, {
        message: 'must be a Cloud Storage location such as "US", "EU" or "us-central1"',
      })
      .default('US')
      .describe(
        'Location of the model bucket infra/ creates for app.modelStorage.bucket. A multi-region (US, EU, ASIA) serves every region of the fleet the same checkpoints.',
      ),
    githubActions: z
      .strictObject({
        workloadIdentityPool: dnsLabel('a workload identity pool id', 32)
          .default('github')
          .describe('Workload Identity Federation pool trusted by GitHub Actions.'),
        provider: dnsLabel('a workload identity pool provider id', 32)
          .default('github-actions')
          .describe(
            'OIDC provider in that pool (issuer https://token.actions.githubusercontent.com), restricted to this repository.',
          ),
        repositoryId: z
          .string()
          .regex(/^[1-9][0-9]*$/, { message: 'must be the repository’s numeric id (gh api repos/OWNER/REPO --jq .id)' })
          .optional()
          .describe(
            'Numeric id of the GitHub repository (`gh api repos/OWNER/REPO --jq .id`). The pool trusts tokens by id, not by name: a deleted repository’s name can be registered again by someone else. Required when configSync.repo is on GitHub.',
          ),
        repositoryOwnerId: z
          .string()
          .regex(/^[1-9][0-9]*$/, {
            message: 'must be the owner’s numeric id (gh api repos/OWNER/REPO --jq .owner.id)',
          })
          .optional()
          .describe(
            'Numeric id of the repository’s owner (`gh api repos/OWNER/REPO --jq .owner.id`). Required when configSync.repo is on GitHub.',
          ),
      })
      .prefault({})
      .describe('Workload Identity Federation for the sweep and infra workflows (no service account keys).'),
  })
  .prefault({})
  .describe('Settings only infra/ (Terraform) reads: everything else it needs comes from the rest of this spec.');

export const FleetSpec = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema reference for editors.'),
    apiVersion: z.literal(API_VERSION).describe(`Spec version; must be ${API_VERSION}.`),
    kind: z.literal('Fleet').describe('Must be Fleet.'),
    project: z
      .string()
      .regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, {
        message: 'must be a GCP project id: 6-30 lowercase letters, digits or "-", starting with a letter',
      })
      .describe('Google Cloud project id hosting the fleet.'),
    configSync: ConfigSyncGit,
    app: AppSpec,
    gpu: GpuSpec,
    ingress: IngressSpec,
    placement: PlacementPolicy,
    autoscaling: AutoscalingSpec,
    scout: ScoutSpec,
    monitoring: MonitoringSpec,
    configCluster: ConfigClusterSpec,
    infra: InfraSpec,
    clusters: z
      .array(ClusterSpec)
      .min(1, { message: 'must list at least one cluster' })
      .describe('The fleet’s clusters: the section region-scout edits.'),
  })
  .describe('gpu-fleet spec: one GPU web app served from GKE Autopilot clusters behind one global URL.');

export type FleetSpec = z.output<typeof FleetSpec>;
export type FleetSpecInput = z.input<typeof FleetSpec>;
export type ClusterSpec = z.output<typeof ClusterSpec>;
export type ClusterMode = z.output<typeof ClusterMode>;
export type AppSpec = z.output<typeof AppSpec>;
export type IngressSpec = z.output<typeof IngressSpec>;
export type GpuSpec = z.output<typeof GpuSpec>;
export type PlacementPolicy = z.output<typeof PlacementPolicy>;
export type AutoscalingSpec = z.output<typeof AutoscalingSpec>;
export type ScoutSpec = z.output<typeof ScoutSpec>;
export type MonitoringSpec = z.output<typeof MonitoringSpec>;
