import { show } from '../issues';
import type { SemanticContext } from './context';

/** clusters: unique names, regions among the candidates, GPUs preferred and offered there, modes within the serving range, valid `replaces`. */
export function checkClusters(ctx: SemanticContext): void {
  const { add, catalog, gpu, placement, clusters, checkRegion, candidates, names } = ctx;
  clusters.forEach((c, i) => {
    const at = (field: string) => ['clusters', i, field];
    if (c.name !== undefined) {
      const firstName = names.get(c.name);
      if (firstName !== undefined)
        add(at('name'), `${show(c.name)} is already used by clusters[${firstName}]; cluster names must be unique`);
      else names.set(c.name, i);
    }
    let regionOk = false;
    if (c.region !== undefined) {
      regionOk = checkRegion(at('region'), c.region);
      if (regionOk && placement && !candidates.has(c.region)) {
        add(
          at('region'),
          `${show(c.region)} is not in placement.candidateRegions (${[...candidates].join(', ')}); add it there first`,
        );
      }
    }
    if (c.gpu === undefined) {
      // reported by the schema
    } else if (gpu && !gpu.preferences.includes(c.gpu)) {
      add(
        at('gpu'),
        `${show(c.gpu)} is not in gpu.preferences (${gpu.preferences.join(', ')}); add it there or pick one of them`,
      );
    } else if (regionOk && c.region && catalog.gpu(c.gpu) && !catalog.offers(c.region, c.gpu)) {
      const offered = catalog.gpusInRegion(c.region).filter((g) => !gpu || gpu.preferences.includes(g));
      const all = catalog.gpusInRegion(c.region);
      add(
        at('gpu'),
        `${show(c.gpu)} is not offered in ${c.region}; offered there: ${(offered.length ? offered : all).join(', ') || 'no GPUs'}`,
      );
    }
    if (c.mode === 'active' && c.replicas !== undefined && c.replicas < 1) {
      add(at('replicas'), `0 with mode "active" serves nothing; set replicas to 1 or more, or mode "standby"`);
    }
  });
  if (placement && clusters.length && clusters.every((c) => c.mode !== undefined && c.region !== undefined)) {
    const active = [...new Set(clusters.filter((c) => c.mode === 'active').map((c) => c.region!))];
    if (active.length < placement.minServingRegions) {
      add(
        ['clusters'],
        `${active.length} active region(s)${active.length ? ` (${active.join(', ')})` : ''} but placement.minServingRegions is ${placement.minServingRegions}; set more clusters to mode "active"`,
      );
    }
    // Make-before-break: a replacement may be active next to the cluster it replaces until it is ready.
    const replaced = new Set(clusters.filter((c) => c.mode === 'active' && c.replaces).map((c) => c.replaces!));
    const beingReplaced = clusters.filter(
      (c) => c.mode === 'active' && c.name !== undefined && replaced.has(c.name),
    ).length;
    if (active.length > placement.maxServingRegions + beingReplaced) {
      add(
        ['clusters'],
        `${active.length} active regions (${active.join(', ')}) but placement.maxServingRegions is ${placement.maxServingRegions}; set some to "standby" or raise the maximum`,
      );
    }
  }
  clusters.forEach((c, i) => {
    if (c.replaces === undefined) return;
    const path = ['clusters', i, 'replaces'];
    if (c.replaces === c.name) return add(path, `a cluster cannot replace itself; remove "replaces"`);
    if (!names.has(c.replaces))
      return add(
        path,
        `${show(c.replaces)} is not a cluster of the spec (${[...names.keys()].join(', ')}); remove "replaces" or fix the name`,
      );
    if (c.mode !== 'active')
      add(path, `only an active cluster can replace another (this one is ${show(c.mode)}); remove "replaces"`);
  });
  if (placement) {
    placement.excludedRegions.forEach((r, i) => checkRegion(['placement', 'excludedRegions', i], r));
  }
}
