import { z } from 'zod';
import type { EvidenceSource, Observation, Outcome } from './types';

/**
 * How long an observation stays relevant, as a half-life in minutes. A stockout is a moving target
 * (zones refill within the hour); a probe that got a GPU is good news for a couple of hours; a quota
 * limit changes only when someone asks for more; a rejection (type unsupported) is structural.
 */
export const HALF_LIFE_MINUTES: Readonly<Record<Outcome, number>> = {
  stockout: 30,
  success: 120,
  quota: 24 * 60,
  rejected: 7 * 24 * 60,
  timeout: 30,
  transient: 10,
  unknown: 10,
};

/**
 * Half-life of the learned uptime (DecayedEvidence.uptime), the slow loop's memory of how reliably a
 * (region, GPU) had capacity: one day. Spot supply varies across regions and through the day with the
 * demand of other tenants (SkyServe, EuroSys 2025, §2: preemptions and availability differ by region
 * and change over time, https://arxiv.org/abs/2411.01438; SkyNomad predicts spot lifetimes per region
 * from probes for the same reason, https://arxiv.org/abs/2601.06520): a one-day half-life weighs a full
 * daily cycle, so one good or bad hour does not decide, and a region that recovered is forgiven within
 * days. Observations are kept for UPTIME_KEEP_HALF_LIVES of it, even once their own half-life made
 * them irrelevant to the current capacity.
 */
export const UPTIME_HALF_LIFE_MINUTES = 24 * 60;
export const UPTIME_KEEP_HALF_LIVES = 4;

/** How much each outcome says about capacity: +1 a GPU was had, −1 none was. */
const CAPACITY_VALUE: Readonly<Record<Outcome, number>> = {
  success: 1,
  stockout: -1,
  timeout: -0.5,
  quota: 0,
  rejected: 0,
  transient: 0,
  unknown: 0,
};

/** How much a source is trusted: a probe is a direct measurement, a pending app pod nearly so. */
const SOURCE_TRUST: Readonly<Record<EvidenceSource, number>> = { probe: 1, passive: 0.8, quota: 1 };

/** An observation's weight in the learned uptime: its source's trust, halved every UPTIME_HALF_LIFE_MINUTES; 0 for outcomes that say nothing about capacity. */
export const learnedWeightAt = (observation: Observation, now: Date): number => {
  if (CAPACITY_VALUE[observation.outcome] === 0) return 0;
  const ageMin = Math.max(0, (now.getTime() - Date.parse(observation.at)) / 60_000);
  return SOURCE_TRUST[observation.source] * 0.5 ** (ageMin / UPTIME_HALF_LIFE_MINUTES);
};
const UPTIME_KEEP_WEIGHT = 0.5 ** UPTIME_KEEP_HALF_LIVES;

export const weightAt = (observation: Observation, now: Date): number => {
  const ageMin = Math.max(0, (now.getTime() - Date.parse(observation.at)) / 60_000);
  return SOURCE_TRUST[observation.source] * 0.5 ** (ageMin / HALF_LIFE_MINUTES[observation.outcome]);
};

export interface EvidenceKey {
  region: string;
  gpu: string;
  spot: boolean;
}
export const keyOf = (k: EvidenceKey) => `${k.region}|${k.gpu}|${k.spot ? 'spot' : 'on-demand'}`;

export interface DecayedEvidence extends EvidenceKey {
  /** −1 (consistently no capacity) … +1 (consistently got GPUs); 0 when nothing is known. */
  capacity: number;
  /** Sum of decayed weights behind `capacity`: how much is known. */
  confidence: number;
  /**
   * Learned uptime, 0…1: the share of capacity observations that found GPUs, each weighted by a
   * one-day half-life (UPTIME_HALF_LIFE_MINUTES) whatever its outcome, with one success and one
   * failure as prior — 0.5 when nothing is known, and a single sighting moves it only part-way.
   */
  uptime: number;
  /** Sum of the one-day weights behind `uptime`. */
  uptimeWeight: number;
  /** Decayed weight of stockout observations (≥ 0.5 ≈ within the last half-life). */
  stockoutWeight: number;
  quotaWeight: number;
  rejectedWeight: number;
  lastSeen: string | null;
  /** The observations behind it, newest first, with their current weight. */
  observations: Array<Observation & { weight: number }>;
}

export const LEDGER_SCHEMA_VERSION = 1;

export const ObservationSchema = z.object({
  source: z.enum(['probe', 'passive', 'quota']),
  region: z.string(),
  zone: z.string().nullable(),
  gpu: z.string(),
  spot: z.boolean(),
  outcome: z.enum(['success', 'stockout', 'quota', 'rejected', 'timeout', 'transient', 'unknown']),
  at: z.iso.datetime(),
  details: z.string(),
  sweepId: z.string().optional(),
  // Added after v1 shipped (optional, so older ledgers still read).
  cause: z.enum(['admission', 'probe-quota', 'crash', 'image-pull', 'node-failure', 'container-config']).optional(),
  since: z.iso.datetime().optional(),
});

