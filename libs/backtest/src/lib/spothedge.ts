import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import type { Member, Policy, PolicyLogEntry, PolicyTotals } from './policy';
import { heldTotals, RegionReplicas, zoneWithCapacity, type SimEnv } from './replicas';

/**
 * SkyServe's SpotHedge (Mao et al., EuroSys 2025; SkyPilot `sky serve` with `use_spot: true`,
 * `spot_placer: dynamic_fallback`, `dynamic_ondemand_fallback: true`, `num_overprovision`), as its
 * reference implementation behaves (skypilot-org/skypilot: sky/serve/spot_placer.py
 * DynamicFallbackSpotPlacer @ 9e6408e; sky/serve/autoscalers.py FallbackRequestRateAutoscaler;
 * https://docs.skypilot.co/en/latest/serving/spot-policy.html). Nothing of its code is copied.
 *
 * - Locations are zones offering the GPU, all ACTIVE at first. A spot launch or a running spot
 *   replica losing its zone marks the zone PREEMPTED; a successful spot launch marks it ACTIVE again;
 *   when fewer than two zones are ACTIVE, all become ACTIVE (the placer's reset).
 * - A new spot replica goes to the cheapest ACTIVE zone that hosts none of the service's replicas,
 *   else the cheapest ACTIVE zone (spread across failure domains, then price).
 * - Every decision (20 s; here every simulated minute): keep T + O spot replicas alive (launching or
 *   ready) and min(T, max(0, T + O − ready spot)) on-demand ones (dynamic fallback; B = 0), where T is
 *   the target (default the spec's serving replicas) and O the over-provisioning (num_overprovision,
 *   default none); on-demand ones go in the same decision once enough spot is ready, not-ready ones first.
 * - A controller that launches VMs itself, no pull request. Its intervals are all under the
 *   simulation's one-minute step (sky/serve/constants.py: ENDPOINT_PROBE_INTERVAL_SECONDS 10,
 *   AUTOSCALER_DEFAULT_DECISION_INTERVAL_SECONDS 20, LB_CONTROLLER_SYNC_INTERVAL_SECONDS 20), so it
 *   acts within the minute: a launch starts at the next decision; a spot launch into a zone without
 *   capacity fails fast (retry_until_up false); a preemption is seen by the next readiness probe (a
 *   failed probe on a spot replica forces a status refresh; not UP means preempted) and replaced at
 *   once. A VM and the model take the same node and app start times as a GKE node here, and no
 *   cluster autoscaler stands between (no back-off).
 * - On-demand replicas are placed by SkyPilot's optimizer in the cheapest candidate region, failing
 *   over to the next where a launch finds no capacity; on-demand capacity follows the timeline's
 *   onDemandCapacity, the one rule every policy's on-demand nodes follow.
 */
export class SpotHedgePolicy implements Policy {
  /** spothedge-<target>+<over-provisioning>. */
  readonly name: string;
  readonly overprovision: number;
  /** One single-replica set per replica: each is its own VM in its own zone. */
  private spot: Array<{ set: RegionReplicas; zone: string }> = [];
  private onDemand: RegionReplicas[] = [];
  private readonly retired: RegionReplicas[] = [];
  private readonly zones: Array<{ zone: string; region: string; price: number }>;
  private readonly preempted = new Set<string>();
  private readonly gpu: string;
  /** Candidate regions offering the GPU, cheapest on-demand first. */
  private readonly odRegions: string[];
  /** VMs started (spot and on-demand): its "changes"; failed spot launch attempts are counted apart. */
  private launches = 0;
  failedLaunches = 0;
  /** Times every zone was made ACTIVE again because fewer than two were left. */
  resets = 0;
  private minutes = 0;
  private readonly entries: PolicyLogEntry[] = [];

  readonly target: number;

  /**
   * `size`: the target replicas and the over-provisioning (num_overprovision). SkyServe's default
   * over-provisioning is none (sky/serve/service_spec.py: num_overprovision defaults to None, 0 extra);
   * the default target is the spec's serving replicas.
   */
  constructor(
    spec: FleetSpec,
    private readonly env: SimEnv,
    size: { target?: number; overprovision?: number } = {},
  ) {
    this.overprovision = size.overprovision ?? 0;
    // One accelerator type: a SkyServe service's resources differ only in cloud/region/zone.
    this.gpu = spec.gpu.preferences[0]!;
    this.zones = spec.placement.candidateRegions
      .flatMap((region) =>
        env.catalog.zonesOffering(region, this.gpu).map((zone) => ({
          zone,
          region,
          price: env.catalog.pricePerGpuHour(region, this.gpu, true) ?? Infinity,
        })),
      )
      .sort((a, b) => a.price - b.price || a.zone.localeCompare(b.zone));
    this.target = size.target ?? spec.clusters.filter((c) => c.mode === 'active').reduce((n, c) => n + c.replicas, 0);
    this.name = `spothedge-${this.target}+${this.overprovision}`;
    this.odRegions = [...spec.placement.candidateRegions]
      .filter((r) => env.catalog.offers(r, this.gpu))
      .sort(
        (a, b) =>
          (env.catalog.pricePerGpuHour(a, this.gpu, false) ?? Infinity) -
            (env.catalog.pricePerGpuHour(b, this.gpu, false) ?? Infinity) || a.localeCompare(b),
      );
    // The service was running before the record starts: its spot replicas ready where they could be.
    for (let i = 0; i < this.target + this.overprovision; i++) this.launchSpot(0, true);
  }

