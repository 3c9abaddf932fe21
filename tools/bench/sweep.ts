/**
 * Benchmark: the full sweep against the sandbox with the real clients.
 * 1. A sweep over every catalog region offering the GPU, with latency injected on every API call:
 *    API calls per sweep, and wall time against the slowest single probe (target ≤ 1.3×).
 * (How the scout compares with a failover baseline over weeks of real capacity is the backtest's
 * question: tools/bench/backtest.ts. The old "first K regions stocked out" table measured the
 * candidate list's order, not the scout, and is gone.)
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
  const adapters = await createGcpAdapters(sandbox.connection, { clock, logger: silentLogger, bundled: catalog, spec });
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

async function main() {
  const full = await fullSweep();
  const total = Object.values(full.calls).reduce((a, b) => a + b, 0);
  const table = [
    `Sandbox with the real clients; ${cpus().length} cores, Node ${process.version}; clock ×${FACTOR} (GPU nodes take 2–7 simulated minutes).`,
    '',
    `**Full sweep** over every region offering ${GPU} (${full.regions} regions, ${full.zones} zones), ${LATENCY_MS} ms injected on every Google API call, ${full.probes} probes in parallel:`,
    '',
    '| Compute calls | GKE calls | GKE Hub calls | Connect Gateway calls | total API calls | sweep wall time | slowest single probe | sweep ÷ slowest probe |',
    '|---|---|---|---|---|---|---|---|',
    `| ${full.calls.compute ?? 0} | ${full.calls.container ?? 0} | ${full.calls.gkehub ?? 0} | ${full.calls.connectgateway ?? 0} | ${total} | ${Math.round(full.wall)} ms | ${Math.round(full.slowestProbe)} ms | ${(full.wall / full.slowestProbe).toFixed(2)}× |`,
  ].join('\n');
  console.log(table);
  if (full.wall / full.slowestProbe > 1.3) {
    console.error(`sweep took ${(full.wall / full.slowestProbe).toFixed(2)}× the slowest probe (target ≤ 1.3×)`);
    process.exitCode = 1;
  }
  if (process.argv.includes('--write')) console.log(`recorded in ${recordInDocs('sweep', table)}`);
}

if (require.main === module) void main();
