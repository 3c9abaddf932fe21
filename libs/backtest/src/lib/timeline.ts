import { z } from 'zod';
import { terminationGracePeriodSeconds, type FleetSpec } from '@gpu-fleet/fleet-spec';

/**
 * Every delay of the simulated timeline, with where its default comes from. All are overridable
 * (`region-scout backtest --help`); the report and the JSON print the values used.
 */
export const TimelineSchema = z.object({
  sweepIntervalMinutes: z
    .number()
    .int()
    .min(1)
    .max(1440)
    .describe('Minutes between sweeps. Default: the step of scout.schedule.cron ("*/20 * * * *" → 20).'),
  autoMergeMinutes: z
    .number()
    .min(0)
    .max(7 * 1440)
    .describe(
      'Minutes from a pull request the scout marks for auto-merge (scout.proposal.autoMerge: add-capacity, capacity-only plans) to its merge: GitHub merges once the required validate workflow passes. Default 10.',
    ),
  personMergeMinutes: z
    .number()
    .min(0)
    .max(7 * 1440)
    .describe(
      'Minutes from any other pull request being opened (or updated) to a person merging it. Default 240: within a working morning; on-call fleets set less.',
    ),
  configSyncSeconds: z
    .number()
    .min(0)
    .max(3600)
    .describe(
      'Seconds from a merge to Config Sync applying it: its default poll period of 15 s ' +
        '(RootSync spec.git.period, https://cloud.google.com/kubernetes-engine/enterprise/config-sync/docs/reference/rootsync-reposync-fields).',
    ),
  clusterCreateMinutes: z
    .number()
    .min(0)
    .max(240)
    .describe(
      'Minutes for infra/ to create a cluster in a region the fleet had none in (Terraform apply of an Autopilot cluster and its fleet membership). Default 15: an assumption (Google publishes no figure); measure your own apply.',
    ),
  nodeProvisionMinutes: z
    .number()
    .min(0)
    .max(120)
    .describe(
      'Minutes from a GPU becoming obtainable to the node being ready for the pod (Autopilot GPU node creation). Default 6.',
    ),
  appStartMinutes: z
    .number()
    .min(0)
    .max(120)
    .describe(
      'Minutes from the node being ready to the pod being Ready: image pull and model load (the ready gate waits for one generation). Default 5: an assumption for the example image; app.probes.startupTimeoutSeconds bounds it.',
    ),
  healthCheckSeconds: z
    .number()
    .min(0)
    .max(3600)
    .describe(
      'Seconds from a pod being Ready to the load balancer sending it traffic: ingress.healthCheck.checkIntervalSec × healthyThreshold, ' +
        'the health check the rendered BackendConfig asks for (5 s × 1 by default), rounded up to the simulation step.',
    ),
  nodeEventsPerMonth: z
    .number()
    .min(0)
    .max(30)
    .describe(
      'Node events per GPU node per 30 days that end an on-demand replica and make it find capacity again: GPU VMs cannot live-migrate, so host maintenance ' +
        'terminates them (https://cloud.google.com/kubernetes-engine/docs/concepts/handle-disruption-gpu-tpu), and Autopilot upgrades recycle nodes. ' +
        'Google publishes no rate; default 1 (about one auto-upgrade a month on the REGULAR channel).',
    ),
  loadMetricMinutes: z
    .number()
    .int()
    .min(0)
    .max(60)
    .describe(
      'Minutes before the autoscaler sees a change of load (demand runs only): the ready gate is scraped every 30 s by the rendered PodMonitoring and KEDA polls every 30 s (pollingInterval). Default 1.',
    ),
  requestMetricMinutes: z
    .number()
    .int()
    .min(0)
    .max(60)
    .describe(
      "Minutes before a cold region's wake trigger sees users on its continent (demand runs only): loadbalancing.googleapis.com/https/request_count is sampled every 60 s and visible after up to 210 s " +
        '(https://cloud.google.com/monitoring/api/metrics_gcp_i_o#loadbalancing), plus KEDA’s 30 s poll. Default 5.',
    ),
  terminationGraceMinutes: z
    .number()
    .int()
    .min(0)
    .max(1440)
    .describe(
      'Minutes a removed pod may keep finishing its generations (demand runs only) before it is killed and they are cut: terminationGracePeriodSeconds of the rendered Deployment, rounded down.',
    ),
  scaleUpFailureMinutes: z
    .number()
    .int()
    .min(0)
    .max(60)
    .describe(
      "Minutes from a GKE pod's scale-up attempt finding no capacity to the cluster autoscaler knowing it failed: when the FailedScaleUp event a sweep reads appears, and when the node group's back-off (5 min, doubling to 30, upstream defaults) starts. Default 2: an assumption — the autoscaler scans every 10 s and GCE refuses a VM at once with ZONE_RESOURCE_POOL_EXHAUSTED, but GKE publishes no figure for the event.",
    ),
  onDemandCapacity: z
    .enum(['always', 'trace'])
    .describe(
      'Whether a new on-demand node needs the record: one rule for every on-demand node of every policy (pure on-demand fleets, the ComputeClass fallback, SpotHedge’s fallback). always (default): the records measure spot capacity, which is the capacity Compute Engine can reclaim for standard VMs (https://cloud.google.com/compute/docs/instances/spot), so where spot can be had on-demand can too, and often where it cannot — how often the record cannot say; SkyServe’s on-demand fallback assumes it. trace: on-demand no better than the record (a lower bound). Either way a running on-demand node is never taken back (https://cloud.google.com/compute/docs/resource-error).',
    ),
  provisioning: z
    .enum(['on-demand', 'spot', 'spot-then-on-demand', 'hedged'])
    .describe(
      "on-demand: a running replica keeps its node through a stockout. spot: it is preempted when its zone has no capacity. spot-then-on-demand: a pod takes a spot node where its region has spot capacity, else an on-demand node in the same region (the ComputeClass priorities, no pull request; on-demand capacity per onDemandCapacity). hedged: the scout's fleets run Spot only and the hedge cluster adds on-demand replicas while Spot replicas are missing (docs/hedging.md); every other policy runs spot. Default: gpu.provisioning.",
    ),
});
export type Timeline = z.infer<typeof TimelineSchema>;

