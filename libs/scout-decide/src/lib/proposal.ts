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
  const now = new Date(plan.at);
  const real = realChanges(plan.changes);
  const marker = opts.simulated ? '[sandbox] ' : '';
  const title =
    marker +
    (real.length
      ? `region-scout: ${real.map((c) => `${CHANGE_VERB[c.kind]} ${c.cluster}${c.kind === 'switch-gpu' ? ` → ${shortGpu(c.to.gpu)}` : ''}`).join(', ')}`
      : plan.changes.length
        ? `region-scout: ${plan.changes.map((c) => c.reason).join('; ')}`
        : 'region-scout: no placement change');
  const spot = slotsOnSpot(spec);
  const evidenceBy = new Map(signals.regions.flatMap((r) => r.evidence.map((e) => [keyOf(e), e] as const)));
  const before = new Map(spec.clusters.map((c) => [c.name, c]));
  const changeOf = new Map(plan.changes.map((c) => [c.cluster, c]));
  const digestRows: string[] = [];

  const rows = plan.clusters.map((c) => {
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
    digestRows.push(
      `${c.name}|${c.region}|${c.mode}|${c.gpu}|${c.replicas}|${c.replaces ?? ''}|${recent.map((o) => `${o.outcome}@${o.at}/${o.source}`).join(',')}`,
    );
    const price = opts.catalog.pricePerGpuHour(c.region, c.gpu, spot);
    const name = `${ch && ch.kind !== 'tidy' ? '**' : ''}${c.name}${ch && ch.kind !== 'tidy' ? '**' : ''}${was ? '' : ' (new)'}`;
    return `| ${name} | ${c.region} | ${mode} | ${gpu} | ${c.mode === 'standby' ? 0 : c.replicas} | ${esc(evidence)} | ${price === null ? '—' : `$${price.toFixed(2)}`} |`;
  });

  const lines: string[] = [];
  if (opts.simulated)
    lines.push(
      `> [!WARNING]\n> Simulated: every signal in this proposal comes from the ${esc(opts.simulated)}, not from Google Cloud. Do not merge it into a real fleet.`,
      '',
    );
  lines.push(`**${plan.summary}**`, '');
  lines.push(
    '| Cluster | Region | Mode | GPU | Pods | Evidence (newest first) | $/GPU-hour |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  );
  if (plan.changes.length) {
    lines.push('### Why', '');
    for (const c of plan.changes) lines.push(`- **${c.cluster}** (${c.region}) — ${c.kind}: ${esc(c.reason)}`);
    lines.push('');
  }
  lines.push('### Safety', '');
  lines.push(
    `- Make-before-break: a replacement serves first; the cluster it replaces is drained only once the replacement has ready replicas, and goes to standby ${Math.ceil(Math.max(spec.ingress.backendTimeoutSec, connectionDrainingSeconds(spec)) / 60)} min later (connection draining covers the longest request).`,
    `- Serving regions stay between ${spec.placement.minServingRegions} and ${spec.placement.maxServingRegions}; at most ${spec.placement.maxChangesPerSweep} change(s) per sweep; a region is dropped after ${spec.placement.badSweepsBeforeDrop} bad sweeps, switched only for a ${Math.round(spec.placement.switchMargin * 100)}% better score, and kept ${spec.placement.minDwellMinutes} min in a mode.`,
  );
  for (const n of plan.notes) lines.push(`- ${esc(n)}`);
  lines.push('');
  if (plan.quotaRequests.length) {
    lines.push('### Quota requests', '');
    for (const q of plan.quotaRequests) lines.push(`- ${esc(q.note)}`);
    lines.push('');
  }
  if (stats.length) {
    const add = stats.reduce((s, f) => s + f.added, 0);
    const del = stats.reduce((s, f) => s + f.removed, 0);
    lines.push(
      '### Rendered changes',
      '',
      `${stats.length} file(s), +${add} −${del} (generated by \`region-scout render\` from fleet-config/fleet.yaml):`,
      '',
    );
    for (const f of stats)
      lines.push(`- \`${f.path}\` ${f.status === 'modified' ? `+${f.added} −${f.removed}` : f.status}`);
    lines.push('');
  }
  lines.push('### Placement', '', '```mermaid', ...mermaid(spec, plan.clusters), '```', '');
  lines.push(
    `<sub>${plan.eligibility} · sweep ${opts.sweepId} at ${plan.at} · merge to apply: Config Sync in each cluster applies its own folder under clusters/.</sub>`,
  );

  const commitMessage = [
    title,
    '',
    ...(opts.simulated ? [`Simulated: decided on signals from the ${opts.simulated}, not Google Cloud.`, ''] : []),
    plan.summary,
    '',
    ...plan.changes.map((c) => `- ${c.cluster}: ${c.kind} — ${c.reason}`),
  ].join('\n');
  return {
    title,
    body: lines.join('\n'),
    commitMessage,
    digest: [
      title,
      ...digestRows,
      ...plan.changes.map((c) => `${c.cluster}:${c.kind}`),
      ...plan.quotaRequests.map((q) => `${q.region}:${q.metric}:${q.limit}`),
      ...stats.map((s) => `${s.path}:${s.added}:${s.removed}`),
    ].join('\n'),
    addsCapacityOnly: real.length > 0 && real.every((c) => c.addsCapacity),
  };
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
