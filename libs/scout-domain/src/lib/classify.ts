import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import type { Classification, FailureKind, FailureScope } from './types';

/**
 * Classify a GCE/GKE error or event message. One function serves every signal (Compute errors,
 * autoscaler events on pending pods, probe Job events, API failures) and `region-scout classify`.
 *
 * The rules come from real messages: the unit table (classify.spec.ts) cites each form, and a
 * corpus of real messages with their sources (src/testdata, one part used to write these rules and
 * one held out) measures them. The kinds, checked in this order:
 * 1. not about Google's capacity although worded like it (limits the cluster owner set, IP space,
 *    organisation policy, permissions, a Kueue queue): unknown;
 * 2. rate limits, even when worded as a quota ("… per minute"): transient;
 * 3. quota (before stockout: both say "exhausted");
 * 4. stockout, reservations without room included (before transient: stockout texts say "try again");
 * 5. a state that will pass ("not ready", "try again once …"): transient (before 4xx rejections);
 * 6. rejected: the request can never succeed as written — every Autopilot (Warden, Policy
 *    Controller) denial, unsupported types and combinations, invalid requests (HTTP 400);
 * 7. transient: timeouts, 5xx, resets.
 */
const NOT_CAPACITY = [
  /\bmax (?:cluster|node group)\b[^.]*\b(?:limit|size) reached|max cluster limit reached/i,
  /IP_SPACE_EXHAUSTED|does not have available private IP space|\bIP space\b/i,
  /Constraint constraints\/[A-Za-z.]+ violated/,
  /Required '[a-z]+\.[a-zA-Z.]+' permission|\bpermission denied\b|\bRead access to project\b[^.]*\bdenied\b/i,
  /didn't fit in the remaining quota/i,
  /ephemeral local storage usage exceeds/i,
  // a cause named only as a possibility is no evidence of it
  /\bquota may have been exceeded\b|\bmay be out of resources\b/i,
  // Kueue's ClusterQueue quota is set by the cluster's operator
  /couldn't assign flavors|\bunused quota for \w+ in flavor\b/i,
  // Google's permission status without a cause, unless it carries a quota (Google reports some quota
  // errors as PERMISSION_DENIED); Kubernetes' own "forbidden" is left to the admission rules
  /^(?![\s\S]*quota)[\s\S]*\b(?:PERMISSION_DENIED|FORBIDDEN)\b/,
];
const RATE_LIMIT = [
  /\brate ?limit|Too Many Requests|RATE_LIMIT_EXCEEDED|userRateLimitExceeded|rateLimitExceeded/i,
  /requests? per (?:user per )?(?:\d+ )?(?:seconds?|minute|hour)\b|per minute per (?:project|region|user)|PerMinutePer|Insufficient tokens for quota/i,
  /Maximum number of \w+ requests per (?:second|minute)/i,
  /\bper[_ ](?:second|minute)\b|_per_(?:second|minute)_|OPERATION_RATE_EXCEEDED|Operation rate exceeded|Too frequent operations/i,
];
const QUOTA = [
  /QUOTA_EXCEEDED/,
  /\bquota\b[^.]*\bexceed/i,
  /\bexceed(?:s|ed)?\b[^.]*\bquota/i,
  /quota metrics exceed quota limits/i,
  /scale\.up\.error\.quota\.exceeded/,
  /Insufficient (?:regional )?quota/i,
  /\bQuota '[^']+' (?:exceeded|exhausted)|Quota limit '[^']+' has been exceeded/i,
  /\bquotas were exceeded\b|Quota failure for project|exceeds the allowed maximum of \d/i,
  /\bInsufficient (?:\w+ |'[A-Z0-9_]+' )?quota\b|\bFound no quota for\b|\bQuota violated\b/i,
];
const STOCKOUT = [
  /\b(?:ZONE_|REGION_)?RESOURCE_POOL_EXHAUSTED(?:_WITH_DETAILS)?\b/,
  /\bGCE_STOCKOUT\b|state:STOCKOUT|_NO_CAPACITY\b|\bno_capacity\b/,
  /does not have enough resources available|not enough resources available to fulfill/i,
  /\bVM_MIN_COUNT_NOT_REACHED\b|failed to start due to preemption/i,
  /\bout[ .]of[ .]resources\b/i,
  /is currently unavailable in the [a-z0-9-]+ zone/i,
  /\bno more capacity\b/i,
  /\bResources are insufficient\b|\binsufficient resources in (?:the )?(?:zone|region)\b/i,
  /Failed to acquire resources in\b/,
  /insufficient (?:reserved |reservation )?capacity|reservation[^.]*insufficient capacity|not enough capacity/i,
  /Reservation does not have enough resources|specific reservation "[^"]*" is insufficient|does not have available resources/i,
  /in backoff after failed scale-up|no\.scale\.up\.in\.backoff/i,
  /\bresource_availability\b/,
];
const PASSING_STATE = [
  /\bresourceNotReady\b|Please wait and try again|try again once|currently (?:upgrading|reconciling|being)\b|\bincompatible operation\b|ALREADY_HAS_OPERATION|another operation is (?:in progress|running)/i,
];
const REJECTED = [
  /is not supported in Autopilot|not allowed in Autopilot|are not supported in Autopilot/i,
  /must specify (?:a GPU type|either node selector)/i,
  /admission webhook "[^"]*" denied the request/i,
  /\[denied by autogke-[a-z0-9-]+\]|\bdenied by autogke\b/i,
  /\bGKE Warden\b|\bwarden\b.*(?:denied|rejected|violat)/i,
  /Policy Controller rejected the request|validation\.gatekeeper\.sh|GKEAutopilot authz/i,
  /autopilot[^.]*(?:denied|rejected|does not allow|not allowed)/i,
  /Custom Compute Classes can only be used|is not allowed with node selector/i,
  /Node auto-provisioning doesn't support/i,
  /acceleratorTypes\/[a-z0-9-]+' was not found/i,
  /\bAccelerator "?[\w-]+"? is not available in\b|\bresource not found\b|\bRESOURCE_NOT_FOUND\b/i,
  /\bno\.scale\.up\.[a-z.]*\.not\.supported\b/,
  /accelerator type [^ ]+ (?:is not|isn't) (?:available|supported|valid)/i,
  /\bwas not found in zone\b|\breservation "[^"]+"\s+not found\b/i,
  /Invalid value for field\b|\bis not a valid\b|\bcan ?not be targeted\b|\b(?:can't|cannot) be specified\b/i,
  /\bunsupported\b|UNSUPPORTED_OPERATION|\bis not supported\b|\bdo(?:es)? not support\b|\bnot supported for machine type\b|\bcan only be (?:set|used) (?:on|with|along)\b|\bis not possible\b/i,
  /\bpod rejected\b|RuntimeClass "[^"]+" not found|does not contain any instances satisfying|No resource satisfying\b|No more than \d+ instances? of machine type\b/i,
  /\bpredicate (?:failed|mismatch)\b/i,
  /\brequires\b[^.]*\bto be set to\b/i,
  /request to provision [^.]* has been denied/i,
  /No available node types can fulfill resource request/i,
  /Predicate checking errors|cannot be scheduled in the nodepool/i,
  /wouldn't fit if a new node is added|would not fit if a new node/i,
  /no\.scale\.up\.mig\.failing\.predicate/,
  /exceeds? the maximum [^.]*(?:allowed|supported)/i,
  /googleapi: Error 400\b|\bHttpError 400\b|\bInvalidArgument: 400\b|\bINVALID_ARGUMENT\b|\bbadRequest\b|received a bad request|\bcode=400\b/,
];
const TRANSIENT = [
  /\btime[d ]?out\b|\btimeout\b|timed out|deadline exceeded|DEADLINE_EXCEEDED/i,
  /\b429\b/,
  /\b50[0234]\b|Service Unavailable|Internal Server Error|Bad Gateway|backendError/i,
  /\bUNAVAILABLE\b/,
  /\b(?:backend|temporarily) unavailable\b/i,
  /\bstopped unexpectedly\b|\b(?:system|connection) error\b/i,
  /\binternal (?:error|failure)\b|internal_failure|\bBackend Error\b|temporary error|try again in \d+/i,
  /the object has been modified; please apply your changes/i,
  /\btemporary issue\b|\bretry the operation later\b|\btry again later\b/i,
  /\bVMRecreatedDuringExecution\b|Name does not resolve|Temporary failure in name resolution|\bEAI_AGAIN\b/i,
  /ECONNRESET|ECONNREFUSED|socket hang up|EPIPE|ETIMEDOUT|Connection reset by peer|failed to connect to all addresses|connection (?:to the server \S+ )?was refused|connection refused/i,
];

