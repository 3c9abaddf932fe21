/**
 * Benchmark: a month of scheduled sweeps, unattended, as the CronJob runs them (tools/soak/soak.ts):
 * failed sweeps, what merged and how (from the sandbox repository's own record), GitHub calls per
 * sweep, the evidence ConfigMap's size, and failover on the last day. Fails (exit 1) if a sweep
 * failed, anything merged unvalidated, auto-merge merged a plan that does not only add capacity, a
 * closed plan came back, the ledger left its budget or the failover did not come.
 *
 *   npm run bench:soak                          # 30 days, print the table
 *   npm run --silent bench:soak -- --days 3 --json
 *   npm run bench:soak -- --write               # also record it in docs/benchmarks.md
 */
import { cpus } from 'node:os';
import { runSoak, type SoakResult } from '../soak/soak';
import { recordInDocs } from './record';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export function soakJson(r: SoakResult) {
  return {
    sweeps: r.sweeps,
    failedSweeps: r.failures.length,
    failures: r.failures.slice(0, 10),
    githubCalls: { median: r.github.callsPerSweepP50, max: r.github.callsPerSweepMax },
    pullRequests: {
      opened: r.pullRequests.opened,
      merged: r.pullRequests.merged,
      mergedBy: r.pullRequests.mergedBy,
      mergedWithoutValidation: r.pullRequests.mergedWithoutValidation,
      autoMergedNonAdditive: r.pullRequests.autoMergedNonAdditive,
      reopenedAfterClose: r.pullRequests.reopenedAfterClose,
    },
    rateLimits: { answered429: r.github.answered429, retriedInsideLimit: r.github.retriedInsideLimit },
    events: r.events,
    evidence: r.ledgerBytes,
    branchFollowedWorkflowBump: r.branchFollowedWorkflowBump,
    failover: r.failover,
    wallSeconds: Math.round(r.wallSeconds),
  };
}

export function soakOk(r: SoakResult): boolean {
  const p = r.pullRequests;
  return (
    !r.failures.length &&
    !p.mergedWithoutValidation &&
    !p.autoMergedNonAdditive &&
    !p.reopenedAfterClose &&
    !r.github.retriedInsideLimit &&
    r.ledgerBytes.max <= r.ledgerBytes.budget &&
    r.failover.proposedAt !== null
  );
}

async function main() {
  const raw = option('--days') ?? process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? '30';
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 1 || days > 90) {
    console.error(`--days must be a whole number of days from 1 to 90, got "${raw}"`);
    process.exitCode = 2;
    return;
  }
  const json = process.argv.includes('--json');
  const r = await runSoak({
    days,
    workflowBumpDay: Math.min(10, days / 2),
    onDay: json ? undefined : (d) => process.stderr.write(`day ${d}/${days}\r`),
  });
  if (json) {
    console.log(JSON.stringify(soakJson(r)));
    process.exitCode = soakOk(r) ? 0 : 1;
    return;
  }
  process.stderr.write('\n');
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  const p = r.pullRequests;
  const lines = [
    `${cpus().length} cores, Node ${process.version}; ${r.sweeps} sweeps (${days} days every 20 minutes, probes on, auto-merge add-capacity, spec and tree read from GitHub as the CronJob does) in ${r.wallSeconds.toFixed(0)} s.`,
    '',
    '| measure | value |',
    '|---|---|',
    `| sweeps that failed (threw, stopped: a refusal, a limit, the deadline; or left alone) | ${r.failures.length} |`,
    `| pull requests opened / merged (auto-merge / the scout / a person) | ${p.opened} / ${p.merged} (${p.mergedBy['auto-merge']} / ${p.mergedBy.api} / ${p.mergedBy.person}) |`,
    `| merged before \`validate\` passed on the merged head | ${p.mergedWithoutValidation} |`,
    `| merged by auto-merge or the scout although not capacity-only | ${p.autoMergedNonAdditive} |`,
    `| proposals reopened for a plan a person closed | ${p.reopenedAfterClose} |`,
    `| a person: reverted a merge / closed a proposal / clicked "Update branch" | ${r.events.reverted ? 'yes' : 'no'} / ${r.events.closed ? `#${r.events.closed}` : 'no'} / ${r.events.updatedBranch ? `#${r.events.updatedBranch}` : 'no'} |`,
    `| 429 burst: sweeps hit / 429s answered / requests sent inside a limit | ${r.events.burst429Sweeps} / ${r.github.answered429} / ${r.github.retriedInsideLimit} |`,
    `| GitHub calls per sweep, median / most | ${r.github.callsPerSweepP50} / ${r.github.callsPerSweepMax} (App installation checked and a token taken every sweep; the spec and generated tree read blob by blob) |`,
    `| evidence ConfigMap, largest / at the end | ${kib(r.ledgerBytes.max)} / ${kib(r.ledgerBytes.last)} (budget ${kib(r.ledgerBytes.budget)}, Kubernetes limit 1024 KiB) |`,
    `| observations held, most | ${r.ledgerBytes.maxObservations} (quota: ${r.ledgerBytes.maxQuotaObservations}, with ${r.zeroQuotaPairs} region/GPU pairs at zero headroom all month) |`,
    `| the scout's branch followed main after a workflow bump (day ${Math.min(10, days / 2)}) | ${r.branchFollowedWorkflowBump ? 'yes' : 'no pull request was updated across it'} |`,
    `| day ${days}: ${r.failover.region} stocks out at ${r.failover.stockoutAt.slice(0, 16)}Z; replacement proposed | ${r.failover.proposedAt ? `${r.failover.proposedAt.slice(0, 16)}Z (${r.failover.sweepsLater} sweeps later)` : 'never'} |`,
  ];
  const text = lines.join('\n');
  console.log(text);
  if (r.failures.length) console.error(r.failures.slice(0, 10).join('\n'));
  if (process.argv.includes('--write')) console.log(`recorded in ${recordInDocs('soak', text)}`);
  process.exitCode = soakOk(r) ? 0 : 1;
}

if (require.main === module) void main();
