export { GpuCatalog } from './lib/catalog';
export type { CatalogData, Continent, GpuInfo, GpuOffering, GpuType, RegionInfo } from './lib/catalog';
export type { AutopilotGpuBounds } from './lib/autopilot-limits';
