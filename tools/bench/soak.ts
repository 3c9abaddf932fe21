/**
 * Benchmark: a month of scheduled sweeps, unattended (tools/soak/soak.ts): the evidence ConfigMap's
 * size, GitHub calls per sweep, and failover on the last day. Fails (exit 1) if a sweep failed, the
 * ledger left its budget or the failover did not come.
 *
 *   npm run bench:soak            # print the table
 *   npm run bench:soak -- --write # also record it in docs/benchmarks.md
 */
import { cpus } from 'node:os';
import { runSoak } from '../soak/soak';
import { recordInDocs } from './record';

async function main() {
  const days = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 30);
  const r = await runSoak({ days, workflowBumpDay: 10, onDay: (d) => process.stderr.write(`day ${d}/${days}\r`) });
  process.stderr.write('\n');
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  const lines = [
    `${cpus().length} cores, Node ${process.version}; ${r.sweeps} sweeps (${days} days every 20 minutes, probes on) in ${r.wallSeconds.toFixed(0)} s.`,
    '',
    '| measure | value |',
    '|---|---|',
    `| sweeps that failed (threw, or a proposal stopped: size, permission) | ${r.failures.length} |`,
    `| evidence ConfigMap, largest | ${kib(r.ledgerBytes.max)} (budget ${kib(r.ledgerBytes.budget)}, Kubernetes limit 1024 KiB) |`,
    `| evidence ConfigMap, at the end | ${kib(r.ledgerBytes.last)} |`,
    `| observations held, most | ${r.ledgerBytes.maxObservations} (quota: ${r.ledgerBytes.maxQuotaObservations}, with ${r.zeroQuotaPairs} region/GPU pairs at zero headroom all month) |`,
    `| GitHub calls per sweep, median / most | ${r.github.callsPerSweepP50} / ${r.github.callsPerSweepMax} (App installation checked and a token taken every sweep) |`,
    `| pull requests opened / merged by the simulated person (after 60 min) | ${r.pullRequests} / ${r.merged} |`,
    `| the scout's branch followed main after a workflow bump (day 10) | ${r.branchFollowedWorkflowBump ? 'yes' : 'no pull request was updated across it'} |`,
    `| day ${days}: ${r.failover.region} stocks out at ${r.failover.stockoutAt.slice(0, 16)}Z; replacement proposed | ${r.failover.proposedAt ? `${r.failover.proposedAt.slice(0, 16)}Z (${r.failover.sweepsLater} sweeps later)` : 'never'} |`,
  ];
  const text = lines.join('\n');
  console.log(text);
  if (r.failures.length) console.error(r.failures.slice(0, 10).join('\n'));
  const ok = !r.failures.length && r.ledgerBytes.max <= r.ledgerBytes.budget && r.failover.proposedAt !== null;
  if (process.argv.includes('--write')) console.log(`recorded in ${recordInDocs('soak', text)}`);
  process.exitCode = ok ? 0 : 1;
}

if (require.main === module) void main();
