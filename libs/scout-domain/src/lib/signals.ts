import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { appNamespace, CAPACITY_LABEL, slotsOnSpot, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { classify } from './classify';
import { EvidenceLedger, type DecayedEvidence } from './ledger';
import type { Observation } from './types';
import type {
  AppPods,
  MemberRef,
  CatalogPort,
  Clock,
  ConfigSyncStatus,
  FleetPort,
  GkeCluster,
  Logger,
  Membership,
  Quota,
  QuotaPort,
  RegionQuotas,
  WorkloadPort,
  ZoneAccelerators,
} from './ports';

export interface SignalPorts {
  catalog: CatalogPort;
  quota: QuotaPort;
  fleet: FleetPort;
  /** Workload view of one fleet membership (Connect Gateway). */
  workloads: (member: MemberRef, projectNumber: string) => WorkloadPort;
  clock: Clock;
  logger: Logger;
  bundled: GpuCatalog;
}

export interface OfferedGpu {
  gpu: string;
  zones: string[];
  /** api: seen in Compute now; bundled: from the bundled catalog because the API could not be read. */
  source: 'api' | 'bundled';
  onDemandUsdPerHour: number | null;
  spotUsdPerHour: number | null;
}

export interface QuotaHeadroom {
  gpu: string;
  spot: boolean;
  metric: string;
  limit: number | null;
  usage: number | null;
  /** GPUs still available under the quota; null when unknown. */
  headroom: number | null;
}

export interface ClusterSignals {
  name: string;
  mode: string;
  gpu: string;
  status: string;
  syncCode: string;
  syncToken: string | null;
  pendingPods: number | null;
  /** Ready app pods (null when the cluster's workloads could not be read, or it is on standby). */
  readyPods: number | null;
}

export interface RegionSignals {
  region: string;
  displayName: string;
  continent: string;
  offered: OfferedGpu[];
  quota: QuotaHeadroom[];
  clusters: ClusterSignals[];
  evidence: DecayedEvidence[];
  /** ok: every signal was read; unknown: something could not be seen (never "unavailable"). */
  status: 'ok' | 'unknown';
  problems: string[];
}

export interface SignalsReport {
  project: string;
  at: string;
  regions: RegionSignals[];
  projectQuotas: Quota[] | null;
  /** Observations this gathering added to the ledger. */
  newObservations: Observation[];
  problems: string[];
}

/** Set each region's decayed evidence from the ledger (after gathering, and again after probes). */
export function attachEvidence(regions: RegionSignals[], ledger: EvidenceLedger, now: Date): void {
  const evidence = ledger.query(now);
  for (const r of regions) r.evidence = evidence.filter((e) => e.region === r.region);
}

/**
 * The fleet membership of a cluster: the one whose GKE endpoint is that cluster (any location,
 * global or regional), else one named after it.
 */
export function membershipFor(
  c: { name: string; region: string },
  memberships: readonly Membership[],
): Membership | undefined {
  return memberships.find((m) => m.cluster === `${c.region}/${c.name}`) ?? memberships.find((m) => m.id === c.name);
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: string };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (e: unknown) => ({ ok: false as const, error: (e as Error).message }),
  );

/** The fleet-wide calls of one sweep, each settled: a failure is a value, not an exception. */
interface FleetCalls {
  accel: Settled<ZoneAccelerators[]>;
  regionQuotas: Settled<RegionQuotas[]>;
  projectQuotas: Settled<Quota[]>;
  clusters: Settled<GkeCluster[]>;
  memberships: Settled<Membership[]>;
  sync: Settled<ConfigSyncStatus[]>;
  projectNumber: Settled<string>;
}

/** Every fleet-wide call at once; what failed is logged and listed in `problems`. */
async function callFleet(ports: SignalPorts, problems: string[]): Promise<FleetCalls> {
  const [accel, regionQuotas, projectQuotas, clusters, memberships, sync, projectNumber] = await Promise.all([
    settle(ports.catalog.acceleratorsByZone()),
    settle(ports.quota.regionQuotas()),
    settle(ports.quota.projectQuotas()),
    settle(ports.fleet.clusters()),
    settle(ports.fleet.memberships()),
    settle(ports.fleet.configSync()),
    settle(ports.fleet.projectNumber()),
  ]);
  const calls: FleetCalls = { accel, regionQuotas, projectQuotas, clusters, memberships, sync, projectNumber };
  const names: Record<keyof FleetCalls, string> = {
    accel: 'Compute acceleratorTypes',
    regionQuotas: 'Compute regions (quota)',
    projectQuotas: 'Compute project (quota)',
    clusters: 'GKE clusters',
    memberships: 'GKE Hub memberships',
    sync: 'Config Sync state',
    projectNumber: 'project number',
  };
  for (const key of Object.keys(names) as Array<keyof FleetCalls>) {
    const r = calls[key];
    if (!r.ok) {
      problems.push(`${names[key]}: ${r.error}`);
      ports.logger.warn({ signal: names[key], err: r.error }, 'signal unavailable');
    }
  }
  return calls;
}