/** One sweep's verdict per cluster: the history behind hysteresis (bad sweeps in a row) and dwell times. */
export const SweepRecordSchema = z.object({
  id: z.string(),
  at: z.iso.datetime(),
  clusters: z.array(
    z.object({
      name: z.string(),
      mode: z.enum(['active', 'standby', 'draining']),
      gpu: z.string(),
      health: z.enum(['good', 'bad', 'pending', 'unknown', 'idle']),
    }),
  ),
});
export type StoredSweep = z.infer<typeof SweepRecordSchema>;

/** Sweeps kept: enough for hysteresis and a day of dwell times at 15-minute sweeps, small for a ConfigMap. */
export const SWEEP_HISTORY_LIMIT = 96;

export const LedgerSnapshotSchema = z.object({
  schemaVersion: z.literal(LEDGER_SCHEMA_VERSION),
  observations: z.array(ObservationSchema),
  /** Added after v1 shipped; absent in older files (read as no history). */
  sweeps: z.array(SweepRecordSchema).optional(),
});
export type LedgerSnapshot = z.infer<typeof LedgerSnapshotSchema>;

/** A stored ledger's text → the snapshot, or why it cannot be read (for the stores to set it aside). */
export function parseLedgerSnapshot(text: string): { snapshot: LedgerSnapshot } | { reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { reason: `not JSON: ${(e as Error).message}` };
  }
  const parsed = LedgerSnapshotSchema.safeParse(json);
  if (parsed.success) return { snapshot: parsed.data as LedgerSnapshot };
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  return {
    reason:
      version !== LEDGER_SCHEMA_VERSION
        ? `schemaVersion ${JSON.stringify(version)} is not supported (expected ${LEDGER_SCHEMA_VERSION})`
        : parsed.error.issues
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .slice(0, 3)
            .join('; '),
  };
}

export interface LedgerOptions {
  /** Keep at most this many observations (newest kept). */
  maxObservations?: number;
  /** Keep the snapshot's JSON at most this many bytes (newest observations kept; see fitSnapshot). */
  maxBytes?: number;
  /** Forget observations whose weight fell below this. */
  minWeight?: number;
}

/** The evidence history: append observations, query decayed evidence per (region, GPU, spot). */
export class EvidenceLedger {
  private observations: Observation[];
  private history: StoredSweep[] = [];
  private readonly max: number;
  private readonly maxBytes: number;
  private readonly minWeight: number;
  private ids: Set<string> | null = null;
  /** Repeating conditions (see add): what each says → its observation. */
  private repeats: Map<string, Observation> | null = null;

  constructor(observations: Observation[] = [], options: LedgerOptions = {}) {
    this.observations = [...observations];
    this.max = options.maxObservations ?? 5000;
    this.maxBytes = options.maxBytes ?? Infinity;
    this.minWeight = options.minWeight ?? 0.001;
  }

  static fromSnapshot(snapshot: LedgerSnapshot, options?: LedgerOptions): EvidenceLedger {
    const l = new EvidenceLedger(snapshot.observations as Observation[], options);
    l.history = [...(snapshot.sweeps ?? [])];
    return l;
  }

  /** Earlier sweeps, oldest first. */
  sweeps(): readonly StoredSweep[] {
    return this.history;
  }

  /** Record a sweep (a re-run of the same sweep id replaces it), oldest dropped beyond the limit. */
  recordSweep(record: StoredSweep): void {
    this.history = [...this.history.filter((h) => h.id !== record.id), record].slice(-SWEEP_HISTORY_LIMIT);
  }

  /**
   * Append observations; the same event seen again by a later sweep is recorded once. A quota
   * observation that says what the last one for its key said (same outcome, same numbers) is not
   * appended but refreshes that one (`at` the latest sighting, `since` the first): one sweep every
   * 20 minutes recording each zero-headroom quota would otherwise fill the store in days.
   */
  add(...obs: Observation[]): number {
    // The identities are kept between calls: rebuilding them per call made each sweep's adds quadratic.
    const seen = (this.ids ??= new Set(this.observations.map(identity)));
    const repeats = (this.repeats ??= new Map(
      this.observations.filter((o) => o.source === 'quota').map((o) => [repeatKey(o), o] as const),
    ));
    let added = 0;
    for (const observation of obs) {
      if (seen.has(identity(observation))) continue;
      if (observation.source === 'quota') {
        const last = repeats.get(repeatKey(observation));
        if (last) {
          if (Date.parse(observation.at) > Date.parse(last.at)) {
            seen.delete(identity(last));
            last.since ??= last.at;
            last.at = observation.at;
            last.sweepId = observation.sweepId;
            seen.add(identity(last));
          }
          continue;
        }
        repeats.set(repeatKey(observation), observation);
      }
      seen.add(identity(observation));
      this.observations.push(observation);
      added++;
    }
    return added;
  }

  all(): readonly Observation[] {
    return this.observations;
  }

  /**
   * Take in another writer's snapshot (two runners sharing one store): observations are a set, so
   * the union loses nothing and counts nothing twice; sweeps are merged by id, in time order.
   */
  merge(other: LedgerSnapshot): void {
    this.add(...(other.observations as Observation[]));
    const byId = new Map([...(other.sweeps ?? []), ...this.history].map((s) => [s.id, s]));
    this.history = [...byId.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).slice(-SWEEP_HISTORY_LIMIT);
  }

