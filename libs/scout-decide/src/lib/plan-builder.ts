import {
  servingClusters,
  slotsOnSpot,
  type ClusterSpec,
  type FleetSpec,
  type PlacementPolicy,
} from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { keyOf, type DecayedEvidence, type RegionSignals } from '@gpu-fleet/scout-domain';
import { assessHealth, coldClusters } from './health';
import { runFilters, runScores, shortGpu, type PluginContext } from './plugins';
import {
  CHANGE_VERB,
  realChanges,
  type Candidate,
  type Change,
  type ClusterHealth,
  type ClusterShape,
  type FleetState,
  type HeldBack,
  type Plan,
  type QuotaRequest,
  type SweepRecord,
} from './types';

export interface PlacementSignals {
  /** Signals per region (gatherSignals' report), including the decayed evidence of each. */
  regions: RegionSignals[];
}

export interface DecideOptions {
  catalog: GpuCatalog;
  /** Id of this sweep, for the history record. */
  sweepId?: string;
}

export const MINUTE_MS = 60_000;

/**
 * The state one decision builds up, and the moves every placement rule makes through it: a working
 * copy of the clusters section, the changes (within the change budget), what the budget held back,
 * and notes. Rules (./rules) read the fleet's health and the candidates from here and change the
 * working copy only through `change` and `activate`, so the budget, make-before-break bookkeeping
 * and the "one change per cluster per sweep" rule hold whatever a rule does.
 */
export class PlanBuilder {
  readonly policy: PlacementPolicy;
  readonly prefs: readonly string[];
  readonly spot: boolean;
  readonly at: string;
  readonly health: ClusterHealth[];
  readonly record: SweepRecord;
  /** The clusters section as it will be proposed. */
  readonly work: ClusterSpec[];
  readonly changes: Change[] = [];
  readonly heldBack: HeldBack[] = [];
  readonly notes: string[] = [];
  /** Every region the plan considers: the candidates and wherever a cluster already is, sorted. */
  readonly regions: string[];
  /** Replicas a cluster gets when it becomes active without a count of its own: the largest serving one. */
  readonly defaultReplicas: number;

  private readonly regionSignals: Map<string, RegionSignals>;
  private readonly evidence = new Map<string, DecayedEvidence>();
  private readonly healthOfName: Map<string, ClusterHealth>;
  private readonly touched = new Set<string>();
  private readonly cheapest: number | null;
  private readonly newName: (region: string) => string;

  constructor(
    readonly spec: FleetSpec,
    signals: PlacementSignals,
    readonly fleet: FleetState,
    readonly now: Date,
    readonly opts: DecideOptions,
  ) {
    this.policy = spec.placement;
    this.prefs = spec.gpu.preferences;
    this.spot = slotsOnSpot(spec);
    this.at = now.toISOString();
    this.regionSignals = new Map(signals.regions.map((r) => [r.region, r]));
    for (const r of signals.regions) for (const e of r.evidence) this.evidence.set(keyOf(e), e);
    this.health = assessHealth(
      spec.clusters,
      fleet,
      (region, gpu) => this.evidenceOf(region, gpu),
      now,
      coldClusters(spec),
    );
    this.healthOfName = new Map(this.health.map((h) => [h.cluster, h]));
    this.record = {
      id: opts.sweepId ?? `sweep-${this.at}`,
      at: this.at,
      clusters: this.health.map((h) => ({ name: h.cluster, mode: h.mode, gpu: h.gpu, health: h.health })),
    };
    this.work = spec.clusters.map((c) => ({ ...c }));
    this.defaultReplicas = Math.max(1, ...servingClusters(spec).map((c) => c.replicas));
    this.regions = [...new Set([...this.policy.candidateRegions, ...spec.clusters.map((c) => c.region)])].sort();
    this.newName = newClusterNamer(spec);
    const prices = this.regions
      .flatMap((r) => this.prefs.map((g) => opts.catalog.pricePerGpuHour(r, g, this.spot)))
      .filter((p): p is number => p !== null);
    this.cheapest = prices.length ? Math.min(...prices) : null;
  }

