import { loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSoak } from './soak';

/**
 * Two days of the scheduled sweep, compressed (the month is `npm run bench:soak`, numbers in
 * docs/benchmarks.md): evidence in the ConfigMap, the GitHub App as the identity, a workflow bump on
 * main, quota at zero headroom in 8 (region, GPU) pairs, and a serving region lost at the end.
 */
jest.setTimeout(180_000);

it('two days unattended: no sweep fails (a workflow bump on main included), the evidence stays bounded, failover still happens', async () => {
  const spec = loadFleetSpec(readFileSync(join(__dirname, '../../fleet-config/fleet.yaml'), 'utf8')).spec;
  const r = await runSoak({ days: 2, workflowBumpDay: 1 });
  expect(r.failures).toEqual([]);
  expect(r.sweeps).toBe(144);
  // Each sweep a new process with its own installation token.
  expect(r.github.tokensIssued).toBe(r.sweeps);
  // Quota seen at zero headroom every sweep is kept once per condition, not once per sweep (was 8 × 144).
  expect(r.zeroQuotaPairs).toBe(8);
  expect(r.ledgerBytes.maxQuotaObservations).toBeLessThanOrEqual(2 * r.zeroQuotaPairs);
  expect(r.ledgerBytes.max).toBeLessThanOrEqual(r.ledgerBytes.budget);
  expect(r.merged).toBeGreaterThan(0);
  // The last day's stockout of a serving region is acted on after the hysteresis.
  expect(r.failover.proposedAt).not.toBeNull();
  expect(r.failover.sweepsLater).toBeLessThanOrEqual(spec.placement.badSweepsBeforeDrop);
});

it('an App installation without Workflows: write: every sweep stops before writing, saying what to grant', async () => {
  const r = await runSoak({
    days: 0.1,
    appPermissions: { contents: 'write', pull_requests: 'write', metadata: 'read' },
  });
  expect(r.sweeps).toBe(7);
  expect(r.pullRequests).toBe(0);
  expect(r.failures.length).toBeGreaterThan(0);
  for (const f of r.failures) expect(f).toMatch(/the GitHub App installation 777 lacks Workflows: write/);
});
