import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { connectionDrainingSeconds, servingClusters, type ClusterSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { shortGpu } from './plugins';

/** Marks the one review comment on a pull request, so CI updates it in place instead of adding another. */
export const REVIEW_MARKER = '<!-- gpu-fleet:review -->';

export interface SpecReview {
  /** One line per cluster that changes, in the spec's order (removed clusters last). */
  clusters: string[];
  /** What users of the global URL will notice. */
  traffic: string[];
  /** Spec sections other than clusters that changed (they need a render and maybe a terraform apply). */
  sections: string[];
  /** Cluster changes that need infra/ (Terraform) on merge: a cluster to create or delete. */
  infra: string[];
  /** A serious effect a reviewer must not miss (fewer serving regions than the minimum, a continent left unserved). */
  warnings: string[];
}

const TOP_SECTIONS = [
  'project',
  'configSync',
  'app',
  'gpu',
  'ingress',
  'placement',
  'scout',
  'configCluster',
  'infra',
] as const;
const CONTINENT: Record<string, string> = {
  africa: 'Africa',
  asia: 'Asia',
  europe: 'Europe',
  'middle-east': 'the Middle East',
  'north-america': 'North America',
  oceania: 'Oceania',
  'south-america': 'South America',
};

const label = (c: ClusterSpec) => `**${c.region}** (\`${c.name}\`)`;

/**
 * What a pull request changes in the fleet, per cluster and for traffic, read from the spec before
 * and after. Pure: the validate workflow prints it as one pull request comment.
 */
export function reviewSpecChange(before: FleetSpec, after: FleetSpec, catalog: GpuCatalog): SpecReview {
  const old = new Map(before.clusters.map((c) => [c.name, c]));
  const now = new Map(after.clusters.map((c) => [c.name, c]));
  const clusters: string[] = [];
  const infra: string[] = [];
  for (const c of after.clusters) {
    const was = old.get(c.name);
    if (!was) {
      clusters.push(`${label(c)} is a new cluster: ${modeEffect(c)}, ${shortGpu(c.gpu)}`);
      infra.push(
        `creates the Autopilot cluster \`${c.name}\` in ${c.region} and registers it to the fleet; Config Sync then applies \`clusters/${c.name}/\``,
      );
      continue;
    }
    const parts: string[] = [];
    if (was.region !== c.region)
      parts.push(`moves from ${was.region} to ${c.region} (a new cluster: infra/ recreates it)`);
    if (was.mode !== c.mode) parts.push(modeEffect(c));
    if (was.gpu !== c.gpu)
      parts.push(`switches GPU ${shortGpu(was.gpu)} → ${shortGpu(c.gpu)} (pods restart on the new GPU)`);
    if (was.replicas !== c.replicas && c.mode !== 'standby') parts.push(`${was.replicas} → ${c.replicas} replica(s)`);
    if (was.replaces !== c.replaces)
      parts.push(c.replaces ? `replaces \`${c.replaces}\` (make-before-break)` : 'no longer replaces another cluster');
    if (was.region !== c.region) infra.push(`recreates \`${c.name}\` in ${c.region}`);
    if (parts.length) clusters.push(`${label(c)} ${parts.join('; ')}`);
  }
  const removedProtected: string[] = [];
  for (const c of before.clusters) {
    if (now.has(c.name)) continue;
    clusters.push(`${label(c)} is removed${c.mode === 'active' ? ' while still serving' : ''}`);
    infra.push(`deletes the cluster \`${c.name}\``);
    // Terraform reads deletion protection from its state: it must be off in an applied change before this one.
    if (c.deletionProtection ?? before.infra.deletionProtection) removedProtected.push(c.name);
  }

  const traffic: string[] = [];
  const warnings: string[] = [];
  const regionsOf = (s: FleetSpec) => [...new Set(servingClusters(s).map((c) => c.region))].sort();
  const [from, to] = [regionsOf(before), regionsOf(after)];
  if (from.join() !== to.join()) {
    traffic.push(`Serving regions: ${from.join(', ') || 'none'} → ${to.join(', ') || 'none'}`);
    for (const r of to.filter((r) => !from.includes(r)))
      traffic.push(`${r} starts taking traffic once its pods are ready (the load balancer health check gates it)`);
    for (const r of from.filter((r) => !to.includes(r)))
      traffic.push(
        `${r} stops taking new traffic; requests in flight get ${connectionDrainingSeconds(after)} s of connection draining`,
      );
  }
  const continents = (regions: string[]) => new Set(regions.map((r) => catalog.region(r)?.continent ?? 'unknown'));
  const [cFrom, cTo] = [continents(from), continents(to)];
  for (const c of cFrom)
    if (!cTo.has(c))
      warnings.push(
        `no cluster left serving in ${CONTINENT[c] ?? c}: users there are routed to another continent (higher latency)`,
      );
  for (const c of cTo) if (!cFrom.has(c)) traffic.push(`now serving in ${CONTINENT[c] ?? c}`);
  if (to.length < after.placement.minServingRegions) {
    warnings.push(
      `${to.length} serving region(s), below placement.minServingRegions (${after.placement.minServingRegions})`,
    );
  }
  if (!to.length) warnings.push('nothing serves: the global URL will answer errors');
  for (const name of removedProtected)
    warnings.push(
      `Terraform will refuse to delete \`${name}\`: its deletion protection is on in the applied state. Remove it in two pull requests — first set its \`deletionProtection: false\` (merge and let infra.yml apply), then remove the entry`,
    );

  const sections = TOP_SECTIONS.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).map(
    (k) => `\`${k}\``,
  );
  return { clusters, traffic, sections, infra, warnings };
}

function modeEffect(c: ClusterSpec): string {
  if (c.mode === 'active') return `becomes active (${c.replicas} pod(s), behind the global URL)`;
  if (c.mode === 'draining') return 'drains (out of the load balancer; pods kept until in-flight generations finish)';
  return 'goes to standby (0 pods; ready to take over and to run GPU probes)';
}

/** The review as the Markdown of one pull request comment (starts with REVIEW_MARKER). */
export function formatReview(r: SpecReview): string {
  const out = [REVIEW_MARKER, '### gpu-fleet: what this pull request changes', ''];
  if (!r.clusters.length && !r.sections.length)
    return [...out, 'No change to `fleet-config/fleet.yaml`.', ''].join('\n');
  for (const w of r.warnings) out.push(`> [!WARNING]\n> ${w}`, '');
  if (r.clusters.length) out.push('**Clusters**', '', ...r.clusters.map((l) => `- ${l}`), '');
  if (r.traffic.length) out.push('**Traffic**', '', ...r.traffic.map((l) => `- ${l}`), '');
  if (r.infra.length) out.push('**On merge, infra/ (Terraform)**', '', ...r.infra.map((l) => `- ${l}`), '');
  if (r.sections.length) out.push(`**Other spec sections changed:** ${r.sections.join(', ')}`, '');
  return out.join('\n');
}
