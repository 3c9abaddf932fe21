import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import {
  AppSpec,
  AutoscalingSpec,
  ClusterSpec,
  ConfigClusterSpec,
  ConfigSyncGit,
  GpuSpec,
  InfraSpec,
  IngressSpec,
  MonitoringSpec,
  PlacementPolicy,
  ScoutSpec,
} from '../schema';
import { show, type PathSegment } from '../issues';
import { findPlaceholders } from '../placeholders';
import type { RawIssue, SemanticContext } from './context';
import { checkApp } from './app';
import { checkAutoscaling } from './autoscaling';
import { checkClusters } from './clusters';
import { checkDraining } from './draining';
import { checkGpu } from './gpu';
import { checkHedge } from './hedge';
import { checkIngress } from './ingress';
import { checkPlacement } from './placement';
import { checkScoutAndInfra } from './scout-infra';

export type { RawIssue } from './context';
export { cpuQuantity, memoryGiB, podRequestParts } from './quantities';

/** The sections, in the order their issues are reported; later ones read what earlier ones found. */
const SECTIONS: ReadonlyArray<(ctx: SemanticContext) => void> = [
  checkGpu,
  checkPlacement,
  checkClusters,
  checkHedge,
  checkApp,
  checkDraining,
  checkIngress,
  checkScoutAndInfra,
  checkAutoscaling,
];

/**
 * Cross-field checks that need the catalog. They run section by section on whatever parsed, so a
 * single run reports every problem, not just the first layer of them.
 */
export function crossFieldIssues(raw: Record<string, unknown>, catalog: GpuCatalog): RawIssue[] {
  const issues: RawIssue[] = [];
  const add = (path: PathSegment[], message: string) => issues.push({ path, message });
  const knownRegions = catalog.regions().map((r) => r.region);
  const didYouMean = (value: string, options: string[]) => {
    const c = closest(value, options);
    return c && distance(value, c) <= 3 ? `; did you mean ${show(c)}?` : '';
  };
  const ctx: SemanticContext = {
    raw,
    catalog,
    add,
    didYouMean,
    checkRegion: (path, region) => {
      if (catalog.region(region)) return true;
      add(path, `${show(region)} is not a Google Cloud region${didYouMean(region, knownRegions)}`);
      return false;
    },
    gpu: GpuSpec.safeParse(raw.gpu).data,
    placement: PlacementPolicy.safeParse(raw.placement).data,
    autoscaling: AutoscalingSpec.safeParse(raw.autoscaling).data,
    app: AppSpec.safeParse(raw.app).data,
    ingress: IngressSpec.safeParse(raw.ingress).data,
    scout: ScoutSpec.safeParse(raw.scout).data,
    monitoring: MonitoringSpec.safeParse(raw.monitoring).data,
    configCluster: ConfigClusterSpec.safeParse(raw.configCluster).data,
    infra: InfraSpec.safeParse(raw.infra).data,
    configSync: ConfigSyncGit.safeParse(raw.configSync).data,
    clusters: (Array.isArray(raw.clusters) ? raw.clusters : []).map((c) => validFields(ClusterSpec, c)),
    validPrefs: [],
    candidates: new Set(),
    names: new Map(),
  };
  for (const section of SECTIONS) section(ctx);
  for (const p of findPlaceholders(raw)) {
    add(
      p.path.split(/\.|(?=\[)/).map((s) => (/^\[\d+\]$/.test(s) ? Number(s.slice(1, -1)) : s)),
      `${show(p.value)} looks like ${p.why}; set the real value`,
    );
  }
  return issues;
}

/** The fields of an object that are valid on their own (used to keep checking past bad siblings). */
function validFields<S extends z.ZodObject>(schema: S, raw: unknown): Partial<z.output<S>> {
  if (!raw || typeof raw !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    const r = (field as z.ZodType).safeParse((raw as Record<string, unknown>)[key]);
    if (r.success) out[key] = r.data;
  }
  return out as Partial<z.output<S>>;
}
