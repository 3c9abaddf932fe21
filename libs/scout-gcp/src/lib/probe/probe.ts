import type { V1Job } from '@kubernetes/client-node';
import { z } from 'zod';
import {
  answerOf,
  classify,
  type Clock,
  type EvidenceCause,
  type FailureFields,
  type LiveProbe,
  type Logger,
  type ProbeCleanup,
  type ProbePort,
  type ProbeRequest,
  type ProbeResult,
  silentLogger,
} from '@gpu-fleet/scout-domain';
import { LABEL_PREFIX, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '@gpu-fleet/fleet-spec';
import type { CallPolicy } from '../policy/policy';
import { abortable, EventSchema, eventTime, type KubeApis } from '../kubernetes/kubernetes';

export const PROBE_LABEL = `${LABEL_PREFIX}/probe`;
export const SWEEP_LABEL = `${LABEL_PREFIX}/sweep`;
const GPU_RESOURCE = 'nvidia.com/gpu';

export interface ProbeOptions {
  /** Image whose container runs nvidia-smi from the driver mount GKE provides. */
  image?: string;
  /** Real milliseconds between polls. */
  pollMs?: number;
  clock: Clock;
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
}

/** nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader → "NVIDIA L4, 23034 MiB, 550.90.07". */
export function parseNvidiaSmi(log: string): { name: string; memoryMiB: number; driver: string } | null {
  const m = /^\s*([^,\n]+),\s*(\d+)\s*MiB,\s*([0-9.]+)\s*$/m.exec(log);
  return m ? { name: m[1]!.trim(), memoryMiB: Number(m[2]), driver: m[3]! } : null;
}

const Time = z.union([z.date(), z.string()]);
const ContainerState = z
  .object({
    waiting: z.object({ reason: z.string().nullish(), message: z.string().nullish() }).nullish(),
    terminated: z
      .object({ reason: z.string().nullish(), message: z.string().nullish(), exitCode: z.number().nullish() })
      .nullish(),
  })
  .nullish();
const PodSchema = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({ nodeName: z.string().nullish() }).nullish(),
  status: z
    .object({
      phase: z.string().nullish(),
      reason: z.string().nullish(),
      message: z.string().nullish(),
      startTime: Time.nullish(),
      containerStatuses: z.array(z.object({ name: z.string(), state: ContainerState })).nullish(),
    })
    .nullish(),
});
type Pod = z.infer<typeof PodSchema>;
const JobSchema = z.object({
  metadata: z.object({
    name: z.string(),
    labels: z.record(z.string(), z.string()).nullish(),
    creationTimestamp: Time.nullish(),
  }),
  spec: z
    .object({
      activeDeadlineSeconds: z.number().nullish(),
      template: z
        .object({
          spec: z
            .object({
              containers: z
                .array(
                  z.object({ resources: z.object({ limits: z.record(z.string(), z.unknown()).nullish() }).nullish() }),
                )
                .nullish(),
            })
            .nullish(),
        })
        .nullish(),
    })
    .nullish(),
  status: z
    .object({
      conditions: z
        .array(
          z.object({
            type: z.string(),
            status: z.string(),
            reason: z.string().nullish(),
            message: z.string().nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});
type Job = z.infer<typeof JobSchema>;

const dns = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');

/**
 * Pod status reasons that mean the node went away under the pod, not that the probe failed
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/,
 * https://kubernetes.io/docs/concepts/cluster-administration/node-shutdown/): transient evidence.
 * UnexpectedAdmissionError is the kubelet failing to hand the device to the pod.
 */
const NODE_FAILURE_REASONS = new Set([
  'Evicted',
  'NodeLost',
  'Shutdown',
  'Terminated',
  'NodeShutdown',
  'UnexpectedAdmissionError',
  'Preempting',
  'DeletionByTaintManager',
]);
/** Container waiting reasons that mean the image never ran (https://kubernetes.io/docs/concepts/containers/images/#imagepullbackoff). */
const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** A Job condition that says it is over (https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup). */
const finished = (job: Job) =>
  (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
const gpusOf = (job: Job) =>
  (job.spec?.template?.spec?.containers ?? []).reduce(
    (n, c) => n + Number(c.resources?.limits?.[GPU_RESOURCE] ?? 0),
    0,
  );

/**
 * A GPU probe: a Job in the probe namespace requesting the GPU, whose container prints what
 * nvidia-smi sees. It selects the exact accelerator (and Spot) so the answer is about that type.
 *
 * Outcomes, each from the first signal that settles it:
 * - the Job's own events: FailedCreate from an admission webhook → rejected; from the probe
 *   namespace's ResourceQuota → transient (probe-quota), at once instead of waiting out the deadline;
 * - the pod: Running/Succeeded with nvidia-smi output → success; Failed → transient with its cause
 *   (crash, node failure); an image that cannot be pulled → transient (image-pull);
 * - the pod's events: FailedScaleUp and friends, classified → stockout, quota or rejected;
 * - the Job failing with DeadlineExceeded, or no answer by the deadline → timeout.
 * Only this probe's own Job (a name fixed by sweep, GPU and Spot) is ever deleted.
 */
export class KubeProbeRunner implements ProbePort {
  private readonly o: Required<ProbeOptions>;

  constructor(
    private readonly apis: KubeApis,
    private readonly membership: string,
    private readonly policy: CallPolicy,
    options: ProbeOptions,
  ) {
    this.o = {
      // Only when the spec names neither scout.probeImage nor scout.image (the CLI passes them):
      // a tag on Docker Hub, which the fleet does not control (docs/runbook.md step 8 mirrors one).
      image: 'nvidia/cuda:12.4.1-base-ubuntu22.04',
      pollMs: 5000,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      logger: silentLogger,
      ...options,
    };
  }

  /** The Job's name: fixed by sweep, GPU type and Spot, so a repeated create finds the same Job (409 → read). */
  static jobName(req: Pick<ProbeRequest, 'sweepId' | 'gpu' | 'spot'>): string {
    return dns(`gpu-probe-${req.sweepId}-${req.gpu.replace(/^nvidia-(tesla-)?/, '')}-${req.spot ? 'spot' : 'od'}`)
      .slice(0, 63)
      .replace(/-+$/, '');
  }

  jobFor(req: ProbeRequest): V1Job {
    const name = KubeProbeRunner.jobName(req);
    const labels = {
      [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
      'app.kubernetes.io/component': 'gpu-probe',
      [PROBE_LABEL]: 'true',
      [SWEEP_LABEL]: dns(req.sweepId).slice(0, 63).replace(/-+$/, ''),
      [`${LABEL_PREFIX}/gpu`]: req.gpu,
    };
    const nodeSelector: Record<string, string> = { 'cloud.google.com/gke-accelerator': req.gpu };
    if (req.spot) nodeSelector['cloud.google.com/gke-spot'] = 'true';
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: req.namespace, labels },
      spec: {
        activeDeadlineSeconds: req.deadlineSeconds,
        ttlSecondsAfterFinished: 300,
        backoffLimit: 0,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            nodeSelector,
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                name: 'main',
                image: this.o.image,
                // GKE mounts the driver utilities under /usr/local/nvidia (https://cloud.google.com/kubernetes-engine/docs/how-to/gpus#cuda).
                command: [
                  '/usr/local/nvidia/bin/nvidia-smi',
                  '--query-gpu=name,memory.total,driver_version',
                  '--format=csv,noheader',
                ],
                env: [{ name: 'LD_LIBRARY_PATH', value: '/usr/local/nvidia/lib64' }],
                resources: {
                  limits: { [GPU_RESOURCE]: String(req.count), cpu: '500m', memory: '1Gi' },
                  requests: { [GPU_RESOURCE]: String(req.count), cpu: '500m', memory: '1Gi' },
                },
                securityContext: { allowPrivilegeEscalation: false },
              },
            ],
          },
        },
      },
    };
  }

  async run(req: ProbeRequest): Promise<ProbeResult> {
    const job = this.jobFor(req);
    const name = job.metadata!.name!;
    const scope = { cluster: this.membership, region: req.region };
    const started = this.o.clock.now().getTime();
    const result = (
      outcome: ProbeResult['outcome'],
      details: string,
      extra: Partial<ProbeResult> = {},
    ): ProbeResult => ({
      outcome,
      cause: null,
      details,
      gpuName: null,
      gpuMemoryMiB: null,
      secondsToRunning: null,
      zone: null,
      ...extra,
    });
    const call = <T>(fn: (signal: AbortSignal) => Promise<T>) => this.policy.run('connectgateway', scope, fn);
    try {
      try {
        // Safe to repeat: the name is fixed, so a create that reached the server before its
        // timeout makes the retry answer 409 AlreadyExists, which is read as success.
        await call((signal) =>
          this.apis.batch.createNamespacedJob({ namespace: req.namespace, body: job }, abortable(signal)),
        );
      } catch (e) {
        const { status, reason } = answerOf(e);
        if (status === 409 && reason === 'AlreadyExists') {
          // ours: an earlier attempt of this very create reached the server
        } else if (status === 403 && reason === 'Forbidden') {
          // Autopilot admission (Warden) or a ResourceQuota on Jobs answers the create itself.
          const denied = this.denial((e as Error).message, { httpStatus: status });
          if (denied) return result(denied.outcome, denied.details, { cause: denied.cause });
          throw e;
        } else {
          throw e;
        }
      }
      while (this.o.clock.now().getTime() - started < req.deadlineSeconds * 1000) {
        const current = JobSchema.parse(
          await call((signal) =>
            this.apis.batch.readNamespacedJob({ name, namespace: req.namespace }, abortable(signal)),
          ),
        );
        const pods = await call((signal) =>
          this.apis.core.listNamespacedPod(
            { namespace: req.namespace, labelSelector: `job-name=${name}` },
            abortable(signal),
          ),
        );
        const pod = pods.items.map((p) => PodSchema.parse(p))[0];
        const settled = pod ? await this.fromPod(req, pod, started) : await this.fromJobEvents(req, name);
        if (settled) return result(settled.outcome, settled.details, settled);
        const failed = (current.status?.conditions ?? []).find((c) => c.type === 'Failed' && c.status === 'True');
        if (failed?.reason === 'DeadlineExceeded') break;
        await this.o.sleep(this.o.pollMs);
      }
      return result('timeout', `no GPU within ${req.deadlineSeconds} s`);
    } finally {
      // Always, whatever happened: the name is this probe's own, and a create whose answer was lost
      // may still have made the Job.
      await this.deleteJob(req.namespace, name, scope);
    }
  }

  /** Classify an admission or quota denial; null when the message is neither. */
  private denial(
    message: string,
    fields: FailureFields,
  ): { outcome: ProbeResult['outcome']; cause: EvidenceCause; details: string } | null {
    const cls = classify(message, fields);
    // A Kubernetes ResourceQuota is the probe namespace's own cap, not Google's quota: another
    // probe holds it. Says nothing about GPU capacity.
    if (cls.kind === 'quota' && cls.scope === 'namespace')
      return { outcome: 'transient', cause: 'probe-quota', details: message };
    if (cls.kind === 'rejected') return { outcome: 'rejected', cause: 'admission', details: message };
    return null;
  }

  /** Events about one object in the probe namespace, newest first. */
  private async eventsOf(req: ProbeRequest, fieldSelector: string) {
    const events = await this.policy.run('connectgateway', { cluster: this.membership, region: req.region }, (signal) =>
      this.apis.core.listNamespacedEvent({ namespace: req.namespace, fieldSelector }, abortable(signal)),
    );
    return events.items.map((x) => EventSchema.parse(x)).sort((a, b) => eventTime(b).localeCompare(eventTime(a)));
  }

  /** The Job controller reports a pod it could not create as a FailedCreate event on the Job. */
  private async fromJobEvents(
    req: ProbeRequest,
    job: string,
  ): Promise<(Partial<ProbeResult> & Pick<ProbeResult, 'outcome' | 'details'>) | null> {
    for (const e of await this.eventsOf(req, `involvedObject.kind=Job,involvedObject.name=${job}`)) {
      if (e.reason !== 'FailedCreate' || !e.message) continue;
      const denied = this.denial(e.message, { reason: e.reason });
      if (denied) return { ...denied, details: `FailedCreate: ${e.message}` };
    }
    return null;
  }

  private async fromPod(
    req: ProbeRequest,
    pod: Pod,
    started: number,
  ): Promise<(Partial<ProbeResult> & Pick<ProbeResult, 'outcome' | 'details'>) | null> {
    const scope = { cluster: this.membership, region: req.region };
    const phase = pod.status?.phase;
    const zone = /-([a-z]+-[a-z]+\d+-[a-z])$/.exec(pod.spec?.nodeName ?? '')?.[1] ?? null;
    const states = (pod.status?.containerStatuses ?? []).map((c) => c.state);
    if (phase === 'Succeeded' || phase === 'Running') {
      const log = await this.policy
        .run('connectgateway', scope, (signal) =>
          this.apis.core.readNamespacedPodLog({ name: pod.metadata.name, namespace: req.namespace }, abortable(signal)),
        )
        .catch(() => '');
      const seen = parseNvidiaSmi(String(log));
      if (seen) {
        const runningAt = pod.status?.startTime
          ? new Date(pod.status.startTime).getTime()
          : this.o.clock.now().getTime();
        return {
          outcome: 'success',
          details: `${seen.name}, ${seen.memoryMiB} MiB, driver ${seen.driver}`,
          gpuName: seen.name,
          gpuMemoryMiB: seen.memoryMiB,
          secondsToRunning: Math.round((runningAt - started) / 1000),
          zone,
        };
      }
      // Succeeded without nvidia-smi output: the container ran but saw no GPU it could report.
      if (phase === 'Succeeded')
        return {
          outcome: 'transient',
          cause: 'crash',
          details: `probe pod ${pod.metadata.name} finished without nvidia-smi output`,
          zone,
        };
      return null;
    }
    if (phase === 'Failed') {
      const reason = pod.status?.reason ?? '';
      if (NODE_FAILURE_REASONS.has(reason))
        return {
          outcome: 'transient',
          cause: 'node-failure',
          details: `probe pod ${pod.metadata.name} failed: ${reason}${pod.status?.message ? `: ${pod.status.message}` : ''}`,
          zone,
        };
      if (reason === 'DeadlineExceeded')
        return { outcome: 'timeout', details: `probe pod ${pod.metadata.name}: DeadlineExceeded` };
      const t = states.find((s) => s?.terminated)?.terminated;
      const how = t
        ? `${t.reason ?? 'terminated'} (exit code ${t.exitCode ?? '?'})${t.message ? `: ${t.message}` : ''}`
        : reason || 'Failed';
      return { outcome: 'transient', cause: 'crash', details: `probe pod ${pod.metadata.name} failed: ${how}`, zone };
    }
    // Pending: waiting for a node, or on the node but the container cannot start.
    const waiting = states.find((s) => s?.waiting?.reason)?.waiting;
    if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      return {
        outcome: 'transient',
        cause: 'image-pull',
        details: `probe pod ${pod.metadata.name} on ${pod.spec?.nodeName ?? 'a node'}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`,
        zone,
      };
    }
    if (waiting?.reason && CONFIG_REASONS.has(waiting.reason)) {
      return {
        outcome: 'transient',
        cause: 'container-config',
        details: `probe pod ${pod.metadata.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`,
        zone,
      };
    }
    for (const e of await this.eventsOf(req, `involvedObject.name=${pod.metadata.name}`)) {
      if (e.type !== 'Warning' || !e.message) continue;
      const cls = classify(e.message, { reason: e.reason });
      if (cls.kind === 'stockout' || cls.kind === 'quota' || cls.kind === 'rejected') {
        return {
          outcome: cls.kind,
          ...(cls.kind === 'rejected' ? { cause: 'admission' as const } : {}),
          details: `${e.reason}: ${e.message}`,
          zone: cls.zone,
        };
      }
    }
    return null;
  }

  private async deleteJob(namespace: string, name: string, scope: { cluster: string; region: string }) {
    try {
      await this.policy.run('connectgateway', scope, (signal) =>
        this.apis.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }, abortable(signal)),
      );
    } catch (e) {
      // Already gone is fine; anything else is left for the TTL controller or the next sweep's cleanup.
      if (answerOf(e).status !== 404)
        this.o.logger.warn(
          { job: name, err: (e as Error).message },
          'probe job not deleted; the next sweep cleans it up',
        );
    }
  }

  /**
   * Delete the probe Jobs that can no longer be running: finished (Complete/Failed) or older than
   * their own activeDeadlineSeconds, after which Kubernetes fails them
   * (https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup).
   * Younger unfinished Jobs may belong to a live probe of another runner: they are left alone and
   * reported, since they hold the namespace's GPU quota. Their pods go with them (Background propagation).
   */
  async cleanup(namespace: string): Promise<ProbeCleanup> {
    const scope = { cluster: this.membership };
    const jobs = await this.policy.run('connectgateway', scope, (signal) =>
      this.apis.batch.listNamespacedJob({ namespace, labelSelector: `${PROBE_LABEL}=true` }, abortable(signal)),
    );
    const now = this.o.clock.now().getTime();
    const live: LiveProbe[] = [];
    let removed = 0;
    for (const raw of jobs.items) {
      const job = JobSchema.parse(raw);
      const created = job.metadata.creationTimestamp ? new Date(job.metadata.creationTimestamp).getTime() : now;
      const deadlineMs = (job.spec?.activeDeadlineSeconds ?? 0) * 1000;
      // A small margin past the deadline: the Job controller needs a moment to fail it.
      const dead = finished(job) || (deadlineMs > 0 && now - created > deadlineMs + 60_000);
      if (!dead) {
        live.push({ job: job.metadata.name, sweepId: job.metadata.labels?.[SWEEP_LABEL] ?? null, gpus: gpusOf(job) });
        continue;
      }
      try {
        await this.policy.run('connectgateway', scope, (signal) =>
          this.apis.batch.deleteNamespacedJob(
            { name: job.metadata.name, namespace, propagationPolicy: 'Background' },
            abortable(signal),
          ),
        );
        removed++;
      } catch (e) {
        if (answerOf(e).status !== 404) throw e;
      }
    }
    return { removed, live };
  }
}
