import { connectionDrainingSeconds, type ClusterSpec, type FleetSpec, slotsOnSpot } from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { keyOf, type RegionSignals } from '@gpu-fleet/scout-domain';
import { minutesAgo, shortGpu } from './plugins';
import { CHANGE_VERB, realChanges, type Plan } from './types';

export interface FileStat {
  path: string;
  added: number;
  removed: number;
  status: 'added' | 'modified' | 'deleted';
}

export interface ProposalText {
  title: string;
  /** Markdown for the pull request (the adapter appends the metadata comment). */
  body: string;
  commitMessage: string;
  /**
   * What the body says, without what only ages (relative times, sweep id): the plan and the
   * observations behind each row. The pull request is edited only when its hash changes.
   */
  digest: string;
  /** Every change only adds serving capacity (auto-merge may apply). */
  addsCapacityOnly: boolean;
}

const ago = (now: Date, iso: string) => {
  const m = minutesAgo(now, iso);
  return m < 90 ? `${m} min ago` : `${Math.round(m / 60)} h ago`;
};
const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export interface ProposalOptions {
  catalog: GpuCatalog;
  sweepId: string;
  /**
   * Set when the signals came from a simulated cloud (the embedded sandbox), e.g. "embedded
   * sandbox (seed 1)": the title, the commit message and the body then say so first, so a simulated
   * proposal is never mistaken for a real one.
   */
  simulated?: string;
}

/** Title, body and commit message of a placement proposal. Pure and deterministic for a plan. */
export function renderProposal(
  spec: FleetSpec,
  plan: Plan,
  signals: { regions: RegionSignals[] },
  stats: FileStat[],
  opts: ProposalOptions,
): ProposalText {
  const title = proposalTitle(plan, opts);
  const rows = clusterRows(spec, plan, signals, opts.catalog);
  const real = realChanges(plan.changes);
  return {
    title,
    body: proposalBody(spec, plan, rows, stats, opts),
    commitMessage: commitMessage(title, plan, opts),
    digest: proposalDigest(title, plan, rows, stats),
    addsCapacityOnly: real.length > 0 && real.every((c) => c.addsCapacity),
  };
}

/**
 * The pull request's title (also the commit message's first line): the real changes, or the
 * reasons of tidy-only changes, or that nothing changes; "[sandbox] " first when simulated.
 */
export function proposalTitle(plan: Plan, opts: Pick<ProposalOptions, 'simulated'>): string {
  const real = realChanges(plan.changes);
  const marker = opts.simulated ? '[sandbox] ' : '';
  return (
    marker +
    (real.length
      ? `region-scout: ${real.map((c) => `${CHANGE_VERB[c.kind]} ${c.cluster}${c.kind === 'switch-gpu' ? ` → ${shortGpu(c.to.gpu)}` : ''}`).join(', ')}`
      : plan.changes.length
        ? `region-scout: ${plan.changes.map((c) => c.reason).join('; ')}`
        : 'region-scout: no placement change')
  );
}

/** One proposed cluster as the table shows it, and as the digest records it (without relative times). */
export interface ClusterRow {
  /** The Markdown table row. */
  row: string;
  /** The cluster's shape and the observations behind its row, with absolute times. */
  digest: string;
}

/**
 * One row per proposed cluster: what changes (bold), the newest evidence for its region and GPU
 * (with its serving health first when good) and the catalog price per GPU-hour.
 */
