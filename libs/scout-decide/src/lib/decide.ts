import { connectionDrainingSeconds, servingClusters, type ClusterSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { keyOf, type DecayedEvidence, type RegionSignals } from '@gpu-fleet/scout-domain';
import { minutesAgo, newestOf, runFilters, runScores, shortGpu, STOCKOUT_BLOCK_WEIGHT, type PluginContext } from './plugins';
import { CHANGE_VERB, realChanges, type Candidate, type Change, type ClusterHealth, type ClusterShape, type FleetState, type Health, type HeldBack, type Plan, type QuotaRequest, type SweepRecord } from './types';

export interface PlacementSignals {
  /** Signals per region (gatherSignals' report), including the decayed evidence of each. */
  regions: RegionSignals[];
}

export interface DecideOptions {
  catalog: GpuCatalog;
  /** Id of this sweep, for the history record. */
  sweepId?: string;
}

const MIN = 60_000;

/**
 * Decide the placement: filter → score → select, each step with reasons. Pure: the same input gives
 * the same plan. Safety rules, in the order they apply:
 * 1. make-before-break: a cluster activated to replace another (`replaces`) must have every replica
 *    ready before the replaced one goes to draining; draining goes to standby after the drain time;
 * 2. a bad serving cluster (N consecutive bad sweeps) first tries another preferred GPU in its own
 *    region, then a replacement region; it is drained without one only if the others still make the
 *    minimum; never below minServingRegions on the scout's own judgement;
 * 3. below the minimum, the best eligible regions are activated;
 * 4. a healthy region is switched only for a candidate better by switchMargin, after minDwellMinutes;
 * 5. at most maxChangesPerSweep cluster changes; unknown signals never count as unavailable.
 */
export function decide(spec: FleetSpec, signals: PlacementSignals, fleet: FleetState, now: Date, opts: DecideOptions): Plan {
  const policy = spec.placement;
  const prefs = spec.gpu.preferences;
  const spot = spec.gpu.provisioning === 'spot';
  const at = now.toISOString();
  const regionSignals = new Map(signals.regions.map((r) => [r.region, r]));
  const evidence = new Map<string, DecayedEvidence>();
  for (const r of signals.regions) for (const e of r.evidence) evidence.set(keyOf(e), e);
  const evidenceOf = (region: string, gpu: string) => evidence.get(keyOf({ region, gpu, spot }));
  const observed = new Map(fleet.observed.map((o) => [o.name, o]));

  // ---- Health of the current clusters --------------------------------------------------------
  const health: ClusterHealth[] = spec.clusters.map((c) => {
    const o = observed.get(c.name);
    const [h, reason] = healthOf(c, o?.exists ?? null, o?.readyReplicas ?? null, evidenceOf(c.region, c.gpu), now);
    return { cluster: c.name, region: c.region, mode: c.mode, gpu: c.gpu, health: h, badSweeps: h === 'bad' ? 1 + trailingBad(fleet.history, c) : 0, since: since(fleet.history, c, at), readyReplicas: o?.readyReplicas ?? null, reason };
  });
  const healthOfName = new Map(health.map((h) => [h.cluster, h]));
  const record: SweepRecord = { id: opts.sweepId ?? `sweep-${at}`, at, clusters: health.map((h) => ({ name: h.cluster, mode: h.mode, gpu: h.gpu, health: h.health })) };
  const dwellOk = (name: string) => {
    const s = healthOfName.get(name)?.since;
    return !s || now.getTime() - Date.parse(s) >= policy.minDwellMinutes * MIN;
  };

  // ---- Working copy of the clusters section ----------------------------------------------------
  const work: ClusterSpec[] = spec.clusters.map((c) => ({ ...c }));
  const byName = (n: string) => work.find((c) => c.name === n);
  const changes: Change[] = [];
  const notes: string[] = [];
  const touched = new Set<string>();
  const budgetLeft = () => policy.maxChangesPerSweep - realChanges(changes).length;
  const heldBack: HeldBack[] = [];
  const holdBack = (cluster: string | null, kind: Change['kind'], what: string, reason: string) => {
    heldBack.push({ cluster, kind });
    notes.push(`held back by placement.maxChangesPerSweep (${policy.maxChangesPerSweep}): ${what} — ${reason}`);
  };
  const shape = (c: ClusterSpec): ClusterShape => ({ mode: c.mode, gpu: c.gpu, replicas: c.replicas });
  const activeWork = () => work.filter((c) => c.mode === 'active');
  const isGood = (name: string) => !touched.has(name) && healthOfName.get(name)?.health === 'good';
  /** Active clusters other than `name` with every replica ready: what still serves if `name` goes. */
  const readyOthers = (name: string) => activeWork().filter((o) => o.name !== name && isGood(o.name)).length;
  const clusterIn = (region: string) => work.find((c) => c.region === region);
  const defaultReplicas = Math.max(1, ...servingClusters(spec).map((c) => c.replicas));

  const change = (c: ClusterSpec, kind: Change['kind'], to: Partial<ClusterShape> & { replaces?: string | null }, reason: string, isNew = false): boolean => {
    if (kind !== 'tidy' && budgetLeft() <= 0) {
      holdBack(c.name, kind, `${c.name} ${kind}`, reason);
      return false;
    }
    const from = isNew ? null : shape(c);
    if (to.mode) c.mode = to.mode;
    if (to.gpu) c.gpu = to.gpu;
    if (to.replicas !== undefined) c.replicas = to.replicas;
    if (to.replaces === null) delete c.replaces;
    else if (to.replaces) c.replaces = to.replaces;
    // A tidy (clearing the replaces marker) is bookkeeping: the cluster still serves as it did.
    if (kind !== 'tidy') touched.add(c.name);
    changes.push({ cluster: c.name, region: c.region, kind, from, to: shape(c), ...(c.replaces ? { replaces: c.replaces } : {}), reason, addsCapacity: kind === 'activate' || kind === 'add-cluster' });
    return true;
  };

  // ---- Candidates: filter → score, per region and GPU type -------------------------------------
  const regions = [...new Set([...policy.candidateRegions, ...spec.clusters.map((c) => c.region)])].sort();
  const newName = newClusterNamer(spec);
  const prices = regions.flatMap((r) => prefs.map((g) => opts.catalog.pricePerGpuHour(r, g, spot))).filter((p): p is number => p !== null);
  const cheapest = prices.length ? Math.min(...prices) : null;
  const context = (region: string, gpu: string): PluginContext => {
    const cluster = clusterIn(region);
    const replicas = cluster && cluster.replicas > 0 ? cluster.replicas : defaultReplicas;
    const h = cluster && healthOfName.get(cluster.name);
    const serving = cluster?.mode === 'active' && cluster.gpu === gpu && h?.health === 'good' && h.gpu === gpu ? h.reason : undefined;
    return { spec, catalog: opts.catalog, now, spot, region: regionSignals.get(region), regionName: region, gpu, evidence: evidenceOf(region, gpu), cluster, needed: spec.gpu.count * replicas, serving };
  };
  const evaluate = (region: string, gpus: string[] = prefs, leaving?: string): Candidate => {
    const served = new Set(activeWork().filter((c) => c.region !== region && c.name !== leaving && !replacedSoon(c.name)).map((c) => regionSignals.get(c.region)?.continent ?? 'unknown'));
    let best: Candidate | undefined;
    for (const gpu of gpus) {
      const ctx = context(region, gpu);
      const filters = runFilters(ctx);
      const eligible = filters.every((f) => f.pass);
      const { score, parts } = runScores({ ...ctx, cheapest, servedContinents: served }, filters);
      const cluster = ctx.cluster?.name ?? newName(region);
      const cand: Candidate = { region, continent: ctx.region?.continent ?? 'unknown', gpu, eligible, filters, score, parts, cluster, newCluster: !spec.clusters.some((c) => c.name === cluster) };
      if (eligible) return cand;
      // Report the attempt that got furthest (ties: the preferred type).
      if (!best || passes(cand) > passes(best)) best = cand;
    }
    return best!;
  };
  const replacedSoon = (name: string) => work.some((c) => c.mode === 'active' && c.replaces === name);

  /**
   * The best eligible region that does not serve yet, never one this plan already changed. A cluster
   * within its dwell time or draining is not rested: it is used only when the fleet would otherwise
   * stay below the minimum (`belowMin`), so regions do not flap.
   */
  const bestReplacement = (leaving: ClusterSpec | undefined, belowMin: boolean): Candidate | undefined =>
    regions
      .filter((r) => r !== leaving?.region && !activeWork().some((c) => c.region === r))
      .map((r) => evaluate(r, prefs, leaving?.name))
      .filter((c) => !touched.has(c.cluster))
      .map((c) => ({ c, rested: c.newCluster || (dwellOk(c.cluster) && byName(c.cluster)?.mode !== 'draining') }))
      .filter(({ c, rested }) => c.eligible && (rested || belowMin))
      .sort((a, b) => Number(b.rested) - Number(a.rested) || b.c.score - a.c.score || a.c.region.localeCompare(b.c.region))[0]?.c;

  const activate = (cand: Candidate, reason: string, replaces?: string): boolean => {
    const existing = byName(cand.cluster);
    if (existing) {
      const replicas = existing.replicas > 0 ? existing.replicas : defaultReplicas;
      return change(existing, 'activate', { mode: 'active', gpu: cand.gpu, replicas, replaces: replaces ?? null }, reason);
    }
    if (budgetLeft() <= 0) {
      holdBack(cand.cluster, 'add-cluster', `add cluster ${cand.cluster} (${cand.region})`, reason);
      return false;
    }
    const c: ClusterSpec = { name: cand.cluster, region: cand.region, mode: 'standby', gpu: cand.gpu, replicas: defaultReplicas };
    work.push(c);
    return change(c, 'add-cluster', { mode: 'active', replaces: replaces ?? null }, reason, true);
  };

  // 1. Make-before-break: finish replacements whose new cluster is ready.
  for (const x of activeWork().filter((c) => c.replaces)) {
    const old = byName(x.replaces!);
    if (!old || old.mode !== 'active') {
      change(x, 'tidy', { replaces: null }, `${x.replaces} no longer serves; replacement finished`);
      continue;
    }
    const remaining = readyOthers(old.name);
    if (isGood(x.name) && remaining < policy.minServingRegions) {
      notes.push(`${old.name} keeps serving: ${x.name} is ready, but draining ${old.name} would leave ${remaining} ready region(s), below the minimum of ${policy.minServingRegions}`);
    } else if (isGood(x.name)) {
      const h = healthOfName.get(x.name)!;
      if (change(old, 'drain', { mode: 'draining', replaces: null }, `replaced by ${x.name} (${x.region}), which has ${h.readyReplicas}/${x.replicas} ready replicas: make-before-break`)) {
        change(x, 'tidy', { replaces: null }, `replacement of ${old.name} complete`);
      }
    } else {
      notes.push(`${old.name} keeps serving until its replacement ${x.name} has ready replicas (${healthOfName.get(x.name)?.reason ?? 'not seen yet'})`);
    }
  }

  // 2. Serving clusters that have been bad long enough.
  const eligibilityLine = () => eligibilitySummary(regions.map((r) => evaluate(r)));
  for (const c of activeWork()) {
    const h = healthOfName.get(c.name)!;
    if (touched.has(c.name) || h.health !== 'bad') continue;
    if (h.badSweeps < policy.badSweepsBeforeDrop) {
      notes.push(`${c.name}: bad for ${h.badSweeps}/${policy.badSweepsBeforeDrop} sweeps (${h.reason}); waiting before acting (placement.badSweepsBeforeDrop)`);
      continue;
    }
    if (replacedSoon(c.name)) continue; // a replacement is on its way (step 1)
    // In-region fallback: another preferred GPU type here beats moving the region — but only on
    // positive evidence (a probe or pods got it): the cluster's ComputeClass already tries every
    // preferred type in the region, so its failing pods say nothing good about the others.
    const fallback = evaluate(c.region, prefs.filter((g) => g !== c.gpu));
    const confirmed = (evidenceOf(c.region, fallback.gpu)?.capacity ?? 0) > 0;
    if (fallback.eligible && !confirmed) notes.push(`${c.name}: ${fallback.gpu} in ${c.region} is not confirmed by a probe; moving region instead of switching GPU type`);
    if (fallback.eligible && confirmed) {
      change(c, 'switch-gpu', { gpu: fallback.gpu }, `${c.gpu} failing in ${c.region} for ${h.badSweeps} sweeps (${h.reason}); ${fallback.gpu} is eligible there, so the cluster changes GPU type instead of moving region`);
      continue;
    }
    const remaining = readyOthers(c.name);
    const repl = bestReplacement(c, remaining < policy.minServingRegions);
    if (repl) {
      activate(repl, `replaces ${c.name}: ${c.gpu} failing in ${c.region} for ${h.badSweeps} sweeps (${h.reason}); ${repl.region} scores ${repl.score.toFixed(2)} on ${repl.gpu}. ${c.name} is drained only once ${repl.cluster} is ready`, c.name);
    } else if (remaining >= policy.minServingRegions) {
      change(c, 'drain', { mode: 'draining' }, `failing for ${h.badSweeps} sweeps (${h.reason}) and no eligible replacement; ${remaining} other region(s) still serve (min ${policy.minServingRegions})`);
    } else {
      notes.push(`${c.name} stays active although failing (${h.reason}): no eligible replacement (${eligibilityLine()}) and draining it would leave ${remaining} serving region(s), below the minimum of ${policy.minServingRegions}`);
    }
  }

  // 3. Below the minimum: activate the best eligible regions. Unknown and starting clusters count as serving (fail-static).
  const failed = (name: string) => {
    const h = healthOfName.get(name);
    return !touched.has(name) && h?.health === 'bad' && h.badSweeps >= policy.badSweepsBeforeDrop;
  };
  // Within the hysteresis window a bad cluster still counts as serving.
  const counting = () => activeWork().filter((c) => !failed(c.name) && !replacedSoon(c.name)).length;
  while (counting() < policy.minServingRegions && budgetLeft() > 0) {
    const cand = bestReplacement(undefined, true);
    if (!cand) {
      notes.push(`only ${counting()} serving region(s), below the minimum of ${policy.minServingRegions}, and nothing to add: ${eligibilityLine()}`);
      break;
    }
    if (!activate(cand, `only ${counting()} region(s) serve, below placement.minServingRegions (${policy.minServingRegions}); ${cand.region} is the best eligible region (score ${cand.score.toFixed(2)})`)) break;
  }
  if (counting() < policy.minServingRegions && budgetLeft() <= 0) {
    holdBack(null, 'activate', `${policy.minServingRegions - counting()} more region(s)`, `needed to reach placement.minServingRegions (${policy.minServingRegions}); the next sweep continues`);
  }

  // 4. Drained clusters go to standby once in-flight requests had time to finish.
  // A drained cluster's last requests end within the longest request, which connection draining covers.
  const drainMinutes = Math.ceil(Math.max(spec.ingress.backendTimeoutSec, connectionDrainingSeconds(spec)) / 60);
  for (const c of work.filter((x) => x.mode === 'draining' && !touched.has(x.name))) {
    // Unchanged for the whole history: draining at least since its oldest record. Without any
    // history the drain may have just begun: wait until a sweep has seen it draining.
    const s = healthOfName.get(c.name)?.since ?? fleet.history[0]?.at;
    if (!s) {
      notes.push(`${c.name} draining; standby once the history shows it drained for ${drainMinutes} min`);
      continue;
    }
    const waited = (now.getTime() - Date.parse(s)) / MIN;
    if (waited >= drainMinutes) change(c, 'standby', { mode: 'standby' }, `drained for ${Math.floor(waited)} min (≥ ${drainMinutes} min: the longest request, which connection draining covers)`);
    else notes.push(`${c.name} draining for ${Math.floor(waited)}/${drainMinutes} min before standby`);
  }

  // 5. Opportunistic switch of a healthy region, with margin and dwell, one at a time.
  if (!work.some((c) => c.mode === 'active' && c.replaces)) {
    const current = activeWork()
      .filter((c) => isGood(c.name) && dwellOk(c.name))
      .map((c) => ({ c, cand: evaluate(c.region, [c.gpu], c.name) }))
      .sort((a, b) => a.cand.score - b.cand.score);
    const weakest = current[0];
    if (weakest) {
      const repl = bestReplacement(weakest.c, false);
      if (repl && repl.score > weakest.cand.score * (1 + policy.switchMargin)) {
        const gain = Math.round((repl.score / Math.max(weakest.cand.score, 1e-9) - 1) * 100);
        activate(repl, `scores ${repl.score.toFixed(2)} against ${weakest.cand.score.toFixed(2)} for ${weakest.c.name} (+${gain}% > switchMargin ${Math.round(policy.switchMargin * 100)}%); replaces it once ready`, weakest.c.name);
      }
    }
  }

  const candidates = regions.map((r) => evaluate(r));
  const quotaRequests = quotaRequestsFor(regions, candidates, context);
  const eligibility = eligibilitySummary(candidates);
  return { at, clusters: work, changes, heldBack, health, candidates, quotaRequests, notes, eligibility, summary: summarize(work, changes, eligibility), record };
}

const passes = (c: Candidate) => c.filters.filter((f) => f.pass).length;

function healthOf(c: ClusterSpec, exists: boolean | null, ready: number | null, e: DecayedEvidence | undefined, now: Date): [Health, string] {
  if (c.mode !== 'active') return ['idle', c.mode];
  if (exists === false) return ['pending', 'no GKE cluster yet (infra/ creates it)'];
  if (ready === null) return ['unknown', 'workloads not visible this sweep'];
  if (ready >= c.replicas) return ['good', `${ready}/${c.replicas} ready`];
  const stock = e && e.stockoutWeight >= STOCKOUT_BLOCK_WEIGHT && e.capacity < 0;
  const seen = (outcome: string) => {
    const o = newestOf(e, outcome)!;
    return `${o.source}, ${minutesAgo(now, o.at)} min ago`;
  };
  if (stock) return ['bad', `${ready}/${c.replicas} ready, ${c.gpu} stockout (${seen('stockout')})`];
  if (e && e.quotaWeight >= STOCKOUT_BLOCK_WEIGHT) return ['bad', `${ready}/${c.replicas} ready, quota exhausted (${seen('quota')})`];
  if (e && e.rejectedWeight >= STOCKOUT_BLOCK_WEIGHT) return ['bad', `${ready}/${c.replicas} ready, rejected by Autopilot (${seen('rejected')})`];
  return ['pending', `${ready}/${c.replicas} ready, starting`];
}

/** Earlier consecutive bad sweeps in the same mode and GPU; unknown sweeps are skipped, not counted. */
function trailingBad(history: SweepRecord[], c: ClusterSpec): number {
  let n = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!.clusters.find((x) => x.name === c.name);
    if (!h || h.mode !== c.mode || h.gpu !== c.gpu) break;
    if (h.health === 'unknown') continue;
    if (h.health !== 'bad') break;
    n++;
  }
  return n;
}

