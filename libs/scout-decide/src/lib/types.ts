import type { ClusterMode, ClusterSpec } from '@gpu-fleet/fleet-spec';
import type { StoredSweep } from '@gpu-fleet/scout-domain';

/**
 * How a cluster fared this sweep.
 * good: active and every replica ready. bad: replicas missing and the evidence says why (stockout,
 * quota, rejected). pending: starting or being created, nothing says it failed. unknown: the scout
 * could not see (fail-static: never treated as unavailable). idle: standby or draining.
 */
export type Health = StoredSweep['clusters'][number]['health'];

/** One sweep's view of the fleet, kept in the evidence store (the ledger) for hysteresis and dwell times. */
export type SweepRecord = StoredSweep;

/** What the scout saw of a cluster of the spec right now. */
export interface ObservedCluster {
  name: string;
  /** The GKE cluster exists; null when GKE could not be read. */
  exists: boolean | null;
  /** Ready app pods; null when the cluster's workloads could not be read. */
  readyReplicas: number | null;
  /** Pending app pods (waiting for a node); null or absent when unknown. */
  pendingPods?: number | null;
}

export interface FleetState {
  observed: ObservedCluster[];
  /** Earlier sweeps, oldest first. */
  history: SweepRecord[];
}

export type FilterName =
  'excluded' | 'candidate' | 'offered' | 'autopilot' | 'rejected' | 'quota' | 'stockout' | 'cluster';

/** One filter plugin's verdict on (region, GPU type). */
export interface FilterResult {
  filter: FilterName;
  pass: boolean;
  /** Short label used to group failures in the eligibility line, e.g. "quota 0", "no L4". */
  label: string;
  reason: string;
  /** The filter passed without seeing its signal (fail-static); the score is discounted. */
  unknown?: boolean;
  /** stockout: minutes since the newest stockout observation. */
  ageMinutes?: number;
}

export type ScoreName = 'capacity' | 'price' | 'spread' | 'stickiness' | 'probe' | 'preference';

/** One score plugin's part, 0…1, with why. */
export interface ScorePart {
  name: ScoreName;
  value: number;
  weight: number;
  reason: string;
}

export interface Candidate {
  region: string;
  continent: string;
  gpu: string;
  eligible: boolean;
  filters: FilterResult[];
  /** Weighted mean of the parts (0…1), discounted when a filter passed on unknown signals. Only eligible candidates are selected. */
  score: number;
  parts: ScorePart[];
  /** Existing cluster of the spec in the region, or the name a new one would get. */
  cluster: string;
  newCluster: boolean;
}

export type ChangeKind = 'activate' | 'add-cluster' | 'drain' | 'standby' | 'switch-gpu' | 'tidy';

export interface ClusterShape {
  mode: ClusterMode;
  gpu: string;
  replicas: number;
}

/** Verbs for change kinds in summaries, titles and tables. */
export const CHANGE_VERB: Readonly<Record<ChangeKind, string>> = {
  activate: 'activate',
  'add-cluster': 'add',
  drain: 'drain',
  standby: 'stand by',
  'switch-gpu': 'switch GPU of',
  tidy: 'tidy',
};

/** Changes to serving (a tidy only clears the `replaces` marker). */
export const realChanges = (changes: readonly Change[]): Change[] => changes.filter((c) => c.kind !== 'tidy');

export interface Change {
  cluster: string;
  region: string;
  kind: ChangeKind;
  from: ClusterShape | null;
  to: ClusterShape;
  /** Make-before-break: this activation replaces that cluster. */
  replaces?: string;
  reason: string;
  /** Only adds serving capacity (eligible for auto-merge when the policy allows). */
  addsCapacity: boolean;
}

export interface ClusterHealth {
  cluster: string;
  region: string;
  mode: ClusterMode;
  gpu: string;
  health: Health;
  /** Consecutive bad sweeps including this one (unknown sweeps neither count nor break the run). */
  badSweeps: number;
  /** When that run of bad sweeps began (the first bad sweep the history holds); null unless bad. */
  badSince: string | null;
  /** When the cluster entered its current mode and GPU, as far as the history knows. */
  since: string | null;
  readyReplicas: number | null;
  reason: string;
}

export interface QuotaRequest {
  region: string;
  gpu: string;
  metric: string;
  limit: number;
  needed: number;
  note: string;
}

/**
 * A change the budget (placement.maxChangesPerSweep) held back: the next sweep may make it.
 * `cluster: null` stands for "more regions to reach minServingRegions", whichever is best then.
 */
export interface HeldBack {
  cluster: string | null;
  kind: ChangeKind;
}

export interface Plan {
  at: string;
  /** The clusters section as proposed (spec order, new clusters appended). */
  clusters: ClusterSpec[];
  changes: Change[];
  health: ClusterHealth[];
  /** Per region: the best GPU type's evaluation. */
  candidates: Candidate[];
  quotaRequests: QuotaRequest[];
  /** Changes the budget held back, for the next sweep (also explained in `notes`). */
  heldBack: HeldBack[];
  /** Things the scout wanted to do but held back (budget, dwell, min serving), and waits. */
  notes: string[];
  /** "4/6 regions eligible" or "0/6 regions eligible: 3 stockout (last 30m), 2 quota 0, 1 no L4". */
  eligibility: string;
  summary: string;
  /** This sweep's record for the history (the fleet before the plan). */
  record: SweepRecord;
}
