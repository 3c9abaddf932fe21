import type { Document } from 'yaml';
import {
  autoscalingMinimum,
  autoscalingRoles,
  loadFleetSpec,
  renderedReplicas,
  type ClusterSpec,
  type FleetSpec,
  slotsOnSpot,
} from '@gpu-fleet/fleet-spec';
import {
  activeMigrationAllowed,
  clusterGpuOrder,
  SPEC_FILE,
  type RenderedTree,
  type ValidationReport,
} from '@gpu-fleet/manifests';
import {
  EvidenceLedger,
  silentLogger,
  type AppPods,
  type Clock,
  type GitHostPort,
  type Observation,
  type ProbePort,
  type ProbeRequest,
  type ProbeResult,
  type ProposalRequest,
  type ProposalResult,
  type SignalPorts,
} from '@gpu-fleet/scout-domain';
import { runSweep, type CheckoutPort } from '@gpu-fleet/scout-sweep';
import type { Member, Policy, PolicyLogEntry, PolicyName, PolicyTotals } from './policy';
import { HedgeModel } from './hedge';
import { heldTotals, RegionReplicas, zoneWithCapacity, type SimEnv } from './replicas';

const MINUTE = 60_000;
const PROJECT_NUMBER = '100000000001';

/** A cluster of the applied spec and its pods; `existsFrom`: the minute infra/ has created it. */
interface LiveCluster {
  spec: ClusterSpec;
  set: RegionReplicas;
  existsFrom: number;
}

/** A probe pod waiting for a GPU: answered once it gets one (after node provisioning) or at its deadline. */
interface RunningProbe {
  req: ProbeRequest;
  deadline: number;
  /** Minute the answer comes, once known. */
  answerAt: number | null;
  result: ProbeResult | null;
  resolve: (r: ProbeResult) => void;
}

/** The open pull request: the spec it proposes and when it will be merged. */
interface OpenPull {
  number: number;
  specText: string;
  planHash: string;
  bodyHash: string;
  mergeAt: number;
  /** The plan's changes and their reasons, logged once Config Sync applies them. */
  changes: Array<{ change: string; reason: string }>;
}

/**
 * The scout as it runs: every sweep is the real `runSweep` (signals → probes → decide → spec edit →
 * render → proposal) over in-memory ports that answer from the simulated fleet and the capacity
 * record. Validation (kustomize, schemas) is skipped: only decisions matter here. The pull request is
 * merged after the merge delay, Config Sync applies it, infra/ creates new clusters, and the pods
 * of each cluster then find capacity like any other policy's.
 */
export class ScoutPolicy implements Policy {
  private specText: string;
  private spec: FleetSpec;
  private document: Document;
  private readonly ledger = new EvidenceLedger();
  private readonly clusters = new Map<string, LiveCluster>();
  private readonly retired: RegionReplicas[] = [];
  private pull: OpenPull | null = null;
  private applyAt: { minute: number; specText: string; changes: OpenPull['changes'] } | null = null;
  private readonly entries: PolicyLogEntry[] = [];
  private pulls = 0;
  private changes = 0;
  private probeGpuMinutes = 0;
  private probeCost = 0;
  private clusterMinutes = 0;
  private now = 0;
  private sweeps = 0;
  /** The sweep under way: it waits for its probes as the real one does (the CronJob never overlaps two). */
  private inflight: Promise<void> | null = null;
  /** gpu.provisioning hedged: the on-demand replicas of the hedge cluster (./hedge.ts). */
  private readonly hedge: HedgeModel | null;
  private probes: RunningProbe[] = [];

  constructor(
    specText: string,
    private readonly env: SimEnv,
    private readonly start: Date,
    readonly name: Extract<PolicyName, 'scout' | 'autoscaled'> = 'scout',
  ) {
    this.specText = specText;
    this.hedge = env.timeline.provisioning === 'hedged' ? new HedgeModel(env) : null;
    const loaded = loadFleetSpec(specText, { catalog: env.catalog });
    this.spec = loaded.spec;
    this.document = loaded.document;
    for (const c of this.spec.clusters) {
      const set = RegionReplicas.warmStart(c.region, this.gpusOf(c), env, renderedReplicas(c));
      set.migrateToSpot = activeMigrationAllowed(this.spec, c);
      this.clusters.set(c.name, { spec: c, set, existsFrom: -1 });
    }
  }

  private gpusOf(c: ClusterSpec): string[] {
    return this.spec.gpu.selection === 'node-selector' ? [c.gpu] : clusterGpuOrder(this.spec, c, this.env.catalog);
  }

  private at(minute: number): Date {
    return new Date(this.start.getTime() + minute * MINUTE);
  }

