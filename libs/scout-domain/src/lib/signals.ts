import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { appNamespace, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { classify } from './classify';
import { EvidenceLedger, type DecayedEvidence } from './ledger';
import type { Observation } from './types';
import type { AppPods, MemberRef, CatalogPort, Clock, ConfigSyncStatus, FleetPort, GkeCluster, Logger, Membership, Quota, QuotaPort, RegionQuotas, WorkloadPort, ZoneAccelerators } from './ports';

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
export function membershipFor(c: { name: string; region: string }, memberships: readonly Membership[]): Membership | undefined {
  return memberships.find((m) => m.cluster === `${c.region}/${c.name}`) ?? memberships.find((m) => m.id === c.name);
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: string };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (e: unknown) => ({ ok: false as const, error: (e as Error).message }),
  );

/**
 * Gather every cheap signal once: the accelerator offering (one aggregated call), quotas (one call
 * for all regions plus the project), fleet clusters, memberships and Config Sync state, and pending
 * app pods in each serving cluster. Calls run concurrently; a failure only marks what it concerns
 * as unknown. New observations are added to the ledger.
 */
export async function gatherSignals(spec: FleetSpec, ports: SignalPorts, ledger: EvidenceLedger, opts: { regions?: string[]; sweepId?: string } = {}): Promise<SignalsReport> {
  const { bundled, clock, logger } = ports;
  const problems: string[] = [];
  const [accel, regionQuotas, projectQuotas, clusters, memberships, sync, projectNumber] = await Promise.all([
    settle(ports.catalog.acceleratorsByZone()),
    settle(ports.quota.regionQuotas()),
    settle(ports.quota.projectQuotas()),
    settle(ports.fleet.clusters()),
    settle(ports.fleet.memberships()),
    settle(ports.fleet.configSync()),
    settle(ports.fleet.projectNumber()),
  ]);
  const note = (what: string, r: Settled<unknown>) => {
    if (!r.ok) {
      problems.push(`${what}: ${r.error}`);
      logger.warn({ signal: what, err: r.error }, 'signal unavailable');
    }
  };
  note('Compute acceleratorTypes', accel);
  note('Compute regions (quota)', regionQuotas);
  note('Compute project (quota)', projectQuotas);
  note('GKE clusters', clusters);
  note('GKE Hub memberships', memberships);
  note('Config Sync state', sync);
  note('project number', projectNumber);

  const regions = [...new Set(opts.regions ?? [...spec.placement.candidateRegions, ...spec.clusters.map((c) => c.region)])].sort();
  const gpus = spec.gpu.preferences;
  const spots = spec.gpu.provisioning === 'on-demand' ? [false] : spec.gpu.provisioning === 'spot' ? [true] : [true, false];
  const now = () => clock.now().toISOString();
  const observations: Observation[] = [];

  // Passive signal: pending app pods in clusters that should be serving, classified.
  const passive = new Map<string, Settled<AppPods>>();
  if (memberships.ok && projectNumber.ok) {
    const serving = spec.clusters.filter((c) => c.mode !== 'standby');
    const results = await Promise.all(
      serving.map(async (c) => {
        const m = membershipFor(c, memberships.value);
        if (!m) return [c.name, { ok: false as const, error: 'no fleet membership' }] as const;
        return [c.name, await settle(ports.workloads(m, projectNumber.value).appPods(appNamespace(spec), `app.kubernetes.io/name=${spec.app.name}`))] as const;
      }),
    );
    for (const [name, r] of results) passive.set(name, r);
    for (const c of serving) {
      const r = passive.get(c.name);
      if (!r?.ok) continue;
      for (const pod of r.value.pending) {
        for (const ev of pod.events) {
          const cls = classify(ev.message);
          // A namespace ResourceQuota is the cluster's own limit, not evidence about Google's capacity.
          if (cls.kind === 'unknown' || cls.kind === 'transient' || cls.scope === 'namespace') continue;
          observations.push({
            source: 'passive',
            region: c.region,
            zone: cls.zone,
            gpu: cls.gpu ?? c.gpu,
            spot: spec.gpu.provisioning === 'spot',
            outcome: cls.kind,
            at: ev.at,
            details: `${c.name}/${pod.name} ${ev.reason}: ${ev.message}`,
            sweepId: opts.sweepId,
          });
        }
      }
    }
  }

  const regionReports: RegionSignals[] = regions.map((region) => {
    const info = bundled.region(region);
    const rp: string[] = [];
    // Offering: from the API when it answered, else the bundled catalog (marked as such).
    let offered: OfferedGpu[];
    if (accel.ok) {
      const zones = accel.value.filter((z: ZoneAccelerators) => z.region === region);
      const byGpu = new Map<string, string[]>();
      for (const z of zones) for (const a of z.accelerators) byGpu.set(a.gpu, [...(byGpu.get(a.gpu) ?? []), z.zone]);
      offered = [...byGpu].map(([gpu, zs]) => ({ gpu, zones: zs.sort(), source: 'api' as const, onDemandUsdPerHour: bundled.pricePerGpuHour(region, gpu, false), spotUsdPerHour: bundled.pricePerGpuHour(region, gpu, true) }));
    } else {
      rp.push('GPU offering unknown (Compute unavailable); showing the bundled catalog');
      offered = bundled.gpusInRegion(region).map((gpu) => ({ gpu, zones: bundled.zonesOffering(region, gpu), source: 'bundled' as const, onDemandUsdPerHour: bundled.pricePerGpuHour(region, gpu, false), spotUsdPerHour: bundled.pricePerGpuHour(region, gpu, true) }));
    }
    offered = offered.filter((o) => gpus.includes(o.gpu)).sort((a, b) => gpus.indexOf(a.gpu) - gpus.indexOf(b.gpu));

    const rq = regionQuotas.ok ? regionQuotas.value.find((r: RegionQuotas) => r.region === region) : undefined;
    if (!regionQuotas.ok) rp.push('quota unknown (Compute unavailable)');
    const quota: QuotaHeadroom[] = gpus.flatMap((gpu) =>
      spots.map((spot) => {
        const metric = bundled.quotaMetric(gpu, spot);
        const q = rq?.quotas.find((x) => x.metric === metric);
        // A metric absent from a region that answered means no quota there (Compute lists only granted ones).
        const limit = q ? q.limit : rq ? 0 : null;
        const usage = q ? q.usage : rq ? 0 : null;
        return { gpu, spot, metric, limit, usage, headroom: limit === null || usage === null ? null : Math.max(0, limit - usage) };
      }),
    );
    for (const q of quota) {
      if (q.headroom !== null && q.headroom < spec.gpu.count && offered.some((o) => o.gpu === q.gpu)) {
        observations.push({ source: 'quota', region, zone: null, gpu: q.gpu, spot: q.spot, outcome: 'quota', at: now(), details: `${q.metric}: limit ${q.limit}, usage ${q.usage}`, sweepId: opts.sweepId });
      }
    }

    const clusterSignals: ClusterSignals[] = spec.clusters
      .filter((c) => c.region === region)
      .map((c) => {
        const gke = clusters.ok ? clusters.value.find((g: GkeCluster) => g.name === c.name && g.location === region) : undefined;
        const m = memberships.ok ? membershipFor(c, memberships.value) : undefined;
        const s = sync.ok && m ? sync.value.find((x: ConfigSyncStatus) => x.membership === m.id && x.location === m.location) : undefined;
        const pods = passive.get(c.name);
        if (pods && !pods.ok) rp.push(`${c.name}: workload signal unknown (${pods.error})`);
        if (clusters.ok && !gke) rp.push(`${c.name}: no GKE cluster yet (created by infra/ on merge)`);
        return {
          name: c.name,
          mode: c.mode,
          gpu: c.gpu,
          status: clusters.ok ? (gke?.status ?? 'MISSING') : 'UNKNOWN',
          syncCode: sync.ok ? (s?.code ?? 'NOT_CONFIGURED') : 'UNKNOWN',
          syncToken: s?.syncToken ?? null,
          pendingPods: pods?.ok ? pods.value.pending.length : null,
          readyPods: pods?.ok ? pods.value.ready : null,
        };
      });
    return {
      region,
      displayName: info?.displayName ?? region,
      continent: info?.continent ?? 'unknown',
      offered,
      quota,
      clusters: clusterSignals,
      evidence: [],
      status: rp.some((p) => !p.includes('no GKE cluster yet')) ? 'unknown' : 'ok',
      problems: rp,
    };
  });

  const added = observations.filter((o) => ledger.add(o) === 1);
  const at = clock.now();
  attachEvidence(regionReports, ledger, at);
  return { project: spec.project, at: at.toISOString(), regions: regionReports, projectQuotas: projectQuotas.ok ? projectQuotas.value : null, newObservations: added, problems };
}
