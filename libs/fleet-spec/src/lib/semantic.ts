import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB, AUTOPILOT_GRACE, DRAINING_TIMEOUT_MAX_SECONDS, webuiPathAnswersBeforeModelLoad, type GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { AppSpec, ClusterSpec, ConfigClusterSpec, ConfigSyncGit, GpuSpec, InfraSpec, IngressSpec, PlacementPolicy, ScoutSpec } from './schema';
import { show, type PathSegment } from './issues';
import { findPlaceholders } from './placeholders';
import { READY_GATE_RESOURCES, READY_GATE_STOP } from './derived';

export interface RawIssue {
  path: PathSegment[];
  message: string;
}

/**
 * Cross-field checks that need the catalog. They run section by section on whatever parsed, so a
 * single run reports every problem, not just the first layer of them.
 */
export function crossFieldIssues(raw: Record<string, unknown>, catalog: GpuCatalog): RawIssue[] {
  const issues: RawIssue[] = [];
  const add = (path: PathSegment[], message: string) => issues.push({ path, message });

  const gpu = GpuSpec.safeParse(raw.gpu).data;
  const placement = PlacementPolicy.safeParse(raw.placement).data;
  const app = AppSpec.safeParse(raw.app).data;
  const ingress = IngressSpec.safeParse(raw.ingress).data;
  const scout = ScoutSpec.safeParse(raw.scout).data;
  const configCluster = ConfigClusterSpec.safeParse(raw.configCluster).data;
  const rawClusters = Array.isArray(raw.clusters) ? raw.clusters : [];
  // Field by field, so a bad `replicas` does not hide a GPU the region does not offer.
  const clusters = rawClusters.map((c) => validFields(ClusterSpec, c));

  const knownGpus = catalog.gpuTypes();
  const autopilotGpus = catalog.autopilotGpuTypes();
  const knownRegions = catalog.regions().map((r) => r.region);
  const didYouMean = (value: string, options: string[]) => {
    const c = closest(value, options);
    return c && distance(value, c) <= 3 ? `; did you mean ${show(c)}?` : '';
  };
  const checkRegion = (path: PathSegment[], region: string): boolean => {
    if (catalog.region(region)) return true;
    add(path, `${show(region)} is not a Google Cloud region${didYouMean(region, knownRegions)}`);
    return false;
  };

  // --- GPU preferences -------------------------------------------------------------------------
  const validPrefs: string[] = [];
  if (gpu) {
    const seen = new Set<string>();
    gpu.preferences.forEach((t, i) => {
      const path = ['gpu', 'preferences', i];
      if (seen.has(t)) return add(path, `${show(t)} is listed twice; keep its first position`);
      seen.add(t);
      const info = catalog.gpu(t);
      if (!info) return add(path, `${show(t)} is not a GKE accelerator type${didYouMean(t, knownGpus)} (known: ${knownGpus.join(', ')})`);
      if (info.autopilotSupported !== true) {
        const state = info.autopilotSupported === null ? 'is not verified to work on GKE Autopilot' : 'is not supported on GKE Autopilot';
        return add(path, `${show(t)} ${state}; supported: ${autopilotGpus.join(', ')}`);
      }
      if (!info.counts.includes(gpu.count)) {
        add(['gpu', 'count'], `${gpu.count} × ${t} is not a machine shape Google offers; valid counts for ${t}: ${info.counts.join(', ')}`);
      }
      validPrefs.push(t);
    });
    if (gpu.selection === 'node-selector' && gpu.provisioning === 'spot-then-on-demand') {
      add(['gpu', 'provisioning'], `"spot-then-on-demand" needs gpu.selection "compute-class" (a plain node selector cannot fall back); use "spot" or "on-demand", or selection "compute-class"`);
    }
  }

  // --- Placement policy ------------------------------------------------------------------------
  const candidates = new Set<string>();
  if (placement) {
    placement.candidateRegions.forEach((r, i) => {
      const path = ['placement', 'candidateRegions', i];
      if (candidates.has(r)) return add(path, `${show(r)} is listed twice`);
      candidates.add(r);
      if (!checkRegion(path, r)) return;
      if (validPrefs.length && !validPrefs.some((g) => catalog.offers(r, g))) {
        add(path, `${show(r)} offers none of gpu.preferences (${validPrefs.join(', ')}); it offers: ${catalog.gpusInRegion(r).join(', ') || 'no GPUs'}`);
      }
    });
    if (placement.minServingRegions > placement.maxServingRegions) {
      add(['placement', 'minServingRegions'], `${placement.minServingRegions} is greater than placement.maxServingRegions (${placement.maxServingRegions}); lower it or raise the maximum`);
    }
    if (placement.maxServingRegions > candidates.size) {
      add(['placement', 'maxServingRegions'], `${placement.maxServingRegions} exceeds the number of candidate regions (${candidates.size}); add candidates or lower it`);
    }
  }

  // --- Clusters ----------------------------------------------------------------------------------
  const names = new Map<string, number>();
  clusters.forEach((c, i) => {
    const at = (field: string) => ['clusters', i, field];
    if (c.name !== undefined) {
      const firstName = names.get(c.name);
      if (firstName !== undefined) add(at('name'), `${show(c.name)} is already used by clusters[${firstName}]; cluster names must be unique`);
      else names.set(c.name, i);
    }
    let regionOk = false;
    if (c.region !== undefined) {
      regionOk = checkRegion(at('region'), c.region);
      if (regionOk && placement && !candidates.has(c.region)) {
        add(at('region'), `${show(c.region)} is not in placement.candidateRegions (${[...candidates].join(', ')}); add it there first`);
      }
    }
    if (c.gpu === undefined) {
      // reported by the schema
    } else if (gpu && !gpu.preferences.includes(c.gpu)) {
      add(at('gpu'), `${show(c.gpu)} is not in gpu.preferences (${gpu.preferences.join(', ')}); add it there or pick one of them`);
    } else if (regionOk && c.region && catalog.gpu(c.gpu) && !catalog.offers(c.region, c.gpu)) {
      const offered = catalog.gpusInRegion(c.region).filter((g) => !gpu || gpu.preferences.includes(g));
      const all = catalog.gpusInRegion(c.region);
      add(at('gpu'), `${show(c.gpu)} is not offered in ${c.region}; offered there: ${(offered.length ? offered : all).join(', ') || 'no GPUs'}`);
    }
    if (c.mode === 'active' && c.replicas !== undefined && c.replicas < 1) {
      add(at('replicas'), `0 with mode "active" serves nothing; set replicas to 1 or more, or mode "standby"`);
    }
  });
  if (placement && clusters.length && clusters.every((c) => c.mode !== undefined && c.region !== undefined)) {
    const active = [...new Set(clusters.filter((c) => c.mode === 'active').map((c) => c.region!))];
    if (active.length < placement.minServingRegions) {
      add(['clusters'], `${active.length} active region(s)${active.length ? ` (${active.join(', ')})` : ''} but placement.minServingRegions is ${placement.minServingRegions}; set more clusters to mode "active"`);
    }
    // Make-before-break: a replacement may be active next to the cluster it replaces until it is ready.
    const replaced = new Set(clusters.filter((c) => c.mode === 'active' && c.replaces).map((c) => c.replaces!));
    const beingReplaced = clusters.filter((c) => c.mode === 'active' && c.name !== undefined && replaced.has(c.name)).length;
    if (active.length > placement.maxServingRegions + beingReplaced) {
      add(['clusters'], `${active.length} active regions (${active.join(', ')}) but placement.maxServingRegions is ${placement.maxServingRegions}; set some to "standby" or raise the maximum`);
    }
  }
  clusters.forEach((c, i) => {
    if (c.replaces === undefined) return;
    const path = ['clusters', i, 'replaces'];
    if (c.replaces === c.name) return add(path, `a cluster cannot replace itself; remove "replaces"`);
    if (!names.has(c.replaces)) return add(path, `${show(c.replaces)} is not a cluster of the spec (${[...names.keys()].join(', ')}); remove "replaces" or fix the name`);
    if (c.mode !== 'active') add(path, `only an active cluster can replace another (this one is ${show(c.mode)}); remove "replaces"`);
  });
  if (placement) {
    placement.excludedRegions.forEach((r, i) => checkRegion(['placement', 'excludedRegions', i], r));
  }

  // --- App ---------------------------------------------------------------------------------------
  if (app) {
    const ref = app.image.split('@')[0]!;
    const tag = ref.includes(':', ref.lastIndexOf('/')) ? ref.slice(ref.lastIndexOf(':') + 1) : undefined;
    if (!app.image.includes('@sha256:') && (!tag || tag === 'latest')) {
      add(['app', 'image'], `${show(app.image)} is not pinned; use a version tag (":v1.10.1") or better a digest ("@sha256:…")`);
    }
    const portArg = app.args.map((a) => /^--port[= ](\d+)$/.exec(a)).find(Boolean);
    if (portArg && Number(portArg[1]) !== app.port) {
      add(['app', 'port'], `${app.port} differs from the WebUI argument "${portArg[0]}"; make them equal`);
    }
    // Readiness means "a generation can run" (app.probes.readiness).
    const r = app.probes.readiness;
    if (r.mode === 'http-path' && webuiPathAnswersBeforeModelLoad(r.path)) {
      add(['app', 'probes', 'readiness', 'path'], `${show(r.path)} answers while the model is still loading (the WebUI loads it in a background thread after its API is up: modules/initialize.py), so new pods would take traffic they cannot serve; use mode "generation" (the ready gate), or a path your image serves only once it can generate`);
    }
    if (r.mode === 'generation' && r.port === app.port) {
      add(['app', 'probes', 'readiness', 'port'], `${r.port} is also app.port; the ready gate needs a port of its own, such as 7861`);
    }
    if (r.mode === 'generation' && !app.args.includes('--api')) {
      add(['app', 'args'], `the ready gate runs one generation through the WebUI API, which needs "--api"; add it, or set app.probes.readiness.mode "http-path" with a path your image serves once it can generate`);
    }
    // What Autopilot checks: the Pod's totals, sidecars included, against the GPU type's maxima.
    const parts = podRequestParts(app);
    const sum = (k: 'cpu' | 'memoryGiB' | 'ephemeralGiB') => parts.reduce((n, p) => n + p[k], 0);
    const listed = (k: 'cpu' | 'memoryGiB' | 'ephemeralGiB', unit: string) => parts.map((p) => `${p.name} ${round(p[k])}${unit}`).join(' + ');
    if (sum('ephemeralGiB') > AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB) {
      add(['app', 'resources', 'ephemeralStorage'], `the Pod requests ${round(sum('ephemeralGiB'))} GiB of ephemeral storage (${listed('ephemeralGiB', ' GiB')}), more than the ${AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB} GiB Autopilot allows for all containers of a Pod; lower app.resources.ephemeralStorage${app.modelStorage ? ' or app.modelStorage.sidecar.ephemeralStorage' : ''}`);
    }
    if (gpu) {
      for (const t of validPrefs) {
        const b = catalog.autopilotBounds(t, gpu.count);
        if (!b) continue;
        if (sum('cpu') > b.maxCpu) add(['app', 'resources', 'cpu'], `the Pod requests ${round(sum('cpu'))} vCPU (${listed('cpu', '')}), more than Autopilot accepts with ${gpu.count} × ${t} (at most ${b.maxCpu} vCPU, ${b.provenance}); lower app.resources.cpu`);
        if (sum('memoryGiB') > b.maxMemoryGiB) add(['app', 'resources', 'memory'], `the Pod requests ${round(sum('memoryGiB'))} GiB of memory (${listed('memoryGiB', ' GiB')}), more than Autopilot accepts with ${gpu.count} × ${t} (at most ${b.maxMemoryGiB} GiB, ${b.provenance}); lower app.resources.memory`);
      }
    }
  }

  // --- Draining and stopping: a removed or stopping backend finishes the longest request ----------
  if (ingress) {
    const longest = ingress.backendTimeoutSec;
    if (longest > DRAINING_TIMEOUT_MAX_SECONDS) {
      add(['ingress', 'backendTimeoutSec'], `${longest} s cannot be drained: the load balancer keeps a removed backend's connections for at most ${DRAINING_TIMEOUT_MAX_SECONDS} s (drainingTimeoutSec), so longer generations would be cut on every rollout or drain; lower it to ${DRAINING_TIMEOUT_MAX_SECONDS} or less`);
    }
    const drain = ingress.connectionDrainingSec ?? Math.min(longest, DRAINING_TIMEOUT_MAX_SECONDS);
    if (ingress.connectionDrainingSec !== undefined && ingress.connectionDrainingSec < longest) {
      add(['ingress', 'connectionDrainingSec'], `${ingress.connectionDrainingSec} s is shorter than ingress.backendTimeoutSec (${longest} s): every rollout, drain or scale-down would cut generations after ${ingress.connectionDrainingSec} s; raise it to ${Math.min(longest, DRAINING_TIMEOUT_MAX_SECONDS)} or remove it (it defaults to backendTimeoutSec)`);
    }
    const need = drain + READY_GATE_STOP.detachSeconds + READY_GATE_STOP.shutdownSeconds;
    if (app?.terminationGracePeriodSeconds !== undefined && app.terminationGracePeriodSeconds < need) {
      add(['app', 'terminationGracePeriodSeconds'], `${app.terminationGracePeriodSeconds} s does not cover a pod's stop: ${READY_GATE_STOP.detachSeconds} s for its endpoint to leave the load balancer + up to ${drain} s for generations in flight (the draining time) + ${READY_GATE_STOP.shutdownSeconds} s for the WebUI to exit = ${need} s; raise it to ${need} or remove it`);
    }
    if (gpu && gpu.provisioning !== 'on-demand' && !gpu.acceptCutGenerations && longest > AUTOPILOT_GRACE.spotPreemptionMaxSeconds) {
      add(['gpu', 'provisioning'], `${show(gpu.provisioning)} runs pods on Spot VMs, and GKE gives a preempted Spot Pod at most ${AUTOPILOT_GRACE.spotPreemptionMaxSeconds} s to stop, while a generation may run ${longest} s (ingress.backendTimeoutSec): a preemption cuts it; use "on-demand", or set gpu.acceptCutGenerations: true to accept that`);
    }
  }

  // --- Ingress -----------------------------------------------------------------------------------
  if (ingress) {
    const ip = ingress.staticIp;
    if (ip.disabled) {
      if (!ip.reason) add(['ingress', 'staticIp', 'reason'], `is required when staticIp.disabled is true; say why the fleet runs without a static IP`);
      if (ip.name || ip.address) add(['ingress', 'staticIp'], `has both disabled: true and a name/address; remove one`);
      if (ingress.preSharedCertificates.length) add(['ingress', 'preSharedCertificates'], `HTTPS needs a reserved static IP, but ingress.staticIp.disabled is true; set ingress.staticIp.name`);
    } else if (!ip.name) {
      add(['ingress', 'staticIp', 'name'], `is required: name the reserved global address (see infra/), or set disabled: true with a reason`);
    }
    const cert = ingress.managedCertificate;
    if (cert && ingress.domains.length === 0) {
      add(['ingress', 'managedCertificate'], `a Google-managed certificate needs ingress.domains (the names it certifies); add them, or remove managedCertificate`);
    }
    if (cert && ingress.preSharedCertificates.includes(cert.name)) {
      add(['ingress', 'preSharedCertificates'], `${show(cert.name)} is already ingress.managedCertificate.name (attached automatically); remove it from this list`);
    }
    if (cert && ip.disabled) add(['ingress', 'managedCertificate'], `HTTPS needs a reserved static IP, but ingress.staticIp.disabled is true; set ingress.staticIp.name`);
    if (ingress.iap.enabled && ingress.preSharedCertificates.length === 0 && !cert) {
      add(['ingress', 'iap'], `IAP needs HTTPS; add ingress.managedCertificate or ingress.preSharedCertificates, or set iap.enabled: false with a reason`);
    }
    if (ingress.iap.enabled && ingress.iap.members.length === 0) {
      add(['ingress', 'iap', 'members'], `is empty, so IAP would let nobody in (it admits only principals holding roles/iap.httpsResourceAccessor); list who may use the app, e.g. ["group:sd-users@example.com", "domain:example.com"]`);
    }
    if (!ingress.iap.enabled && !ingress.iap.reason) {
      add(['ingress', 'iap', 'reason'], `is required when iap.enabled is false; say why the app is public`);
    }
    if (ingress.healthCheck.timeoutSec > ingress.healthCheck.checkIntervalSec) {
      add(['ingress', 'healthCheck', 'timeoutSec'], `${ingress.healthCheck.timeoutSec} is longer than checkIntervalSec (${ingress.healthCheck.checkIntervalSec}); Google rejects that`);
    }
  }

  // --- Scout and config cluster ------------------------------------------------------------------
  if (scout && gpu && scout.probesPerSweep > 0 && scout.probeMaxGpus < gpu.count) {
    // The probe namespace's ResourceQuota (requests.nvidia.com/gpu = probeMaxGpus) would refuse every probe pod.
    add(['scout', 'probeMaxGpus'], `${scout.probeMaxGpus} cannot hold one probe of gpu.count ${gpu.count} GPU(s): the probe namespace's ResourceQuota would refuse every probe pod; raise it to at least ${gpu.count}, or set scout.probesPerSweep to 0`);
  }
  if (scout && scout.schedule.runner === 'config-cluster' && !scout.image) {
    add(['scout', 'image'], `is required when scout.schedule.runner is "config-cluster" (the CronJob runs it); build the image and run \`region-scout pin --scout-image <ref@sha256:…>\`, or use runner "github-actions"`);
  }
  const infra = InfraSpec.safeParse(raw.infra).data;
  const configSync = ConfigSyncGit.safeParse(raw.configSync).data;
  if (infra && configSync && /github\.com[/:]/.test(configSync.repo)) {
    const gha = infra.githubActions;
    if (!gha.repositoryId) add(['infra', 'githubActions', 'repositoryId'], `is required for a repository on GitHub: the workflows' Workload Identity Federation trusts it by numeric id; set it to the output of \`gh api repos/<owner>/<repo> --jq .id\``);
    if (!gha.repositoryOwnerId) add(['infra', 'githubActions', 'repositoryOwnerId'], `is required for a repository on GitHub: set it to the output of \`gh api repos/<owner>/<repo> --jq .owner.id\``);
  }
  // The nodes may pull only from the repository infra/ creates (gpu-fleet-nodes holds
  // roles/artifactregistry.reader on it alone, infra/iam.tf): an image elsewhere in this project's
  // Artifact Registry would fail with ImagePullBackOff after a successful deploy.
  // Image paths are LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE
  // (https://cloud.google.com/artifact-registry/docs/docker/names).
  if (infra && typeof raw.project === 'string') {
    const { location, repository } = infra.artifactRegistry;
    const images: Array<[PathSegment[], string | undefined]> = [
      [['app', 'image'], app?.image],
      [['scout', 'image'], scout?.image],
    ];
    for (const [path, image] of images) {
      const m = image ? /^([a-z0-9-]+)-docker\.pkg\.dev\/([^/]+)\/([^/]+)\/(.+)$/.exec(image) : null;
      if (!m || m[2] !== raw.project || (m[1] === location && m[3] === repository)) continue;
      add(
        path,
        `${show(image!)} is in Artifact Registry repository ${show(`${m[1]}/${m[3]}`)} of this project, but infra/ creates and lets the nodes pull from ${show(`${location}/${repository}`)} only; push the image to ${location}-docker.pkg.dev/${raw.project}/${repository}/${m[4]}, or set infra.artifactRegistry to the repository it is in`,
      );
    }
  }
  if (configCluster) {
    if (names.has(configCluster.name)) {
      add(['configCluster', 'name'], `${show(configCluster.name)} is also the name of clusters[${names.get(configCluster.name)}]; the config cluster needs its own name (membership names are unique in a fleet)`);
    }
    if (configCluster.region) checkRegion(['configCluster', 'region'], configCluster.region);
  }

  for (const p of findPlaceholders(raw)) {
    add(p.path.split(/\.|(?=\[)/).map((s) => (/^\[\d+\]$/.test(s) ? Number(s.slice(1, -1)) : s)), `${show(p.value)} looks like ${p.why}; set the real value`);
  }
  return issues;
}

/** The fields of an object that are valid on their own (used to keep checking past bad siblings). */
function validFields<S extends z.ZodObject>(schema: S, raw: unknown): Partial<z.output<S>> {
  if (!raw || typeof raw !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    const r = (field as z.ZodType).safeParse((raw as Record<string, unknown>)[key]);
    if (r.success) out[key] = r.data;
  }
  return out as Partial<z.output<S>>;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** What each container of the WebUI Pod requests (= limits): what Autopilot sums against its maxima. */
export function podRequestParts(app: AppSpec): Array<{ name: string; cpu: number; memoryGiB: number; ephemeralGiB: number }> {
  const part = (name: string, r: { cpu: string; memory: string; ephemeralStorage: string }) => ({ name, cpu: cpuQuantity(r.cpu), memoryGiB: memoryGiB(r.memory), ephemeralGiB: memoryGiB(r.ephemeralStorage) });
  return [
    part('webui', app.resources),
    ...(app.probes.readiness.mode === 'generation' ? [part('ready gate', READY_GATE_RESOURCES)] : []),
    ...(app.modelStorage ? [part('Cloud Storage FUSE sidecar', app.modelStorage.sidecar)] : []),
  ];
}

/** Kubernetes CPU quantity → cores. */
export function cpuQuantity(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q);
}

/** Kubernetes memory quantity → GiB. */
export function memoryGiB(q: string): number {
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|m)?$/.exec(q);
  if (!m) return NaN;
  const n = Number(m[1]);
  const unit = { Ki: 1 / 1024 / 1024, Mi: 1 / 1024, Gi: 1, Ti: 1024, m: 1e-3 / 1024 ** 3 }[m[2] as 'Ki'] ?? 1 / 1024 ** 3;
  return n * unit;
}
