import { READY_GATE_RESOURCES } from '../derived';
import type { AppSpec } from '../schema';

export const round = (n: number) => Math.round(n * 100) / 100;

/** What each container of the WebUI Pod requests (= limits): what Autopilot sums against its maxima. */
export function podRequestParts(
  app: AppSpec,
): Array<{ name: string; cpu: number; memoryGiB: number; ephemeralGiB: number }> {
  const part = (name: string, r: { cpu: string; memory: string; ephemeralStorage: string }) => ({
    name,
    cpu: cpuQuantity(r.cpu),
    memoryGiB: memoryGiB(r.memory),
    ephemeralGiB: memoryGiB(r.ephemeralStorage),
  });
  return [
    part('webui', app.resources),
    ...(app.probes.readiness.mode === 'generation' ? [part('ready gate', READY_GATE_RESOURCES)] : []),
    ...(app.modelStorage ? [part('Cloud Storage FUSE sidecar', app.modelStorage.sidecar)] : []),
  ];
}

/** Kubernetes CPU quantity → cores. */
export function cpuQuantity(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q);
}

/** Kubernetes memory quantity → GiB. */
export function memoryGiB(q: string): number {
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|m)?$/.exec(q);
  if (!m) return NaN;
  const n = Number(m[1]);
  const unit =
    { Ki: 1 / 1024 / 1024, Mi: 1 / 1024, Gi: 1, Ti: 1024, m: 1e-3 / 1024 ** 3 }[m[2] as 'Ki'] ?? 1 / 1024 ** 3;
  return n * unit;
}