/**
 * The passive signal: app pods in every cluster that should serve. Pending pods' scheduling events
 * are classified into observations (a namespace ResourceQuota is the cluster's own limit, not
 * evidence about Google's capacity, and unknown or transient events say nothing); an active cluster
 * with every replica Ready had its GPUs, one success observation per sweep — the positive side of
 * the learned uptime (DecayedEvidence.uptime), which stockouts alone would only ever lower. The hedge's
 * on-demand pods (CAPACITY_LABEL) say nothing about Spot and are not read: a set-based `!=`
 * requirement also matches pods without the label
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#equality-based-requirement).
 */
async function readAppPods(
  spec: FleetSpec,
  ports: SignalPorts,
  calls: FleetCalls,
  sweepId: string | undefined,
): Promise<{ pods: Map<string, Settled<AppPods>>; observations: Observation[] }> {
  const pods = new Map<string, Settled<AppPods>>();
  const observations: Observation[] = [];
  if (!calls.memberships.ok || !calls.projectNumber.ok) return { pods, observations };
  const memberships = calls.memberships.value;
  const projectNumber = calls.projectNumber.value;
  const serving = spec.clusters.filter((c) => c.mode !== 'standby');
  const results = await Promise.all(
    serving.map(async (c) => {
      const m = membershipFor(c, memberships);
      if (!m) return [c.name, { ok: false as const, error: 'no fleet membership' }] as const;
      return [
        c.name,
        await settle(
          ports
            .workloads(m, projectNumber)
            .appPods(appNamespace(spec), `app.kubernetes.io/name=${spec.app.name},${CAPACITY_LABEL}!=on-demand`),
        ),
      ] as const;
    }),
  );
  for (const [name, r] of results) pods.set(name, r);
  const spot = slotsOnSpot(spec);
  for (const c of serving) {
    const r = pods.get(c.name);
    if (!r?.ok) continue;
    if (c.mode === 'active' && c.replicas > 0 && r.value.ready >= c.replicas && !r.value.pending.length)
      observations.push({
        source: 'passive',
        region: c.region,
        zone: null,
        gpu: c.gpu,
        spot,
        outcome: 'success',
        at: ports.clock.now().toISOString(),
        details: `${c.name}: ${r.value.ready}/${c.replicas} replicas ready`,
        sweepId,
      });
    for (const pod of r.value.pending) {
      for (const ev of pod.events) {
        // The event's reason decides before its wording (FailedScaleUp's cause, NotTriggerScaleUp, …).
        const cls = classify(ev.message, { reason: ev.reason });
        if (cls.kind === 'unknown' || cls.kind === 'transient' || cls.scope === 'namespace') continue;
        observations.push({
          source: 'passive',
          region: c.region,
          zone: cls.zone,
          gpu: cls.gpu ?? c.gpu,
          spot,
          outcome: cls.kind,
          at: ev.at,
          details: `${c.name}/${pod.name} ${ev.reason}: ${ev.message}`,
          sweepId,
        });
      }
    }
  }
  return { pods, observations };
}

/** The preferred GPU types a region offers, from the API when it answered, else the bundled catalog (marked as such). */
function offeringIn(
  region: string,
  gpus: readonly string[],
  calls: FleetCalls,
  bundled: GpuCatalog,
  problems: string[],
): OfferedGpu[] {
  const price = (gpu: string) => ({
    onDemandUsdPerHour: bundled.pricePerGpuHour(region, gpu, false),
    spotUsdPerHour: bundled.pricePerGpuHour(region, gpu, true),
  });
  let offered: OfferedGpu[];
  if (calls.accel.ok) {
    const byGpu = new Map<string, string[]>();
    for (const z of calls.accel.value.filter((x) => x.region === region))
      for (const a of z.accelerators) byGpu.set(a.gpu, [...(byGpu.get(a.gpu) ?? []), z.zone]);
    offered = [...byGpu].map(([gpu, zs]) => ({ gpu, zones: zs.sort(), source: 'api' as const, ...price(gpu) }));
  } else {
    problems.push('GPU offering unknown (Compute unavailable); showing the bundled catalog');
    offered = bundled
      .gpusInRegion(region)
      .map((gpu) => ({ gpu, zones: bundled.zonesOffering(region, gpu), source: 'bundled' as const, ...price(gpu) }));
  }
  return offered.filter((o) => gpus.includes(o.gpu)).sort((a, b) => gpus.indexOf(a.gpu) - gpus.indexOf(b.gpu));
}

/**
 * The GPU quota headroom in a region, per preferred type and provisioning. A metric absent from a
 * region that answered means no quota there (Compute lists only granted ones); no answer is unknown.
 */
