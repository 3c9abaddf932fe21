import type { Namespace, ServiceAccount } from 'kubernetes-types/core/v1';
import type { CronJob } from 'kubernetes-types/batch/v1';
import type { EnvVar } from 'kubernetes-types/core/v1';
import type { Role, RoleBinding } from 'kubernetes-types/rbac/v1';
import {
  appNamespace,
  evidenceFlag,
  githubRepository,
  scoutServiceAccount,
  type FleetSpec,
} from '@gpu-fleet/fleet-spec';
import { commonLabels } from '../labels';
import { scoutRole } from './rbac';

/** Name of the CronJob, its Kubernetes ServiceAccount and RBAC objects in the config cluster. */
export const SCOUT_NAME = 'region-scout';
/** Non-root user of the image (distroless "nonroot"); the Dockerfile runs as the same id. */
export const SCOUT_UID = 65532;

/**
 * How long a scheduled sweep may run, whoever runs it (the CronJob's activeDeadlineSeconds, the
 * workflow's timeout-minutes): probes wait up to probeDeadlineSeconds for a GPU; gathering,
 * rendering and proposing take minutes at most.
 */
export const sweepTimeLimitSeconds = (spec: FleetSpec): number => spec.scout.probeDeadlineSeconds + 900;

/**
 * The sweep's own deadline (--deadline-seconds) under that limit, so it stops proposing and saves its
 * evidence before it is killed. In the CronJob: 60 s before activeDeadlineSeconds (the kubelet's
 * SIGTERM then allows 30 s by default, https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination).
 * In the workflow: 5 minutes before timeout-minutes, which also covers checkout, npm ci and sign-in.
 */
export const sweepDeadlineSeconds = (spec: FleetSpec, runner: 'config-cluster' | 'github-actions'): number =>
  sweepTimeLimitSeconds(spec) - (runner === 'config-cluster' ? 60 : 300);

const scoutLabels = (spec: FleetSpec) => ({ ...commonLabels(spec), 'app.kubernetes.io/component': 'region-scout' });

/**
 * The command line the scheduled sweep runs: the same `sweep` a person runs, against Google and
 * GitHub. The image holds no repository: the sweep reads it from GitHub at the synced branch.
 */
export function scoutSweepArgs(spec: FleetSpec): string[] {
  const repo = githubRepository(spec);
  return [
    '--verbose',
    'sweep',
    '--project',
    spec.project,
    '--proposal',
    'github',
    ...(repo ? ['--repo', `${repo.owner}/${repo.repo}`] : []),
    '--from-github',
    spec.configSync.branch,
    ...(spec.configSync.dir ? ['--repo-dir', spec.configSync.dir] : []),
    '--evidence',
    evidenceFlag(spec),
    '--deadline-seconds',
    String(sweepDeadlineSeconds(spec, 'config-cluster')),
  ];
}

/** GitHub credentials from the Secret named in the spec, as the environment variables the scout reads. */
function githubEnv(spec: FleetSpec): EnvVar[] {
  const fromSecret = (name: string, key: string): EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: spec.scout.github.secretName, key } },
  });
  return spec.scout.github.auth === 'token'
    ? [fromSecret('GITHUB_TOKEN', 'token')]
    : [
        fromSecret('GITHUB_APP_ID', 'app-id'),
        fromSecret('GITHUB_APP_INSTALLATION_ID', 'installation-id'),
        fromSecret('GITHUB_APP_PRIVATE_KEY', 'private-key'),
      ];
}

/**
 * The scheduled sweep in the config cluster, or nothing when no image is pinned. Suspended unless
 * the spec makes the config cluster the runner (GitHub Actions otherwise), so a person can still
 * start one by hand (`kubectl create job --from=cronjob/region-scout`).
 * - Workload Identity: the Kubernetes ServiceAccount is bound to the scout's Google service account
 *   by infra/ (roles/iam.workloadIdentityUser); the pod needs no key and no API token of its own,
 *   because the scout reaches every cluster, this one included, through Connect Gateway.
 * - concurrencyPolicy Forbid: a slow sweep (probes wait for GPU nodes) is never overlapped.
 * - Autopilot accepts requests from 250m CPU and 512Mi; limits equal requests (Guaranteed QoS).
 *   https://cloud.google.com/kubernetes-engine/docs/concepts/autopilot-resource-requests
 */
export function scoutResources(spec: FleetSpec): Array<Namespace | ServiceAccount | Role | RoleBinding | CronJob> {
  const image = spec.scout.image;
  if (!image) return [];
  const ns = spec.scout.namespace;
  const labels = scoutLabels(spec);
  const gsa = scoutServiceAccount(spec);
  const resources = { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '1Gi' };
  const cronJob: CronJob = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: SCOUT_NAME, namespace: ns, labels },
    spec: {
      schedule: spec.scout.schedule.cron,
      timeZone: 'Etc/UTC',
      suspend: spec.scout.schedule.runner !== 'config-cluster',
      concurrencyPolicy: 'Forbid',
      // A missed run is not worth catching up on: the next one sees fresher signals.
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          // No retries inside a run: the schedule is the retry, and a sweep is idempotent.
          backoffLimit: 0,
          activeDeadlineSeconds: sweepTimeLimitSeconds(spec),
          ttlSecondsAfterFinished: 86400,
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: SCOUT_NAME,
              // The scout calls the Kubernetes API through Connect Gateway as its Google identity, never in-cluster.
              automountServiceAccountToken: false,
              restartPolicy: 'Never',
              securityContext: {
                runAsNonRoot: true,
                runAsUser: SCOUT_UID,
                runAsGroup: SCOUT_UID,
                fsGroup: SCOUT_UID,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              containers: [
                {
                  name: SCOUT_NAME,
                  image,
                  args: scoutSweepArgs(spec),
                  // Logs are JSON on a non-TTY stderr, which Cloud Logging parses.
                  env: [...githubEnv(spec), { name: 'HOME', value: '/tmp' }],
                  resources: { requests: resources, limits: resources },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    runAsNonRoot: true,
                    capabilities: { drop: ['ALL'] },
                  },
                  // The checkout, the validation scratch copy and kubectl's cache live here; the root filesystem is read-only.
                  volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
                },
              ],
              volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }],
            },
          },
        },
      },
    },
  };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: SCOUT_NAME, namespace: ns, labels, annotations: { 'iam.gke.io/gcp-service-account': gsa } },
      automountServiceAccountToken: false,
    },
    ...scoutRole(spec, {
      name: `${SCOUT_NAME}-evidence`,
      namespace: ns,
      labels,
      // create cannot be limited by resourceNames (the name is not known at authorization time).
      rules: [
        {
          apiGroups: [''],
          resources: ['configmaps'],
          verbs: ['get', 'update'],
          resourceNames: [spec.scout.evidenceConfigMap],
        },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
      ],
    }),
    cronJob,
  ];
}

/**
 * In every GPU cluster, what the scout reads in the app namespace: the app pods (ready, pending)
 * and their events (FailedScaleUp = a stockout). Read-only; bound to the scout's Google identity
 * (see scoutRole).
 */
export function scoutObserverRbac(spec: FleetSpec): [Role, RoleBinding] {
  return scoutRole(spec, {
    name: `${SCOUT_NAME}-observer`,
    namespace: appNamespace(spec),
    labels: scoutLabels(spec),
    rules: [
      { apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['get', 'list', 'watch'] },
    ],
  });
}
