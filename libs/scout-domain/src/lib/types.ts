/** What a signal saw, for one (region, GPU type, spot/on-demand). */
export type Outcome = 'success' | 'stockout' | 'quota' | 'rejected' | 'timeout' | 'transient' | 'unknown';

/** Where an observation came from; each source has its own trust and half-life. */
export type EvidenceSource = 'probe' | 'passive' | 'quota' | 'catalog';

export interface Observation {
  source: EvidenceSource;
  region: string;
  zone: string | null;
  gpu: string;
  spot: boolean;
  outcome: Outcome;
  /** ISO-8601 time of the observation. */
  at: string;
  /** Human-readable detail: the classified message, the GPU seen, the quota numbers. */
  details: string;
  /** Sweep that recorded it, for tracing. */
  sweepId?: string;
}

/** Where a failure applies: how far the scout has to step away. */
export type FailureScope = 'zone' | 'region' | 'project';

export type FailureKind = 'stockout' | 'quota' | 'rejected' | 'transient' | 'unknown';

export interface Classification {
  kind: FailureKind;
  scope: FailureScope | null;
  zone: string | null;
  region: string | null;
  gpu: string | null;
  /** Zones Google's message says currently have capacity. */
  suggestedZones: string[];
  /** Quota metric named by the message, when it is a quota error. */
  metric: string | null;
}