  // ---- Reading the fleet ------------------------------------------------------------------------

  evidenceOf(region: string, gpu: string): DecayedEvidence | undefined {
    return this.evidence.get(keyOf({ region, gpu, spot: this.spot }));
  }

  /** Learned uptime of a (region, GPU) on the evidence's provisioning (ledger: one-day half-life; 0.5 unknown). */
  uptimeOf(region: string, gpu: string): number {
    return this.evidenceOf(region, gpu)?.uptime ?? 0.5;
  }

  /**
   * With gpu.provisioning hedged, which candidates may take over a failing Spot slot: those whose
   * learned uptime beats the slot's region by placement.switchMargin. The hedge's on-demand replicas
   * already cover the slot, so a move pays only where Spot is clearly likelier; a region that just
   * failed a replacement has learned a low uptime, so a slot does not bounce between regions that are
   * all short. Every candidate otherwise.
   */
  movesSlot(failing: ClusterSpec | undefined): (c: Candidate) => boolean {
    if (!failing || this.spec.gpu.provisioning !== 'hedged') return () => true;
    const mine = this.uptimeOf(failing.region, failing.gpu);
    return (c) => this.uptimeOf(c.region, c.gpu) >= mine + this.policy.switchMargin;
  }

  /**
   * Hedged: whether a failing Spot slot must still wait before it may move — it may once Spot was
   * missing for most of the last gpu.hedge.moveAfterMinutes: at least half of the sweeps of that
   * window that saw it (unknown ones skipped) found it bad, and the history covers the whole window
   * in its current mode and GPU. A share, not a run of bad sweeps in a row: Spot that comes back for
   * one sweep and goes again would restart a run every time and keep the slot in a region that
   * mostly has none. Always false in the other modes.
   */
  hedgeWaits(c: ClusterSpec): boolean {
    if (this.spec.gpu.provisioning !== 'hedged') return false;
    const window = this.spec.gpu.hedge.moveAfterMinutes * MINUTE_MS;
    const from = this.now.getTime() - window;
    const since = this.healthOfName.get(c.name)?.since;
    if (since && Date.parse(since) > from) return true;
    const seen = this.fleet.history
      .filter((h) => Date.parse(h.at) >= from)
      .map((h) => h.clusters.find((x) => x.name === c.name))
      .filter((x) => x && x.mode === c.mode && x.gpu === c.gpu && x.health !== 'unknown')
      .map((x) => x!.health);
    seen.push(this.healthOfName.get(c.name)?.health ?? 'unknown');
    const bad = seen.filter((h) => h === 'bad').length;
    return bad * 2 < seen.length;
  }

  healthOf(name: string): ClusterHealth | undefined {
    return this.healthOfName.get(name);
  }

  byName(name: string): ClusterSpec | undefined {
    return this.work.find((c) => c.name === name);
  }

  activeWork(): ClusterSpec[] {
    return this.work.filter((c) => c.mode === 'active');
  }

  /** Changed by this plan already: a cluster changes at most once per sweep. */
  isTouched(name: string): boolean {
    return this.touched.has(name);
  }

  /** Serving with every replica ready, and not changed by this plan. */
  isGood(name: string): boolean {
    return !this.touched.has(name) && this.healthOfName.get(name)?.health === 'good';
  }

  /** Active clusters other than `name` with every replica ready: what still serves if `name` goes. */
  readyOthers(name: string): number {
    return this.activeWork().filter((o) => o.name !== name && this.isGood(o.name)).length;
  }

  /** An active cluster marks itself as replacing `name` (make-before-break in progress). */
  replacedSoon(name: string): boolean {
    return this.work.some((c) => c.mode === 'active' && c.replaces === name);
  }

  /** The cluster has been in its mode and GPU for at least placement.minDwellMinutes (or longer than the history knows). */
  dwellOk(name: string): boolean {
    const s = this.healthOfName.get(name)?.since;
    return !s || this.now.getTime() - Date.parse(s) >= this.policy.minDwellMinutes * MINUTE_MS;
  }

