import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import type { Classification, FailureKind, FailureScope } from './types';

/**
 * Classify a GCE/GKE error or event message. One function serves every signal (Compute errors,
 * autoscaler events on pending pods, probe Job events, API failures) and `region-scout classify`.
 *
 * The patterns come from real messages; the test table cites where each came from. Order matters:
 * quota before stockout (both say "exhausted"), stockout before transient (stockout texts say "try
 * again later"), rejection before transient.
 */
const QUOTA = [
  /QUOTA_EXCEEDED/,
  /\bquota\b[^.]*\bexceed/i,
  /\bexceed(?:s|ed)?\b[^.]*\bquota/i,
  /quota metrics exceed quota limits/i,
  /scale\.up\.error\.quota\.exceeded/,
  /Insufficient regional quota/i,
];
const STOCKOUT = [
  /\b(?:ZONE_|REGION_)?RESOURCE_POOL_EXHAUSTED(?:_WITH_DETAILS)?\b/,
  /\bGCE_STOCKOUT\b|state:STOCKOUT/,
  /does not have enough resources available to fulfill the request/i,
  /\bout[ .]of[ .]resources\b/i,
  /is currently unavailable in the [a-z0-9-]+ zone/i,
  /insufficient (?:reservation )?capacity|reservation[^.]*insufficient capacity|not enough capacity/i,
  /in backoff after failed scale-up|no\.scale\.up\.in\.backoff/i,
  /\bresource_availability\b/,
];
const REJECTED = [
  /is not supported in Autopilot/i,
  /must specify (?:a GPU type|either node selector)/i,
  /admission webhook "[^"]*" denied the request/i,
  /\bGKE Warden\b|\bwarden\b.*(?:denied|rejected|violat)/i,
  /autopilot[^.]*(?:denied|rejected|does not allow|not allowed)/i,
  /acceleratorTypes\/[a-z0-9-]+' was not found/i,
  /accelerator type [^ ]+ (?:is not|isn't) (?:available|supported|valid)/i,
  /Invalid value for field '[^']*acceleratorType/i,
  /wouldn't fit if a new node is added|would not fit if a new node/i,
  /no\.scale\.up\.mig\.failing\.predicate/,
  /exceeds? the maximum [^.]*(?:allowed|supported)/i,
];
const TRANSIENT = [
  /\btime[d ]?out\b|\btimeout\b|timed out|deadline exceeded|DEADLINE_EXCEEDED/i,
  /\brate ?limit|Too Many Requests|\b429\b|RATE_LIMIT_EXCEEDED|userRateLimitExceeded/i,
  /\b50[0234]\b|Service Unavailable|Internal Server Error|Bad Gateway|backendError|\bUNAVAILABLE\b/i,
  /ECONNRESET|ECONNREFUSED|socket hang up|EPIPE|ETIMEDOUT/,
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
  const preferred = /zones\/([a-z]+-[a-z]+\d+-[a-z])\b|in the ([a-z]+-[a-z]+\d+-[a-z]) zone\b|\bzone: ([a-z]+-[a-z]+\d+-[a-z])\b|\bzones? ([a-z]+-[a-z]+\d+-[a-z])\b/.exec(text);
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
  const named = /Quota '([A-Z0-9_]+)' exceeded/.exec(text) ?? /quota metrics? (?:exceed quota limits: )?([a-z0-9_.]+\/[a-z0-9_]+)/i.exec(text);
  if (named) return named[1]!;
  const metric = /\b((?:PREEMPTIBLE_)?NVIDIA_[A-Z0-9_]+_GPUS|GPUS_ALL_REGIONS|[A-Z_]*CPUS(?:_ALL_REGIONS)?|IN_USE_ADDRESSES|SSD_TOTAL_GB)\b/.exec(text);
  return metric?.[1] ?? null;
}

/**
 * A Kubernetes ResourceQuota admission denial: "exceeded quota: <name>, requested: <r>, used: <u>,
 * limited: <l>" (k8s.io/apiserver admission plugin resourcequota, controller.go), e.g. as the
 * Job controller's FailedCreate event "Error creating: pods "…" is forbidden: exceeded quota: …".
 */
const K8S_RESOURCE_QUOTA = /\bexceeded quota: [a-z0-9]([-a-z0-9.]*[a-z0-9])?, requested: /;

export function classify(message: string): Classification {
  const text = message.trim();
  if (K8S_RESOURCE_QUOTA.test(text)) {
    return { kind: 'quota', scope: 'namespace', zone: null, region: null, gpu: gpuOf(text, null), suggestedZones: [], metric: /requested: ([^=,\s]+)=/.exec(text)?.[1] ?? null };
  }
  const matches = (rules: RegExp[]) => rules.some((r) => r.test(text));
  let kind: FailureKind = 'unknown';
  if (matches(QUOTA)) kind = 'quota';
  else if (matches(STOCKOUT)) kind = 'stockout';
  else if (matches(REJECTED)) kind = 'rejected';
  else if (matches(TRANSIENT)) kind = 'transient';

  const zone = firstZone(text);
  const region = zone ? zone.replace(/-[a-z]$/, '') : firstRegion(text);
  const metric = kind === 'quota' ? quotaMetric(text) : null;
  let scope: FailureScope | null = null;
  if (kind === 'quota') {
    scope = metric?.endsWith('ALL_REGIONS') || /\bglobally\b|\bproject\b quota/i.test(text) ? 'project' : region ? 'region' : 'project';
  } else if (kind === 'stockout') {
    scope = /REGION_RESOURCE_POOL_EXHAUSTED/.test(text) ? 'region' : zone ? 'zone' : region ? 'region' : null;
  } else if (kind === 'rejected') {
    scope = zone && /acceleratorTypes\//.test(text) ? 'zone' : 'project';
  }
  return { kind, scope, zone, region, gpu: gpuOf(text, metric), suggestedZones: kind === 'stockout' ? suggested(text) : [], metric };
}
