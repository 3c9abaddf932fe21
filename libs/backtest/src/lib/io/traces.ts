import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { parseTraceFile, parseTraceMap, TraceCapacity, TraceError, type TraceFile } from '../capacity';

/** Load `<dir>/traces.yaml` and the trace files it names (format: the folder's SOURCES.md). */
export function loadTraceFolder(dir: string, catalog: GpuCatalog): TraceCapacity {
  const mapFile = join(dir, 'traces.yaml');
  if (!existsSync(mapFile))
    throw new TraceError(
      `--traces ${dir}: no traces.yaml in it; write one mapping zones to trace files, e.g.\n` +
        '- gpu: nvidia-l4\n  zones:\n    us-central1-a: us-west-2a_v100_1.json',
    );
  const map = parseTraceMap(readFileSync(mapFile, 'utf8'), mapFile, catalog);
  const files = new Map<string, TraceFile>();
  for (const entry of map) {
    for (const [zone, name] of Object.entries(entry.zones)) {
      if (files.has(name)) continue;
      const path = join(dir, name);
      if (!existsSync(path))
        throw new TraceError(
          `${mapFile}: ${entry.gpu} in ${zone} names ${name}, which is not in ${dir}; fix the name or add the file`,
        );
      files.set(name, parseTraceFile(readFileSync(path, 'utf8'), path));
    }
  }
  return new TraceCapacity(map, files, dir);
}