  budgetLeft(): number {
    return this.policy.maxChangesPerSweep - realChanges(this.changes).length;
  }

  // ---- Candidates ---------------------------------------------------------------------------------

  private clusterIn(region: string): ClusterSpec | undefined {
    return this.work.find((c) => c.region === region);
  }

  context(region: string, gpu: string): PluginContext {
    const cluster = this.clusterIn(region);
    const replicas = cluster && cluster.replicas > 0 ? cluster.replicas : this.defaultReplicas;
    const h = cluster && this.healthOfName.get(cluster.name);
    const serving =
      cluster?.mode === 'active' && cluster.gpu === gpu && h?.health === 'good' && h.gpu === gpu ? h.reason : undefined;
    return {
      spec: this.spec,
      catalog: this.opts.catalog,
      now: this.now,
      spot: this.spot,
      region: this.regionSignals.get(region),
      regionName: region,
      gpu,
      evidence: this.evidenceOf(region, gpu),
      cluster,
      needed: this.spec.gpu.count * replicas,
      serving,
    };
  }

  /** Filter and score a region on these GPU types (default: every preference): the first eligible, else the attempt that got furthest. */
  evaluate(region: string, gpus: readonly string[] = this.prefs, leaving?: string): Candidate {
    const served = new Set(
      this.activeWork()
        .filter((c) => c.region !== region && c.name !== leaving && !this.replacedSoon(c.name))
        .map((c) => this.regionSignals.get(c.region)?.continent ?? 'unknown'),
    );
    let best: Candidate | undefined;
    for (const gpu of gpus) {
      const ctx = this.context(region, gpu);
      const filters = runFilters(ctx);
      const eligible = filters.every((f) => f.pass);
      const { score, parts } = runScores({ ...ctx, cheapest: this.cheapest, servedContinents: served }, filters);
      const cluster = ctx.cluster?.name ?? this.newName(region);
      const cand: Candidate = {
        region,
        continent: ctx.region?.continent ?? 'unknown',
        gpu,
        eligible,
        filters,
        score,
        parts,
        cluster,
        newCluster: !this.spec.clusters.some((c) => c.name === cluster),
      };
      if (eligible) return cand;
      // Report the attempt that got furthest (ties: the preferred type).
      if (!best || passes(cand) > passes(best)) best = cand;
    }
    return best!;
  }

  /**
   * The best eligible region that does not serve yet, never one this plan already changed. A cluster
   * within its dwell time or draining is not rested: it is used only when the fleet would otherwise
   * stay below the minimum (`belowMin`), so regions do not flap.
   */
  bestReplacement(
    leaving: ClusterSpec | undefined,
    belowMin: boolean,
    accept: (c: Candidate) => boolean = () => true,
  ): Candidate | undefined {
    return this.regions
      .filter((r) => r !== leaving?.region && !this.activeWork().some((c) => c.region === r))
      .map((r) => this.evaluate(r, this.prefs, leaving?.name))
      .filter((c) => !this.touched.has(c.cluster) && accept(c))
      .map((c) => ({
        c,
        rested: c.newCluster || (this.dwellOk(c.cluster) && this.byName(c.cluster)?.mode !== 'draining'),
      }))
      .filter(({ c, rested }) => c.eligible && (rested || belowMin))
      .sort(
        (a, b) => Number(b.rested) - Number(a.rested) || b.c.score - a.c.score || a.c.region.localeCompare(b.c.region),
      )[0]?.c;
  }

  /**
   * An eligible region whose cluster this plan already changed (a replacement it just withdrew, say):
   * this sweep cannot pick it, the next may (bestReplacement takes an unrested cluster when the fleet
   * is below its minimum). Recorded as held back, so the follow-up is expected, not a flap.
   */
  nextSweepCandidate(): Candidate | undefined {
    return this.regions
      .filter((r) => !this.activeWork().some((c) => c.region === r))
      .map((r) => this.evaluate(r, this.prefs))
      .filter((c) => this.touched.has(c.cluster) && c.eligible)
      .sort((a, b) => b.score - a.score || a.region.localeCompare(b.region))[0];
  }

