import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { CHECKOUT_PATHS, FsCheckout, validateTree, writeCheckout } from '@gpu-fleet/manifests';
import type { GitHubHost } from '@gpu-fleet/scout-git';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factsToMetricPoints, fleetFacts, realChanges, shortGpu, type Plan } from '@gpu-fleet/scout-decide';
import { CONFIGMAP_EVIDENCE_BUDGET } from '@gpu-fleet/scout-gcp';
import type { Logger } from '@gpu-fleet/scout-domain';
import { runSweep, type SweepResult, type SweepStep } from '@gpu-fleet/scout-sweep';
import type { Document } from 'yaml';
import { DEFAULT_SPEC, readSpecDocument, type Io, type Workspace } from '../context';
import { CliError, EXIT } from '../errors';
import { githubAuth, githubHost, parseRepo, proposalHost, type ProposalTarget } from '../host';
import {
  openCloudSession,
  probeImageOption,
  probeWaits,
  sandboxBanner,
  type CloudOptions,
  type ScoutSession,
} from '../session';
import { table } from '../table';
import { cacheDir, formatFinding } from './validate';

export interface SweepCommandOptions extends CloudOptions {
  json?: boolean;
  /** Read the repository from GitHub at this branch instead of the local checkout (the CronJob has none). */
  fromGithub?: string;
  /** The commit of the base branch the checkout is (see ProposalRequest.baseCommit). */
  baseCommit?: string;
  /** With --from-github: the folder of the gpu-fleet tree in the repository (configSync.dir). */
  repoDir?: string;
  dryRun?: boolean;
  probes?: boolean;
  proposal: ProposalTarget;
  repo?: string;
  githubApi?: string;
  /** The sweep must be done this many seconds after it starts (its runner's own limit comes after). */
  deadlineSeconds?: number;
}

/** Run one sweep in an open session (also used by `start` and the benchmark). */
export async function sweepOnce(
  ws: Workspace,
  spec: FleetSpec,
  document: Document,
  session: ScoutSession,
  logger: Logger,
  options: {
    dryRun: boolean;
    probes: boolean;
    proposal: ProposalTarget;
    repo?: string;
    githubApi?: string;
    sweepId?: string;
    baseCommit?: string;
    onStep?: (s: SweepStep, d: string) => void;
    /** Nothing is proposed, and no GitHub call made, past this time (the session clock). */
    deadline?: Date;
  },
): Promise<SweepResult> {
  const host = options.dryRun
    ? null
    : proposalHost(
        ws,
        spec,
        session,
        { proposal: options.proposal, repo: options.repo, githubApi: options.githubApi, deadline: options.deadline },
        logger,
      );
  const sweepId = options.sweepId ?? `sweep-${session.clock.now().toISOString().replace(/[-:.]/g, '').slice(0, 15)}`;
  return runSweep(
    {
      checkout: new FsCheckout(ws.root, (root, s) =>
        validateTree(root, s, { catalog: ws.catalog, schemaCacheDir: cacheDir(ws) }),
      ),
      spec,
      document,
      specPath: ws.specLabel,
      catalog: ws.catalog,
      ports: session.adapters.ports,
      ledger: session.ledger,
      prober: (member, projectNumber) =>
        session.adapters.prober(member, projectNumber, { ...probeWaits(session), ...probeImageOption(spec) }),
      host,
      simulated: session.mode === 'sandbox' ? session.description : undefined,
      logger,
      onStep: options.onStep,
      baseCommit: options.baseCommit,
      deadline: options.deadline,
      // Saved once the sweep is recorded, before anything is proposed (and again by the caller at the end).
      ...(options.dryRun ? {} : { saveEvidence: () => session.saveEvidence() }),
    },
    { sweepId, probes: options.probes, dryRun: options.dryRun },
  );
}

