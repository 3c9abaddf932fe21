import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import type { RegionSignals } from '@gpu-fleet/scout-domain';
import type { ObservedCluster, Plan } from './types';

/** The spec with the plan's clusters section (what merging the proposal produces). */
export function applyPlan(spec: FleetSpec, plan: Pick<Plan, 'clusters'>): FleetSpec {
  return { ...spec, clusters: plan.clusters.map((c) => ({ ...c })) };
}

/** What the signals saw of each cluster: GKE status and ready app pods; null where it could not see. */
export function observedFromSignals(regions: RegionSignals[]): ObservedCluster[] {
  return regions.flatMap((r) =>
    r.clusters.map((c) => ({
      name: c.name,
      exists: c.status === 'UNKNOWN' ? null : c.status !== 'MISSING',
      readyReplicas: c.mode === 'standby' ? 0 : c.readyPods,
      pendingPods: c.pendingPods,
    })),
  );
}
