export { GpuCatalog } from './lib/catalog';
export type { CatalogData, Continent, GpuInfo, GpuOffering, GpuType, RegionInfo } from './lib/catalog';
export type { AutopilotGpuBounds } from './lib/autopilot-limits';
export { AUTOPILOT_GRACE, CONFIG_SYNC_MANAGED_BY, DRAINING_TIMEOUT_MAX_SECONDS, resourceQuotaItemProblem } from './lib/platform';
