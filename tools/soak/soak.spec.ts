import { loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onlyAddsCapacity, runSoak } from './soak';

/**
 * Two days of the scheduled sweep as the CronJob runs it, compressed (the month is `npm run
 * bench:soak`, numbers in docs/benchmarks.md): the spec and tree read from GitHub, auto-merge on for
 * capacity-only plans, main protected (validate required, up to date), a CI run per new head, a person
 * who merges, reverts, closes a proposal and clicks "Update branch", a workflow bump on main, a burst
 * of 429s, quota at zero headroom in 8 (region, GPU) pairs, and a serving region lost at the end.
 * What merged and how is counted from the sandbox's record of the repository.
 */
jest.setTimeout(180_000);

it('two days unattended: no sweep fails, nothing merges unvalidated or unreviewed, a closed plan stays closed, failover still happens', async () => {
  const spec = loadFleetSpec(readFileSync(join(__dirname, '../../fleet-config/fleet.yaml'), 'utf8')).spec;
  const r = await runSoak({ days: 2, workflowBumpDay: 1 });
  expect(r.failures).toEqual([]);
  expect(r.sweeps).toBe(144);
  // Each sweep a new process with its own installation token.
  expect(r.github.tokensIssued).toBe(r.sweeps);
  // Every person's action happened, and the burst of 429s was waited out without a retry inside it.
  expect(r.events).toMatchObject({
    closed: expect.any(Number),
    reverted: expect.any(String),
    updatedBranch: expect.any(Number),
  });
  expect(r.events.burst429Sweeps).toBe(3);
  expect(r.github.answered429).toBeGreaterThanOrEqual(3);
  expect(r.github.retriedInsideLimit).toBe(0);
  expect(r.branchFollowedWorkflowBump).toBe(true);
  // What may merge: counted from GitHub's side.
  expect(r.pullRequests.mergedBy['auto-merge']).toBeGreaterThan(0);
  expect(r.pullRequests.mergedBy.person).toBeGreaterThan(0);
  expect(r.pullRequests.mergedWithoutValidation).toBe(0);
  expect(r.pullRequests.autoMergedNonAdditive).toBe(0);
  expect(r.pullRequests.reopenedAfterClose).toBe(0);
  // Quota seen at zero headroom every sweep is kept once per condition, not once per sweep (was 8 × 144).
  expect(r.zeroQuotaPairs).toBe(8);
  expect(r.ledgerBytes.maxQuotaObservations).toBeLessThanOrEqual(2 * r.zeroQuotaPairs);
  expect(r.ledgerBytes.max).toBeLessThanOrEqual(r.ledgerBytes.budget);
  // The last day's stockout of a serving region is acted on after the hysteresis.
  expect(r.failover.proposedAt).not.toBeNull();
  expect(r.failover.sweepsLater).toBeLessThanOrEqual(spec.placement.badSweepsBeforeDrop);
});

it('an App installation without Workflows: write: every sweep stops before writing, saying what to grant', async () => {
  const r = await runSoak({
    days: 0.1,
    appPermissions: { contents: 'write', pull_requests: 'write', checks: 'read', metadata: 'read' },
  });
  expect(r.sweeps).toBe(7);
  expect(r.pullRequests.opened).toBe(0);
  expect(r.failures.length).toBe(r.sweeps);
  for (const f of r.failures) expect(f).toMatch(/the GitHub App installation 777 lacks Workflows: write/);
});

it('onlyAddsCapacity: activations and new clusters add capacity; a drain, a GPU switch or fewer replicas do not', () => {
  const spec = loadFleetSpec(readFileSync(join(__dirname, '../../fleet-config/fleet.yaml'), 'utf8')).spec;
  const withClusters = (f: (c: (typeof spec.clusters)[number]) => (typeof spec.clusters)[number]) => ({
    ...spec,
    clusters: spec.clusters.map(f),
  });
  const active = spec.clusters.find((c) => c.mode === 'active')!;
  const standby = spec.clusters.find((c) => c.mode === 'standby')!;
  expect(
    onlyAddsCapacity(
      spec,
      withClusters((c) => (c.name === standby.name ? { ...c, mode: 'active' } : c)),
    ),
  ).toBe(true);
  expect(
    onlyAddsCapacity(
      spec,
      withClusters((c) => (c.name === active.name ? { ...c, mode: 'draining' } : c)),
    ),
  ).toBe(false);
  expect(
    onlyAddsCapacity(
      spec,
      withClusters((c) => (c.name === active.name ? { ...c, gpu: 'nvidia-tesla-t4' } : c)),
    ),
  ).toBe(false);
  expect(onlyAddsCapacity(spec, { ...spec, clusters: spec.clusters.filter((c) => c.name !== standby.name) })).toBe(
    false,
  );
});