  /** "4/6 regions eligible", or with none, why. */
  eligibilityLine(): string {
    return eligibilitySummary(this.regions.map((r) => this.evaluate(r)));
  }

  // ---- Moves (within the change budget) -----------------------------------------------------------

  /** Record a change the budget did not allow: the next sweep may make it. `cluster: null` — some region to reach the minimum. */
  /**
   * A change this sweep cannot make but the next one will (not for the budget: the plan itself is in
   * the way, e.g. a replacement it just withdrew): announced, so the follow-up is expected.
   */
  defer(cluster: string | null, kind: Change['kind'], note: string): void {
    this.heldBack.push({ cluster, kind });
    this.notes.push(note);
  }

  holdBack(cluster: string | null, kind: Change['kind'], what: string, reason: string): void {
    this.heldBack.push({ cluster, kind });
    this.notes.push(
      `held back by placement.maxChangesPerSweep (${this.policy.maxChangesPerSweep}): ${what} — ${reason}`,
    );
  }

  /**
   * Change a cluster of the working copy, if the budget allows (a tidy, clearing a finished
   * `replaces` marker, is bookkeeping and always allowed). Returns whether it was made.
   */
  change(
    c: ClusterSpec,
    kind: Change['kind'],
    to: Partial<ClusterShape> & { replaces?: string | null },
    reason: string,
    isNew = false,
    outsideBudget = false,
  ): boolean {
    if (kind !== 'tidy' && !outsideBudget && this.budgetLeft() <= 0) {
      this.holdBack(c.name, kind, `${c.name} ${kind}`, reason);
      return false;
    }
    const from = isNew ? null : shape(c);
    if (to.mode) c.mode = to.mode;
    if (to.gpu) c.gpu = to.gpu;
    if (to.replicas !== undefined) c.replicas = to.replicas;
    if (to.replaces === null) delete c.replaces;
    else if (to.replaces) c.replaces = to.replaces;
    // A tidy (clearing the replaces marker) is bookkeeping: the cluster still serves as it did.
    if (kind !== 'tidy') this.touched.add(c.name);
    this.changes.push({
      cluster: c.name,
      region: c.region,
      kind,
      from,
      to: shape(c),
      ...(c.replaces ? { replaces: c.replaces } : {}),
      reason,
      addsCapacity: kind === 'activate' || kind === 'add-cluster',
    });
    return true;
  }

  /**
   * Take a serving cluster out of the load balancer: to `draining` while the last sweep saw ready
   * replicas (backends that may have requests in flight, which connection draining lets finish
   * before standby), straight to `standby` when it saw none — no backend took traffic, nothing is
   * in flight, and both modes render the same 0 replicas (renderedReplicas), so draining first would
   * be a second pull request that changes nothing in the cluster.
   */
  retire(c: ClusterSpec, reason: string, to: { replaces?: null } = {}): boolean {
    const idle = this.healthOfName.get(c.name)?.readyReplicas === 0;
    return idle
      ? this.change(
          c,
          'standby',
          { ...to, mode: 'standby' },
          `${reason}; no replica was ready, so nothing is in flight to drain: straight to standby`,
        )
      : this.change(c, 'drain', { ...to, mode: 'draining' }, reason);
  }

  /**
   * Hedged: a slot being replaced that has no ready replica goes to standby in the same pull request
   * as its replacement's activation, instead of waiting for the replacement to be ready. It serves
   * nothing — the hedge's on-demand replicas stand in for it until the replacement's Spot replicas are
   * ready, as they would have until then anyway — so make-before-break has nothing to keep, and the
   * swap is one pull request, not two that a replacement whose Spot comes and goes would open and
   * withdraw again and again. Outside the change budget: it removes no serving capacity.
   */
  private swapsOut(name: string | undefined): ClusterSpec | undefined {
    if (!name || this.spec.gpu.provisioning !== 'hedged') return undefined;
    const old = this.byName(name);
    return old?.mode === 'active' && this.healthOfName.get(name)?.readyReplicas === 0 ? old : undefined;
  }

