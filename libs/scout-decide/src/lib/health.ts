import { autoscalingRoles, type ClusterSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import type { DecayedEvidence } from '@gpu-fleet/scout-domain';
import { minutesAgo, newestOf, STOCKOUT_BLOCK_WEIGHT } from './plugins';
import type { ClusterHealth, FleetState, Health, SweepRecord } from './types';

/** Active clusters the autoscaler may take to zero (spec.autoscaling, docs/autoscaling.md). */
export function coldClusters(spec: Pick<FleetSpec, 'clusters' | 'autoscaling'>): Set<string> {
  return new Set([...autoscalingRoles(spec)].filter(([, role]) => role === 'cold').map(([name]) => name));
}

/**
 * Health of one cluster this sweep, from what the fleet shows and the evidence:
 * idle (not active, or a cold region the autoscaler took to zero: no pod, none pending), pending (no cluster yet, or starting), unknown (not visible: fail-static),
 * good (every replica ready), bad (replicas missing and the evidence says why: stockout, quota
 * exhausted, rejected by Autopilot).
 */
export function healthOf(
  c: ClusterSpec,
  exists: boolean | null,
  ready: number | null,
  e: DecayedEvidence | undefined,
  now: Date,
  cold: { scalesToZero: boolean; pending: number | null } = { scalesToZero: false, pending: null },
): [Health, string] {
  if (c.mode !== 'active') return ['idle', c.mode];
  if (exists === false) return ['pending', 'no GKE cluster yet (infra/ creates it)'];
  if (ready === null) return ['unknown', 'workloads not visible this sweep'];
  // Zero pods and none waiting is the autoscaler's doing, not a failure; a pod that cannot get a node
  // when demand wakes the region is pending with stockout events, and is judged below as before.
  if (cold.scalesToZero && ready === 0 && cold.pending === 0) return ['idle', 'scaled to zero (no demand)'];
  // Awake on demand: one ready replica serves; the autoscaler, not the spec, sets how many.
  if (cold.scalesToZero && ready >= 1) return ['good', `${ready} ready (woken by demand)`];
  if (ready >= c.replicas) return ['good', `${ready}/${c.replicas} ready`];
  const stock = e && e.stockoutWeight >= STOCKOUT_BLOCK_WEIGHT && e.capacity < 0;
  const seen = (outcome: string) => {
    const observation = newestOf(e, outcome)!;
    return `${observation.source}, ${minutesAgo(now, observation.at)} min ago`;
  };
  if (stock) return ['bad', `${ready}/${c.replicas} ready, ${c.gpu} stockout (${seen('stockout')})`];
  if (e && e.quotaWeight >= STOCKOUT_BLOCK_WEIGHT)
    return ['bad', `${ready}/${c.replicas} ready, quota exhausted (${seen('quota')})`];
  if (e && e.rejectedWeight >= STOCKOUT_BLOCK_WEIGHT)
    return ['bad', `${ready}/${c.replicas} ready, rejected by Autopilot (${seen('rejected')})`];
  return ['pending', `${ready}/${c.replicas} ready, starting`];
}

/** Earlier consecutive bad sweeps in the same mode and GPU; unknown sweeps are skipped, not counted. */
export function trailingBad(history: SweepRecord[], c: ClusterSpec): number {
  let n = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!.clusters.find((x) => x.name === c.name);
    if (!h || h.mode !== c.mode || h.gpu !== c.gpu) break;
    if (h.health === 'unknown') continue;
    if (h.health !== 'bad') break;
    n++;
  }
  return n;
}

/** When the trailing run of bad sweeps began: the first of them in the history, else now (this sweep is the first). */
export function badSince(history: SweepRecord[], c: ClusterSpec, now: string): string {
  let s = now;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!.clusters.find((x) => x.name === c.name);
    if (!h || h.mode !== c.mode || h.gpu !== c.gpu) break;
    if (h.health === 'unknown') continue;
    if (h.health !== 'bad') break;
    s = history[i]!.at;
  }
  return s;
}

/**
 * When the cluster entered its current mode and GPU, if the history saw it happen: the first record
 * after the last one that showed it differently (or now, when even the last sweep saw it differently).
 * null when the history shows no change (it has been so for longer than the history knows).
 */
export function since(history: SweepRecord[], c: ClusterSpec, now: string): string | null {
  let s: string | null = null;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!.clusters.find((x) => x.name === c.name);
    if (!h || h.mode !== c.mode || h.gpu !== c.gpu) return s ?? now;
    s = history[i]!.at;
  }
  return null;
}

/** The health of every cluster of the spec this sweep, with its run of bad sweeps and when it entered its mode. */
export function assessHealth(
  clusters: readonly ClusterSpec[],
  fleet: FleetState,
  evidenceOf: (region: string, gpu: string) => DecayedEvidence | undefined,
  now: Date,
  cold: ReadonlySet<string> = new Set(),
): ClusterHealth[] {
  const observed = new Map(fleet.observed.map((o) => [o.name, o]));
  const at = now.toISOString();
  return clusters.map((c) => {
    const observedCluster = observed.get(c.name);
    const [health, reason] = healthOf(
      c,
      observedCluster?.exists ?? null,
      observedCluster?.readyReplicas ?? null,
      evidenceOf(c.region, c.gpu),
      now,
      { scalesToZero: cold.has(c.name), pending: observedCluster?.pendingPods ?? null },
    );
    return {
      cluster: c.name,
      region: c.region,
      mode: c.mode,
      gpu: c.gpu,
      health,
      badSweeps: health === 'bad' ? 1 + trailingBad(fleet.history, c) : 0,
      badSince: health === 'bad' ? badSince(fleet.history, c, at) : null,
      since: since(fleet.history, c, at),
      readyReplicas: observedCluster?.readyReplicas ?? null,
      reason,
    };
  });
}