export function clusterRows(
  spec: FleetSpec,
  plan: Plan,
  signals: { regions: RegionSignals[] },
  catalog: GpuCatalog,
): ClusterRow[] {
  const now = new Date(plan.at);
  const spot = slotsOnSpot(spec);
  const evidenceBy = new Map(signals.regions.flatMap((r) => r.evidence.map((e) => [keyOf(e), e] as const)));
  const before = new Map(spec.clusters.map((c) => [c.name, c]));
  const changeOf = new Map(plan.changes.map((c) => [c.cluster, c]));
  return plan.clusters.map((c) => {
    const was = before.get(c.name);
    const ch = changeOf.get(c.name);
    const mode = !was ? `— → **${c.mode}**` : was.mode !== c.mode ? `${was.mode} → **${c.mode}**` : c.mode;
    const gpu = was && was.gpu !== c.gpu ? `${shortGpu(was.gpu)} → **${shortGpu(c.gpu)}**` : shortGpu(c.gpu);
    const ev = evidenceBy.get(keyOf({ region: c.region, gpu: c.gpu, spot }));
    const recent = (ev?.observations ?? []).slice(0, 3);
    const h = plan.health.find((x) => x.cluster === c.name);
    const serving = h?.health === 'good' ? [`serving: ${h.reason}`] : [];
    const evidence =
      [...serving, ...recent.map((o) => `${o.outcome} (${o.source}, ${ago(now, o.at)})`)].join('<br>') || 'none yet';
    const price = catalog.pricePerGpuHour(c.region, c.gpu, spot);
    const name = `${ch && ch.kind !== 'tidy' ? '**' : ''}${c.name}${ch && ch.kind !== 'tidy' ? '**' : ''}${was ? '' : ' (new)'}`;
    return {
      row: `| ${name} | ${c.region} | ${mode} | ${gpu} | ${c.mode === 'standby' ? 0 : c.replicas} | ${esc(evidence)} | ${price === null ? '—' : `$${price.toFixed(2)}`} |`,
      digest: `${c.name}|${c.region}|${c.mode}|${c.gpu}|${c.replicas}|${c.replaces ?? ''}|${recent.map((o) => `${o.outcome}@${o.at}/${o.source}`).join(',')}`,
    };
  });
}

/**
 * The pull request body, section by section. Each section is its lines followed by a blank line;
 * optional sections are empty when they have nothing to say.
 */
function proposalBody(
  spec: FleetSpec,
  plan: Plan,
  rows: ClusterRow[],
  stats: FileStat[],
  opts: ProposalOptions,
): string {
  return [
    ...simulatedWarning(opts),
    `**${plan.summary}**`,
    '',
    ...clusterTable(rows),
    ...whySection(plan),
    ...safetySection(spec, plan),
    ...quotaSection(plan),
    ...renderedChangesSection(stats),
    ...placementSection(spec, plan),
    footer(plan, opts),
  ].join('\n');
}

/** First, when the signals were simulated: a warning not to merge the proposal into a real fleet. */
function simulatedWarning(opts: Pick<ProposalOptions, 'simulated'>): string[] {
  if (!opts.simulated) return [];
  return [
    `> [!WARNING]\n> Simulated: every signal in this proposal comes from the ${esc(opts.simulated)}, not from Google Cloud. Do not merge it into a real fleet.`,
    '',
  ];
}

/** The table of every proposed cluster, as it is and as proposed. */
function clusterTable(rows: ClusterRow[]): string[] {
  return [
    '| Cluster | Region | Mode | GPU | Pods | Evidence (newest first) | $/GPU-hour |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => r.row),
    '',
  ];
}

/** Each change with its reason; no section without changes. */
export function whySection(plan: Pick<Plan, 'changes'>): string[] {
  if (!plan.changes.length) return [];
  return [
    '### Why',
    '',
    ...plan.changes.map((c) => `- **${c.cluster}** (${c.region}) — ${c.kind}: ${esc(c.reason)}`),
    '',
  ];
}

/** The placement policy's guarantees, from the spec, then the plan's notes (what was held back, waits). */
function safetySection(spec: FleetSpec, plan: Plan): string[] {
  return [
    '### Safety',
    '',
    `- Make-before-break: a replacement serves first; the cluster it replaces is drained only once the replacement has ready replicas, and goes to standby ${Math.ceil(Math.max(spec.ingress.backendTimeoutSec, connectionDrainingSeconds(spec)) / 60)} min later (connection draining covers the longest request).`,
    `- Serving regions stay between ${spec.placement.minServingRegions} and ${spec.placement.maxServingRegions}; at most ${spec.placement.maxChangesPerSweep} change(s) per sweep; a region is dropped after ${spec.placement.badSweepsBeforeDrop} bad sweeps, switched only for a ${Math.round(spec.placement.switchMargin * 100)}% better score, and kept ${spec.placement.minDwellMinutes} min in a mode.`,
    ...plan.notes.map((n) => `- ${esc(n)}`),
    '',
  ];
}

