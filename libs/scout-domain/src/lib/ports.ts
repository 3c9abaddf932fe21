/**
 * Ports: what the scout needs from the outside world. Adapters (libs/scout-gcp for Google Cloud and
 * Kubernetes through Connect Gateway; libs/sandbox serves the same wire formats locally) implement
 * them; the domain never imports an SDK. Every adapter parses responses at its boundary.
 */
import type { LedgerSnapshot } from './ledger';
import type { EvidenceCause } from './types';

export interface Clock {
  now(): Date;
}

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

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

/** A fleet membership as Connect Gateway addresses it: its id and its own location. */
export interface MemberRef {
  /** Short membership id (last segment of the resource name). */
  id: string;
  /** "global", or the region a regional membership was registered in. */
  location: string;
}

export interface Membership extends MemberRef {
  /** Cluster resource link target: <location>/<cluster>, when the membership is a GKE cluster. */
  cluster: string | null;
  state: string;
}

export interface ConfigSyncStatus {
  membership: string;
  /** Location of the membership ("global" or a region). */
  location: string;
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
  sweepId: string;
  deadlineSeconds: number;
}

/**
 * success: a GPU was had and nvidia-smi saw it. stockout / quota: the cloud had no capacity or quota.
 * rejected: admission denied the probe (it can never run as written). timeout: no answer before the
 * deadline. transient: the probe failed for a reason unrelated to capacity (its `cause` says which).
 */
export type ProbeOutcome = 'success' | 'stockout' | 'quota' | 'rejected' | 'timeout' | 'transient';

export interface ProbeResult {
  outcome: ProbeOutcome;
  /** Why, when the outcome alone does not say (transient and rejected outcomes). */
  cause: EvidenceCause | null;
  /** GPU name and memory reported by nvidia-smi, on success. */
  gpuName: string | null;
  gpuMemoryMiB: number | null;
  /** Seconds from creation to the pod Running, on success. */
  secondsToRunning: number | null;
  zone: string | null;
  details: string;
}

/** A probe Job still running in a cluster (this sweep's or another runner's). */
export interface LiveProbe {
  job: string;
  sweepId: string | null;
  gpus: number;
}

export interface ProbeCleanup {
  /** Finished or past-deadline probe Jobs deleted (leftovers of crashed runs). */
  removed: number;
  /** Probe Jobs left alone because they may still be running: they hold the probe namespace's GPU quota. */
  live: LiveProbe[];
}

/** GPUs the probe namespace's ResourceQuota still allows, with these probes live (scout.probeMaxGpus less what they hold). */
export const freeProbeGpus = (maxGpus: number, live: readonly LiveProbe[]): number =>
  maxGpus - live.reduce((n, l) => n + l.gpus, 0);

export interface ProbePort {
  run(req: ProbeRequest): Promise<ProbeResult>;
  /**
   * Delete the probe Jobs that can no longer be running — finished, or older than their own
   * deadline — and report the others. Never deletes another live probe's Job.
   */
  cleanup(namespace: string): Promise<ProbeCleanup>;
}

export interface EvidenceStore {
  /** Load the ledger; a corrupt store is reported and set aside, never silently reset. */
  load(): Promise<LedgerSnapshot | null>;
  save(snapshot: LedgerSnapshot): Promise<void>;
}

/**
 * What the server said, as typed fields: adapters branch on these, never on message text.
 * - status: the HTTP status (null when no answer came: a timeout, a reset connection).
 * - reason: the machine-readable reason the server gave: a Kubernetes Status `reason`
 *   (AlreadyExists, Conflict, NotFound, Forbidden, …;
 *   https://kubernetes.io/docs/reference/using-api/api-concepts/#response-status-kind) or Google's
 *   `error.status` (RESOURCE_EXHAUSTED, PERMISSION_DENIED, …; https://cloud.google.com/apis/design/errors#http_mapping).
 */
