import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import type { PathSegment } from '../issues';
import type {
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
import type { z } from 'zod';

export interface RawIssue {
  path: PathSegment[];
  message: string;
}

/**
 * What the section checks share: the raw spec, each section as far as it parsed (absent when it did
 * not), the catalog, the issue sink, and what earlier sections found (the valid GPU preferences, the
 * candidate regions, the cluster names) for the later ones.
 */
export interface SemanticContext {
  raw: Record<string, unknown>;
  catalog: GpuCatalog;
  add(path: PathSegment[], message: string): void;
  /** True when `region` is a Google Cloud region; reports it otherwise. */
  checkRegion(path: PathSegment[], region: string): boolean;
  /** "; did you mean …?" when a close option exists. */
  didYouMean(value: string, options: string[]): string;
  gpu?: GpuSpec;
  placement?: PlacementPolicy;
  autoscaling?: AutoscalingSpec;
  app?: AppSpec;
  ingress?: IngressSpec;
  scout?: ScoutSpec;
  monitoring?: MonitoringSpec;
  configCluster?: z.output<typeof ConfigClusterSpec>;
  infra?: z.output<typeof InfraSpec>;
  configSync?: z.output<typeof ConfigSyncGit>;
  /** Every cluster, field by field: a bad `replicas` does not hide a GPU the region does not offer. */
  clusters: Array<Partial<ClusterSpec>>;
  /** Set by the GPU section: gpu.preferences that are known, Autopilot-supported, not repeated. */
  validPrefs: string[];
  /** Set by the placement section. */
  candidates: Set<string>;
  /** Set by the clusters section: name → index. */
  names: Map<string, number>;
}