const catalog = GpuCatalog.bundled();
const knownRegions = new Set(catalog.regions().map((r) => r.region));
const knownGpus = new Set(catalog.gpuTypes());
const metricToGpu = new Map<string, string>(
  catalog.gpuTypes().flatMap((g) => [
    [catalog.quotaMetric(g, false), g],
    [catalog.quotaMetric(g, true), g],
  ]),
);

const zoneOf = (z: string) => (knownRegions.has(z.replace(/-[a-z]$/, '')) ? z : null);

function firstZone(text: string): string | null {
  // Prefer the zone the message is about ("zones/<z>", "in the <z> zone", "zone: <z>") over hints.
  const preferred =
    /zones\/([a-z]+-[a-z]+\d+-[a-z])\b|in the ([a-z]+-[a-z]+\d+-[a-z]) zone\b|\bzone: ([a-z]+-[a-z]+\d+-[a-z])\b|\bzones? ([a-z]+-[a-z]+\d+-[a-z])\b/.exec(
      text,
    );
  const candidate = preferred?.slice(1).find(Boolean);
  if (candidate && zoneOf(candidate)) return candidate;
  for (const m of text.matchAll(/\b([a-z]+-[a-z]+\d+-[a-z])\b/g)) if (zoneOf(m[1]!)) return m[1]!;
  return null;
}