export interface ServerAnswer {
  status: number | null;
  reason: string | null;
}

/** A failure an adapter attributes to one region or cluster, so the others are unaffected. */
export class SignalError extends Error {
  readonly status: number | null;
  readonly reason: string | null;

  constructor(
    message: string,
    readonly scope: { region?: string; cluster?: string; api: string },
    readonly transient: boolean,
    answer: Partial<ServerAnswer> = {},
  ) {
    super(message);
    this.name = 'SignalError';
    this.status = answer.status ?? null;
    this.reason = answer.reason ?? null;
  }
}

/** The typed answer behind an error, when it is a SignalError (null fields otherwise). */
export const answerOf = (e: unknown): ServerAnswer =>
  e instanceof SignalError ? { status: e.status, reason: e.reason } : { status: null, reason: null };

// ---- Proposals: one branch, one pull request -------------------------------------------------

/** A file the proposal writes (content) or removes (null), relative to the repository root. */
export interface ProposalFile {
  path: string;
  content: string | null;
}

export interface ProposalRequest {
  /** Branch the change is proposed against (Config Sync's branch). */
  base: string;
  /**
   * The commit of `base` the files were computed from, when known (a sweep reading GitHub at a
   * commit). The proposal is built on it, so a change merged to `base` meanwhile shows up as a
   * conflict or an out-of-date branch instead of being silently reverted. Default: base's head.
   */
  baseCommit?: string;
  /** The one branch the scout owns, e.g. region-scout/placement. */
  branch: string;
  title: string;
  /** Pull request body, ending with the metadata comment (see metadataComment). */
  body: string;
  /** Commit message, ending with the plan trailer (see planTrailer). */
  commitMessage: string;
  /** Only the files that differ from the base. */
  files: ProposalFile[];
  /** Hash of title and files: the same plan gives the same hash, and no new commit. */
  planHash: string;
  /** Hash of what the body says (plan and the evidence behind it): the PR is edited only when it changes. */
  bodyHash: string;
  labels: string[];
  /** Ask the host to merge once checks pass (only for changes the policy marks safe). */
  autoMerge: boolean;
}

/**
 * declined: a person closed a pull request proposing this same plan without merging it ("not
 * this", Renovate's convention): it is not proposed again until the plan changes.
 */
export type ProposalAction =
  'created' | 'updated' | 'unchanged' | 'left-alone' | 'declined' | 'closed' | 'nothing-open' | 'stopped';

export interface ProposalResult {
  action: ProposalAction;
  branch: string;
  /** Head commit of the branch after the call. */
  commit: string | null;
  /** Pull request URL and number (GitHub), null for local git. */
  url: string | null;
  number: number | null;
  /** One line for people: what happened and why. */
  message: string;
  /** When the open pull request was opened (GitHub's created_at); absent for local git. */
  openedAt?: string | null;
}

/** Where proposals go: a GitHub pull request, or a branch in the local repository. */
export interface GitHostPort {
  describe(): string;
  /** Create or update the proposal; idempotent for the same planHash and bodyHash. */
  propose(req: ProposalRequest): Promise<ProposalResult>;
  /** The plan became empty: close the open proposal with a comment (never one a person pushed to). */
  withdraw(req: { base: string; branch: string; comment: string }): Promise<ProposalResult>;
}

/** One number a sweep reports, with its labels (at most a handful, bounded values: cluster names, regions). */
export interface MetricPoint {
  /** Short name under the fleet's prefix, e.g. serving_regions. */
  name: string;
  value: number;
  labels?: Record<string, string>;
}

/** Where a sweep's numbers go (Cloud Monitoring in production, the sandbox's recorder otherwise). */
export interface MetricsPort {
  /** Where they are written, for people (e.g. "Cloud Monitoring, project p: custom.googleapis.com/gpu_fleet/*"). */
  readonly destination: string;
  write(points: readonly MetricPoint[], at: Date): Promise<void>;
}
