import { createHash } from 'node:crypto';
import { diffLines } from 'diff';
import { formatIssue, parseFleetSpec, writeClusters, type FleetSpec, slotsOnSpot } from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import {
  renderTree,
  RENDERER_VERSION,
  rendererVersionOf,
  type Finding,
  type RenderedTree,
  type ValidationReport,
} from '@gpu-fleet/manifests';
import {
  decide,
  observedFromSignals,
  renderProposal,
  type FileStat,
  type Plan,
  type ProposalText,
} from '@gpu-fleet/scout-decide';
import {
  attachEvidence,
  freeProbeGpus,
  gatherSignals,
  metadataComment,
  planTrailer,
  ProbeBudget,
  type EvidenceLedger,
  type GitHostPort,
  type Logger,
  type MemberRef,
  type Membership,
  membershipFor,
  type ProbePort,
  type ProbeResult,
  type ProposalFile,
  type ProposalResult,
  type SignalPorts,
  type SignalsReport,
} from '@gpu-fleet/scout-domain';
import type { Document } from 'yaml';

export type SweepStep = 'signals' | 'probes' | 'decide' | 'render' | 'validate' | 'propose';

/**
 * The repository checkout the sweep proposes against (clusters/, fleet-config/): the use case's only
 * file access. FsCheckout in @gpu-fleet/manifests is the adapter on disk.
 */
export interface CheckoutPort {
  /** Content of a file (path relative to the repository root), or null when it does not exist. */
  read(path: string): string | null;
  /** Generated files present in the checkout, relative to the root. */
  ownedFiles(): string[];
  /** Validate `tree` as the checkout would be with it applied (its own patches included), leaving the checkout untouched. */
  validateProposed(tree: RenderedTree, spec: FleetSpec): Promise<ValidationReport>;
}

export interface SweepDeps {
  checkout: CheckoutPort;
  /** The spec as loaded, with its YAML document (comments kept when the clusters section is rewritten). */
  spec: FleetSpec;
  document: Document;
  /** Path of the spec relative to the root, e.g. fleet-config/fleet.yaml. */
  specPath: string;
  catalog: GpuCatalog;
  ports: SignalPorts;
  ledger: EvidenceLedger;
  /** A prober for a fleet member (its Connect Gateway address: id and location). */
  prober: (member: MemberRef, projectNumber: string) => Promise<ProbePort>;
  /** Where the proposal goes; null: write nothing (plan, dry run). */
  host: GitHostPort | null;
  logger: Logger;
  onStep?: (step: SweepStep, detail: string) => void;
  /** The commit of the base branch the checkout is (see ProposalRequest.baseCommit). */
  baseCommit?: string;
  /** Set when the ports talk to a simulated cloud, e.g. "embedded sandbox (seed 1)": the proposal says so (ProposalOptions.simulated). */
  simulated?: string;
  /**
   * Persist the ledger. Called once the sweep is recorded, before anything is proposed — so a
   * sweep killed while proposing (the CronJob's deadline, a node drain) keeps its record, its probe
   * results and their budget charges, and no pull request stands without the evidence behind it.
   * The caller saves again at the end. A failed save here stops the proposal.
   */
  saveEvidence?: () => Promise<void>;
  /** Past this time (ports.clock) nothing is proposed: the runner's own limit comes soon after. */
  deadline?: Date;
}

export interface SweepOptions {
  sweepId: string;
  /** Run GPU probes in the best candidates (within scout.probesPerSweep and the daily budget). */
  probes: boolean;
  /** Decide and render, but write and propose nothing. */
  dryRun: boolean;
}

export interface ProbeRun {
  cluster: string;
  region: string;
  gpu: string;
  result: ProbeResult | null;
  skipped?: string;
}

