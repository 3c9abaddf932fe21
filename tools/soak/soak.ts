import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { cronStepMinutes } from '@gpu-fleet/backtest';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import {
  CHECKOUT_PATHS,
  FsCheckout,
  renderTree,
  SPEC_FILE,
  sweepDeadlineSeconds,
  writeCheckout,
  type ValidationReport,
} from '@gpu-fleet/manifests';
import { ManualClock, SandboxWorld, startSandbox, type Sandbox } from '@gpu-fleet/sandbox';
import { EvidenceLedger, readMetadata, silentLogger, type MemberRef } from '@gpu-fleet/scout-domain';
import { CONFIGMAP_EVIDENCE_BUDGET, createGcpAdapters } from '@gpu-fleet/scout-gcp';
import { GitHubHost } from '@gpu-fleet/scout-git';
import { runSweep, type SweepResult } from '@gpu-fleet/scout-sweep';

/**
 * A month unattended, compressed: the scheduled sweep as the CronJob runs it — every
 * scout.schedule step a new process (a fresh GitHub App installation token; the spec and the
 * generated tree read from GitHub at main, no checkout; the ledger loaded from the evidence
 * ConfigMap, saved before proposing and at the end; the rendered --deadline-seconds), probes on,
 * auto-merge on for capacity-only plans — against the sandbox's seeded stockouts with the real
 * adapters (Google clients, @kubernetes/client-node, octokit) over loopback.
 *
 * Around it, GitHub and people behave as they do:
 * - main is protected: `validate` required, branches must be up to date; a CI run posts the
 *   `validate` check on every new head of an open pull request and concludes after `ciMinutes`;
 * - GitHub auto-merges what has auto-merge on once that is met; a person merges what is left
 *   after `mergeAfterMinutes` once `validate` passed, with a merge commit (GitHub's default, the
 *   branch kept), and Config Sync applies main;
 * - a person reverts the first merge they make on main, then closes the scout's next proposal
 *   (the same change, proposed again) instead of merging it ("not this"), clicks "Update branch" on
 *   one proposal behind main, and bumps an action under .github/workflows/ on main;
 * - GitHub answers a burst of 429s (a secondary limit) on three sweeps in a row;
 * - in the last day a serving region stocks out for good: the scout must still propose its replacement.
 * What merged, how, and whether it had been validated is counted from the sandbox's own record of
 * the repository (its merges and pull requests), never from what the scout believes. Validation
 * (kustomize, schemas) is skipped: sizes, refusals and merges are what this measures.
 */
export interface SoakOptions {
  days: number;
  seed?: number;
  mergeAfterMinutes?: number;
  /** How long the validate workflow takes on a new head. */
  ciMinutes?: number;
  workflowBumpDay?: number;
  /** Repository permissions of the scout's GitHub App installation (default: what the runbook asks for). */
  appPermissions?: Record<string, 'read' | 'write'>;
  onDay?: (day: number) => void;
  /** Each sweep's result (for a trace of the run). */
  onSweep?: (at: Date, r: SweepResult) => void;
}

