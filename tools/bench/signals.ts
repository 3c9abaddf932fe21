/**
 * Benchmark: gather signals with injected per-call latency, against the sandbox, with the real
 * clients. Records API calls per gathering and wall time, for the spec's candidate regions and for
 * every catalog region: the number of calls must not grow with the number of zones (one aggregated
 * call), and wall time must stay near the slowest single call, not the sum of calls.
 *
 *   npm run bench:signals            # print the table
 *   npm run bench:signals -- --write # also record it in docs/benchmarks.md
 */
import { cpus } from 'node:os';
import { recordInDocs } from './record';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { compressedClock, SandboxWorld, startSandbox } from '@gpu-fleet/sandbox';
import { EvidenceLedger, gatherSignals, silentLogger } from '@gpu-fleet/scout-domain';
import { createGcpAdapters } from '@gpu-fleet/scout-gcp';

const LATENCY_MS = 150;
const RUNS = 3;

async function measure(allRegions: boolean) {
  const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
  const catalog = GpuCatalog.bundled();
  const clock = compressedClock(new Date('2026-11-23T12:00:00Z'), 60);
  const world = new SandboxWorld({ seed: 1, clock, spec });
  const apis = ['compute', 'container', 'gkehub', 'connectgateway'] as const;
  const sandbox = await startSandbox(world, {
    faults: apis.map((api) => ({ api, kind: 'latency' as const, ms: LATENCY_MS })),
  });
  const connect = () => createGcpAdapters(sandbox.connection, { clock, logger: silentLogger, bundled: catalog, spec });
  const regions = allRegions ? catalog.regions().map((r) => r.region) : undefined;
  // warm-up: module loading and connection set-up are not what is measured
  const warm = await connect();
  await gatherSignals(spec, warm.ports, new EvidenceLedger(), { regions });
  await warm.close();
  const walls: number[] = [];
  let calls: Record<string, number> = {};
  let zones = 0;
  for (let i = 0; i < RUNS; i++) {
    // fresh adapters each run: a cold catalog cache, the worst case of a scheduled sweep
    const adapters = await connect();
    const before = sandbox.requests.length;
    const t = performance.now();
    const report = await gatherSignals(spec, adapters.ports, new EvidenceLedger(), { regions });
    walls.push(performance.now() - t);
    calls = {};
    for (const r of sandbox.requests.slice(before)) calls[r.api] = (calls[r.api] ?? 0) + 1;
    zones = report.regions.reduce((s, r) => s + (catalog.region(r.region)?.zones.length ?? 0), 0);
    await adapters.close();
  }
  await sandbox.close();
  const total = Object.values(calls).reduce((a, b) => a + b, 0);
  const wall = walls.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
  return { regions: regions?.length ?? spec.placement.candidateRegions.length, zones, calls, total, wall };
}

async function main() {
  const rows = [await measure(false), await measure(true)];
  // The slowest single call: a Connect Gateway pod list followed by its event list (2 sequential calls).
  const slowest = 2 * LATENCY_MS;
  const table = [
    `Injected latency ${LATENCY_MS} ms on every API call; median of ${RUNS} gatherings after a warm-up; ${cpus().length} cores, Node ${process.version}.`,
    '',
    '| regions | zones | Compute calls | GKE calls | GKE Hub calls | Connect Gateway calls | total calls | wall time | sum of call latencies | wall ÷ slowest chain (300 ms) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.regions} | ${r.zones} | ${r.calls.compute ?? 0} | ${r.calls.container ?? 0} | ${r.calls.gkehub ?? 0} | ${r.calls.connectgateway ?? 0} | ${r.total} | ${Math.round(r.wall)} ms | ${r.total * LATENCY_MS} ms | ${(r.wall / slowest).toFixed(2)}× |`,
    ),
  ].join('\n');
  console.log(table);
  if (rows[0]!.calls.compute !== rows[1]!.calls.compute) {
    console.error('Compute calls grew with the number of regions/zones');
    process.exitCode = 1;
  }
  if (process.argv.includes('--write')) {
    const doc = recordInDocs('signals', table);
    console.log(`recorded in ${doc}`);
  }
}

if (require.main === module) void main();
