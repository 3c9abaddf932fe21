/**
 * One-off importer: converts the reference catalog data in ../shared/data into the compact JSON the
 * project ships in libs/gcp-catalog/src/data. Run by a developer when the reference data changes:
 *
 *   npx tsx tools/catalog/import-shared-data.ts ../shared/data
 *
 * Nothing in the project reads ../shared at run or test time; only this tool does, on demand.
 * Facts and data only are copied; see libs/gcp-catalog/src/data/SOURCES.md for attribution.
 */
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

const src = process.argv[2] ?? '../shared/data';
const out = join(__dirname, '../../libs/gcp-catalog/src/data');

function csv(file: string): Record<string, string>[] {
  const [header, ...rows] = readFileSync(join(src, file), 'utf8').trim().split(/\r?\n/);
  const cols = header!.split(',');
  return rows.map((r) => {
    const cells = r.split(',');
    if (cells.length !== cols.length) throw new Error(`${file}: unexpected quoting in row: ${r}`);
    return Object.fromEntries(cols.map((c, i) => [c, cells[i]!]));
  });
}
const num = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));

const zones = csv('gcp-gpu-zones.csv')
  .map((r) => ({
    gpu: r.gke_accelerator!,
    region: r.region!,
    zone: r.zone!,
    counts: r.gpu_counts!.split(';').map(Number),
    onDemandUsdPerGpuHour: num(r.ondemand_usd_per_gpu_hour),
    spotUsdPerGpuHour: num(r.spot_usd_per_gpu_hour),
  }))
  .sort((a, b) => a.gpu.localeCompare(b.gpu) || a.zone.localeCompare(b.zone));
writeFileSync(join(out, 'gpu-zones.json'), JSON.stringify(zones, null, 1) + '\n');

const regions = JSON.parse(readFileSync(join(src, 'gcp-regions.json'), 'utf8')) as {
  regions: Array<Record<string, unknown>>;
};
writeFileSync(
  join(out, 'regions.json'),
  JSON.stringify(
    regions.regions.map((r) => ({
      region: r.region,
      displayName: r.displayName,
      country: r.country,
      continent: r.continent,
      latitude: r.latitude,
      longitude: r.longitude,
      zones: r.zones ?? [],
    })),
    null,
    1,
  ) + '\n',
);

const ap = JSON.parse(readFileSync(join(src, 'autopilot-gpus.json'), 'utf8')) as {
  gpus: Array<Record<string, unknown>>;
  sourceUrls: Record<string, string>;
};
writeFileSync(
  join(out, 'autopilot-gpus.json'),
  JSON.stringify(
    {
      sourceUrls: ap.sourceUrls,
      gpus: ap.gpus.map((g) => ({
        gpu: g.gkeAccelerator,
        displayName: g.displayName,
        memoryMiB: g.gpuMemoryMiB,
        machineFamily: g.machineFamily,
        counts: g.gpuCountsInCatalog,
        autopilotSupported: g.autopilotSupported,
        evidence: g.autopilotSupportedEvidence,
      })),
    },
    null,
    1,
  ) + '\n',
);

const quota = csv('gcp-gpu-quota-metrics-skypilot.csv').map((r) => ({
  skypilotName: r.Accelerator,
  onDemandMetric: r.OnDemandInstanceCode,
  spotMetric: r.SpotInstanceCode,
}));
writeFileSync(join(out, 'quota-metrics.json'), JSON.stringify(quota, null, 1) + '\n');
copyFileSync(join(src, 'SOURCES.md'), join(out, 'SOURCES.upstream.md'));
console.log(
  `imported ${zones.length} (gpu, zone) offerings, ${regions.regions.length} regions, ${ap.gpus.length} GPU types`,
);