/** `sweep`: gather → probe → decide → render → validate → propose. */
export async function sweepCommand(
  local: Workspace,
  io: Io,
  logger: Logger,
  options: SweepCommandOptions,
): Promise<number> {
  if (options.fromGithub !== undefined && options.proposal !== 'github') {
    throw new CliError(
      `--from-github reads the repository from GitHub, so the proposal must go there too: add --proposal github (got --proposal ${options.proposal})`,
    );
  }
  if (options.fromGithub !== undefined && options.evidence === undefined) {
    throw new CliError(
      '--from-github leaves no local folder to keep evidence in (the checkout is temporary): pass --evidence configmap:<namespace>/<name> (as the CronJob does) or --evidence <file>',
    );
  }
  // Bad credentials are bad input: say so before any call to Google.
  if (!options.sandbox && options.proposal === 'github' && (!options.dryRun || options.fromGithub !== undefined))
    githubAuth(process.env);
  let checkout: string | undefined;
  let baseCommit = options.baseCommit;
  const fromGithub = async (host: GitHubHost): Promise<Workspace> => {
    const c = await githubCheckout(local, host, options.fromGithub!, io);
    checkout = c.ws.root;
    baseCommit = c.commit;
    return c.ws;
  };
  try {
    // Against Google the repository comes first: without a checkout there is no spec to start from.
    let ws =
      !options.sandbox && options.fromGithub !== undefined
        ? await fromGithub(
            githubHost(parseRepo(options.repo, null), undefined, { ...options, dir: options.repoDir }, logger),
          )
        : local;
    let { spec, document } = readSpecDocument(ws);
    if (options.fromGithub !== undefined && !options.sandbox && spec.configSync.dir !== (options.repoDir ?? '')) {
      throw new CliError(
        `--repo-dir "${options.repoDir ?? ''}" differs from configSync.dir "${spec.configSync.dir}" in the spec it found; pass --repo-dir ${JSON.stringify(spec.configSync.dir)}`,
      );
    }
    const session = await openCloudSession(ws, spec, io, logger, options);
    const deadline =
      options.deadlineSeconds === undefined
        ? undefined
        : new Date(session.clock.now().getTime() + options.deadlineSeconds * 1000);
    // A kill (the CronJob's activeDeadlineSeconds, a node drain, a cancelled workflow) saves the
    // evidence gathered so far before the process ends.
    const termination = options.dryRun ? null : onTermination(() => session.saveEvidence(), logger, io);
    try {
      // In the sandbox, its GitHub server was seeded from the local checkout when the session opened.
      if (options.sandbox && options.fromGithub !== undefined) {
        ws = await fromGithub(
          githubHost(parseRepo(options.repo, spec), session.sandbox, { ...options, dir: spec.configSync.dir }, logger),
        );
        ({ spec, document } = readSpecDocument(ws));
      }
      const started = performance.now();
      const steps = options.json ? undefined : (s: SweepStep, d: string) => io.err(`· ${s}: ${d}`);
      let r: SweepResult;
      try {
        r = await sweepOnce(ws, spec, document, session, logger, {
          dryRun: !!options.dryRun,
          probes: options.probes !== false,
          proposal: options.proposal,
          repo: options.repo,
          githubApi: options.githubApi,
          baseCommit,
          onStep: steps,
          deadline,
        });
      } finally {
        // Again at the end, whatever happened: a failed proposal still keeps what the sweep learnt.
        if (!options.dryRun) await session.saveEvidence();
      }
      const metrics = options.dryRun ? null : await writeSweepMetrics(spec, session, r, logger, ws.catalog);
      if (options.json) io.out(JSON.stringify(sweepJson(r)));
      else {
        const banner = sandboxBanner(session);
        if (banner) io.out(banner);
        io.out(`sweep ${r.sweepId} · ${session.description}${options.dryRun ? ' · dry run: nothing written' : ''}`);
        for (const line of formatSweep(spec, r)) io.out(line);
        if (metrics) io.out(metrics);
        io.out(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
      }
      return sweepExit(r);
    } finally {
      termination?.dispose();
      await session.close();
    }
  } finally {
    if (checkout) rmSync(checkout, { recursive: true, force: true });
  }
}

/**
 * On SIGTERM (what the kubelet sends a pod when its Job's activeDeadlineSeconds passes, 30 s before
 * SIGKILL by default: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination)
 * or SIGINT (what a cancelled GitHub Actions step gets first): save the evidence, then exit
 * 128 + the signal's number. What GitHub already has is consistent — the branch moves only to a
 * complete commit — and the next sweep converges from it.
 */
export function onTermination(
  save: () => Promise<void>,
  logger: Logger,
  io: Pick<Io, 'err'>,
  exit: (code: number) => void = (code) => process.exit(code),
  signals: Pick<NodeJS.EventEmitter, 'once' | 'removeListener'> = process,
): { dispose(): void } {
  const codes = { SIGTERM: 143, SIGINT: 130 } as const;
  const handlers = (Object.keys(codes) as Array<keyof typeof codes>).map((signal) => {
    const handler = () => {
      logger.warn({ signal }, `${signal}: saving the evidence, then stopping`);
      io.err(`${signal}: saving the evidence gathered so far, then stopping`);
      void save().then(
        () => exit(codes[signal]),
        (e: unknown) => {
          logger.error({ err: (e as Error).message }, 'evidence not saved on termination');
          exit(codes[signal]);
        },
      );
    };
    signals.once(signal, handler);
    return [signal, handler] as const;
  });
  return { dispose: () => handlers.forEach(([signal, handler]) => signals.removeListener(signal, handler)) };
}

/**
 * The files a sweep reads (the spec, user patches, everything render owns) at the head of a
 * GitHub branch, written to a temporary folder that then serves as the workspace.
 */
async function githubCheckout(
  local: Workspace,
  host: GitHubHost,
  branch: string,
  io: Io,
): Promise<{ ws: Workspace; commit: string }> {
  const { commit, files } = await host.readFiles(branch, CHECKOUT_PATHS);
  if (!files.has(DEFAULT_SPEC))
    throw new CliError(
      `--from-github ${branch}: ${host.describe()} has no ${DEFAULT_SPEC} on that branch; check --repo and the branch name`,
    );
  const root = writeCheckout(tmpdir(), files);
  io.err(`· checkout: ${files.size} files of ${host.describe()} at ${branch} (${commit.slice(0, 7)})`);
  return { ws: { ...local, root, specPath: join(root, DEFAULT_SPEC), specLabel: DEFAULT_SPEC }, commit };
}

/** `plan`: the decision on current signals and evidence, without probes or a proposal; writes nothing. */
export async function planCommand(
  ws: Workspace,
  io: Io,
  logger: Logger,
  options: Omit<SweepCommandOptions, 'proposal' | 'dryRun' | 'probes'>,
): Promise<number> {
  const { spec, document } = readSpecDocument(ws);
  const session = await openCloudSession(ws, spec, io, logger, options);
  try {
    const r = await sweepOnce(ws, spec, document, session, logger, { dryRun: true, probes: false, proposal: 'none' });
    if (options.json)
      io.out(
        JSON.stringify({
          plan: r.plan,
          files: r.files.map((f) => ({ path: f.path, deleted: f.content === null })),
          validation: r.validation,
        }),
      );
    else
      for (const line of [
        ...[sandboxBanner(session)].filter((l): l is string => l !== null),
        ...formatPlan(spec, r.plan),
      ])
        io.out(line);
    return EXIT.ok;
  } finally {
    await session.close();
  }
}

export const sweepExit = (r: SweepResult) => (r.stopped || r.result?.action === 'stopped' ? EXIT.checkFailed : EXIT.ok);

export function sweepJson(r: SweepResult) {
  return {
    sweepId: r.sweepId,
    plan: r.plan,
    evidence: r.signals.regions.map((x) => ({
      region: x.region,
      status: x.status,
      problems: x.problems,
      evidence: x.evidence.map(({ observations, ...e }) => ({ ...e, observations: observations.slice(0, 5) })),
    })),
    probes: r.probes,
    files: r.stats,
    validation: r.validation,
    proposal: r.proposal ? { title: r.proposal.title, body: r.proposal.body } : null,
    result: r.result,
    stopped: r.stopped,
  };
}

/** The placement table (now → proposed), the decision and its reasons. */
export function formatPlan(spec: FleetSpec, plan: Plan): string[] {
  const before = new Map(spec.clusters.map((c) => [c.name, c]));
  const health = new Map(plan.health.map((h) => [h.cluster, h]));
  const rows = plan.clusters.map((c) => {
    const was = before.get(c.name);
    const h = health.get(c.name);
    const mode = !was ? `(new) → ${c.mode}` : was.mode !== c.mode ? `${was.mode} → ${c.mode}` : c.mode;
    const gpu = was && was.gpu !== c.gpu ? `${shortGpu(was.gpu)} → ${shortGpu(c.gpu)}` : shortGpu(c.gpu);
    const ready = h?.readyReplicas === null || h?.readyReplicas === undefined ? '?' : String(h.readyReplicas);
    const cand = plan.candidates.find((x) => x.region === c.region);
    return [
      c.name,
      c.region,
      mode,
      gpu,
      `${ready}/${c.mode === 'standby' ? 0 : c.replicas}`,
      h ? `${h.health}${h.badSweeps ? ` (${h.badSweeps}/${spec.placement.badSweepsBeforeDrop})` : ''}` : 'new',
      cand ? cand.score.toFixed(2) : '',
      c.replaces ? `replaces ${c.replaces}` : '',
    ];
  });
  const out = [
    '',
    ...table(['CLUSTER', 'REGION', 'MODE', 'GPU', 'READY', 'HEALTH', 'SCORE', ''], rows),
    '',
    plan.summary,
    plan.eligibility,
  ];
  if (realChanges(plan.changes).length) {
    out.push('', 'changes:');
    for (const c of plan.changes) out.push(`  ${c.cluster} ${c.kind}: ${c.reason}`);
  }
  if (plan.notes.length) {
    out.push('', 'notes:');
    for (const n of plan.notes) out.push(`  ${n}`);
  }
  if (plan.quotaRequests.length) {
    out.push('', 'quota requests:');
    for (const q of plan.quotaRequests) out.push(`  ${q.note}`);
  }
  const ineligible = plan.candidates.filter((c) => !c.eligible);
  if (ineligible.length) {
    out.push('', 'not eligible:');
    for (const c of ineligible)
      out.push(
        `  ${c.region}: ${c.filters
          .filter((f) => !f.pass)
          .map((f) => f.reason)
          .join('; ')}`,
      );
  }
  return out;
}

/** Signals and probes, the plan, then validation and where the proposal went. */
export function formatSweep(spec: FleetSpec, r: SweepResult): string[] {
  const out: string[] = [];
  const unknown = r.signals.regions.filter((x) => x.status === 'unknown');
  out.push(
    `signals: ${r.signals.regions.length} regions, ${r.signals.newObservations.length} new observation(s)${unknown.length ? `; could not see everything in ${unknown.map((x) => x.region).join(', ')} (kept as unknown, not unavailable)` : ''}`,
  );
  for (const p of r.probes) {
    out.push(
      `probe ${p.cluster} ${p.gpu}: ${p.result ? `${p.result.outcome}${p.result.secondsToRunning !== null ? ` (Running after ${p.result.secondsToRunning} s)` : ''} — ${p.result.details}` : `skipped: ${p.skipped}`}`,
    );
  }
  return [...out, ...formatPlan(spec, r.plan), ...formatOutcome(r)];
}

/** Validation of the proposed tree, why nothing was proposed, and where the proposal went. */
export function formatOutcome(r: SweepResult): string[] {
  const out: string[] = [];
  if (r.validation) {
    out.push(
      '',
      r.validation.ok
        ? `validate: proposed tree ok (${r.stats.length} file(s) change: +${r.stats.reduce((s, f) => s + f.added, 0)} −${r.stats.reduce((s, f) => s + f.removed, 0)})`
        : `validate: ${r.validation.findings.length} problem(s):`,
    );
    for (const f of r.validation.findings) out.push(`  ${formatFinding(f)}`);
  }
  if (r.stopped) out.push('', `stopped: ${r.stopped}`);
  if (r.result)
    out.push('', `proposal: ${r.result.action} — ${r.result.message}${r.result.url ? ` ${r.result.url}` : ''}`);
  return out;
}

/**
 * The sweep's facts as time series (docs/operate.md), after the evidence is saved. Never fails the
 * sweep: a refused or unreachable Monitoring API is a warning, the next sweep writes again.
 */
export async function writeSweepMetrics(
  spec: FleetSpec,
  session: ScoutSession,
  r: SweepResult,
  logger: Logger,
  catalog: GpuCatalog,
): Promise<string | null> {
  const now = session.clock.now();
  const facts = fleetFacts(
    spec,
    r.plan.health,
    session.ledger,
    now,
    spec.scout.evidenceStore.kind === 'configmap' ? CONFIGMAP_EVIDENCE_BUDGET : null,
    catalog,
  );
  const action = r.result?.action;
  const points = factsToMetricPoints(
    facts,
    {
      outcome: r.stopped ? 'stopped' : r.proposal ? 'proposed' : 'nothing-to-propose',
      proposalOpen: action === 'created' || action === 'updated' || action === 'unchanged' || action === 'left-alone',
      proposalOpenedAt: r.result?.openedAt ?? null,
    },
    now,
  );
  try {
    await session.adapters.metrics.write(points, now);
    return `metrics: ${points.length} time series → ${session.adapters.metrics.destination}`;
  } catch (e) {
    logger.warn({ err: (e as Error).message }, 'writing the sweep metrics failed; the next sweep writes again');
    return `metrics: not written (${(e as Error).message})`;
  }
}