export interface SweepResult {
  sweepId: string;
  signals: SignalsReport;
  probes: ProbeRun[];
  plan: Plan;
  /** The proposed fleet.yaml text, when the plan changes it. */
  specText: string | null;
  files: ProposalFile[];
  stats: FileStat[];
  proposal: ProposalText | null;
  validation: { ok: boolean; findings: Finding[] } | null;
  result: ProposalResult | null;
  /** Why nothing was proposed, when nothing was. */
  stopped: string | null;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** Reports a sweep's step to the log and to deps.onStep. */
type StepReporter = (step: SweepStep, detail: string) => void;

/** A candidate worth probing: a GPU type in a region, run in one of the fleet's clusters. */
type ProbeTarget = { cluster: string; region: string; gpu: string };

/**
 * One sweep: gather signals → probe the top candidates (within budget) → decide → write the plan
 * into fleet.yaml's clusters section → render → validate (kustomize + schemas, in a scratch copy)
 * → propose. Nothing is proposed when validation fails; a dry run writes nothing at all.
 */
export async function runSweep(deps: SweepDeps, opts: SweepOptions): Promise<SweepResult> {
  const step = stepReporter(deps, opts);

  step('signals', 'gathering signals');
  const signals = await gatherSignals(deps.spec, deps.ports, deps.ledger, { sweepId: opts.sweepId });
  const probes = await probeCandidates(deps, opts, signals, step);

  step('decide', 'deciding the placement');
  const plan = decidePlacement(deps, opts, signals);
  const saved = await recordAndSave(deps, opts, plan);
  const base = emptyResult(opts, signals, probes, plan);
  if (saved) return { ...base, stopped: saved };
  const late = pastDeadline(deps);
  if (late && deps.host && !opts.dryRun) return { ...base, stopped: late };

  if (!plan.changes.length) return withdrawProposal(deps, opts, base, step);
  return proposeChanges(deps, opts, base, step);
}

function stepReporter(deps: SweepDeps, opts: SweepOptions): StepReporter {
  return (s, detail) => {
    deps.logger.info({ step: s, sweep: opts.sweepId }, detail);
    deps.onStep?.(s, detail);
  };
}

/** The placement as the signals and the ledger (past sweeps, probe evidence) have it now. */
function decidePlacement(deps: SweepDeps, opts: SweepOptions, signals: SignalsReport): Plan {
  const { spec, ports, ledger } = deps;
  const fleetState = { observed: observedFromSignals(signals.regions), history: [...ledger.sweeps()] };
  return decide(spec, signals, fleetState, ports.clock.now(), { catalog: deps.catalog, sweepId: opts.sweepId });
}

/**
 * Probes: only where they can change the decision — the best eligible regions not serving yet
 * that have a cluster to run in and no recent successful probe — and only as many in one cluster
 * as its probe namespace's GPU quota holds. Their outcomes are attached to the signals.
 */
async function probeCandidates(
  deps: SweepDeps,
  opts: SweepOptions,
  signals: SignalsReport,
  step: StepReporter,
): Promise<ProbeRun[]> {
  const { spec, ports, ledger } = deps;
  const probes: ProbeRun[] = [];
  if (!(opts.probes && spec.scout.probesPerSweep > 0)) return probes;
  const ranked = probeTargets(spec, decidePlacement(deps, opts, signals));
  step('probes', describeProbeTargets(ranked, spec.scout.probesPerSweep));
  if (ranked.length) probes.push(...(await runProbes(deps, opts, ranked)));
  attachEvidence(signals.regions, ledger, ports.clock.now());
  return probes;
}

/** The candidates worth probing (see probeCandidates), best first. */
function probeTargets(spec: FleetSpec, pre: Plan): ProbeTarget[] {
  return pre.candidates
    .filter(
      (c) =>
        c.eligible &&
        !c.newCluster &&
        !spec.clusters.some((k) => k.region === c.region && k.mode === 'active' && k.gpu === c.gpu),
    )
    .filter((c) => (c.parts.find((p) => p.name === 'probe')?.value ?? 0) === 0)
    .sort((a, b) => b.score - a.score || a.region.localeCompare(b.region))
    .map((t) => ({ cluster: t.cluster, region: t.region, gpu: t.gpu }));
}

function describeProbeTargets(ranked: ProbeTarget[], probesPerSweep: number): string {
  return ranked.length
    ? `probe candidates: ${ranked
        .slice(0, probesPerSweep + 2)
        .map((t) => `${t.gpu} in ${t.cluster}`)
        .join(', ')}`
    : 'no probe needed';
}

/**
 * Record the sweep and save the evidence (not in a dry run) before anything is proposed: see
 * SweepDeps.saveEvidence. Why nothing may be proposed, else null.
 */
async function recordAndSave(deps: SweepDeps, opts: SweepOptions, plan: Plan): Promise<string | null> {
  if (!opts.dryRun) deps.ledger.recordSweep(plan.record);
  return opts.dryRun ? null : await saveEvidence(deps);
}

/** The sweep's result before anything is written: what it saw, probed and decided. */
function emptyResult(opts: SweepOptions, signals: SignalsReport, probes: ProbeRun[], plan: Plan): SweepResult {
  return {
    sweepId: opts.sweepId,
    signals,
    probes,
    plan,
    specText: null,
    files: [],
    stats: [],
    proposal: null,
    validation: null,
    result: null,
    stopped: null,
  };
}

/** The plan changes nothing: close any open proposal (when there is a host and this is no dry run). */
async function withdrawProposal(
  deps: SweepDeps,
  opts: SweepOptions,
  base: SweepResult,
  step: StepReporter,
): Promise<SweepResult> {
  if (!deps.host || opts.dryRun) return base;
  step('propose', 'no change: closing any open proposal');
  const result = await deps.host.withdraw({
    base: deps.spec.configSync.branch,
    branch: deps.spec.scout.proposal.branch,
    comment: `region-scout: the placement needs no change any more (${base.plan.summary}) — closing.`,
  });
  return { ...base, result };
}

/**
 * The plan changes something: write it into the spec, render and validate the tree, then propose it —
 * stopping, with the reason, at the first check that fails.
 */
async function proposeChanges(
  deps: SweepDeps,
  opts: SweepOptions,
  base: SweepResult,
  step: StepReporter,
): Promise<SweepResult> {
  // Write the plan into the spec text and check it is still a valid spec.
  const specText = writeClusters(deps.document, base.plan.clusters);
  const parsed = parseFleetSpec(specText, { file: deps.specPath, catalog: deps.catalog });
  if (!parsed.ok) {
    return {
      ...base,
      specText,
      stopped: `the proposed spec is invalid, nothing proposed:\n${parsed.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
    };
  }

  const skew = checkRendererSkew(deps, opts);
  if (skew) return { ...base, specText, stopped: skew };

  const { files, stats, validation } = await renderAndValidate(deps, parsed.spec, specText, step);
  if (!validation.ok) {
    return {
      ...base,
      specText,
      files,
      stats,
      validation,
      stopped: `validation failed, nothing proposed: ${validation.findings.length} problem(s)`,
    };
  }

  const text = renderProposal(deps.spec, base.plan, base.signals, stats, {
    catalog: deps.catalog,
    sweepId: opts.sweepId,
    simulated: deps.simulated,
  });
  const withFiles = { ...base, specText, files, stats, validation, proposal: text };
  if (!deps.host || opts.dryRun) return withFiles;

  const tooLate = pastDeadline(deps);
  if (tooLate) return { ...withFiles, stopped: tooLate };
  const result = await propose(deps, deps.host, opts, text, files, step);
  return { ...withFiles, result };
}

/** Only when proposing: the renderer skew between this scout and the checkout (logged), else null. */
function checkRendererSkew(deps: SweepDeps, opts: SweepOptions): string | null {
  const skew = deps.host && !opts.dryRun ? rendererSkew(deps.checkout) : null;
  if (skew) deps.logger.error({ sweep: opts.sweepId }, skew);
  return skew;
}

/** Render the proposed tree, list the files it changes, and validate it as the checkout would be. */
async function renderAndValidate(
  deps: SweepDeps,
  spec: FleetSpec,
  specText: string,
  step: StepReporter,
): Promise<{ files: ProposalFile[]; stats: FileStat[]; validation: NonNullable<SweepResult['validation']> }> {
  step('render', 'rendering the proposed tree');
  const tree = renderTree(spec, deps.catalog);
  const changed = changedFiles(deps.checkout, tree.files, deps.specPath, specText);
  const files = changed.map((c) => c.file);
  const stats = changed.map((c) => fileStat(c.file, c.before));

  step('validate', 'validating the proposed tree (kustomize, schemas, invariants)');
  const report = await deps.checkout.validateProposed(tree, spec);
  return { files, stats, validation: { ok: report.findings.length === 0, findings: report.findings } };
}

/** Propose the files on the host; the hashes of the plan and of the body go into its metadata and commit trailer. */
async function propose(
  deps: SweepDeps,
  host: GitHostPort,
  opts: SweepOptions,
  text: ProposalText,
  files: ProposalFile[],
  step: StepReporter,
): Promise<ProposalResult> {
  const { spec } = deps;
  const planHash = sha([text.title, ...files.map((f) => `${f.path}\0${f.content ?? '\0deleted'}`)].join('\n'));
  const bodyHash = sha(text.digest);
  step('propose', `proposing on ${host.describe()}`);
  return host.propose({
    base: spec.configSync.branch,
    ...(deps.baseCommit ? { baseCommit: deps.baseCommit } : {}),
    branch: spec.scout.proposal.branch,
    title: text.title,
    body: `${text.body}\n\n${metadataComment({ v: 1, plan: planHash, body: bodyHash, sweep: opts.sweepId })}`,
    commitMessage: `${text.commitMessage}\n\n${planTrailer(planHash)}`,
    files,
    planHash,
    bodyHash,
    labels: spec.scout.proposal.labels,
    autoMerge: spec.scout.proposal.autoMerge === 'add-capacity' && text.addsCapacityOnly,
  });
}

/** Save the ledger before proposing; why nothing may be proposed when that failed, else null. */
async function saveEvidence(deps: SweepDeps): Promise<string | null> {
  if (!deps.saveEvidence) return null;
  try {
    await deps.saveEvidence();
    return null;
  } catch (e) {
    const why = `the evidence could not be saved (${(e as Error).message}): nothing proposed, so no pull request stands without the evidence behind it; the next sweep tries again`;
    deps.logger.error({ err: (e as Error).message }, why);
    return why;
  }
}

function pastDeadline(deps: SweepDeps): string | null {
  if (!deps.deadline || deps.ports.clock.now() < deps.deadline) return null;
  const why = `the sweep's deadline (${deps.deadline.toISOString()}) passed before proposing: the evidence is saved and the next sweep proposes`;
  deps.logger.warn({ deadline: deps.deadline.toISOString() }, why);
  return why;
}

/**
 * The renderer versions the checkout's generated files were written by (their stamp), when any
 * differs from this scout's: its proposal would rewrite every generated file in its own way, and
 * validate.yml's `render --check` (main's code) would fail it. The usual cause is a scout image
 * pinned before main's renderer changed.
 */
export function rendererSkew(checkout: Pick<CheckoutPort, 'read' | 'ownedFiles'>): string | null {
  const versions = new Set<number>();
  for (const path of checkout.ownedFiles()) {
    const v = rendererVersionOf(checkout.read(path) ?? '');
    if (v !== null) versions.add(v);
  }
  const other = [...versions].filter((v) => v !== RENDERER_VERSION).sort((a, b) => b - a)[0];
  if (other === undefined) return null;
  return other > RENDERER_VERSION
    ? `main's generated files were written by a newer region-scout (renderer ${other}; this one is renderer ${RENDERER_VERSION}): a proposal from it would revert them and fail \`render --check\`. Re-pin the scout image: build it from main and run \`region-scout pin --scout-image <image@sha256:…>\` (apps/region-scout/README.md); nothing proposed`
    : `this region-scout renders differently (renderer ${RENDERER_VERSION}) from main's code (renderer ${other}): its proposal would fail \`render --check\`. Re-pin the scout image to one built from main (\`region-scout pin --scout-image\`, apps/region-scout/README.md); nothing proposed`;
}

/** A cluster's prober and the GPUs its probe namespace has free (live: the probe Jobs holding the rest), or why it cannot probe. */
type ClusterProbeState = { prober: ProbePort; free: number; live: string[] } | { error: string };

/** What every probe of one sweep shares: the GPUs each takes, their cost in GPU minutes, Spot or not, the daily budget. */
interface ProbeSetup {
  count: number;
  gpuMinutes: number;
  spot: boolean;
  budget: ProbeBudget;
}

/**
 * Choose up to scout.probesPerSweep targets in rank order, each where its cluster's probe namespace
 * has GPU quota left (scout.probeMaxGpus, less what live probes hold — another runner's, or a crashed
 * run's before its deadline), then probe them in parallel, each charged to the daily budget first.
 * Outcomes go into the ledger. A candidate whose cluster is full is reported as skipped, and the next
 * candidate is tried instead: the ResourceQuota would refuse its pod (a FailedCreate on the Job).
 */
export async function runProbes(deps: SweepDeps, opts: SweepOptions, ranked: ProbeTarget[]): Promise<ProbeRun[]> {
  const setup = probeSetup(deps);
  const want = deps.spec.scout.probesPerSweep;
  const fleet = await fleetOf(deps.ports);
  if ('failed' in fleet) {
    const e = fleet.failed;
    return ranked
      .slice(0, want)
      .map((t) => ({ ...t, result: null, skipped: `fleet unknown: ${(e as Error).message}` }));
  }

  const clusterState = clusterStates(deps, fleet.projectNumber, fleet.memberships);
  const runs: Array<ProbeRun | Promise<ProbeRun>> = [];
  let chosen = 0;
  for (const t of ranked) {
    if (chosen >= want) break;
    const { run, counts } = startProbe(deps, opts, setup, t, await clusterState(t));
    runs.push(run);
    if (counts) chosen++;
  }
  return Promise.all(runs);
}

function probeSetup(deps: SweepDeps): ProbeSetup {
  const { spec, ledger } = deps;
  const count = spec.gpu.count;
  const gpuMinutes = Math.ceil((count * spec.scout.probeDeadlineSeconds) / 60);
  const budget = ProbeBudget.fromObservations(spec.scout.probeBudget, ledger.all(), gpuMinutes);
  return { count, gpuMinutes, spot: slotsOnSpot(spec), budget };
}

/** The fleet's project number and memberships, or what failed when asking for them. */
async function fleetOf(
  ports: SignalPorts,
): Promise<{ projectNumber: string; memberships: Membership[] } | { failed: unknown }> {
  try {
    const [projectNumber, memberships] = await Promise.all([ports.fleet.projectNumber(), ports.fleet.memberships()]);
    return { projectNumber, memberships };
  } catch (e) {
    return { failed: e };
  }
}

/** Per cluster: its prober and the GPUs its probe namespace has free, learnt once (cleanup first). */
function clusterStates(
  deps: SweepDeps,
  projectNumber: string,
  memberships: Membership[],
): (t: ProbeTarget) => Promise<ClusterProbeState> {
  const clusters = new Map<string, ClusterProbeState>();
  return async (t) => {
    let state = clusters.get(t.cluster);
    if (!state) {
      state = await learnCluster(deps, t, projectNumber, memberships);
      clusters.set(t.cluster, state);
    }
    return state;
  };
}

async function learnCluster(
  deps: SweepDeps,
  t: ProbeTarget,
  projectNumber: string,
  memberships: Membership[],
): Promise<ClusterProbeState> {
  const { spec } = deps;
  try {
    const member = membershipFor({ name: t.cluster, region: t.region }, memberships);
    if (!member) throw new Error('no fleet membership');
    const prober = await deps.prober(member, projectNumber);
    const { removed, live } = await prober.cleanup(spec.scout.probeNamespace);
    if (removed) deps.logger.info({ cluster: t.cluster, removed }, 'removed finished probe Jobs left by earlier runs');
    return { prober, free: freeProbeGpus(spec.scout.probeMaxGpus, live), live: live.map((l) => l.job) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * What one target comes to: a skip, or a probe started (its GPUs taken from the cluster's quota and
 * its cost charged to the budget). `counts` when it takes one of the sweep's scout.probesPerSweep.
 */
function startProbe(
  deps: SweepDeps,
  opts: SweepOptions,
  setup: ProbeSetup,
  t: ProbeTarget,
  state: ClusterProbeState,
): { run: ProbeRun | Promise<ProbeRun>; counts: boolean } {
  const { spec } = deps;
  if ('error' in state) {
    // A probe that could not run says nothing about capacity (fail-static).
    deps.logger.warn({ cluster: t.cluster, err: state.error }, 'probe failed to run');
    return { run: { ...t, result: null, skipped: `probe could not run: ${state.error}` }, counts: true };
  }
  if (state.free < setup.count) {
    const skipped = `${t.cluster}'s probe namespace has no GPU quota left (scout.probeMaxGpus ${spec.scout.probeMaxGpus}${state.live.length ? `; held by ${state.live.join(', ')}` : ''}); trying the next candidate`;
    return { run: { ...t, result: null, skipped }, counts: false };
  }
  state.free -= setup.count;
  const charge = setup.budget.tryCharge(deps.ports.clock.now(), setup.gpuMinutes);
  if (!charge.ok) return { run: { ...t, result: null, skipped: charge.reason }, counts: true };
  return { run: runProbe(deps, opts, setup, t, state.prober), counts: true };
}

/** Run one probe; its outcome goes into the ledger. A probe that fails to run is reported as skipped. */
function runProbe(
  deps: SweepDeps,
  opts: SweepOptions,
  setup: ProbeSetup,
  t: ProbeTarget,
  prober: ProbePort,
): Promise<ProbeRun> {
  const { spec } = deps;
  return prober
    .run({
      membership: t.cluster,
      region: t.region,
      gpu: t.gpu,
      count: setup.count,
      spot: setup.spot,
      namespace: spec.scout.probeNamespace,
      sweepId: opts.sweepId,
      deadlineSeconds: spec.scout.probeDeadlineSeconds,
    })
    .then(
      (result): ProbeRun => {
        recordProbe(deps, opts, setup.spot, t, result);
        return { ...t, result };
      },
      (e: unknown): ProbeRun => {
        deps.logger.warn({ cluster: t.cluster, err: (e as Error).message }, 'probe failed to run');
        return { ...t, result: null, skipped: `probe could not run: ${(e as Error).message}` };
      },
    );
}

function recordProbe(deps: SweepDeps, opts: SweepOptions, spot: boolean, t: ProbeTarget, result: ProbeResult): void {
  deps.ledger.add({
    source: 'probe',
    region: t.region,
    zone: result.zone,
    gpu: t.gpu,
    spot,
    outcome: result.outcome,
    at: deps.ports.clock.now().toISOString(),
    details: result.details,
    sweepId: opts.sweepId,
    ...(result.cause ? { cause: result.cause } : {}),
  });
}

/**
 * Files the proposal writes: the spec and every rendered file that differs from the checkout; owned
 * files no longer rendered are removed. Each comes with its content in the checkout, read once.
 */
export function changedFiles(
  checkout: Pick<CheckoutPort, 'read' | 'ownedFiles'>,
  rendered: Map<string, string>,
  specPath: string,
  specText: string,
): Array<{ file: ProposalFile; before: string | null }> {
  const out: Array<{ file: ProposalFile; before: string | null }> = [];
  const consider = (path: string, content: string | null) => {
    const before = checkout.read(path);
    if (before !== content) out.push({ file: { path, content }, before });
  };
  consider(specPath, specText);
  for (const [path, content] of [...rendered].sort(([a], [b]) => a.localeCompare(b))) consider(path, content);
  for (const path of checkout.ownedFiles()) if (!rendered.has(path)) consider(path, null);
  return out;
}

function fileStat(f: ProposalFile, before: string | null): FileStat {
  if (f.content === null)
    return { path: f.path, added: 0, removed: (before ?? '').split('\n').length - 1, status: 'deleted' };
  if (before === null) return { path: f.path, added: f.content.split('\n').length - 1, removed: 0, status: 'added' };
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, f.content)) {
    if (part.added) added += part.count ?? 0;
    if (part.removed) removed += part.count ?? 0;
  }
  return { path: f.path, added, removed, status: 'modified' };
}
