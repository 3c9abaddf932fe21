import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';

/** What every backtest benchmark runs on: the repository's example fleet and the bundled catalog. */
export const ROOT = join(__dirname, '../..');
export const catalog = GpuCatalog.bundled();
export const SPEC = readFileSync(join(ROOT, 'fleet-config/fleet.yaml'), 'utf8');
export const spec = loadFleetSpec(SPEC).spec;