  async step(minute: number): Promise<void> {
    this.now = minute;
    const { timeline } = this.env;
    if (this.pull && minute >= this.pull.mergeAt) {
      this.specText = this.pull.specText;
      this.applyAt = {
        minute: minute + Math.ceil(timeline.configSyncSeconds / 60),
        specText: this.pull.specText,
        changes: this.pull.changes,
      };
      this.pull = null;
    }
    if (this.applyAt && minute >= this.applyAt.minute) {
      for (const c of this.applyAt.changes) this.entries.push({ minute, ...c });
      this.apply(this.applyAt.specText, minute);
      this.applyAt = null;
    }
    this.advanceProbes(minute);
    if (!this.inflight && minute % timeline.sweepIntervalMinutes === 0) {
      this.inflight = this.sweep().finally(() => (this.inflight = null));
    }
    // Let the sweep run until it is done or waits for a probe's answer: every other port answers at
    // once (in-memory), so one turn of the event loop after the microtasks settle is enough.
    if (this.inflight) await Promise.race([this.inflight, new Promise<void>((r) => setImmediate(r))]);
    let clusters = 1; // the config cluster
    let spotServing = 0;
    for (const c of this.clusters.values())
      if (minute >= c.existsFrom) {
        c.set.step(minute);
        clusters++;
        if (c.spec.mode === 'active') spotServing += c.set.serving(minute);
      }
    this.clusterMinutes += clusters;
    this.hedge?.step(
      minute,
      this.spec,
      spotServing,
      (c) => this.gpusOf(c),
      (c) => minute >= (this.clusters.get(c.name)?.existsFrom ?? Infinity),
    );
  }

  /**
   * Probe pods as the real ones go: a probe that gets a GPU answers success once its node is
   * provisioned; one that finds none answers stockout at its deadline (scout.probeDeadlineSeconds).
   */
  private advanceProbes(minute: number): void {
    const { timeline } = this.env;
    for (const p of this.probes) {
      if (p.answerAt === null) {
        const zone = zoneWithCapacity(this.env, p.req.region, p.req.gpu, minute, p.req.spot);
        if (zone) {
          p.answerAt = minute + timeline.nodeProvisionMinutes;
          p.result = {
            outcome: 'success',
            cause: null,
            gpuName: p.req.gpu,
            gpuMemoryMiB: null,
            secondsToRunning: timeline.nodeProvisionMinutes * 60,
            zone,
            details: `probe got ${p.req.gpu} in ${zone}`,
          };
        } else if (minute >= p.deadline) {
          p.answerAt = minute;
          p.result = {
            outcome: 'stockout',
            cause: null,
            gpuName: null,
            gpuMemoryMiB: null,
            secondsToRunning: null,
            zone: null,
            details: `no ${p.req.gpu} in ${p.req.region} within the probe's deadline: GCE out of resources`,
          };
        }
      }
      if (p.answerAt !== null && minute >= p.answerAt) p.resolve(p.result!);
    }
    this.probes = this.probes.filter((p) => p.answerAt === null || minute < p.answerAt);
  }

  /** Config Sync applies the merged spec: clusters change mode, new regions get a cluster from infra/. */
  private apply(text: string, minute: number): void {
    const loaded = loadFleetSpec(text, { catalog: this.env.catalog });
    const before = this.spec;
    this.spec = loaded.spec;
    this.document = loaded.document;
    const autoscaled = autoscalingRoles(this.spec);
    for (const c of this.spec.clusters) {
      const old = before.clusters.find((k) => k.name === c.name);
      if (!old || old.mode !== c.mode || old.gpu !== c.gpu || old.replicas !== c.replicas) this.changes++;
      let live = this.clusters.get(c.name);
      if (!live) {
        live = {
          spec: c,
          set: new RegionReplicas(c.region, this.gpusOf(c), this.env),
          existsFrom: minute + this.env.timeline.clusterCreateMinutes,
        };
        this.clusters.set(c.name, live);
      }
      live.spec = c;
      live.set.gpus = this.gpusOf(c);
      live.set.migrateToSpot = activeMigrationAllowed(this.spec, c);
      if (!autoscaled.has(c.name)) live.set.scale(renderedReplicas(c), minute);
      // Activated with the autoscaler owning replicas: the Deployment no longer declares the standby's
      // 0, so the API server defaults it to 1 (server-side apply drops a field its only owner
      // removed); the ScaledObject takes it from there.
      else if (old?.mode !== 'active') live.set.scale(Math.max(1, live.set.replicas.length), minute);
    }
    for (const [name, live] of this.clusters) {
      if (this.spec.clusters.some((c) => c.name === name)) continue;
      this.changes++;
      live.set.scale(0, minute);
      this.retired.push(live.set);
      this.clusters.delete(name);
    }
  }

