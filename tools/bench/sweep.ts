/**
 * Benchmark: the full sweep against the sandbox with the real clients.
 * 1. A sweep over every catalog region offering the GPU, with latency injected on every API call:
 *    API calls per sweep, and wall time against the slowest single probe (target ≤ 1.3×).
 * 2. Time to a confirmed GPU when the first K preferred regions are stocked out, for the scout
 *    (probes the best candidates in parallel, learns from each round) and for a sequential
 *    failover baseline (try one region, wait for its outcome, move on — how single-shot
 *    provisioners behave), K = 0, 2, 5, 10.
 *
 *   npm run bench:sweep            # print the tables
 *   npm run bench:sweep -- --write # also record them in docs/benchmarks.md
 */
import { cpus } from 'node:os';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { compressedClock, SandboxWorld, startSandbox } from '@gpu-fleet/sandbox';
import { FsCheckout, SPEC_FILE } from '@gpu-fleet/manifests';
import { EvidenceLedger, silentLogger, type MemberRef, type ProbePort } from '@gpu-fleet/scout-domain';
import { createGcpAdapters } from '@gpu-fleet/scout-gcp';
import { runSweep } from '@gpu-fleet/scout-sweep';
import { parseDocument } from 'yaml';
import { recordInDocs } from './record';

const LATENCY_MS = 100;
const FACTOR = 600; // simulated seconds per real second: a 5-minute GPU node takes 0.5 s
const GPU = 'nvidia-l4';
const PROBES_PER_SWEEP = 4;
const T0 = new Date('2026-11-23T12:00:00Z');
const catalog = GpuCatalog.bundled();

/** A fleet with a (standby) cluster in every region offering the GPU, so probes can run anywhere. */
function benchSpec(): FleetSpec {
  const base = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
  const regions = catalog
    .regionsOffering(GPU)
    .filter((r) => catalog.autopilotGpuTypes().includes(GPU) && catalog.region(r));
  return {
    ...base,
    gpu: { ...base.gpu, preferences: [GPU] },
    placement: { ...base.placement, candidateRegions: regions, minServingRegions: 1, maxServingRegions: 2 },
    scout: {
      ...base.scout,
      probesPerSweep: PROBES_PER_SWEEP,
      probeBudget: { maxProbesPerDay: 1000, maxGpuMinutesPerDay: 100000 },
    },
    clusters: regions.map((r, i) => ({
      name: `sd-${r}`,
      region: r,
      mode: i === 0 ? ('active' as const) : ('standby' as const),
      gpu: GPU,
      replicas: 1,
    })),
  };
}

async function world(spec: FleetSpec, latency: boolean, setup: (w: SandboxWorld) => void) {
  const clock = compressedClock(T0, FACTOR);
  const w = new SandboxWorld({ seed: 5, clock, spec });
  setup(w);
  const apis = ['compute', 'container', 'gkehub', 'connectgateway'] as const;
  const sandbox = await startSandbox(w, {
    faults: latency ? apis.map((api) => ({ api, kind: 'latency' as const, ms: LATENCY_MS })) : [],
  });
  const adapters = await createGcpAdapters(
    { project: spec.project, endpoints: sandbox.endpoints, refreshToken: sandbox.refreshToken },
    { clock, logger: silentLogger, bundled: catalog, spec },
  );
  const probeTimes: number[] = [];
  const prober = async (member: MemberRef, projectNumber: string): Promise<ProbePort> => {
    const p = await adapters.prober(member, projectNumber, { pollMs: 10 });
    return {
      cleanup: (ns) => p.cleanup(ns),
      run: async (req) => {
        const t = performance.now();
        const r = await p.run(req);
        probeTimes.push(performance.now() - t);
        return r;
      },
    };
  };
  return {
    clock,
    w,
    sandbox,
    adapters,
    prober,
    probeTimes,
    close: async () => (await adapters.close(), await sandbox.close()),
  };
}

const sweepDeps = (spec: FleetSpec, env: Awaited<ReturnType<typeof world>>, ledger: EvidenceLedger) => ({
  // The checkout is read, never written; validation is not what this benchmark measures.
  checkout: new FsCheckout(process.cwd(), async () => ({
    findings: [],
    built: new Map(),
    timingsMs: { kustomize: 0, schemas: 0, invariants: 0 },
  })),
  spec,
  document: parseDocument(''),
  specPath: SPEC_FILE,
  catalog,
  ports: env.adapters.ports,
  ledger,
  prober: env.prober,
  host: null,
  logger: silentLogger,
});