/** The quota increases the plan asks for; no section without any. */
function quotaSection(plan: Pick<Plan, 'quotaRequests'>): string[] {
  if (!plan.quotaRequests.length) return [];
  return ['### Quota requests', '', ...plan.quotaRequests.map((q) => `- ${esc(q.note)}`), ''];
}

/** The rendered files the pull request changes, with line counts; no section without files. */
export function renderedChangesSection(stats: FileStat[]): string[] {
  if (!stats.length) return [];
  const add = stats.reduce((s, f) => s + f.added, 0);
  const del = stats.reduce((s, f) => s + f.removed, 0);
  return [
    '### Rendered changes',
    '',
    `${stats.length} file(s), +${add} −${del} (generated by \`region-scout render\` from fleet-config/fleet.yaml):`,
    '',
    ...stats.map((f) => `- \`${f.path}\` ${f.status === 'modified' ? `+${f.added} −${f.removed}` : f.status}`),
    '',
  ];
}

/** The proposed placement as a Mermaid flowchart. */
function placementSection(spec: FleetSpec, plan: Plan): string[] {
  return ['### Placement', '', '```mermaid', ...mermaid(spec, plan.clusters), '```', ''];
}

/** The last line: eligibility, which sweep proposed it, and what merging does. */
function footer(plan: Plan, opts: ProposalOptions): string {
  return `<sub>${plan.eligibility} · sweep ${opts.sweepId} at ${plan.at} · merge to apply: Config Sync in each cluster applies its own folder under clusters/.</sub>`;
}

/** The commit message: the title, the simulation notice when simulated, the summary and every change. */
function commitMessage(title: string, plan: Plan, opts: Pick<ProposalOptions, 'simulated'>): string {
  return [
    title,
    '',
    ...(opts.simulated ? [`Simulated: decided on signals from the ${opts.simulated}, not Google Cloud.`, ''] : []),
    plan.summary,
    '',
    ...plan.changes.map((c) => `- ${c.cluster}: ${c.kind} — ${c.reason}`),
  ].join('\n');
}

/** ProposalText.digest: what the body says, without what only ages (relative times, sweep id). */
function proposalDigest(title: string, plan: Plan, rows: ClusterRow[], stats: FileStat[]): string {
  return [
    title,
    ...rows.map((r) => r.digest),
    ...plan.changes.map((c) => `${c.cluster}:${c.kind}`),
    ...plan.quotaRequests.map((q) => `${q.region}:${q.metric}:${q.limit}`),
    ...stats.map((s) => `${s.path}:${s.added}:${s.removed}`),
  ].join('\n');
}

/** The global URL in front of every active cluster; draining and standby clusters shown apart. */
function mermaid(spec: FleetSpec, clusters: ClusterSpec[]): string[] {
  const id = (n: string) => n.replace(/[^a-zA-Z0-9]/g, '_');
  const vip = spec.ingress.staticIp.address ?? 'global anycast IP';
  const host = spec.ingress.domains[0] ?? vip;
  const out = ['flowchart LR', `  users((Users)) --> lb["${host}<br/>MultiClusterIngress"]`];
  for (const c of clusters) {
    const label = `${c.name}<br/>${c.region} · ${shortGpu(c.gpu)} · ${c.mode}`;
    if (c.mode === 'active') out.push(`  lb --> ${id(c.name)}["${label}"]`);
    else out.push(`  ${id(c.name)}["${label}"]`);
    if (c.replaces) out.push(`  ${id(c.name)} -. replaces .-> ${id(c.replaces)}`);
  }
  out.push(
    '  classDef active fill:#d4edda,stroke:#28a745',
    '  classDef draining fill:#fff3cd,stroke:#ffc107',
    '  classDef standby fill:#eeeeee,stroke:#999999',
  );
  for (const mode of ['active', 'draining', 'standby'] as const) {
    const names = clusters.filter((c) => c.mode === mode).map((c) => id(c.name));
    if (names.length) out.push(`  class ${names.join(',')} ${mode}`);
  }
  return out;
}
