import type { ClusterSpec, FleetSpec } from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import type { DecayedEvidence, RegionSignals } from '@gpu-fleet/scout-domain';
import type { FilterResult, ScorePart } from './types';

/** A stockout observation this heavy (≈ within one 30-minute half-life) blocks a region for that GPU. */
export const STOCKOUT_BLOCK_WEIGHT = 0.5;
/** A probe success this heavy (≈ within four hours: two 2-hour half-lives) counts as confirmation. */
export const PROBE_CONFIRM_WEIGHT = 0.25;
/** Score discount when a filter passed without seeing its signal. */
export const UNKNOWN_DISCOUNT = 0.8;

export const shortGpu = (gpu: string) => gpu.replace(/^nvidia-(tesla-)?/, '').toUpperCase();

/** Everything a plugin may look at: the spec, the signals of one region, the evidence. Pure data. */
export interface PluginContext {
  spec: FleetSpec;
  catalog: GpuCatalog;
  now: Date;
  /** Which evidence decides: spot only when the fleet runs on Spot alone; on-demand is the fallback otherwise. */
  spot: boolean;
  region: RegionSignals | undefined;
  regionName: string;
  gpu: string;
  evidence: DecayedEvidence | undefined;
  /** The spec's cluster in the region, if any. */
  cluster: ClusterSpec | undefined;
  /** GPUs the activation needs (count × replicas). */
  needed: number;
  /** The cluster serves here on this GPU with every replica ready: capacity seen first-hand. */
  serving?: string;
}

export type FilterPlugin = (c: PluginContext) => FilterResult;

export const minutesAgo = (now: Date, iso: string) =>
  Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 60_000));

export const newestOf = (e: DecayedEvidence | undefined, outcome: string) =>
  e?.observations.find((o) => o.outcome === outcome);

/** True when the cluster already runs this GPU there: its quota use and capacity are its own. */
const runsIt = (c: PluginContext) => c.cluster?.mode === 'active' && c.cluster.gpu === c.gpu;

export const FILTERS: ReadonlyArray<FilterPlugin> = [
  function excluded(c) {
    const hit = c.spec.placement.excludedRegions.includes(c.regionName);
    return {
      filter: 'excluded',
      pass: !hit,
      label: 'excluded',
      reason: hit ? 'listed in placement.excludedRegions' : 'not excluded',
    };
  },
  function candidate(c) {
    const ok = c.spec.placement.candidateRegions.includes(c.regionName);
    return {
      filter: 'candidate',
      pass: ok,
      label: 'not a candidate',
      reason: ok ? 'in placement.candidateRegions' : 'not in placement.candidateRegions',
    };
  },
  function offered(c) {
    const offering = c.region?.offered.find((x) => x.gpu === c.gpu);
    if (!offering)
      return {
        filter: 'offered',
        pass: false,
        label: `no ${shortGpu(c.gpu)}`,
        reason: `${c.gpu} is not offered in ${c.regionName}`,
      };
    const unknown = offering.source === 'bundled';
    return {
      filter: 'offered',
      pass: true,
      label: 'offered',
      reason: `${c.gpu} offered in ${offering.zones.length} zone(s)${unknown ? ' (bundled catalog; Compute unreadable)' : ''}`,
      unknown,
    };
  },
  function autopilot(c) {
    const ok = c.catalog.autopilotGpuTypes().includes(c.gpu);
    return {
      filter: 'autopilot',
      pass: ok,
      label: 'not on Autopilot',
      reason: ok ? 'Autopilot supports it' : `Autopilot does not support ${c.gpu}`,
    };
  },
  function rejected(c) {
    const hit = (c.evidence?.rejectedWeight ?? 0) >= STOCKOUT_BLOCK_WEIGHT;
    return {
      filter: 'rejected',
      pass: !hit,
      label: 'rejected',
      reason: hit ? `rejected by Autopilot: ${newestOf(c.evidence, 'rejected')?.details ?? ''}` : 'not rejected',
    };
  },
  function quota(c) {
    if (runsIt(c)) return { filter: 'quota', pass: true, label: 'quota', reason: 'in use by the running cluster' };
    // A probe or pod that just hit the quota outweighs the headroom Compute reported (other projects' use, races).
    const hit = newestOf(c.evidence, 'quota');
    if (hit && (c.evidence?.quotaWeight ?? 0) >= STOCKOUT_BLOCK_WEIGHT && hit.source !== 'quota') {
      return {
        filter: 'quota',
        pass: false,
        label: 'quota exceeded',
        reason: `quota exceeded ${minutesAgo(c.now, hit.at)} min ago (${hit.source}): ${hit.details}`,
      };
    }
    const q = c.region?.quota.find((x) => x.gpu === c.gpu && x.spot === c.spot);
    if (!q || q.headroom === null)
      return {
        filter: 'quota',
        pass: true,
        label: 'quota',
        reason: 'quota unknown (Compute unreadable)',
        unknown: true,
      };
    const ok = q.headroom >= c.needed;
    return {
      filter: 'quota',
      pass: ok,
      label: q.limit === 0 ? 'quota 0' : 'quota short',
      reason: `${q.metric}: ${q.headroom} free of ${q.limit}, need ${c.needed}`,
    };
  },
  function stockout(c) {
    const e = c.evidence;
    const hit = !!e && e.stockoutWeight >= STOCKOUT_BLOCK_WEIGHT && e.capacity < 0;
    const last = newestOf(e, 'stockout');
    return {
      filter: 'stockout',
      pass: !hit,
      label: 'stockout',
      ...(hit ? { ageMinutes: minutesAgo(c.now, last!.at) } : {}),
      reason: hit
        ? `stockout ${minutesAgo(c.now, last!.at)} min ago (${last!.source})`
        : last
          ? `last stockout ${minutesAgo(c.now, last.at)} min ago, since outweighed`
          : 'no recent stockout',
    };
  },
  function cluster(c) {
    return {
      filter: 'cluster',
      pass: true,
      label: 'cluster',
      reason: c.cluster
        ? `cluster ${c.cluster.name} (${c.cluster.mode})`
        : 'no cluster yet: a new one is proposed (infra/ creates it on merge)',
    };
  },
];

