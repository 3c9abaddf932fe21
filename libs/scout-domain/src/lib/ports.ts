/**
 * Ports: what the scout needs from the outside world. Adapters (libs/scout-gcp for Google Cloud and
 * Kubernetes through Connect Gateway; libs/sandbox serves the same wire formats locally) implement
 * them; the domain never imports an SDK. Every adapter parses responses at its boundary.
 */
import type { LedgerSnapshot } from './ledger';

export interface Clock {
  now(): Date;
}

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Accelerator types offered per zone (Compute acceleratorTypes.aggregatedList: one call, all zones). */
export interface ZoneAccelerators {
  zone: string;
  region: string;
  accelerators: Array<{ gpu: string; maxPerInstance: number }>;
}

export interface Quota {
  metric: string;
  limit: number;
  usage: number;
}

export interface RegionQuotas {
  region: string;
  quotas: Quota[];
}

export interface CatalogPort {
  acceleratorsByZone(): Promise<ZoneAccelerators[]>;
}

export interface QuotaPort {
  /** Per-region quotas (Compute regions.list). */
  regionQuotas(): Promise<RegionQuotas[]>;
  /** Project-wide quotas such as GPUS_ALL_REGIONS (Compute projects.get). */
  projectQuotas(): Promise<Quota[]>;
}

export interface GkeCluster {
  name: string;
  location: string;
  status: string;
  autopilot: boolean;
  endpoint: string | null;
}

export interface Membership {
  /** Short membership id (last segment of the resource name). */
  id: string;
  /** Cluster resource link target: <location>/<cluster>, when the membership is a GKE cluster. */
  cluster: string | null;
  state: string;
}

export interface ConfigSyncStatus {
  membership: string;
  /** SYNCED, PENDING, ERROR, NOT_CONFIGURED, NOT_INSTALLED, UNAUTHORIZED, UNREACHABLE, … */
  code: string;
  /** Git commit Config Sync last applied. */
  syncToken: string | null;
  errors: string[];
}

export interface FleetPort {
  clusters(): Promise<GkeCluster[]>;
  memberships(): Promise<Membership[]>;
  configSync(): Promise<ConfigSyncStatus[]>;
  /** Project number (Connect Gateway URLs use it). */
  projectNumber(): Promise<string>;
}

export interface PodEvent {
  reason: string;
  message: string;
  at: string;
  type: string;
}

export interface PendingPod {
  name: string;
  since: string;
  events: PodEvent[];
}

/** The app's pods in one cluster: how many are ready, and the pending ones with their events. */
export interface AppPods {
  total: number;
  /** Running with condition Ready=True (what the load balancer sends traffic to). */
  ready: number;
  pending: PendingPod[];
}

/** Read-only view of one cluster's workloads (through Connect Gateway). */
export interface WorkloadPort {
  appPods(namespace: string, labelSelector: string): Promise<AppPods>;
}

export interface ProbeRequest {
  membership: string;
  region: string;
  gpu: string;
  count: number;
  spot: boolean;
  namespace: string;
  /** ComputeClass to select, or null for the accelerator node selector. */
  computeClass: string | null;
  sweepId: string;
  deadlineSeconds: number;
}

export type ProbeOutcome = 'success' | 'stockout' | 'quota' | 'rejected' | 'timeout';

export interface ProbeResult {
  outcome: ProbeOutcome;
  /** GPU name and memory reported by nvidia-smi, on success. */
  gpuName: string | null;
  gpuMemoryMiB: number | null;
  /** Seconds from creation to the pod Running, on success. */
  secondsToRunning: number | null;
  zone: string | null;
  details: string;
}

export interface ProbePort {
  run(req: ProbeRequest): Promise<ProbeResult>;
  /** Delete probe Jobs and pods left by crashed sweeps; returns how many were removed. */
  cleanup(namespace: string): Promise<number>;
}

export interface EvidenceStore {
  /** Load the ledger; a corrupt store is reported and set aside, never silently reset. */
  load(): Promise<LedgerSnapshot | null>;
  save(snapshot: LedgerSnapshot): Promise<void>;
}

/** A failure an adapter attributes to one region or cluster, so the others are unaffected. */
export class SignalError extends Error {
  constructor(
    message: string,
    readonly scope: { region?: string; cluster?: string; api: string },
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'SignalError';
  }
}