export interface SoakResult {
  sweeps: number;
  /** Sweeps that threw, stopped (a refusal, a limit, the deadline), or were left alone. */
  failures: string[];
  ledgerBytes: { max: number; last: number; budget: number; maxObservations: number; maxQuotaObservations: number };
  /** (region, GPU) pairs held at zero quota headroom all month. */
  zeroQuotaPairs: number;
  github: {
    callsPerSweepP50: number;
    callsPerSweepMax: number;
    tokensIssued: number;
    /** 429 answers GitHub (the sandbox) gave, and requests the scout sent while a limit was in force. */
    answered429: number;
    retriedInsideLimit: number;
  };
  pullRequests: {
    opened: number;
    merged: number;
    mergedBy: Record<'auto-merge' | 'api' | 'person', number>;
    /** Merged before the `validate` check had succeeded on the head that merged. */
    mergedWithoutValidation: number;
    /** Merged by auto-merge or by the scout although the change drains, switches a GPU or removes capacity. */
    autoMergedNonAdditive: number;
    /** Pull requests opened again for a plan a person had closed without merging. */
    reopenedAfterClose: number;
  };
  /** Whether each person's action happened (the month is long enough for each when it says true). */
  events: { closed: number | null; reverted: string | null; updatedBranch: number | null; burst429Sweeps: number };
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
const CHECK = 'validate';

/** The repository's spec: the example fleet with auto-merge for capacity-only plans. */
function repositorySpec(): string {
  const doc = parseDocument(readFileSync(join(__dirname, '../../fleet-config/fleet.yaml'), 'utf8'));
  doc.setIn(['scout', 'proposal', 'autoMerge'], 'add-capacity');
  return doc.toString();
}

/**
 * Whether a change of the spec only adds serving capacity, judged from the two specs alone: no
 * cluster leaves `active`, changes GPU or loses replicas, and none disappears.
 */
export function onlyAddsCapacity(before: FleetSpec, after: FleetSpec): boolean {
  return before.clusters.every((b) => {
    const a = after.clusters.find((c) => c.name === b.name);
    if (!a) return false;
    if (b.mode !== 'active') return true;
    return a.mode === 'active' && a.gpu === b.gpu && a.replicas >= b.replicas;
  });
}

/** The sandbox a soak runs against: its world and clock, and the scout's adapters to it. */
interface SoakSandbox {
  /** The repository's spec at the start (main's, before any merge). */
  spec0: FleetSpec;
  start: Date;
  clock: ManualClock;
  world: SandboxWorld;
  sandbox: Sandbox;
  adapters: Awaited<ReturnType<typeof createGcpAdapters>>;
}

/** A soak under way: its schedule, the people around it, and what it has counted so far. */
interface SoakRun extends SoakSandbox {
  o: SoakOptions;
  step: number;
  sweepsTotal: number;
  ciMinutes: number;
  finalStockoutMinute: number;
  zeroQuotaPairs: number;
  people: People;
  failures: string[];
  /** GitHub requests per sweep. */
  calls: number[];
  bytes: { max: number; last: number; maxObservations: number; maxQuotaObservations: number };
  limits: { answered429: number; insideLimit: number };
  /** The cluster the final stockout hits: one that serves on main when it comes. */
  serving: FleetSpec['clusters'][number];
  failover: SoakResult['failover'];
  /** The scout's branch carried main's bumped workflow at some sweep. */
  followed: boolean;
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const t0 = performance.now();
  const run = planSoak(o, await startSoakSandbox(o));
  try {
    for (let i = 0; i < run.sweepsTotal; i++) await soakSweep(run, i);
  } finally {
    await run.adapters.close();
    await run.sandbox.close();
  }
  return soakResult(run, t0);
}

/**
 * The sandbox with the repository as the soak starts it: the spec and its rendered tree on main,
 * main protected, the App's permissions as asked, and the real adapters connected.
 */
async function startSoakSandbox(o: SoakOptions): Promise<SoakSandbox> {
  const specText = repositorySpec();
  const spec0 = loadFleetSpec(specText).spec;
  const start = new Date('2026-11-02T00:00:00Z');
  const clock = new ManualClock(start);
  const world = new SandboxWorld({ seed: o.seed ?? 3, clock, spec: spec0 });
  const sandbox = await startSandbox(world, {
    githubFiles: {
      [SPEC_FILE]: specText,
      ...Object.fromEntries(renderTree(spec0, catalog).files),
      '.github/workflows/validate.yml': 'on: pull_request\n',
    },
  });
  const gh = sandbox.github;
  gh.protection.set('main', { requiredChecks: [CHECK], strict: true });
  if (o.appPermissions) {
    for (const k of Object.keys(gh.app.permissions)) delete gh.app.permissions[k];
    Object.assign(gh.app.permissions, o.appPermissions);
  }
  const adapters = await createGcpAdapters(sandbox.connection, {
    clock,
    logger: silentLogger,
    bundled: catalog,
    spec: spec0,
    policy: { timeoutMs: 5000, retries: 1, minBackoffMs: 5, maxBackoffMs: 10 },
  });
  return { spec0, start, clock, world, sandbox, adapters };
}

/** The month's schedule and conditions: sweeps, CI time, quota at zero headroom, the final stockout, the people. */
function planSoak(o: SoakOptions, s: SoakSandbox): SoakRun {
  const { spec0, start, world } = s;
  // The schedule's step, as the backtest reads it (scout.schedule.cron).
  const step = cronStepMinutes(spec0.scout.schedule.cron) ?? 20;
  // The last day's stockout hits a region that serves then (main's spec at that time): chosen when it comes.
  const serving = spec0.clusters.find((c) => c.mode === 'active')!;
  const finalStockoutMinute = Math.max(0, (o.days - 1) * 1440);
  // Quota at zero headroom for 8 (region, GPU) pairs where the GPU is offered — the case that filled the
  // ledger in a week when every sweep recorded each again: T4 everywhere, L4 in two regions.
  const zeroQuota = [
    ...spec0.placement.candidateRegions.map((r) => [r, 'nvidia-tesla-t4'] as const),
    ['europe-west1', 'nvidia-l4'] as const,
    ['asia-southeast1', 'nvidia-l4'] as const,
  ].filter(([r, g]) => catalog.offers(r, g));
  for (const [r, g] of zeroQuota) world.setQuota(r, catalog.quotaMetric(g, false), 0);
  return {
    ...s,
    o,
    step,
    sweepsTotal: Math.floor((o.days * 1440) / step),
    ciMinutes: o.ciMinutes ?? 10,
    finalStockoutMinute,
    zeroQuotaPairs: zeroQuota.length,
    people: new People(s.sandbox, world, o, step),
    failures: [],
    calls: [],
    bytes: { max: 0, last: 0, maxObservations: 0, maxQuotaObservations: 0 },
    limits: { answered429: 0, insideLimit: 0 },
    serving,
    failover: {
      region: serving.region,
      stockoutAt: new Date(start.getTime() + finalStockoutMinute * 60_000).toISOString(),
      proposedAt: null,
      sweepsLater: null,
    },
    followed: false,
  };
}

/**
 * Sweep i of the run: the people act and GitHub's limits bite, the sweep runs, its requests are
 * counted; half a step later CI and merges catch up and the ledger is measured.
 */
async function soakSweep(run: SoakRun, i: number): Promise<void> {
  const { o, clock, start, step, sandbox, people } = run;
  const gh = sandbox.github;
  const minute = i * step;
  clock.set(new Date(start.getTime() + minute * 60_000));
  if (o.onDay && minute % 1440 === 0) o.onDay(minute / 1440);
  if (minute === run.finalStockoutMinute) finalStockout(run);
  ci(gh, run.ciMinutes, clock.now());
  people.act(minute);
  sandbox.requests.length = 0;
  if (people.burstNow(minute))
    sandbox.faults.push({
      api: 'github',
      kind: 'secondary-rate-limit',
      status: 429,
      retryAfterSec: 40,
      times: 1,
      path: /\/pulls$/,
    });
  await judgedSweep(run, i, minute);
  sandbox.faults.length = 0;
  countGitHub(run);
  // Half a step later: CI runs on what the sweep pushed, GitHub auto-merges what is ready.
  clock.set(new Date(start.getTime() + (minute + step / 2) * 60_000));
  ci(gh, run.ciMinutes, clock.now());
  people.applyMain();
  measure(run.world, run.spec0, run.bytes);
}

/** The last day's stockout: a serving region on main loses every preferred GPU until after the run. */
function finalStockout(run: SoakRun): void {
  const { world, clock, start, o } = run;
  const main = loadFleetSpec(run.sandbox.github.files('main').get(SPEC_FILE)!).spec;
  // A region that serves and that nothing is already replacing.
  run.serving =
    main.clusters.find((c) => c.mode === 'active' && !main.clusters.some((r) => r.replaces === c.name)) ?? run.serving;
  run.failover.region = run.serving.region;
  for (const g of main.gpu.preferences)
    world.forceStockout(run.serving.region, g, clock.now(), new Date(start.getTime() + (o.days + 1) * 86_400_000));
}

/** One scheduled sweep, judged: a failure when it threw or stopped, and whether it proposed the failover. */
async function judgedSweep(run: SoakRun, i: number, minute: number): Promise<void> {
  const { clock, failover } = run;
  try {
    const r = await scheduledSweep(run.sandbox, run.adapters, clock, `soak-${i}`);
    run.o.onSweep?.(clock.now(), r);
    const outcome = r.result?.action;
    if (r.stopped || outcome === 'stopped' || outcome === 'left-alone')
      run.failures.push(`sweep ${i} (${clock.now().toISOString()}): ${r.stopped ?? r.result!.message}`);
    if (
      minute >= run.finalStockoutMinute &&
      failover.proposedAt === null &&
      (outcome === 'created' || outcome === 'updated' || outcome === 'unchanged') &&
      r.plan.changes.some(
        (c) => c.replaces === run.serving.name || (c.cluster === run.serving.name && c.kind !== 'tidy'),
      )
    ) {
      failover.proposedAt = clock.now().toISOString();
      failover.sweepsLater = (minute - run.finalStockoutMinute) / run.step;
    }
  } catch (e) {
    run.failures.push(`sweep ${i} (${clock.now().toISOString()}): ${(e as Error).message}`);
  }
}

/** The sweep's GitHub requests (all, 429s, inside a limit), and whether its branch carries the bumped workflow. */
function countGitHub(run: SoakRun): void {
  const { sandbox, limits } = run;
  const gh = sandbox.github;
  const github = sandbox.requests.filter((q) => q.api === 'github');
  run.calls.push(github.length);
  limits.answered429 += github.filter((q) => q.status === 429).length;
  limits.insideLimit += github.filter((q) => q.insideLimit).length;
  const branch = run.spec0.scout.proposal.branch;
  if (gh.refs.has(`heads/${branch}`) && gh.files(branch).get('.github/workflows/validate.yml')?.includes('bumped'))
    run.followed = true;
}

/** What the run counted, with the repository's own record of its pull requests. */
function soakResult(run: SoakRun, t0: number): SoakResult {
  const { sandbox, limits } = run;
  const gh = sandbox.github;
  const sorted = [...run.calls].sort((a, b) => a - b);
  return {
    sweeps: run.sweepsTotal,
    failures: run.failures,
    ledgerBytes: { ...run.bytes, budget: CONFIGMAP_EVIDENCE_BUDGET },
    github: {
      callsPerSweepP50: sorted[Math.floor(sorted.length / 2)] ?? 0,
      callsPerSweepMax: sorted.at(-1) ?? 0,
      tokensIssued: [...gh.credentials.values()].filter((c) => c.kind === 'app').length,
      answered429: limits.answered429,
      retriedInsideLimit: limits.insideLimit,
    },
    zeroQuotaPairs: run.zeroQuotaPairs,
    pullRequests: pullRequestCounts(sandbox),
    events: run.people.events,
    branchFollowedWorkflowBump: run.followed,
    failover: run.failover,
    wallSeconds: (performance.now() - t0) / 1000,
  };
}

/**
 * One scheduled sweep, as `region-scout sweep --from-github main --proposal github --evidence
 * configmap:… --deadline-seconds …` runs it in the CronJob: a new GitHub client (App auth, a new
 * installation token), the files a sweep reads fetched from main into a scratch folder, the ledger
 * from the ConfigMap — saved before proposing and again at the end.
 */
async function scheduledSweep(
  sandbox: Sandbox,
  adapters: Awaited<ReturnType<typeof createGcpAdapters>>,
  clock: ManualClock,
  sweepId: string,
): Promise<SweepResult> {
  const world = sandbox.world;
  // One client for the whole run, as the CLI: one installation check, one token. Its deadline is the
  // rendered one, from the start of the run.
  const deadline = new Date(clock.now().getTime() + sweepDeadlineSeconds(world.spec, 'config-cluster') * 1000);
  const host = new GitHubHost({
    ...sandbox.githubTarget('app'),
    logger: silentLogger,
    retryBaseMs: 5,
    throttle: false,
    validationCheck: world.spec.scout.proposal.validationCheck,
    deadline: deadline.getTime(),
    now: () => clock.now().getTime(),
    sleep: (ms) => clock.sleep(ms),
  });
  const { commit, files } = await host.readFiles(world.spec.configSync.branch, CHECKOUT_PATHS);
  const root = writeCheckout(mkdtempSync(join(tmpdir(), 'soak-')), files);
  try {
    const { spec, document } = loadFleetSpec(files.get(SPEC_FILE)!) as { spec: FleetSpec; document: Document };
    const store = await adapters.evidenceConfigMap(spec.scout.namespace, spec.scout.evidenceConfigMap);
    const snapshot = await store.load();
    const ledger = snapshot ? EvidenceLedger.fromSnapshot(snapshot) : new EvidenceLedger();
    const save = () => store.save(ledger.snapshot(clock.now()));
    try {
      return await runSweep(
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
          baseCommit: commit,
          saveEvidence: save,
          deadline,
        },
        { sweepId, probes: true, dryRun: false },
      );
    } finally {
      await save();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** validate.yml on every new head of an open pull request: queued at once, concluded success after `minutes`. */
function ci(gh: Sandbox['github'], minutes: number, now: Date): void {
  for (const pr of gh.pulls.filter((p) => p.state === 'open')) {
    const head = gh.refs.get(`heads/${pr.head}`);
    if (!head) continue;
    const run = gh.checkRuns.get(head)?.find((r) => r.name === CHECK);
    if (!run) gh.setCheck(head, CHECK, 'queued');
    else if (run.status !== 'completed' && now.getTime() - Date.parse(run.startedAt) >= minutes * 60_000)
      gh.setCheck(head, CHECK, 'completed', 'success');
  }
}

/** The people around the fleet: they merge, close, revert, update a branch and bump an action, once each where it says so. */
class People {
  readonly events: SoakResult['events'] = { closed: null, reverted: null, updatedBranch: null, burst429Sweeps: 0 };
  private readonly openSince = new Map<number, number>();
  private pendingRevert: { commit: string; at: number } | null = null;
  private bumped = false;
  private burstStart: number | null = null;
  private mainApplied: string;

  constructor(
    private readonly sandbox: Sandbox,
    private readonly world: SandboxWorld,
    private readonly o: SoakOptions,
    private readonly step: number,
  ) {
    this.mainApplied = sandbox.github.refs.get('heads/main')!;
  }

  private get gh() {
    return this.sandbox.github;
  }

  /** Three sweeps in a row meet a 429 burst, from a third of the run on. */
  burstNow(minute: number): boolean {
    if (this.burstStart === null && minute >= (this.o.days * 1440) / 3) this.burstStart = minute;
    if (this.burstStart === null || minute >= this.burstStart + 3 * this.step) return false;
    this.events.burst429Sweeps++;
    return true;
  }

  act(minute: number): void {
    const gh = this.gh;
    const day = minute / 1440;
    if (this.pendingRevert && minute >= this.pendingRevert.at) {
      gh.revert('main', this.pendingRevert.commit);
      this.events.reverted = this.pendingRevert.commit;
      this.pendingRevert = null;
      this.applyMain();
    }
    const open = gh.pulls.find((p) => p.state === 'open');
    if (!open) return;
    if (!this.openSince.has(open.number)) this.openSince.set(open.number, minute);
    const head = gh.refs.get(`heads/${open.head}`)!;
    // On the bump day, once a proposal is open: a person bumps an action on main.
    if (!this.bumped && this.o.workflowBumpDay !== undefined && day >= this.o.workflowBumpDay) {
      gh.pushAsPerson(
        'main',
        { '.github/workflows/validate.yml': 'on: pull_request # actions bumped\n' },
        'Bump actions',
      );
      this.bumped = true;
      this.applyMain();
    }
    // A proposal behind main: a person clicks "Update branch" (once; GitHub offers it only without conflicts).
    const main = gh.refs.get('heads/main')!;
    if (this.events.updatedBranch === null && !gh.isAncestor(main, head) && gh.mergeTrees(head, main)) {
      gh.updateBranch(open.number);
      this.events.updatedBranch = open.number;
      return;
    }
    if (minute - this.openSince.get(open.number)! < (this.o.mergeAfterMinutes ?? 60)) return;
    if (!gh.checkPassed(head, CHECK)) return;
    // After the revert, the proposal of the same change again: "not this" — closed without merging.
    if (this.events.reverted !== null && this.events.closed === null) {
      gh.close(open.number);
      this.events.closed = open.number;
      return;
    }
    const merged = gh.merge(open.number, { method: 'merge', by: 'person' });
    this.applyMain();
    // The first merge a person makes is reverted on main half an hour later.
    if (this.events.reverted === null && this.pendingRevert === null)
      this.pendingRevert = { commit: merged, at: minute + 30 };
  }

  /** Config Sync applies main when it moved (a merge by anyone, a revert, a bump). */
  applyMain(): void {
    const main = this.gh.refs.get('heads/main')!;
    if (main === this.mainApplied) return;
    this.mainApplied = main;
    this.world.applySpec(loadFleetSpec(this.gh.files('main').get(SPEC_FILE)!).spec);
  }
}

/** What the sandbox's repository records: pull requests, merges and how, and plans reopened after a person closed them. */
function pullRequestCounts(sandbox: Sandbox): SoakResult['pullRequests'] {
  const gh = sandbox.github;
  const specAt = (commit: string) => loadFleetSpec(gh.files(commit).get(SPEC_FILE)!).spec;
  const mergedBy = { 'auto-merge': 0, api: 0, person: 0 };
  for (const m of gh.merges) mergedBy[m.by]++;
  const declined = gh.pulls.filter((p) => p.state === 'closed' && !p.merged && !readMetadata(p.body)?.withdrawn);
  return {
    opened: gh.pulls.length,
    merged: gh.merges.length,
    mergedBy,
    mergedWithoutValidation: gh.merges.filter((m) => !m.validated).length,
    autoMergedNonAdditive: gh.merges.filter(
      (m) => m.by !== 'person' && !onlyAddsCapacity(specAt(m.baseBefore), specAt(m.baseAfter)),
    ).length,
    reopenedAfterClose: gh.pulls.filter((p) =>
      declined.some(
        (d) =>
          p.number > d.number &&
          Date.parse(p.createdAt) >= Date.parse(d.closedAt!) &&
          readMetadata(p.body)?.plan === readMetadata(d.body)?.plan,
      ),
    ).length,
  };
}

function measure(
  world: SandboxWorld,
  spec: FleetSpec,
  bytes: { max: number; last: number; maxObservations: number; maxQuotaObservations: number },
): void {
  const cm = world.getConfigMap(spec.configCluster.name, spec.scout.namespace, spec.scout.evidenceConfigMap);
  const text = cm?.data['evidence.json'] ?? '';
  bytes.last = Buffer.byteLength(text);
  bytes.max = Math.max(bytes.max, bytes.last);
  if (!text) return;
  const stored = (JSON.parse(text) as { observations: Array<{ source: string }> }).observations;
  bytes.maxObservations = Math.max(bytes.maxObservations, stored.length);
  bytes.maxQuotaObservations = Math.max(bytes.maxQuotaObservations, stored.filter((x) => x.source === 'quota').length);
}