/** Run the filters in order; every verdict is kept for the report. */
export function runFilters(c: PluginContext): FilterResult[] {
  return FILTERS.map((f) => f(c));
}

export interface ScoreContext extends PluginContext {
  /** Cheapest GPU-hour among the regions compared, for the price part. */
  cheapest: number | null;
  /** Continents served by the other active clusters. */
  servedContinents: Set<string>;
}

export type ScorePlugin = (c: ScoreContext, weight: number) => ScorePart;

export const SCORES: Readonly<Record<ScorePart['name'], ScorePlugin>> = {
  capacity(c, weight) {
    if (c.serving) return { name: 'capacity', value: 1, weight, reason: `serving: ${c.serving}` };
    const e = c.evidence;
    const value = 0.5 + 0.5 * (e?.capacity ?? 0) * Math.min(1, e?.confidence ?? 0);
    return {
      name: 'capacity',
      value,
      weight,
      reason:
        e && e.confidence > 0
          ? `capacity ${e.capacity.toFixed(2)} at confidence ${e.confidence.toFixed(2)}`
          : 'no capacity evidence',
    };
  },
  price(c, weight) {
    const p = c.catalog.pricePerGpuHour(c.regionName, c.gpu, c.spot);
    if (p === null || c.cheapest === null) return { name: 'price', value: 0.5, weight, reason: 'price unknown' };
    return { name: 'price', value: c.cheapest / p, weight, reason: `$${p.toFixed(2)}/GPU-hour` };
  },
  spread(c, weight) {
    const continent = c.region?.continent ?? 'unknown';
    const fresh = !c.servedContinents.has(continent);
    return {
      name: 'spread',
      value: fresh ? 1 : 0,
      weight,
      reason: fresh ? `no other serving region in ${continent}` : `${continent} already served`,
    };
  },
  stickiness(c, weight) {
    const k = c.cluster;
    const value = !k ? 0 : k.mode === 'active' ? (k.gpu === c.gpu ? 1 : 0.7) : 0.5;
    return {
      name: 'stickiness',
      value,
      weight,
      reason: !k ? 'new cluster' : `cluster ${k.name} is ${k.mode} on ${k.gpu}`,
    };
  },
  probe(c, weight) {
    if (c.serving) return { name: 'probe', value: 1, weight, reason: `confirmed by the running app (${c.serving})` };
    const ok = c.evidence?.observations.find(
      (observation) =>
        observation.source === 'probe' &&
        observation.outcome === 'success' &&
        observation.weight >= PROBE_CONFIRM_WEIGHT,
    );
    return {
      name: 'probe',
      value: ok ? 1 : 0,
      weight,
      reason: ok ? `probe got a GPU ${minutesAgo(c.now, ok.at)} min ago` : 'no recent successful probe',
    };
  },
  preference(c, weight) {
    const i = c.spec.gpu.preferences.indexOf(c.gpu);
    return { name: 'preference', value: 1 / (1 + Math.max(0, i)), weight, reason: `preference #${i + 1}` };
  },
};

/** Weighted mean of the score plugins, discounted when a filter passed on unknown signals. */
export function runScores(c: ScoreContext, filters: FilterResult[]): { score: number; parts: ScorePart[] } {
  const w = c.spec.placement.weights;
  const parts = (Object.keys(SCORES) as Array<ScorePart['name']>).map((name) => SCORES[name](c, w[name]));
  const total = parts.reduce((s, p) => s + p.weight, 0);
  const mean = total > 0 ? parts.reduce((s, p) => s + p.value * p.weight, 0) / total : 0;
  const discount = filters.some((f) => f.unknown) ? UNKNOWN_DISCOUNT : 1;
  return { score: round(mean * discount), parts };
}

/** Scores are rounded so equal inputs compare equal across platforms and plans stay byte-stable. */
export const round = (x: number) => Math.round(x * 1e4) / 1e4;
