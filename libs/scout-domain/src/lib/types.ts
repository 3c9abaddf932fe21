/** What a signal saw, for one (region, GPU type, spot/on-demand). */
export type Outcome = 'success' | 'stockout' | 'quota' | 'rejected' | 'timeout' | 'transient' | 'unknown';

/**
 * Why an observation says what it says, where the outcome alone does not: a probe that failed for
 * a reason unrelated to GPU capacity is `transient` evidence, and this names the reason.
 * - admission: Autopilot or another admission webhook denied the pod (structural: `rejected`)
 * - probe-quota: the probe namespace's own ResourceQuota was full (another probe holds it)
 * - crash: the probe container exited with an error (or was OOM-killed)
 * - image-pull: the probe image could not be pulled (the node, and so the GPU, was had)
 * - node-failure: the node went away under the pod (evicted, lost, shut down)
 * - container-config: the container could not be configured on the node
 */
export type EvidenceCause = 'admission' | 'probe-quota' | 'crash' | 'image-pull' | 'node-failure' | 'container-config';

/** Where an observation came from; each source has its own trust and half-life. */
export type EvidenceSource = 'probe' | 'passive' | 'quota';

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
  /** Why, when the outcome alone does not say (see EvidenceCause). */
  cause?: EvidenceCause;
  /**
   * A condition seen unchanged sweep after sweep (a quota at zero headroom) is kept as one
   * observation: `at` is the latest sighting, `since` the first (EvidenceLedger.add).
   */
  since?: string;
}

/**
 * Where a failure applies: how far the scout has to step away. `namespace`: a Kubernetes
 * ResourceQuota of one namespace (the scout's own probe cap), which says nothing about Google.
 */
export type FailureScope = 'zone' | 'region' | 'project' | 'namespace';

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
