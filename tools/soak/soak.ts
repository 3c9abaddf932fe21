import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cronStepMinutes } from '@gpu-fleet/backtest';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { FsCheckout, renderTree, SPEC_FILE, writeTree, type ValidationReport } from '@gpu-fleet/manifests';
import { ManualClock, SandboxWorld, startSandbox } from '@gpu-fleet/sandbox';
import { EvidenceLedger, silentLogger, type MemberRef } from '@gpu-fleet/scout-domain';
import { CONFIGMAP_EVIDENCE_BUDGET, createGcpAdapters } from '@gpu-fleet/scout-gcp';
import { GitHubHost } from '@gpu-fleet/scout-git';
import { runSweep } from '@gpu-fleet/scout-sweep';
import type { Document } from 'yaml';

/**
 * A month unattended, compressed: the scheduled sweep as the CronJob runs it — every
 * scout.schedule step, a new process each time (a fresh GitHub App installation token, the ledger
 * loaded from and saved to the evidence ConfigMap in the config cluster), probes on — against the
 * sandbox's seeded stockouts with the real adapters (Google clients, @kubernetes/client-node,
 * octokit) over loopback. A person merges an open pull request after `mergeAfterMinutes`; Config
 * Sync applies it. On `workflowBumpDay` a person bumps an action under .github/workflows/ on main
 * (the scout's branch must follow it). In the last day a serving region stocks out for good: the
 * scout must still propose its replacement. Validation (kustomize, schemas) is skipped: sizes and
 * refusals are what this measures.
 */
export interface SoakOptions {
  days: number;
  seed?: number;
  mergeAfterMinutes?: number;
  workflowBumpDay?: number;
  /** Repository permissions of the scout's GitHub App installation (default: what the runbook asks for). */
  appPermissions?: Record<string, 'read' | 'write'>;
  onDay?: (day: number) => void;
}

export interface SoakResult {
  sweeps: number;
  /** Sweeps that threw, or whose proposal stopped (a refusal, a size error). */
  failures: string[];
  ledgerBytes: { max: number; last: number; budget: number; maxObservations: number; maxQuotaObservations: number };
  /** (region, GPU) pairs held at zero quota headroom all month. */
  zeroQuotaPairs: number;
  github: { callsPerSweepP50: number; callsPerSweepMax: number; tokensIssued: number };
  pullRequests: number;
  merged: number;
  /** The scout's branch carried main's bumped workflow at some sweep (it followed main after the bump). */
  branchFollowedWorkflowBump: boolean;
  /** The final stockout: when it began and when the scout proposed the replacement (null: never). */
  failover: { region: string; stockoutAt: string; proposedAt: string | null; sweepsLater: number | null };
  wallSeconds: number;
}

