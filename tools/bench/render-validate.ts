/**
 * Benchmark: render and validate a synthetic 40-cluster fleet, time per phase.
 *
 *   npm run bench:render            # print the table
 *   npm run bench:render -- --write # also record it in docs/benchmarks.md
 *
 * Target (issue "Monorepo foundation"): render + validate under 3 s on a 2-core machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordInDocs } from './record';
import { stringify } from 'yaml';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { builtObjectCount, renderTree, validateTree, writeTree } from '@gpu-fleet/manifests';
import { parse } from 'yaml';

const CLUSTERS = 40;
const RUNS = 3;
const catalog = GpuCatalog.bundled();

/** A valid spec with CLUSTERS clusters spread over every region offering a preferred GPU. */
export function syntheticFleetYaml(n = CLUSTERS): string {
  const base = parse(EXAMPLE_FLEET_YAML) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const prefs = [
    'nvidia-l4',
    'nvidia-tesla-t4',
    'nvidia-tesla-a100',
    'nvidia-tesla-v100',
    'nvidia-tesla-p4',
    'nvidia-tesla-p100',
    'nvidia-h100-80gb',
  ];
  const regions = catalog
    .regions()
    .map((r) => r.region)
    .filter((r) => prefs.some((g) => catalog.offers(r, g)));
  const clusters = Array.from({ length: n }, (_, i) => {
    const region = regions[i % regions.length]!;
    return {
      name: `sd-${i}-${region}`.slice(0, 40),
      region,
      mode: i < 3 ? 'active' : 'standby',
      gpu: prefs.find((g) => catalog.offers(region, g))!,
      replicas: 1,
    };
  });
  base.gpu.preferences = prefs;
  base.app.resources = { cpu: '4', memory: '16Gi' };
  base.placement = { candidateRegions: regions, minServingRegions: 2, maxServingRegions: 3 };
  base.clusters = clusters;
  return stringify(base);
}

async function main() {
  const write = process.argv.includes('--write');
  const yaml = syntheticFleetYaml();
  const rows: Array<Record<string, number>> = [];
  for (let run = 0; run < RUNS; run++) {
    const root = mkdtempSync(join(tmpdir(), 'gpu-fleet-bench-'));
    try {
      let t = performance.now();
      const { spec } = loadFleetSpec(yaml, { catalog });
      const parseMs = performance.now() - t;
      t = performance.now();
      const tree = renderTree(spec, catalog);
      const renderMs = performance.now() - t;
      t = performance.now();
      writeTree(root, tree);
      const writeMs = performance.now() - t;
      t = performance.now();
      const report = await validateTree(root, spec, { catalog });
      const validateMs = performance.now() - t;
      if (report.findings.length)
        throw new Error(`synthetic fleet did not validate:\n${report.findings.map((f) => f.message).join('\n')}`);
      rows.push({
        parseMs,
        renderMs,
        writeMs,
        kustomizeMs: report.timingsMs.kustomize,
        schemasMs: report.timingsMs.schemas,
        invariantsMs: report.timingsMs.invariants,
        validateMs,
        totalMs: parseMs + renderMs + writeMs + validateMs,
        files: tree.files.size,
        objects: builtObjectCount(report),
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const median = (k: string) => rows.map((r) => r[k]!).sort((a, b) => a - b)[Math.floor(rows.length / 2)]!;
  const ms = (k: string) => `${Math.round(median(k))} ms`;
  const table = [
    `Synthetic fleet: ${CLUSTERS} clusters (${median('files')} generated files, ${median('objects')} built objects); median of ${RUNS} runs; ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.`,
    '',
    '| phase | time |',
    '|---|---|',
    `| parse + validate spec | ${ms('parseMs')} |`,
    `| render (in memory) | ${ms('renderMs')} |`,
    `| write tree (atomic) | ${ms('writeMs')} |`,
    `| kustomize build × ${CLUSTERS + 1} (parallel) | ${ms('kustomizeMs')} |`,
    `| JSON Schema validation | ${ms('schemasMs')} |`,
    `| fleet invariants | ${ms('invariantsMs')} |`,
    `| **total render + validate** | **${ms('totalMs')}** (target < 3000 ms) |`,
  ].join('\n');
  console.log(table);
  if (write) {
    const doc = recordInDocs('render-validate', table);
    console.log(`recorded in ${doc}`);
  }
  if (median('totalMs') > 3000) process.exitCode = 1;
}

if (require.main === module) void main();