/**
 * When the cluster entered its current mode and GPU, if the history saw it happen: the first record
 * after the last one that showed it differently (or now, when even the last sweep saw it differently).
 * null when the history shows no change (it has been so for longer than the history knows).
 */
function since(history: SweepRecord[], c: ClusterSpec, now: string): string | null {
  let s: string | null = null;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!.clusters.find((x) => x.name === c.name);
    if (!h || h.mode !== c.mode || h.gpu !== c.gpu) return s ?? now;
    s = history[i]!.at;
  }
  return null;
}

/** New clusters follow the naming of the existing ones: "sd-us-central1" → "sd-<region>". */
function newClusterNamer(spec: FleetSpec): (region: string) => string {
  const pattern = spec.clusters.map((c) => (c.name.includes(c.region) ? c.name.replace(c.region, '{region}') : null)).find(Boolean) ?? `${spec.app.name}-{region}`;
  return (region) => {
    const base = pattern.replace('{region}', region).slice(0, 40).replace(/-+$/, '');
    let name = base;
    for (let i = 2; spec.clusters.some((c) => c.name === name && c.region !== region); i++) name = `${base.slice(0, 37)}-${i}`;
    return name;
  };
}

function quotaRequestsFor(regions: string[], candidates: Candidate[], ctx: (r: string, g: string) => PluginContext): QuotaRequest[] {
  const out: QuotaRequest[] = [];
  for (const r of regions) {
    const cand = candidates.find((c) => c.region === r)!;
    if (cand.eligible) continue;
    const quota = cand.filters.find((f) => f.filter === 'quota');
    const others = cand.filters.filter((f) => f.filter !== 'quota');
    if (!quota || quota.pass || !others.every((f) => f.pass)) continue;
    const c = ctx(r, cand.gpu);
    const q = c.region?.quota.find((x) => x.gpu === cand.gpu && x.spot === c.spot);
    if (!q || q.limit === null) continue;
    out.push({
      region: r,
      gpu: cand.gpu,
      metric: q.metric,
      limit: q.limit,
      needed: c.needed + (q.usage ?? 0),
      note: `${r} offers ${cand.gpu} with no recent stockout, but ${q.metric} allows ${q.limit} (${q.usage ?? 0} used); request ≥ ${c.needed + (q.usage ?? 0)} in the console (IAM & Admin → Quotas, filter ${q.metric}, region ${r}) to make it eligible.`,
    });
  }
  return out;
}