const catalog = GpuCatalog.bundled();
const clean: ValidationReport = {
  findings: [],
  built: new Map(),
  timingsMs: { kustomize: 0, schemas: 0, invariants: 0 },
};

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const t0 = performance.now();
  const specText = readFileSync(join(__dirname, '../../fleet-config/fleet.yaml'), 'utf8');
  let { spec, document } = loadFleetSpec(specText) as { spec: FleetSpec; document: Document };
  const start = new Date('2026-11-02T00:00:00Z');
  const clock = new ManualClock(start);
  const world = new SandboxWorld({ seed: o.seed ?? 3, clock, spec });
  const sandbox = await startSandbox(world, {
    githubFiles: { [SPEC_FILE]: specText, '.github/workflows/validate.yml': 'on: pull_request\n' },
  });
  if (o.appPermissions) {
    for (const k of Object.keys(sandbox.github.app.permissions)) delete sandbox.github.app.permissions[k];
    Object.assign(sandbox.github.app.permissions, o.appPermissions);
  }
  const adapters = await createGcpAdapters(sandbox.connection, {
    clock,
    logger: silentLogger,
    bundled: catalog,
    spec,
    policy: { timeoutMs: 5000, retries: 1, minBackoffMs: 5, maxBackoffMs: 10 },
  });
  const root = mkdtempSync(join(tmpdir(), 'soak-'));
  const checkout = (text: string) => {
    ({ spec, document } = loadFleetSpec(text) as { spec: FleetSpec; document: Document });
    writeTree(root, renderTree(spec, catalog));
    writeFileSync(join(root, SPEC_FILE), text);
  };
  checkout(specText);

  // The schedule's step, as the backtest reads it (scout.schedule.cron).
  const step = cronStepMinutes(spec.scout.schedule.cron) ?? 20;
  const sweepsTotal = Math.floor((o.days * 1440) / step);
  const failures: string[] = [];
  const calls: number[] = [];
  const bytes = { max: 0, last: 0, maxObservations: 0, maxQuotaObservations: 0 };
  let merged = 0;
  const serving = spec.clusters.find((c) => c.mode === 'active')!;
  const finalStockoutMinute = Math.max(0, (o.days - 1) * 1440);
  const failover = {
    region: serving.region,
    stockoutAt: new Date(start.getTime() + finalStockoutMinute * 60_000).toISOString(),
    proposedAt: null as string | null,
    sweepsLater: null as number | null,
  };
  // Quota at zero headroom for 8 (region, GPU) pairs where the GPU is offered — the case that filled the
  // ledger in a week when every sweep recorded each again: T4 everywhere, L4 in two regions.
  const zeroQuota = [
    ...spec.placement.candidateRegions.map((r) => [r, 'nvidia-tesla-t4'] as const),
    ['europe-west1', 'nvidia-l4'] as const,
    ['asia-southeast1', 'nvidia-l4'] as const,
  ].filter(([r, g]) => catalog.offers(r, g));
  for (const [r, g] of zeroQuota) world.setQuota(r, catalog.quotaMetric(g, false), 0);
  for (const g of spec.gpu.preferences)
    world.forceStockout(
      serving.region,
      g,
      new Date(failover.stockoutAt),
      new Date(start.getTime() + (o.days + 1) * 86_400_000),
    );
  let openSince: number | null = null;
  let followed = false;
  let bumped = false;
  try {
    for (let i = 0; i < sweepsTotal; i++) {
      const minute = i * step;
      clock.set(new Date(start.getTime() + minute * 60_000));
      if (o.onDay && minute % 1440 === 0) o.onDay(minute / 1440);
      // On the bump day, once the scout has a pull request open: a person bumps an action on main.
      if (
        !bumped &&
        o.workflowBumpDay !== undefined &&
        minute >= o.workflowBumpDay * 1440 &&
        sandbox.github.pulls.some((p) => p.state === 'open')
      ) {
        sandbox.github.pushAsPerson(
          'main',
          { '.github/workflows/validate.yml': 'on: pull_request # actions bumped\n' },
          'Bump actions',
        );
        bumped = true;
      }
      // A person merges what has been open long enough; Config Sync applies main.
      const open = sandbox.github.pulls.find((p) => p.state === 'open');
      if (open && openSince !== null && minute - openSince >= (o.mergeAfterMinutes ?? 60)) {
        sandbox.github.merge(open.number);
        merged++;
        checkout(sandbox.github.files('main').get(SPEC_FILE)!);
        world.applySpec(spec);
        openSince = null;
      }
      sandbox.requests.length = 0;
      try {
        // A new process: the evidence from the ConfigMap, a new GitHub client (a new installation token).
        const store = await adapters.evidenceConfigMap(spec.scout.namespace, spec.scout.evidenceConfigMap);
        const snapshot = await store.load();
        const ledger = snapshot ? EvidenceLedger.fromSnapshot(snapshot) : new EvidenceLedger();
        const host = new GitHubHost({
          ...sandbox.githubTarget('app'),
          logger: silentLogger,
          retryBaseMs: 5,
          throttle: false,
        });
        const r = await runSweep(
          {
            checkout: new FsCheckout(root, async () => clean),
            spec,
            document,
            specPath: SPEC_FILE,
            catalog,
            ports: adapters.ports,
            ledger,
            prober: (member: MemberRef, pn: string) =>
              adapters.prober(member, pn, { pollMs: 0, sleep: async () => clock.advance(20_000) }),
            host,
            logger: silentLogger,
          },
          { sweepId: `soak-${i}`, probes: true, dryRun: false },
        );
        await store.save(ledger.snapshot(clock.now()));
        if (r.result?.action === 'stopped' || r.result?.action === 'left-alone')
          failures.push(`sweep ${i} (${clock.now().toISOString()}): ${r.result.message}`);
        if (r.result?.number && openSince === null) openSince = minute;
        if (
          minute >= finalStockoutMinute &&
          failover.proposedAt === null &&
          r.plan.changes.some((c) => c.replaces === serving.name || (c.cluster === serving.name && c.kind !== 'tidy'))
        ) {
          failover.proposedAt = clock.now().toISOString();
          failover.sweepsLater = (minute - finalStockoutMinute) / step;
        }
      } catch (e) {
        failures.push(`sweep ${i} (${clock.now().toISOString()}): ${(e as Error).message}`);
      }
      calls.push(sandbox.requests.filter((q) => q.api === 'github').length);
      const branch = spec.scout.proposal.branch;
      if (
        sandbox.github.refs.has(`heads/${branch}`) &&
        sandbox.github.files(branch).get('.github/workflows/validate.yml')?.includes('bumped')
      )
        followed = true;
      const cm = world.getConfigMap(spec.configCluster.name, spec.scout.namespace, spec.scout.evidenceConfigMap);
      const text = cm?.data['evidence.json'] ?? '';
      bytes.last = Buffer.byteLength(text);
      bytes.max = Math.max(bytes.max, bytes.last);
      if (text) {
        const stored = (JSON.parse(text) as { observations: Array<{ source: string }> }).observations;
        bytes.maxObservations = Math.max(bytes.maxObservations, stored.length);
        bytes.maxQuotaObservations = Math.max(
          bytes.maxQuotaObservations,
          stored.filter((x) => x.source === 'quota').length,
        );
      }
    }
  } finally {
    await adapters.close();
    await sandbox.close();
    rmSync(root, { recursive: true, force: true });
  }
  const sorted = [...calls].sort((a, b) => a - b);
  return {
    sweeps: sweepsTotal,
    failures,
    ledgerBytes: { ...bytes, budget: CONFIGMAP_EVIDENCE_BUDGET },
    github: {
      callsPerSweepP50: sorted[Math.floor(sorted.length / 2)] ?? 0,
      callsPerSweepMax: sorted.at(-1) ?? 0,
      tokensIssued: [...sandbox.github.credentials.values()].filter((c) => c.kind === 'app').length,
    },
    zeroQuotaPairs: zeroQuota.length,
    pullRequests: sandbox.github.pulls.length,
    merged,
    branchFollowedWorkflowBump: followed,
    failover,
    wallSeconds: (performance.now() - t0) / 1000,
  };
}
