import type { V1Job } from '@kubernetes/client-node';
import { z } from 'zod';
import { classify, type Clock, type Logger, type ProbePort, type ProbeRequest, type ProbeResult, silentLogger } from '@gpu-fleet/scout-domain';
import type { CallPolicy } from '../policy/policy';
import { EventSchema, eventTime, type KubeApis } from '../kubernetes/kubernetes';

export const PROBE_LABEL = 'gpu-fleet.dev/probe';
export const SWEEP_LABEL = 'gpu-fleet.dev/sweep';

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

const PodSchema = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({ nodeName: z.string().nullish() }).nullish(),
  status: z.object({ phase: z.string().nullish(), startTime: z.union([z.date(), z.string()]).nullish() }).nullish(),
});

const dns = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');

/**
 * A GPU probe: a Job in the probe namespace requesting the GPU, whose container prints what
 * nvidia-smi sees. It selects the exact accelerator (and Spot) so the answer is about that type.
 * Outcome: success (GPU seen, time to Running), stockout / quota / rejected (classified from the
 * admission error or the pod's events) or timeout. The Job is always deleted.
 */
export class KubeProbeRunner implements ProbePort {
  private readonly o: Required<ProbeOptions>;

  constructor(
    private readonly apis: KubeApis,
    private readonly membership: string,
    private readonly policy: CallPolicy,
    options: ProbeOptions,
  ) {
    this.o = { image: 'nvidia/cuda:12.4.1-base-ubuntu22.04', pollMs: 5000, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), logger: silentLogger, ...options };
  }

  jobFor(req: ProbeRequest): V1Job {
    const name = dns(`gpu-probe-${req.sweepId}-${req.gpu.replace(/^nvidia-(tesla-)?/, '')}-${req.spot ? 'spot' : 'od'}`).slice(0, 63);
    const labels = { 'app.kubernetes.io/managed-by': 'region-scout', 'app.kubernetes.io/component': 'gpu-probe', [PROBE_LABEL]: 'true', [SWEEP_LABEL]: dns(req.sweepId).slice(0, 63), 'gpu-fleet.dev/gpu': req.gpu };
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
                command: ['/usr/local/nvidia/bin/nvidia-smi', '--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'],
                env: [{ name: 'LD_LIBRARY_PATH', value: '/usr/local/nvidia/lib64' }],
                resources: { limits: { 'nvidia.com/gpu': String(req.count), cpu: '500m', memory: '1Gi' }, requests: { 'nvidia.com/gpu': String(req.count), cpu: '500m', memory: '1Gi' } },
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
    const result = (outcome: ProbeResult['outcome'], details: string, extra: Partial<ProbeResult> = {}): ProbeResult => ({ outcome, details, gpuName: null, gpuMemoryMiB: null, secondsToRunning: null, zone: null, ...extra });
    try {
      try {
        await this.policy.run('connectgateway', scope, () => this.apis.batch.createNamespacedJob({ namespace: req.namespace, body: job }));
      } catch (e) {
        // Autopilot admission (Warden) answers the create with the reason.
        const message = (e as Error).message;
        const cls = classify(message);
        if (cls.kind === 'rejected' || cls.kind === 'quota') return result(cls.kind, message);
        throw e;
      }
      while (this.o.clock.now().getTime() - started < req.deadlineSeconds * 1000) {
        const pods = await this.policy.run('connectgateway', scope, () => this.apis.core.listNamespacedPod({ namespace: req.namespace, labelSelector: `job-name=${name}` }));
        const pod = pods.items.map((p) => PodSchema.parse(p))[0];
        if (pod) {
          const phase = pod.status?.phase;
          if (phase === 'Succeeded' || phase === 'Running') {
            const log = await this.policy.run('connectgateway', scope, () => this.apis.core.readNamespacedPodLog({ name: pod.metadata.name, namespace: req.namespace })).catch(() => '');
            const seen = parseNvidiaSmi(String(log));
            if (seen) {
              const runningAt = pod.status?.startTime ? new Date(pod.status.startTime).getTime() : this.o.clock.now().getTime();
              const zone = /-([a-z]+-[a-z]+\d+-[a-z])$/.exec(pod.spec?.nodeName ?? '')?.[1] ?? null;
              return result('success', `${seen.name}, ${seen.memoryMiB} MiB, driver ${seen.driver}`, { gpuName: seen.name, gpuMemoryMiB: seen.memoryMiB, secondsToRunning: Math.round((runningAt - started) / 1000), zone });
            }
          } else if (phase === 'Failed') {
            return result('rejected', `probe pod failed (${pod.metadata.name})`);
          }
          const events = await this.policy.run('connectgateway', scope, () => this.apis.core.listNamespacedEvent({ namespace: req.namespace, fieldSelector: `involvedObject.name=${pod.metadata.name}` }));
          for (const e of events.items.map((x) => EventSchema.parse(x)).sort((a, b) => eventTime(b).localeCompare(eventTime(a)))) {
            if (e.type !== 'Warning' || !e.message) continue;
            const cls = classify(e.message);
            if (cls.kind === 'stockout' || cls.kind === 'quota' || cls.kind === 'rejected') return result(cls.kind, `${e.reason}: ${e.message}`, { zone: cls.zone });
          }
        }
        await this.o.sleep(this.o.pollMs);
      }
      return result('timeout', `no GPU within ${req.deadlineSeconds} s`);
    } finally {
      await this.deleteJob(req.namespace, name, scope);
    }
  }

  private async deleteJob(namespace: string, name: string, scope: { cluster: string; region: string }) {
    try {
      await this.policy.run('connectgateway', scope, () => this.apis.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }));
    } catch (e) {
      // A 404 means it is already gone; anything else is left for the next sweep's cleanup.
      if (!/404|not found/i.test((e as Error).message)) this.o.logger.warn({ job: name, err: (e as Error).message }, 'probe job not deleted; the next sweep cleans it up');
    }
  }

  /** Delete every probe Job (and its pods) left by crashed sweeps. */
  async cleanup(namespace: string): Promise<number> {
    const scope = { cluster: this.membership };
    const jobs = await this.policy.run('connectgateway', scope, () => this.apis.batch.listNamespacedJob({ namespace, labelSelector: `${PROBE_LABEL}=true` }));
    if (!jobs.items.length) return 0;
    await this.policy.run('connectgateway', scope, () => this.apis.batch.deleteCollectionNamespacedJob({ namespace, labelSelector: `${PROBE_LABEL}=true`, propagationPolicy: 'Background' }));
    await this.policy.run('connectgateway', scope, () => this.apis.core.deleteCollectionNamespacedPod({ namespace, labelSelector: `${PROBE_LABEL}=true` }));
    return jobs.items.length;
  }
}