  private async sweep(): Promise<void> {
    this.sweeps++;
    const r = await runSweep(
      {
        checkout: this.checkout(),
        spec: this.spec,
        document: this.document,
        specPath: SPEC_FILE,
        catalog: this.env.catalog,
        ports: this.ports(),
        ledger: this.ledger,
        prober: async () => this.prober(),
        host: this.host(),
        logger: silentLogger,
      },
      { sweepId: `bt-${this.sweeps}`, probes: true, dryRun: false },
    );
    if (this.pull && (r.result?.action === 'created' || r.result?.action === 'updated'))
      this.pull.changes = r.plan.changes
        .filter((c) => c.kind !== 'tidy')
        .map((c) => ({
          change: `${c.kind} ${c.cluster} (${c.region}${c.to.gpu ? `, ${c.to.gpu}` : ''})`,
          reason: `${c.reason} [pull request #${this.pull!.number}]`,
        }));
    for (const p of r.probes) {
      if (!p.result) continue;
      const minutes = this.probeMinutes(p.result);
      this.probeGpuMinutes += minutes;
      const price = this.env.catalog.pricePerGpuHour(p.region, p.gpu, slotsOnSpot(this.spec)) ?? 0;
      this.probeCost += (minutes * price) / 60;
    }
    // The runner saves the ledger after every sweep, which compacts it (decayed evidence dropped).
    this.ledger.snapshot(this.at(this.now));
  }

  /** GPU-minutes a probe holds: the daily budget's charge (gpu.count × probeDeadlineSeconds) when it got a GPU. */
  private probeMinutes(result: ProbeResult): number {
    return result.outcome === 'success'
      ? Math.ceil((this.spec.gpu.count * this.spec.scout.probeDeadlineSeconds) / 60)
      : 0;
  }

  private checkout(): CheckoutPort {
    const clean: ValidationReport = {
      findings: [],
      built: new Map(),
      timingsMs: { kustomize: 0, schemas: 0, invariants: 0 },
    };
    return {
      read: (path) => (path === SPEC_FILE ? this.specText : null),
      ownedFiles: () => [],
      validateProposed: async (_tree: RenderedTree) => clean,
    };
  }

  /** Pull requests as the sweep proposes them, at the minute it does (after its probes). */
  private host(): GitHostPort {
    const { timeline } = this.env;
    const result = (action: ProposalResult['action']): ProposalResult => ({
      action,
      branch: this.spec.scout.proposal.branch,
      commit: null,
      url: null,
      number: this.pull?.number ?? null,
      message: action,
    });
    return {
      describe: () => 'backtest pull requests',
      propose: async (req: ProposalRequest) => {
        const specText = req.files.find((f) => f.path === SPEC_FILE)?.content;
        if (!specText) return result('stopped');
        const delay = req.autoMerge ? timeline.autoMergeMinutes : timeline.personMergeMinutes;
        if (this.pull && this.pull.planHash === req.planHash) return result('unchanged');
        if (this.pull) {
          // A person merges what the PR holds when they get to it; auto-merge waits for CI again.
          Object.assign(this.pull, { specText, planHash: req.planHash, bodyHash: req.bodyHash });
          if (req.autoMerge) this.pull.mergeAt = Math.max(this.pull.mergeAt, this.now + delay);
          return result('updated');
        }
        this.pulls++;
        this.pull = {
          number: this.pulls,
          specText,
          planHash: req.planHash,
          bodyHash: req.bodyHash,
          mergeAt: this.now + delay,
          changes: [],
        };
        return result('created');
      },
      withdraw: async () => {
        if (!this.pull) return result('nothing-open');
        this.pull = null;
        return result('closed');
      },
    };
  }

  private prober(): ProbePort {
    return {
      run: (req: ProbeRequest) =>
        new Promise<ProbeResult>((resolve) => {
          const probe: RunningProbe = {
            req,
            deadline: this.now + Math.ceil(req.deadlineSeconds / 60),
            answerAt: null,
            result: null,
            resolve,
          };
          this.probes.push(probe);
          this.advanceProbes(this.now);
        }),
      cleanup: async () => ({ removed: 0, live: [] }),
    };
  }