function firstRegion(text: string): string | null {
  for (const m of text.matchAll(/\b([a-z]+-[a-z]+\d+)\b(?!-[a-z]\b)/g)) if (knownRegions.has(m[1]!)) return m[1]!;
  return null;
}

function gpuOf(text: string, metric: string | null): string | null {
  for (const m of text.matchAll(/\b(nvidia-[a-z0-9]+(?:-[a-z0-9]+)*)/g)) {
    // "nvidia-tesla-t4:1" and "nvidia-l4," both end at a non-name character
    let name = m[1]!;
    while (name && !knownGpus.has(name) && name.includes('-')) name = name.slice(0, name.lastIndexOf('-'));
    if (knownGpus.has(name)) return name;
  }
  return metric ? (metricToGpu.get(metric) ?? null) : null;
}

function suggested(text: string): string[] {
  const found = new Set<string>();
  const hint = /Consider trying your request in the ([a-z0-9, -]+?) zone\(s\)/i.exec(text);
  const meta = /zonesAvailable: ?([a-z0-9,-]+)/.exec(text);
  for (const list of [hint?.[1], meta?.[1]]) {
    for (const z of (list ?? '').split(/[\s,]+/)) if (z && zoneOf(z)) found.add(z);
  }
  return [...found].sort();
}

function quotaMetric(text: string): string | null {
  const named =
    /Quota '([A-Z0-9_]+)' exceeded/.exec(text) ??
    /quota metrics? (?:exceed quota limits: )?([a-z0-9_.]+\/[a-z0-9_]+)/i.exec(text);
  if (named) return named[1]!;
  const metric =
    /\b((?:PREEMPTIBLE_)?NVIDIA_[A-Z0-9_]+_GPUS|GPUS_ALL_REGIONS|[A-Z_]*CPUS(?:_ALL_REGIONS)?|IN_USE_ADDRESSES|SSD_TOTAL_GB)\b/.exec(
      text,
    );
  return metric?.[1] ?? null;
}

/**
 * A Kubernetes ResourceQuota admission denial: "exceeded quota: <name>, requested: <r>, used: <u>,
 * limited: <l>" (k8s.io/apiserver admission plugin resourcequota, controller.go), e.g. as the
 * Job controller's FailedCreate event "Error creating: pods "…" is forbidden: exceeded quota: …".
 */
const K8S_RESOURCE_QUOTA = /\bexceeded quota: [a-z0-9]([-a-z0-9.]*[a-z0-9])?, requested: /;

/**
 * The structured fields a failure arrives with, which the adapters pass through: they are Google's
 * and Kubernetes' own vocabulary, stabler than any wording, so they decide first and the text only
 * where they say nothing.
 */
