import { PROXY_CONTINENTS, proxyContinent, type FleetSpec, type ProxyContinent } from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import {
  LOAD_WINDOW_MINUTES,
  MANAGED_PROMETHEUS_LOOKBACK_MINUTES,
  REQUEST_RATE_WINDOW_MINUTES,
} from '@gpu-fleet/manifests';
import { KedaAutoscaler } from './autoscaler';
import type { Generation } from './demand';
import type { Member } from './policy';
import type { Replica, Work } from './replicas';
import { percentile } from './stats';
import type { Timeline } from './timeline';

/** What users saw of one policy's fleet over the run (demand runs only). */
export interface DemandResult {
  generations: number;
  served: number;
  /** Sent while no region served: the global URL answered with an error. */
  failedNoRegion: number;
  /** Queued longer than the load balancer's backend timeout. */
  timedOut: number;
  /** Cut by the autoscaler's scale-down (a removed pod killed before finishing) or by node loss. */
  cutByScaleDown: number;
  cutByNodeLoss: number;
  /** Minutes from sending to the generation starting (queueing in the WebUI). */
  waitP50Minutes: number | null;
  waitP95Minutes: number | null;
  /** Share of generations run on another continent than their user's (the nearby region asleep or absent). */
  remoteShare: number;
  /** Cold regions woken by demand, and the minutes from the demand to the woken region serving. */
  coldStarts: number;
  coldWaitP50Minutes: number | null;
  coldWaitP95Minutes: number | null;
}

/** Where each continent's users are, for "nearest region" (the load balancer routes to the closest region with capacity). */
const USERS_AT: Record<ProxyContinent, [number, number]> = {
  America: [39, -95],
  Europe: [50, 10],
  Asia: [30, 115],
};

function distanceKm([lat1, lon1]: [number, number], [lat2, lon2]: [number, number]): number {
  const rad = Math.PI / 180;
  const a =
    Math.sin(((lat2 - lat1) * rad) / 2) ** 2 +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 12_742 * Math.asin(Math.sqrt(a));
}

/**
 * Users meeting one policy's fleet, minute by minute: the load balancer sends each generation to
 * the nearest region with a free serving pod (else queues it in the nearest serving region's least
 * busy pod, where the WebUI holds it); queued work times out at the backend timeout. For an
 * autoscaled fleet it then runs each cluster's ScaledObject (the sandbox's KEDA model) on the
 * signals as old as the metrics make them.
 */
export class DemandSim {
  private readonly waits: number[] = [];
  private remote = 0;
  private generations = 0;
  private failedNoRegion = 0;
  private timedOut = 0;
  private readonly scalers = new Map<string, KedaAutoscaler>();
  /** Per minute: load per cluster, in-flight generations per continent (the metrics' raw series). */
  private readonly loadSeries = new Map<string, number[]>();
  private readonly continentSeries = new Map<ProxyContinent, number[]>(PROXY_CONTINENTS.map((c) => [c, []]));
  private readonly warmLoadSeries: number[] = [];
  /** Ready pods in the warm clusters, as the ready gauge reports them. */
  private readonly warmReadySeries: number[] = [];
  private readonly coldSince = new Map<string, number>();
  private readonly coldWaits: number[] = [];
  private readonly seenSets = new Set<Member['set']>();
  private readonly timeoutMinutes: number;

  constructor(
    private readonly spec: FleetSpec,
    private readonly catalog: GpuCatalog,
    private readonly timeline: Timeline,
  ) {
    this.timeoutMinutes = Math.ceil(spec.ingress.backendTimeoutSec / 60);
  }

  step(minute: number, members: Member[], arrivals: Generation[]): void {
    for (const m of members) this.watch(m);
    this.expireQueued(minute, members);
    this.route(minute, members, arrivals);
    this.record(minute, members);
    this.scale(minute, members);
  }

  private watch(m: Member): void {
    if (this.seenSets.has(m.set)) return;
    this.seenSets.add(m.set);
    m.set.onStart = (work, minute, region) => this.started(work, minute, region);
  }

  /** A generation starts running: how long its user waited, and whether on another continent. */
  private started(work: Work, minute: number, region: string): void {
    this.waits.push(minute - work.arrived);
    if (proxyContinent(region) !== work.continent) this.remote++;
  }

  private expireQueued(minute: number, members: Member[]): void {
    for (const m of members)
      for (const pod of [...m.set.replicas, ...m.set.draining]) {
        const before = pod.work.length;
        pod.work = pod.work.filter((w) => w.started !== undefined || minute - w.arrived < this.timeoutMinutes);
        this.timedOut += before - pod.work.length;
      }
  }

  private route(minute: number, members: Member[], arrivals: Generation[]): void {
    const serving = members
      .filter((m) => m.serving)
      .map((m) => ({ m, pods: m.set.servingPods(minute) }))
      .filter((x) => x.pods.length);
    for (const g of arrivals) {
      this.generations++;
      if (!serving.length) {
        this.failedNoRegion++;
        continue;
      }
      const byDistance = [...serving].sort(
        (a, b) => this.distance(g.continent, a.m.region) - this.distance(g.continent, b.m.region),
      );
      let pod: Replica | undefined;
      let region = byDistance[0]!.m.region;
      for (const x of byDistance) {
        // Round robin over the free endpoints of the nearest region that has one.
        for (const p of x.pods)
          if (p.work.length === 0 && (!pod || (p.lastSent ?? -Infinity) < (pod.lastSent ?? -Infinity))) pod = p;
        if (pod) {
          region = x.m.region;
          break;
        }
      }
      pod ??= byDistance[0]!.pods.reduce((best, p) => (p.work.length < best.work.length ? p : best));
      const work: Work = { arrived: minute, minutes: g.minutes, continent: g.continent };
      pod.work.push(work);
      pod.lastSent = minute;
      if (pod.work.length === 1) {
        work.started = minute;
        this.started(work, minute, region);
      }
    }
  }