  private ports(): SignalPorts {
    const catalog = this.env.catalog;
    const clock: Clock = { now: () => this.at(this.now) };
    const existing = [...this.clusters.values()].filter((c) => this.now >= c.existsFrom);
    const regions = this.spec.placement.candidateRegions;
    return {
      clock,
      logger: silentLogger,
      bundled: catalog,
      catalog: {
        acceleratorsByZone: async () =>
          catalog
            .offerings()
            .filter((o) => regions.includes(o.region))
            .map((o) => ({
              zone: o.zone,
              region: o.region,
              accelerators: [{ gpu: o.gpu, maxPerInstance: Math.max(...o.counts) }],
            })),
      },
      quota: {
        // Quota is never what runs out in the backtest: capacity is.
        regionQuotas: async () =>
          regions.map((region) => ({
            region,
            quotas: this.spec.gpu.preferences.flatMap((g) =>
              [false, true].map((preemptible) => ({
                metric: catalog.quotaMetric(g, preemptible),
                limit: 64,
                usage: 0,
              })),
            ),
          })),
        projectQuotas: async () => [{ metric: 'GPUS_ALL_REGIONS', limit: 256, usage: 0 }],
      },
      fleet: {
        clusters: async () =>
          existing.map((c) => ({
            name: c.spec.name,
            location: c.spec.region,
            status: 'RUNNING',
            autopilot: true,
            endpoint: '10.0.0.1',
          })),
        memberships: async () =>
          existing.map((c) => ({
            id: c.spec.name,
            location: 'global',
            cluster: `${c.spec.region}/${c.spec.name}`,
            state: 'READY',
          })),
        configSync: async () =>
          existing.map((c) => ({
            membership: c.spec.name,
            location: 'global',
            code: 'SYNCED',
            syncToken: null,
            errors: [],
          })),
        projectNumber: async () => PROJECT_NUMBER,
      },
      workloads: (member) => ({
        appPods: async (): Promise<AppPods> => {
          const live = this.clusters.get(member.id);
          if (!live) return { total: 0, ready: 0, pending: [] };
          const zones = [...new Set(live.set.gpus.flatMap((g) => catalog.zonesOffering(live.spec.region, g)))];
          const failed = live.set.lastScaleUpFailure;
          return {
            total: live.set.replicas.length,
            ready: live.set.ready(),
            pending: live.set.pending().map((r, i) => ({
              name: `${this.spec.app.name}-${i}`,
              since: this.at(r.pendingSince).toISOString(),
              // What GKE's cluster autoscaler reports for a pod no zone can host (a real event's text) —
              // once a scale-up for it has failed, not before (timeline.scaleUpFailureMinutes).
              events:
                failed !== null && failed >= r.pendingSince && failed <= this.now
                  ? [
                      {
                        reason: 'FailedScaleUp',
                        type: 'Warning',
                        at: this.at(failed).toISOString(),
                        message: `Node scale up in zones ${zones.join(', ')} associated with this pod failed: GCE out of resources. Pod is at risk of not being scheduled.`,
                      },
                    ]
                  : [],
            })),
          };
        },
      }),
    };
  }

  log(): PolicyLogEntry[] {
    const moves = (this.hedge?.moves ?? [])
      .filter((m) => m.from !== null)
      .map((m) => ({
        minute: m.minute,
        change: `on-demand hedge ${m.from} → ${m.to ?? 'none'}`,
        reason: `the hedge cluster changed with the active clusters (${m.serving} on-demand replica(s) serving there stop)`,
      }));
    return [...this.entries, ...moves].sort((a, b) => a.minute - b.minute);
  }

  /** The evidence the scout holds now (probe answers, passive stockouts): what its sweeps decided on. */
  evidence(): readonly Observation[] {
    return this.ledger.all();
  }

  servingRegions(minute: number): string[] {
    const od = this.hedge?.current();
    return [
      ...new Set([
        ...[...this.clusters.values()]
          .filter((c) => c.spec.mode === 'active' && minute >= c.existsFrom && c.set.serving(minute) > 0)
          .map((c) => c.spec.region),
        ...(od && od.serving(minute) > 0 ? [od.region] : []),
      ]),
    ];
  }

  members(minute: number): Member[] {
    const roles = autoscalingRoles(this.spec);
    const a = this.spec.autoscaling;
    const od = this.hedge?.current();
    const hedge: Member[] = od
      ? [{ name: `${od.region}-on-demand`, region: od.region, set: od, serving: true, autoscale: null }]
      : [];
    return [...this.clusters.values()]
      .filter((c) => minute >= c.existsFrom)
      .map((c) => {
        const role = roles.get(c.spec.name);
        return {
          name: c.spec.name,
          region: c.spec.region,
          set: c.set,
          serving: c.spec.mode === 'active',
          autoscale: role
            ? {
                role,
                min: autoscalingMinimum(role, c.spec),
                max: a.maxReplicasPerRegion,
                target: a.targetGenerationsPerReplica,
                idleMinutes: a.idleMinutesBeforeZero,
              }
            : null,
        };
      })
      .concat(hedge);
  }

  totals(): PolicyTotals {
    return {
      ...heldTotals([
        ...this.retired,
        ...[...this.clusters.values()].map((c) => c.set),
        ...(this.hedge ? this.hedge.sets.values() : []),
      ]),
      changes: this.changes,
      pullRequests: this.pulls,
      probeGpuMinutes: this.probeGpuMinutes,
      probeCost: this.probeCost,
      clusterMinutes: this.clusterMinutes,
      controllerMinutes: 0,
    };
  }
}
