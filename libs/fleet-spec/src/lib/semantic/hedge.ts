import { show } from '../issues';
import type { SemanticContext } from './context';

/**
 * gpu.hedge: read only with provisioning hedged; its cluster must be one of `clusters`; the hedge
 * needs a ComputeClass (the Spot-only rules and the on-demand replicas' rules are two classes).
 */
export function checkHedge(ctx: SemanticContext): void {
  const { add, gpu, names, didYouMean } = ctx;
  if (!gpu) return;
  const raw = ((ctx.raw['gpu'] ?? {}) as Record<string, unknown>)['hedge'] as Record<string, unknown> | undefined;
  if (gpu.provisioning !== 'hedged') {
    for (const key of Object.keys(raw ?? {}))
      add(
        ['gpu', 'hedge', key],
        `is read only with gpu.provisioning "hedged" (it is ${show(gpu.provisioning)}); remove gpu.hedge.${key} or set provisioning hedged`,
      );
    return;
  }
  if (gpu.selection === 'node-selector')
    add(
      ['gpu', 'provisioning'],
      `"hedged" needs gpu.selection "compute-class": its Spot replicas and its on-demand replicas are two ComputeClasses; set selection compute-class, or provisioning "spot"`,
    );
  const pinned = gpu.hedge.onDemandCluster;
  if (pinned !== undefined && names.size && !names.has(pinned))
    add(
      ['gpu', 'hedge', 'onDemandCluster'],
      `${show(pinned)} is not a cluster of clusters${didYouMean(pinned, [...names.keys()])}; name one of ${[...names.keys()].join(', ')}, or remove it to use the cheapest active cluster`,
    );
}