/** "4/6 regions eligible", or with nothing eligible, why: grouped first failures, largest group first. */
export function eligibilitySummary(candidates: Candidate[]): string {
  const ok = candidates.filter((c) => c.eligible).length;
  const head = `${ok}/${candidates.length} regions eligible`;
  if (ok > 0) return head;
  const groups = new Map<string, { n: number; maxAge: number }>();
  for (const c of candidates) {
    const f = c.filters.find((x) => !x.pass)!;
    const g = groups.get(f.label) ?? { n: 0, maxAge: 0 };
    g.n++;
    if (f.ageMinutes !== undefined) g.maxAge = Math.max(g.maxAge, f.ageMinutes);
    groups.set(f.label, g);
  }
  const parts = [...groups]
    .sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]))
    .map(([label, g]) => `${g.n} ${label}${label === 'stockout' ? ` (last ${Math.max(1, g.maxAge)}m)` : ''}`);
  return `${head}: ${parts.join(', ')}`;
}

function summarize(work: ClusterSpec[], changes: Change[], eligibility: string): string {
  const serving = work.filter((c) => c.mode === 'active').map((c) => `${c.region} (${shortGpu(c.gpu)})`);
  const real = realChanges(changes);
  if (!real.length) return `No change: ${serving.length} region(s) serve: ${serving.join(', ') || 'none'}; ${eligibility}.`;
  const first = real.map((c) => `${CHANGE_VERB[c.kind]} ${c.cluster} (${c.region}${c.kind === 'switch-gpu' ? ` → ${shortGpu(c.to.gpu)}` : ''})`).join(', ');
  return `${first[0]!.toUpperCase()}${first.slice(1)}: ${real[0]!.reason.split(';')[0]}.`;
}
