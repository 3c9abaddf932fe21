export { computeQuotaId, GpuCatalog } from './lib/catalog';
export type { CatalogData, Continent, GpuInfo, GpuOffering, GpuType, RegionInfo } from './lib/catalog';
export { AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB } from './lib/autopilot-limits';
export type { AutopilotGpuBounds } from './lib/autopilot-limits';
export {
  AUTOPILOT_GRACE,
  CONFIG_SYNC_MANAGED_BY,
  DRAINING_TIMEOUT_MAX_SECONDS,
  GCSFUSE_SIDECAR_AUTOPILOT_GPU_MAX,
  GCSFUSE_SIDECAR_DEFAULTS,
  GCSFUSE_SIDECAR_MODEL_LOADING,
  resourceQuotaItemProblem,
  webuiPathAnswersBeforeModelLoad,
} from './lib/platform';
