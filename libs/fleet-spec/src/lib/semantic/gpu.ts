import { show } from '../issues';
import type { SemanticContext } from './context';

/** gpu: preferences known to the catalog and Autopilot, a machine shape per count, and a selection that can fall back. */
export function checkGpu(ctx: SemanticContext): void {
  const { add, catalog, gpu, didYouMean, validPrefs } = ctx;
  const knownGpus = catalog.gpuTypes();
  const autopilotGpus = catalog.autopilotGpuTypes();
  if (gpu) {
    const seen = new Set<string>();
    gpu.preferences.forEach((t, i) => {
      const path = ['gpu', 'preferences', i];
      if (seen.has(t)) return add(path, `${show(t)} is listed twice; keep its first position`);
      seen.add(t);
      const info = catalog.gpu(t);
      if (!info)
        return add(
          path,
          `${show(t)} is not a GKE accelerator type${didYouMean(t, knownGpus)} (known: ${knownGpus.join(', ')})`,
        );
      if (info.autopilotSupported !== true) {
        const state =
          info.autopilotSupported === null
            ? 'is not verified to work on GKE Autopilot'
            : 'is not supported on GKE Autopilot';
        return add(path, `${show(t)} ${state}; supported: ${autopilotGpus.join(', ')}`);
      }
      if (!info.counts.includes(gpu.count)) {
        add(
          ['gpu', 'count'],
          `${gpu.count} × ${t} is not a machine shape Google offers; valid counts for ${t}: ${info.counts.join(', ')}`,
        );
      }
      validPrefs.push(t);
    });
    if (gpu.selection === 'node-selector' && gpu.provisioning === 'spot-then-on-demand') {
      add(
        ['gpu', 'provisioning'],
        `"spot-then-on-demand" needs gpu.selection "compute-class" (a plain node selector cannot fall back); use "spot" or "on-demand", or selection "compute-class"`,
      );
    }
  }
}
