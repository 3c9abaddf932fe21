import type { SemanticContext } from './context';

/**
 * autoscaling: warm regions within the serving minimum, every active cluster's replicas under the
 * per-region maximum; `enabled: true` refused until the renderer emits the autoscalers (issue 14).
 */
export function checkAutoscaling(ctx: SemanticContext): void {
  const { add, autoscaling, placement, clusters } = ctx;
  if (!autoscaling) return;
  if (placement && autoscaling.warmRegions > placement.minServingRegions) {
    add(
      ['autoscaling', 'warmRegions'],
      `${autoscaling.warmRegions} exceeds placement.minServingRegions (${placement.minServingRegions}): only regions the scout keeps serving can be warm; lower warmRegions or raise the minimum`,
    );
  }
  if (!autoscaling.enabled) return;
  clusters.forEach((c, i) => {
    if (c.mode === 'active' && c.replicas !== undefined && c.replicas > autoscaling.maxReplicasPerRegion) {
      add(
        ['clusters', i, 'replicas'],
        `${c.replicas} exceeds autoscaling.maxReplicasPerRegion (${autoscaling.maxReplicasPerRegion}); lower it or raise the maximum`,
      );
    }
  });
  add(
    ['autoscaling', 'enabled'],
    'true is not supported yet: region-scout does not render the autoscalers (a HorizontalPodAutoscaler or KEDA ScaledObject per cluster) yet, so replicas would not follow demand; keep it false (design: docs/autoscaling.md)',
  );
}
