import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';

/** Whether a GPU can be obtained in a zone, minute by minute from the start of the run. */
export interface CapacitySource {
  has(zone: string, gpu: string, minute: number): boolean;
  /** How many instances could be had (a trace's value); absent: unbounded whenever `has`. */
  count?(zone: string, gpu: string, minute: number): number;
  /** Minutes of record (a trace ends), or null when the source never ends. */
  readonly lengthMinutes: number | null;
  describe(): string;
}

/** One trace file: `data[i]` instances could be obtained during tick i of `gap_seconds` (../SOURCES.md). */
export const TraceFileSchema = z.object({
  metadata: z.object({ gap_seconds: z.number().int().positive() }),
  data: z.array(z.number().int().min(0)).min(1),
});
export type TraceFile = z.infer<typeof TraceFileSchema>;

/** traces.yaml: which trace stands for which (zone, GPU). */
export const TraceMapSchema = z
  .array(
    z
      .object({
        gpu: z.string().min(1).describe('GKE accelerator name these traces stand for, e.g. nvidia-l4.'),
        zones: z
          .record(z.string(), z.string().min(1))
          .describe('Zone → trace file name, relative to the traces folder.'),
      })
      .strict(),
  )
  .min(1);
export type TraceMap = z.infer<typeof TraceMapSchema>;

export class TraceError extends Error {
  override name = 'TraceError';
}

/** Parse and check traces.yaml against the catalog: every zone must exist and offer the GPU. */
export function parseTraceMap(text: string, file: string, catalog: GpuCatalog): TraceMap {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new TraceError(`${file}: not YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const parsed = TraceMapSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TraceError(
      `${file}: ${issue.path.length ? `[${issue.path.join('.')}]` : 'document'}: ${issue.message}. ` +
        'Expected a list of {gpu: nvidia-l4, zones: {us-central1-a: file.json}}.',
    );
  }
  parsed.data.forEach((entry, i) => {
    if (!catalog.gpu(entry.gpu))
      throw new TraceError(
        `${file}: [${i}].gpu = "${entry.gpu}" is not a GPU type of the catalog; use a GKE accelerator name such as ${catalog.autopilotGpuTypes().slice(0, 3).join(', ')}`,
      );
    for (const zone of Object.keys(entry.zones)) {
      const offering = catalog.offerings().find((o) => o.zone === zone && o.gpu === entry.gpu);
      if (!offering) {
        const region = zone.replace(/-[a-z]$/, '');
        const zones = catalog.zonesOffering(region, entry.gpu);
        throw new TraceError(
          `${file}: [${i}].zones."${zone}": ${entry.gpu} is not offered in ${zone}; ` +
            (zones.length
              ? `zones of ${region} that offer it: ${zones.join(', ')}`
              : `${region} offers no ${entry.gpu}`),
        );
      }
    }
  });
  return parsed.data;
}

export function parseTraceFile(text: string, file: string): TraceFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TraceError(`${file}: not JSON (${(e as Error).message})`);
  }
  const parsed = TraceFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TraceError(
      `${file}: ${issue.path.join('.') || 'document'}: ${issue.message}; expected {"metadata":{"gap_seconds":N},"data":[counts…]}`,
    );
  }
  return parsed.data;
}

/** Capacity from real traces: a (zone, GPU) pair with no trace has no capacity. */
export class TraceCapacity implements CapacitySource {
  private readonly series = new Map<string, { gapMinutes: number; data: number[] }>();
  readonly lengthMinutes: number;

  constructor(
    map: TraceMap,
    files: ReadonlyMap<string, TraceFile>,
    private readonly label: string,
  ) {
    let shortest = Infinity;
    for (const entry of map) {
      for (const [zone, name] of Object.entries(entry.zones)) {
        const trace = files.get(name);
        if (!trace) throw new TraceError(`${label}: ${entry.gpu} in ${zone}: trace file ${name} was not loaded`);
        const gapMinutes = trace.metadata.gap_seconds / 60;
        this.series.set(`${zone}|${entry.gpu}`, { gapMinutes, data: trace.data });
        shortest = Math.min(shortest, trace.data.length * gapMinutes);
      }
    }
    this.lengthMinutes = Math.floor(shortest);
  }

  has(zone: string, gpu: string, minute: number): boolean {
    return this.count(zone, gpu, minute) > 0;
  }

  /** The trace's value at that tick: how many instances could be had. */
  count(zone: string, gpu: string, minute: number): number {
    const s = this.series.get(`${zone}|${gpu}`);
    if (!s) return 0;
    const tick = Math.floor(minute / s.gapMinutes);
    return tick < s.data.length ? s.data[tick]! : 0;
  }

  /** The (zone, GPU) pairs that have a trace. */
  pairs(): Array<{ zone: string; gpu: string }> {
    return [...this.series.keys()].map((k) => {
      const [zone, gpu] = k.split('|') as [string, string];
      return { zone, gpu };
    });
  }

  describe(): string {
    return `traces ${this.label} (${this.series.size} zone/GPU pairs)`;
  }
}
