import type { SemanticContext } from './context';

/**
 * autoscaling: warm regions within the serving minimum; with it on, a load signal to scale on (the
 * ready gate's), every active cluster under the per-region maximum (0 on an active cluster is refused by the clusters check), and the `replicas`
 * handover in its two steps (docs/autoscaling.md).
 */
export function checkAutoscaling(ctx: SemanticContext): void {
  const { add, autoscaling, placement, clusters, app } = ctx;
  if (!autoscaling) return;
  if (placement && autoscaling.warmRegions > placement.minServingRegions) {
    add(
      ['autoscaling', 'warmRegions'],
      `${autoscaling.warmRegions} exceeds placement.minServingRegions (${placement.minServingRegions}): only regions the scout keeps serving can be warm; lower warmRegions or raise the minimum`,
    );
  }
  if (!autoscaling.enabled) {
    if (autoscaling.replicasOwner === 'autoscaler')
      add(
        ['autoscaling', 'replicasOwner'],
        'autoscaler needs autoscaling.enabled: true (with autoscaling off nothing else sets replicas); set it back to config-sync',
      );
    return;
  }
  // The load each replica carries (running + queued generations) is exported by the ready gate
  // (GET /metrics); without the gate there is nothing to scale on.
  if (app && app.probes.readiness.mode !== 'generation') {
    add(
      ['app', 'probes', 'readiness', 'mode'],
      `${app.probes.readiness.mode} gives the autoscaler no load signal: autoscaling scales on the ready gate's generation count, which only mode generation runs; set it to generation or turn autoscaling off`,
    );
  }
  clusters.forEach((c, i) => {
    if (c.mode !== 'active' || c.replicas === undefined) return;
    if (c.replicas > autoscaling.maxReplicasPerRegion) {
      add(
        ['clusters', i, 'replicas'],
        `${c.replicas} exceeds autoscaling.maxReplicasPerRegion (${autoscaling.maxReplicasPerRegion}); lower it or raise the maximum`,
      );
    }
  });
}