function quotaIn(
  region: string,
  gpus: readonly string[],
  spots: readonly boolean[],
  calls: FleetCalls,
  bundled: GpuCatalog,
  problems: string[],
): QuotaHeadroom[] {
  const regionQuota = calls.regionQuotas.ok ? calls.regionQuotas.value.find((r) => r.region === region) : undefined;
  if (!calls.regionQuotas.ok) problems.push('quota unknown (Compute unavailable)');
  return gpus.flatMap((gpu) =>
    spots.map((spot) => {
      const metric = bundled.quotaMetric(gpu, spot);
      const q = regionQuota?.quotas.find((x) => x.metric === metric);
      const limit = q ? q.limit : regionQuota ? 0 : null;
      const usage = q ? q.usage : regionQuota ? 0 : null;
      return {
        gpu,
        spot,
        metric,
        limit,
        usage,
        headroom: limit === null || usage === null ? null : Math.max(0, limit - usage),
      };
    }),
  );
}

/** Each spec cluster in a region as GKE, GKE Hub and Config Sync see it, with its app pods. */
function clustersIn(
  region: string,
  spec: FleetSpec,
  calls: FleetCalls,
  pods: Map<string, Settled<AppPods>>,
  problems: string[],
): ClusterSignals[] {
  return spec.clusters
    .filter((c) => c.region === region)
    .map((c) => {
      const gke = calls.clusters.ok
        ? calls.clusters.value.find((g) => g.name === c.name && g.location === region)
        : undefined;
      const m = calls.memberships.ok ? membershipFor(c, calls.memberships.value) : undefined;
      const s =
        calls.sync.ok && m
          ? calls.sync.value.find((x) => x.membership === m.id && x.location === m.location)
          : undefined;
      const p = pods.get(c.name);
      if (p && !p.ok) problems.push(`${c.name}: workload signal unknown (${p.error})`);
      if (calls.clusters.ok && !gke) problems.push(`${c.name}: no GKE cluster yet (created by infra/ on merge)`);
      return {
        name: c.name,
        mode: c.mode,
        gpu: c.gpu,
        status: calls.clusters.ok ? (gke?.status ?? 'MISSING') : 'UNKNOWN',
        syncCode: calls.sync.ok ? (s?.code ?? 'NOT_CONFIGURED') : 'UNKNOWN',
        syncToken: s?.syncToken ?? null,
        pendingPods: p?.ok ? p.value.pending.length : null,
        readyPods: p?.ok ? p.value.ready : null,
      };
    });
}

/**
 * Gather every cheap signal once: the accelerator offering (one aggregated call), quotas (one call
 * for all regions plus the project), fleet clusters, memberships and Config Sync state, and pending
 * app pods in each serving cluster. Calls run concurrently; a failure only marks what it concerns
 * as unknown. New observations are added to the ledger.
 */
export async function gatherSignals(
  spec: FleetSpec,
  ports: SignalPorts,
  ledger: EvidenceLedger,
  opts: { regions?: string[]; sweepId?: string } = {},
): Promise<SignalsReport> {
  const { bundled, clock } = ports;
  const problems: string[] = [];
  const calls = await callFleet(ports, problems);
  const { pods, observations } = await readAppPods(spec, ports, calls, opts.sweepId);
  const regions = [
    ...new Set(opts.regions ?? [...spec.placement.candidateRegions, ...spec.clusters.map((c) => c.region)]),
  ].sort();
  const gpus = spec.gpu.preferences;
  const spots =
    spec.gpu.provisioning === 'on-demand' ? [false] : spec.gpu.provisioning === 'spot' ? [true] : [true, false];

  const regionReports: RegionSignals[] = regions.map((region) => {
    const info = bundled.region(region);
    const regionProblems: string[] = [];
    const offered = offeringIn(region, gpus, calls, bundled, regionProblems);
    const quota = quotaIn(region, gpus, spots, calls, bundled, regionProblems);
    // Too little quota for one pod where the GPU is offered is evidence, like a failed scale-up.
    for (const q of quota) {
      if (q.headroom !== null && q.headroom < spec.gpu.count && offered.some((o) => o.gpu === q.gpu)) {
        observations.push({
          source: 'quota',
          region,
          zone: null,
          gpu: q.gpu,
          spot: q.spot,
          outcome: 'quota',
          at: clock.now().toISOString(),
          details: `${q.metric}: limit ${q.limit}, usage ${q.usage}`,
          sweepId: opts.sweepId,
        });
      }
    }
    const clusters = clustersIn(region, spec, calls, pods, regionProblems);
    return {
      region,
      displayName: info?.displayName ?? region,
      continent: info?.continent ?? 'unknown',
      offered,
      quota,
      clusters,
      evidence: [],
      status: regionProblems.some((p) => !p.includes('no GKE cluster yet')) ? 'unknown' : 'ok',
      problems: regionProblems,
    };
  });

  const added = observations.filter((o) => ledger.add(o) === 1);
  const at = clock.now();
  attachEvidence(regionReports, ledger, at);
  return {
    project: spec.project,
    at: at.toISOString(),
    regions: regionReports,
    projectQuotas: calls.projectQuotas.ok ? calls.projectQuotas.value : null,
    newObservations: added,
    problems,
  };
}