  /** Drop what has decayed away and bound the size; call before saving. */
  compact(now: Date): void {
    this.ids = null;
    this.repeats = null;
    this.observations = this.observations
      .filter((o) => weightAt(o, now) >= this.minWeight || learnedWeightAt(o, now) >= UPTIME_KEEP_WEIGHT)
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
      .slice(-this.max);
    if (this.maxBytes !== Infinity) {
      const fitted = fitSnapshot(this.raw(), this.maxBytes);
      this.observations = fitted.observations as Observation[];
      this.history = fitted.sweeps ?? [];
    }
  }

  private raw(): LedgerSnapshot {
    return { schemaVersion: LEDGER_SCHEMA_VERSION, observations: this.observations, sweeps: this.history };
  }

  snapshot(now: Date): LedgerSnapshot {
    this.compact(now);
    return this.raw();
  }

  /** Decayed evidence for every key with observations. */
  query(now: Date): DecayedEvidence[] {
    const groups = new Map<string, Observation[]>();
    for (const observation of this.observations) {
      const k = keyOf(observation);
      const group = groups.get(k);
      // Appending in place: copying the group per observation made a query quadratic in the history.
      if (group) group.push(observation);
      else groups.set(k, [observation]);
    }
    return [...groups.values()].map((obs) => summarise(obs, now)).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }

  evidenceFor(key: EvidenceKey, now: Date): DecayedEvidence {
    return summarise(
      this.observations.filter((o) => keyOf(o) === keyOf(key)),
      now,
      key,
    );
  }
}

/** Bytes of a snapshot as the stores write it (compact JSON, UTF-8). */
const utf8 = new TextEncoder();
const bytes = (value: unknown): number => utf8.encode(JSON.stringify(value)).length;
export const snapshotBytes = (snapshot: LedgerSnapshot): number => bytes(snapshot);

/**
 * The snapshot within `maxBytes` of JSON: the oldest observations go first (they weigh least), then,
 * if it still does not fit, the oldest sweeps. Observations are kept in time order, so the cut is
 * one prefix. Pure; the input is not changed.
 */
export function fitSnapshot(snapshot: LedgerSnapshot, maxBytes: number): LedgerSnapshot {
  const total = snapshotBytes(snapshot);
  if (total <= maxBytes) return snapshot;
  const observations = [...snapshot.observations].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  let over = total - maxBytes;
  let drop = 0;
  // Each observation costs its JSON and a separating comma.
  while (over > 0 && drop < observations.length) over -= bytes(observations[drop++]) + 1;
  let sweeps = snapshot.sweeps ?? [];
  let cut = 0;
  while (over > 0 && cut < sweeps.length) over -= bytes(sweeps[cut++]) + 1;
  sweeps = sweeps.slice(cut);
  return { ...snapshot, observations: observations.slice(drop), sweeps };
}

/** What a repeating condition says: the same key, source, outcome and numbers. */
const repeatKey = (o: Observation) => `${keyOf(o)}|${o.source}|${o.outcome}|${o.details}`;

const identity = (observation: Observation) =>
  `${keyOf(observation)}|${observation.source}|${observation.at}|${observation.outcome}|${observation.details}`;

function summarise(obs: Observation[], now: Date, key?: EvidenceKey): DecayedEvidence {
  const weighted = obs
    .filter((o) => Date.parse(o.at) <= now.getTime())
    .map((o) => ({ ...o, weight: weightAt(o, now) }))
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const k = key ?? { region: obs[0]!.region, gpu: obs[0]!.gpu, spot: obs[0]!.spot };
  let num = 0;
  let den = 0;
  let had = 0;
  let missed = 0;
  const byOutcome = (outcome: Outcome) =>
    weighted.filter((o) => o.outcome === outcome).reduce((s, o) => s + o.weight, 0);
  for (const observation of weighted) {
    const v = CAPACITY_VALUE[observation.outcome];
    if (v === 0) continue;
    const lw = learnedWeightAt(observation, now);
    if (v > 0) had += v * lw;
    else missed += -v * lw;
    // A serving cluster's own success (every replica ready, one per sweep) teaches the uptime only:
    // in `capacity` hours of them would outweigh the stockouts of a region that just lost its GPUs,
    // and the cluster's health already says it serves.
    if (observation.source === 'passive' && v > 0) continue;
    num += v * observation.weight;
    den += observation.weight;
  }
  return {
    region: k.region,
    gpu: k.gpu,
    spot: k.spot,
    capacity: den > 0 ? num / Math.max(den, 1) : 0,
    confidence: den,
    uptime: (had + 1) / (had + missed + 2),
    uptimeWeight: had + missed,
    stockoutWeight: byOutcome('stockout'),
    quotaWeight: byOutcome('quota'),
    rejectedWeight: byOutcome('rejected'),
    lastSeen: weighted[0]?.at ?? null,
    observations: weighted,
  };
}