  private active(): typeof this.zones {
    return this.zones.filter((z) => !this.preempted.has(z.zone));
  }

  private markPreempted(zone: string): void {
    this.preempted.add(zone);
    if (this.active().length < 2) {
      this.preempted.clear();
      this.resets++;
    }
  }

  /** The placer's choice, then a launch pinned to that zone: it fails fast where the zone has no capacity. */
  private launchSpot(minute: number, warm = false): void {
    const used = new Set(this.spot.map((s) => s.zone));
    const active = this.active();
    const fresh = active.filter((z) => !used.has(z.zone));
    const pick = (fresh.length ? fresh : active)[0];
    if (!pick) return;
    if (!this.env.holdings.free(this.env, pick.zone, this.gpu, true, minute)) {
      this.failedLaunches++;
      this.markPreempted(pick.zone);
      return;
    }
    this.launches++;
    if (!warm)
      this.entries.push({
        minute,
        change: `spot replica launched in ${pick.zone}`,
        reason: `keeping ${this.target}+${this.overprovision} spot replicas: the cheapest ACTIVE zone${fresh.length ? ' without one' : ''}`,
      });
    this.preempted.delete(pick.zone);
    const set = new RegionReplicas(pick.region, [this.gpu], {
      ...this.env,
      timeline: { ...this.env.timeline, provisioning: 'spot' },
    });
    // A VM SkyServe launches itself: no cluster autoscaler, no back-off.
    set.autoscalerBackoff = false;
    set.scale(1, minute);
    // pinned to the chosen zone
    set.zoneWith = (gpu, m, spot = true) =>
      this.env.holdings.free(this.env, pick.zone, gpu, spot, m) ? pick.zone : null;
    if (warm) set.warm(minute);
    this.spot.push({ set, zone: pick.zone });
  }

  step(minute: number): void {
    this.minutes = minute + 1;
    // Preempted spot replicas: the zone is marked, the replica is gone (terminal), replaced below.
    for (const s of [...this.spot]) {
      const r = s.set.replicas[0];
      if (r && r.phase !== 'pending' && this.env.holdings.overCapacity(this.env, r, minute)) {
        this.entries.push({
          minute,
          change: `spot replica in ${s.zone} preempted`,
          reason: 'its zone lost spot capacity; the zone is marked PREEMPTED',
        });
        this.markPreempted(s.zone);
        s.set.scale(0, minute);
        this.retired.push(s.set);
        this.spot = this.spot.filter((x) => x !== s);
      }
    }
    const alive = this.spot.length;
    for (let i = alive; i < this.target + this.overprovision; i++) this.launchSpot(minute);
    const readySpot = this.spot.filter((s) => s.set.ready() > 0).length;
    const odNeeded = Math.min(this.target, Math.max(0, this.target + this.overprovision - readySpot));
    while (this.onDemand.length < odNeeded) {
      // SkyPilot's optimizer: the cheapest candidate region; its provisioner fails over to the next
      // when a launch finds no capacity (on-demand capacity per the timeline's onDemandCapacity).
      const env = { ...this.env, timeline: { ...this.env.timeline, provisioning: 'on-demand' as const } };
      const region =
        this.odRegions.find((r) => zoneWithCapacity(env, r, this.gpu, minute, false)) ?? this.odRegions[0]!;
      const set = new RegionReplicas(region, [this.gpu], env);
      set.autoscalerBackoff = false;
      set.scale(1, minute);
      this.onDemand.push(set);
      this.launches++;
      this.entries.push({
        minute,
        change: `on-demand replica launched in ${region}`,
        reason: `${readySpot} spot replica(s) ready of ${this.target}+${this.overprovision}: dynamic on-demand fallback`,
      });
    }
    if (this.onDemand.length > odNeeded) {
      // not-ready first, then the newest
      const order = [...this.onDemand].sort(
        (a, b) => a.ready() - b.ready() || this.onDemand.indexOf(b) - this.onDemand.indexOf(a),
      );
      for (const set of order.slice(0, this.onDemand.length - odNeeded)) {
        this.entries.push({
          minute,
          change: `on-demand replica in ${set.region} released`,
          reason: `${readySpot} spot replica(s) ready again`,
        });
        set.scale(0, minute);
        this.retired.push(set);
        this.onDemand = this.onDemand.filter((x) => x !== set);
      }
    }
    for (const set of this.sets()) set.step(minute);
    // A retired replica only costs while it drains its work; one that has finished never changes again.
    for (const set of this.retired) if (set.draining.length) set.step(minute);
  }

  /** The replicas alive now: spot and on-demand. */
  private sets(): RegionReplicas[] {
    return [...this.spot.map((s) => s.set), ...this.onDemand];
  }

  servingRegions(minute: number): string[] {
    return [
      ...new Set(
        this.sets()
          .filter((s) => s.serving(minute) > 0)
          .map((s) => s.region),
      ),
    ];
  }

  members(): Member[] {
    return this.sets().map((set, i) => ({
      name: `replica-${i}`,
      region: set.region,
      set,
      serving: true,
      autoscale: null,
    }));
  }

  log(): PolicyLogEntry[] {
    return this.entries;
  }

  totals(): PolicyTotals {
    return {
      ...heldTotals([...this.retired, ...this.sets()]),
      changes: this.launches,
      pullRequests: 0,
      probeGpuMinutes: 0,
      probeCost: 0,
      // SkyServe's controller VM runs the whole time (costs.ts).
      clusterMinutes: 0,
      controllerMinutes: this.minutes,
    };
  }
}