export interface FailureFields {
  /** The Kubernetes event's `reason` (FailedScaleUp, NotTriggerScaleUp, FailedCreate, FailedScheduling, …). */
  reason?: string | null;
  /**
   * A Google error code: Compute's Operation `error.errors[].code` (ZONE_RESOURCE_POOL_EXHAUSTED,
   * QUOTA_EXCEEDED, …), a googleapis JSON error's `errors[].reason` (quotaExceeded, rateLimitExceeded,
   * backendError, …), GKE's StatusCondition code (GCE_STOCKOUT, GCE_QUOTA_EXCEEDED).
   */
  code?: string | null;
  /** HTTP status of the failed call; decides only when neither the fields nor the text do. */
  httpStatus?: number | null;
}

/**
 * Google's error codes, as documented:
 * - ZONE_RESOURCE_POOL_EXHAUSTED[_WITH_DETAILS]: "a shortage of physical hardware in a zone"
 *   (https://cloud.google.com/compute/docs/troubleshooting/troubleshooting-resource-availability);
 *   cluster-autoscaler reads RESOURCE_POOL_EXHAUSTED and both of these as a stockout and any code
 *   containing QUOTA as quota (kubernetes/autoscaler cluster-autoscaler/cloudprovider/gce/
 *   autoscaling_gce_client.go isResourcePoolExhaustedErrorCode, isQuotaExceededErrorCode);
 * - the bulk insert API's `insufficientCapacity` (503), `quotaExceeded` (403), `rateLimitExceeded`
 *   (https://cloud.google.com/compute/docs/troubleshooting/troubleshooting-bulk-vm-creation);
 * - "403 QUOTA_EXCEEDED", and "403 RATE_LIMIT_EXCEEDED" for a rate quota
 *   (https://cloud.google.com/docs/quotas/troubleshoot);
 * - GKE StatusCondition.Code GCE_STOCKOUT ("Compute Engine resources are temporarily unavailable")
 *   and GCE_QUOTA_EXCEEDED (googleapis google/container/v1/cluster_service.proto);
 * - googleapis JSON error reasons backendError/internalError (retry), alreadyExists, forbidden.
 * RESOURCE_EXHAUSTED (gRPC) is used for quota and for capacity alike: the text decides.
 */
function kindOfCode(raw: string): FailureKind | null {
  const code = raw.trim();
  if (
    /^(?:ZONE_|REGION_)?RESOURCE_POOL_EXHAUSTED(?:_WITH_DETAILS)?$|^GCE_STOCKOUT$|^STOCKOUT$|^insufficientCapacity$/i.test(
      code,
    )
  )
    return 'stockout';
  if (/^(?:RATE_LIMIT_EXCEEDED|rateLimitExceeded|userRateLimitExceeded|OPERATION_RATE_EXCEEDED)$/i.test(code))
    return 'transient';
  if (/QUOTA/i.test(code)) return 'quota';
  if (/^(?:backendError|internalError|INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|serviceUnavailable)$/i.test(code))
    return 'transient';
  if (/^(?:INVALID_ARGUMENT|invalid|badRequest|invalidParameter|acceleratorTypeNotFound)$/i.test(code))
    return 'rejected';
  if (/^(?:ALREADY_EXISTS|alreadyExists|IP_SPACE_EXHAUSTED)$/i.test(code)) return 'unknown';
  return null;
}

/**
 * Kubernetes event reasons:
 * - FailedScaleUp: GKE's cluster autoscaler on the pod, "Node scale up in zones … associated with
 *   this pod failed: <cause>. Pod is at risk of not being scheduled." — the cause is one of GKE's
 *   fixed texts ("GCE out of resources", "GCE quota exceeded", "IP space exhausted", "Service Account
 *   was deleted", "… failed to appear in time", reservation and TPU topology errors, "Internal error";
 *   the scale.up.error.* messages of
 *   https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-autoscaler-visibility#messages).
 * - NotTriggerScaleUp: "pod didn't trigger scale-up: <reasons>" (kubernetes/autoscaler
 *   processors/status/eventing_scale_up_processor.go): in backoff after a failed scale-up (stockout,
 *   as the corpus labels it), a limit the operator set (max node group size, cluster limits), else no
 *   node group could ever hold the pod as written (rejected).
 * - FailedScheduling: the scheduler's own view ("0/N nodes are available"), no statement about
 *   Google's capacity (kubernetes pkg/scheduler/schedule_one.go): unknown.
 * - FailedCreate: the controller could not create a pod ("Error creating: <API error>",
 *   pkg/controller/controller_utils.go): the API error's text decides (admission, ResourceQuota).
 * - Progress (TriggeredScaleUp, Scheduled, Pulling, …): not a failure.
 */
