import { z } from 'zod';
import type { CatalogPort, Quota, QuotaPort, RegionQuotas, ZoneAccelerators } from '@gpu-fleet/scout-domain';
import type { GcpClients } from '../connection/connection';
import type { CallPolicy } from '../policy/policy';

/** gax retries off: CallPolicy is the single retry layer (and honours Retry-After). */
export const NO_GAX_RETRY = { retry: null, autoPaginate: false } as const;

/**
 * Iterate a gax async iterable, stopping (and closing the iterator) once the signal fires, so a
 * timed-out listing fetches no further pages. gax's REST transport cannot abort a request already
 * sent (its generated methods drop the cancellable promise), which is harmless here: every Compute
 * and GKE call the scout makes is a read.
 */
async function* untilAborted<T>(items: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  for await (const item of items) {
    if (signal.aborted) return;
    yield item;
  }
}

const ZoneScopedAccelerators = z.object({
  acceleratorTypes: z
    .array(z.object({ name: z.string().min(1), maximumCardsPerInstance: z.number().int().nullish() }))
    .nullish(),
});
const RegionSchema = z.object({
  name: z.string().min(1),
  quotas: z.array(z.object({ metric: z.string().min(1), limit: z.number(), usage: z.number() })).nullish(),
});
const ProjectSchema = z.object({
  quotas: z.array(z.object({ metric: z.string().min(1), limit: z.number(), usage: z.number() })).nullish(),
});

/**
 * Compute Engine signals: the accelerator offering of every zone in one aggregated call (paginated
 * by the client), and GPU quotas from regions.list and projects.get.
 * https://cloud.google.com/compute/docs/reference/rest/v1/acceleratorTypes/aggregatedList
 */
export class ComputeSignals implements CatalogPort, QuotaPort {
  private cached?: { at: number; value: Promise<ZoneAccelerators[]> };

  /**
   * @param catalogTtlMs how long the accelerator offering is reused: it changes when Google adds a
   *   GPU type to a zone, not from minute to minute (default one hour). Quotas are never cached.
   */
  constructor(
    private readonly clients: Pick<GcpClients, 'accelerators' | 'regions' | 'projects'>,
    private readonly project: string,
    private readonly policy: CallPolicy,
    private readonly clock: { now(): Date } = { now: () => new Date() },
    private readonly catalogTtlMs = 3600_000,
  ) {}

  acceleratorsByZone(): Promise<ZoneAccelerators[]> {
    const now = this.clock.now().getTime();
    if (this.cached && now - this.cached.at < this.catalogTtlMs) return this.cached.value;
    const value = this.fetchAccelerators();
    this.cached = { at: now, value };
    // a failure is not cached: the next call asks again
    value.catch(() => {
      if (this.cached?.value === value) this.cached = undefined;
    });
    return value;
  }

  private fetchAccelerators(): Promise<ZoneAccelerators[]> {
    return this.policy.run('compute', {}, async (signal) => {
      const out: ZoneAccelerators[] = [];
      for await (const [scope, value] of untilAborted(
        this.clients.accelerators.aggregatedListAsync(
          { project: this.project, maxResults: 500 },
          NO_GAX_RETRY as never,
        ),
        signal,
      )) {
        const zone = /^zones\/(.+)$/.exec(scope)?.[1];
        if (!zone) continue;
        const parsed = ZoneScopedAccelerators.parse(value);
        const accelerators = (parsed.acceleratorTypes ?? []).map((a) => ({
          gpu: a.name,
          maxPerInstance: a.maximumCardsPerInstance ?? 1,
        }));
        if (accelerators.length) out.push({ zone, region: zone.replace(/-[a-z]$/, ''), accelerators });
      }
      return out.sort((a, b) => a.zone.localeCompare(b.zone));
    });
  }

  regionQuotas(): Promise<RegionQuotas[]> {
    return this.policy.run('compute', {}, async (signal) => {
      const out: RegionQuotas[] = [];
      for await (const r of untilAborted(
        this.clients.regions.listAsync({ project: this.project, maxResults: 500 }, NO_GAX_RETRY as never),
        signal,
      )) {
        const parsed = RegionSchema.parse(r);
        out.push({ region: parsed.name, quotas: (parsed.quotas ?? []) as Quota[] });
      }
      return out;
    });
  }

  projectQuotas(): Promise<Quota[]> {
    return this.policy.run('compute', {}, async () => {
      const [project] = await this.clients.projects.get({ project: this.project }, NO_GAX_RETRY as never);
      return (ProjectSchema.parse(project).quotas ?? []).filter((q) => q.metric.includes('GPU'));
    });
  }
}
