import { connectionDrainingSeconds } from '@gpu-fleet/fleet-spec';
import { MINUTE_MS, type PlanBuilder } from '../plan-builder';

/**
 * Rule 4, drained to standby: a draining cluster goes to standby once its in-flight requests had
 * time to finish — the longest request (ingress.backendTimeoutSec), which connection draining covers.
 * Unchanged for the whole history means draining at least since its oldest record; with no history
 * the drain may have just begun, so it waits until a sweep has seen it draining.
 */
export function standDrained(p: PlanBuilder): void {
  const drainMinutes = Math.ceil(Math.max(p.spec.ingress.backendTimeoutSec, connectionDrainingSeconds(p.spec)) / 60);
  for (const c of p.work.filter((x) => x.mode === 'draining' && !p.isTouched(x.name))) {
    const s = p.healthOf(c.name)?.since ?? p.fleet.history[0]?.at;
    if (!s) {
      p.notes.push(`${c.name} draining; standby once the history shows it drained for ${drainMinutes} min`);
      continue;
    }
    const waited = (p.now.getTime() - Date.parse(s)) / MINUTE_MS;
    if (waited >= drainMinutes)
      p.change(
        c,
        'standby',
        { mode: 'standby' },
        `drained for ${Math.floor(waited)} min (≥ ${drainMinutes} min: the longest request, which connection draining covers)`,
      );
    else p.notes.push(`${c.name} draining for ${Math.floor(waited)}/${drainMinutes} min before standby`);
  }
}