  private readonly distances = new Map<string, number>();
  private distance(continent: ProxyContinent, region: string): number {
    const key = `${continent}|${region}`;
    let d = this.distances.get(key);
    if (d === undefined) {
      const r = this.catalog.region(region);
      d = r ? distanceKm(USERS_AT[continent], [r.latitude, r.longitude]) : Infinity;
      this.distances.set(key, d);
    }
    return d;
  }

  private record(minute: number, members: Member[]): void {
    const perContinent = new Map<ProxyContinent, number>(PROXY_CONTINENTS.map((c) => [c, 0]));
    let warmLoad = 0;
    let warmReady = 0;
    for (const m of members) {
      let series = this.loadSeries.get(m.name);
      if (!series) this.loadSeries.set(m.name, (series = []));
      const load = m.set.load();
      series[minute] = load;
      for (const pod of [...m.set.replicas, ...m.set.draining])
        for (const w of pod.work)
          perContinent.set(w.continent as ProxyContinent, perContinent.get(w.continent as ProxyContinent)! + 1);
      if (m.autoscale?.role === 'warm') {
        warmLoad += load;
        warmReady += m.set.servingPods(minute).length;
      }
    }
    for (const c of PROXY_CONTINENTS) this.continentSeries.get(c)![minute] = perContinent.get(c)!;
    this.warmLoadSeries[minute] = warmLoad;
    this.warmReadySeries[minute] = warmReady;
  }

  /** The average of a series over `window` minutes, as it was `delay` minutes ago (avg_over_time, rate). */
  private average(series: number[] | undefined, minute: number, delay: number, window: number): number {
    if (!series) return 0;
    let sum = 0;
    for (let t = minute - delay - window + 1; t <= minute - delay; t++) sum += series[t] ?? 0;
    return sum / window;
  }

  /** Users of `continent` sending requests (≈ their generations in flight), as the wake trigger sees it. */
  private continentRate(continent: ProxyContinent, minute: number, delay: number): number {
    return this.average(this.continentSeries.get(continent), minute, delay, REQUEST_RATE_WINDOW_MINUTES);
  }

  private scale(minute: number, members: Member[]): void {
    const { loadMetricMinutes, requestMetricMinutes } = this.timeline;
    const wakeAt = this.spec.autoscaling.wakeRequestsPerSecond;
    const warm = members.filter((m) => m.autoscale?.role === 'warm');
    const warmCount = warm.length;
    const warmMin = warm.reduce((s, m) => s + m.autoscale!.min, 0);
    // The rendered warm-down trigger: a pod that is gone keeps answering with its last sample for the lookback.
    const warmDown =
      warmCount > 0 &&
      (this.warmReadySeries[minute - loadMetricMinutes - MANAGED_PROMETHEUS_LOOKBACK_MINUTES] ?? warmMin) < warmMin;
    for (const m of members) {
      const a = m.autoscale;
      if (!a) continue;
      let scaler = this.scalers.get(m.name);
      if (!scaler || scaler.model.min !== a.min) {
        scaler = new KedaAutoscaler(
          { min: a.min, max: a.max, target: a.target, idleMinutes: a.idleMinutes },
          m.set.replicas.length,
        );
        this.scalers.set(m.name, scaler);
      }
      const load = this.average(this.loadSeries.get(m.name), minute, loadMetricMinutes, LOAD_WINDOW_MINUTES);
      const continent = proxyContinent(m.region);
      // The rendered warm-full trigger: warm load above what the warm regions hold at their maximum.
      const fullAt = warmCount * a.max * a.target;
      const queueing =
        warmCount > 0 && this.average(this.warmLoadSeries, minute, loadMetricMinutes, LOAD_WINDOW_MINUTES) > fullAt;
      const usersNearby = a.role === 'cold' && this.continentRate(continent, minute, requestMetricMinutes) > wakeAt;
      const wake = usersNearby || (a.role === 'cold' && (queueing || warmDown));
      const asleep = m.set.replicas.length === 0;
      const next = scaler.step(m.set.replicas.length, { load, wake });
      if (next !== m.set.replicas.length) m.set.scale(next, minute);
      if (a.role !== 'cold') continue;
      // A cold start: from the demand the firing trigger saw (as old as its metric) to the region
      // serving; the warm regions serve those users meanwhile.
      if (asleep && next > 0)
        this.coldSince.set(m.name, minute - (usersNearby ? requestMetricMinutes : loadMetricMinutes));
      const since = this.coldSince.get(m.name);
      if (since === undefined) continue;
      if (m.set.servingPods(minute).length > 0) {
        this.coldWaits.push(minute - since);
        this.coldSince.delete(m.name);
      } else if (next === 0) this.coldSince.delete(m.name);
    }
  }

  result(): DemandResult {
    let scaleDown = 0;
    let nodeLoss = 0;
    for (const set of this.seenSets) {
      scaleDown += set.cutByScaleDown;
      nodeLoss += set.cutByNodeLoss;
    }
    const served = this.waits.length;
    return {
      generations: this.generations,
      served,
      failedNoRegion: this.failedNoRegion,
      timedOut: this.timedOut,
      cutByScaleDown: scaleDown,
      cutByNodeLoss: nodeLoss,
      waitP50Minutes: percentile(this.waits, 50),
      waitP95Minutes: percentile(this.waits, 95),
      remoteShare: served ? this.remote / served : 0,
      coldStarts: this.coldWaits.length,
      coldWaitP50Minutes: percentile(this.coldWaits, 50),
      coldWaitP95Minutes: percentile(this.coldWaits, 95),
    };
  }
}