  /** Make a candidate serve: activate its standby cluster, or add a new cluster there; optionally replacing another. */
  activate(cand: Candidate, reason: string, replaces?: string): boolean {
    const old = this.swapsOut(replaces);
    if (old) {
      if (!this.activate(cand, reason)) return false;
      this.change(
        old,
        'standby',
        { mode: 'standby', replaces: null },
        `replaced by ${cand.cluster} (${cand.region}) in the same change: no replica of it was ready, so it serves nothing and the hedge's on-demand replicas stand in until ${cand.cluster} is ready`,
        false,
        true,
      );
      return true;
    }
    const existing = this.byName(cand.cluster);
    if (existing) {
      const replicas = existing.replicas > 0 ? existing.replicas : this.defaultReplicas;
      return this.change(
        existing,
        'activate',
        { mode: 'active', gpu: cand.gpu, replicas, replaces: replaces ?? null },
        reason,
      );
    }
    if (this.budgetLeft() <= 0) {
      this.holdBack(cand.cluster, 'add-cluster', `add cluster ${cand.cluster} (${cand.region})`, reason);
      return false;
    }
    const c: ClusterSpec = {
      name: cand.cluster,
      region: cand.region,
      mode: 'standby',
      gpu: cand.gpu,
      replicas: this.defaultReplicas,
    };
    this.work.push(c);
    return this.change(c, 'add-cluster', { mode: 'active', replaces: replaces ?? null }, reason, true);
  }

  // ---- The plan ---------------------------------------------------------------------------------

  build(): Plan {
    const candidates = this.regions.map((r) => this.evaluate(r));
    const quotaRequests = quotaRequestsFor(this.regions, candidates, (r, g) => this.context(r, g));
    const eligibility = eligibilitySummary(candidates);
    return {
      at: this.at,
      clusters: this.work,
      changes: this.changes,
      heldBack: this.heldBack,
      health: this.health,
      candidates,
      quotaRequests,
      notes: this.notes,
      eligibility,
      summary: summarize(this.work, this.changes, eligibility),
      record: this.record,
    };
  }
}

const shape = (c: ClusterSpec): ClusterShape => ({ mode: c.mode, gpu: c.gpu, replicas: c.replicas });
const passes = (c: Candidate) => c.filters.filter((f) => f.pass).length;

/** New clusters follow the naming of the existing ones: "sd-us-central1" → "sd-<region>". */
function newClusterNamer(spec: FleetSpec): (region: string) => string {
  const pattern =
    spec.clusters.map((c) => (c.name.includes(c.region) ? c.name.replace(c.region, '{region}') : null)).find(Boolean) ??
    `${spec.app.name}-{region}`;
  return (region) => {
    const base = pattern.replace('{region}', region).slice(0, 40).replace(/-+$/, '');
    let name = base;
    for (let i = 2; spec.clusters.some((c) => c.name === name && c.region !== region); i++)
      name = `${base.slice(0, 37)}-${i}`;
    return name;
  };
}

function quotaRequestsFor(
  regions: string[],
  candidates: Candidate[],
  ctx: (r: string, g: string) => PluginContext,
): QuotaRequest[] {
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
  if (!real.length)
    return `No change: ${serving.length} region(s) serve: ${serving.join(', ') || 'none'}; ${eligibility}.`;
  const first = real
    .map(
      (c) =>
        `${CHANGE_VERB[c.kind]} ${c.cluster} (${c.region}${c.kind === 'switch-gpu' ? ` → ${shortGpu(c.to.gpu)}` : ''})`,
    )
    .join(', ');
  return `${first[0]!.toUpperCase()}${first.slice(1)}: ${real[0]!.reason.split(';')[0]}.`;
}