function kindOfReason(reason: string, text: string): FailureKind | null {
  switch (reason) {
    case 'FailedScaleUp':
      if (/\bGCE out of resources\b|\bReservation capacity exceeded\b/i.test(text)) return 'stockout';
      if (/\bGCE quota exceeded\b/i.test(text)) return 'quota';
      if (/\bIP space exhausted\b|\bService Account was deleted\b/i.test(text)) return 'unknown';
      if (/failed to appear in time|\bInternal error\b/i.test(text)) return 'transient';
      if (
        /\bReservation not found\b|\bReservation incompatible\b|\bInvalid Reservation\b|\bInvalid TPU topology\b/i.test(
          text,
        )
      )
        return 'rejected';
      return null;
    case 'NotTriggerScaleUp':
      if (/in backoff after failed scale-up/i.test(text)) return 'stockout';
      if (
        /max (?:node group|cluster)[^,:]*(?:size|limit) reached|max total nodes in cluster reached|max cluster limit reached/i.test(
          text,
        )
      )
        return 'unknown';
      return 'rejected';
    case 'FailedScheduling':
      return 'unknown';
    case 'TriggeredScaleUp':
    case 'ScaledUpGroup':
    case 'Scheduled':
    case 'Pulling':
    case 'Pulled':
    case 'Created':
    case 'Started':
    case 'SuccessfulCreate':
      return 'unknown';
    default:
      return null;
  }
}

/** The HTTP status alone, last: 429 and 5xx pass, 400 can never succeed as sent; the rest says nothing. */
function kindOfStatus(status: number): FailureKind | null {
  if (status === 429 || (status >= 500 && status <= 504)) return 'transient';
  if (status === 400) return 'rejected';
  return null;
}

/** The text rules, in order; null when none matched. */
function kindOfText(text: string): FailureKind | null {
  const matches = (rules: RegExp[]) => rules.some((r) => r.test(text));
  if (matches(NOT_CAPACITY)) return 'unknown';
  if (matches(RATE_LIMIT)) return 'transient';
  if (matches(QUOTA)) return 'quota';
  if (matches(STOCKOUT)) return 'stockout';
  if (matches(PASSING_STATE)) return 'transient';
  if (matches(REJECTED)) return 'rejected';
  if (matches(TRANSIENT)) return 'transient';
  return null;
}

export function classify(message: string, fields: FailureFields = {}): Classification {
  // One line, single spaces: tools wrap, indent and fold long messages (the rules match phrases).
  const text = message.replace(/\s+/g, ' ').trim();
  if (K8S_RESOURCE_QUOTA.test(text)) {
    return {
      kind: 'quota',
      scope: 'namespace',
      zone: null,
      region: null,
      gpu: gpuOf(text, null),
      suggestedZones: [],
      metric: /requested: ([^=,\s]+)=/.exec(text)?.[1] ?? null,
    };
  }
  // Structured fields first (the code, then the event reason), the text where they say nothing,
  // the bare HTTP status last.
  const kind: FailureKind =
    (fields.code ? kindOfCode(fields.code) : null) ??
    (fields.reason ? kindOfReason(fields.reason, text) : null) ??
    kindOfText(text) ??
    (fields.httpStatus ? kindOfStatus(fields.httpStatus) : null) ??
    'unknown';

  const zone = firstZone(text);
  const region = zone ? zone.replace(/-[a-z]$/, '') : firstRegion(text);
  const metric = kind === 'quota' ? quotaMetric(text) : null;
  let scope: FailureScope | null = null;
  if (kind === 'quota') {
    scope =
      metric?.endsWith('ALL_REGIONS') || /\bglobally\b|\bproject\b quota/i.test(text)
        ? 'project'
        : region
          ? 'region'
          : 'project';
  } else if (kind === 'stockout') {
    scope = /REGION_RESOURCE_POOL_EXHAUSTED/.test(text) ? 'region' : zone ? 'zone' : region ? 'region' : null;
  } else if (kind === 'rejected') {
    scope = zone && /acceleratorTypes\//.test(text) ? 'zone' : 'project';
  }
  return {
    kind,
    scope,
    zone,
    region,
    gpu: gpuOf(text, metric),
    suggestedZones: kind === 'stockout' ? suggested(text) : [],
    metric,
  };
}