/** Part 1: one sweep over every region, latency on every call. */
async function fullSweep() {
  const spec = benchSpec();
  const env = await world(spec, true, (w) => {
    for (const r of spec.placement.candidateRegions)
      w.forceCapacity(r, GPU, new Date(T0.getTime() - 86400_000), new Date(T0.getTime() + 86400_000));
  });
  const before = env.sandbox.requests.length;
  const t = performance.now();
  const r = await runSweep(sweepDeps(spec, env, new EvidenceLedger()), {
    sweepId: 'bench',
    probes: true,
    dryRun: true,
  });
  const wall = performance.now() - t;
  const calls: Record<string, number> = {};
  for (const q of env.sandbox.requests.slice(before)) calls[q.api] = (calls[q.api] ?? 0) + 1;
  const slowestProbe = Math.max(...env.probeTimes);
  await env.close();
  return {
    regions: spec.placement.candidateRegions.length,
    zones: spec.placement.candidateRegions.reduce((s, x) => s + catalog.zonesOffering(x, GPU).length, 0),
    probes: r.probes.length,
    calls,
    wall,
    slowestProbe,
  };
}

/** Part 2: the first K candidates (in preference order) stocked out; time to the first GPU. */
async function failover(k: number) {
  const spec = benchSpec();
  // Preference order for the baseline: the spec's candidate order, active region first.
  const order = spec.placement.candidateRegions;
  const setup = (w: SandboxWorld) =>
    order.forEach((r, i) =>
      i < k
        ? w.forceStockout(r, GPU, new Date(T0.getTime() - 3600_000), new Date(T0.getTime() + 86400_000))
        : w.forceCapacity(r, GPU, new Date(T0.getTime() - 3600_000), new Date(T0.getTime() + 86400_000)),
    );

  // Sequential baseline: one region at a time, wait for its outcome, move on.
  const base = await world(spec, false, setup);
  const pn = await base.adapters.ports.fleet.projectNumber();
  const tb = performance.now();
  let attempts = 0;
  for (const region of order) {
    attempts++;
    const p = await base.prober({ id: `sd-${region}`, location: 'global' }, pn);
    const res = await p.run({
      membership: `sd-${region}`,
      region,
      gpu: GPU,
      count: 1,
      spot: false,
      namespace: spec.scout.probeNamespace,
      sweepId: 'baseline',
      deadlineSeconds: spec.scout.probeDeadlineSeconds,
    });
    if (res.outcome === 'success') break;
  }
  const baselineMs = performance.now() - tb;
  await base.close();

  // The scout: sweeps back to back; each probes the best untested candidates in parallel.
  const scout = await world(spec, false, setup);
  const ledger = new EvidenceLedger();
  const ts = performance.now();
  let rounds = 0;
  let probes = 0;
  for (; rounds < 10;) {
    rounds++;
    const r = await runSweep(sweepDeps(spec, scout, ledger), {
      sweepId: `round-${rounds}`,
      probes: true,
      dryRun: true,
    });
    probes += r.probes.length;
    if (r.probes.some((p) => p.result?.outcome === 'success') || !r.probes.length) break;
  }
  const scoutMs = performance.now() - ts;
  await scout.close();
  return { k, baselineMs, attempts, scoutMs, rounds, probes };
}

const simMin = (ms: number) => ((ms / 1000) * FACTOR) / 60;

async function main() {
  const full = await fullSweep();
  const total = Object.values(full.calls).reduce((a, b) => a + b, 0);
  const rows = [];
  for (const k of [0, 2, 5, 10]) rows.push(await failover(k));
  const table = [
    `Sandbox with the real clients; ${cpus().length} cores, Node ${process.version}; clock ×${FACTOR} (GPU nodes take 2–7 simulated minutes).`,
    '',
    `**Full sweep** over every region offering ${GPU} (${full.regions} regions, ${full.zones} zones), ${LATENCY_MS} ms injected on every Google API call, ${full.probes} probes in parallel:`,
    '',
    '| Compute calls | GKE calls | GKE Hub calls | Connect Gateway calls | total API calls | sweep wall time | slowest single probe | sweep ÷ slowest probe |',
    '|---|---|---|---|---|---|---|---|',
    `| ${full.calls.compute ?? 0} | ${full.calls.container ?? 0} | ${full.calls.gkehub ?? 0} | ${full.calls.connectgateway ?? 0} | ${total} | ${Math.round(full.wall)} ms | ${Math.round(full.slowestProbe)} ms | ${(full.wall / full.slowestProbe).toFixed(2)}× |`,
    '',
    `**Time to a confirmed GPU** when the first K candidate regions are stocked out (simulated minutes; the scout probes up to ${PROBES_PER_SWEEP} candidates per sweep, sweeps back to back; the baseline tries one region at a time in the same order):`,
    '',
    '| K | sequential baseline | attempts | region-scout | sweeps | probes | speed-up |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.k} | ${simMin(r.baselineMs).toFixed(1)} min | ${r.attempts} | ${simMin(r.scoutMs).toFixed(1)} min | ${r.rounds} | ${r.probes} | ${(r.baselineMs / r.scoutMs).toFixed(1)}× |`,
    ),
  ].join('\n');
  console.log(table);
  if (full.wall / full.slowestProbe > 1.3) {
    console.error(`sweep took ${(full.wall / full.slowestProbe).toFixed(2)}× the slowest probe (target ≤ 1.3×)`);
    process.exitCode = 1;
  }
  if (process.argv.includes('--write')) console.log(`recorded in ${recordInDocs('sweep', table)}`);
}

if (require.main === module) void main();