/** The step of a five-field cron's minute field ("*\/20" → 20, "0" → 60, "0,30" → 30), else null. */
export function cronStepMinutes(cron: string): number | null {
  const [minute, hour] = cron.trim().split(/\s+/);
  if (!minute || hour === undefined) return null;
  if (hour !== '*') return null;
  const step = /^\*\/(\d+)$/.exec(minute);
  if (step) return Number(step[1]);
  if (/^\d+$/.test(minute)) return 60;
  const list = minute.split(',').map(Number);
  if (list.length > 1 && list.every((n) => Number.isInteger(n))) return Math.round(60 / list.length);
  return null;
}

/** The timeline the spec implies, with any overrides applied and checked. */
export function timelineFor(spec: FleetSpec, overrides: Partial<Timeline> = {}): Timeline {
  const defaults: Timeline = {
    sweepIntervalMinutes: cronStepMinutes(spec.scout.schedule.cron) ?? 30,
    autoMergeMinutes: 10,
    personMergeMinutes: 240,
    configSyncSeconds: 15,
    clusterCreateMinutes: 15,
    nodeProvisionMinutes: 6,
    appStartMinutes: 5,
    healthCheckSeconds: spec.ingress.healthCheck.checkIntervalSec * spec.ingress.healthCheck.healthyThreshold,
    nodeEventsPerMonth: 1,
    loadMetricMinutes: 1,
    requestMetricMinutes: 5,
    terminationGraceMinutes: Math.floor(terminationGracePeriodSeconds(spec) / 60),
    scaleUpFailureMinutes: 2,
    onDemandCapacity: 'always',
    provisioning: spec.gpu.provisioning,
  };
  const merged = { ...defaults, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  const parsed = TimelineSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.');
    throw new TimelineError(
      `backtest: ${field} = ${JSON.stringify((merged as Record<string, unknown>)[field])} is invalid: ${issue.message}`,
    );
  }
  return parsed.data;
}

export class TimelineError extends Error {
  override name = 'TimelineError';
}
