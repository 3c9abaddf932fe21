import { freeProbeGpus, membershipFor, ProbeBudget } from '@gpu-fleet/scout-domain';
import type { Logger } from '@gpu-fleet/scout-domain';
import type { ClusterSpec, FleetSpec } from '@gpu-fleet/fleet-spec';
import { readSpec, type Io, type Workspace } from '../context';
import { CliError, EXIT } from '../errors';
import { openCloudSession, probeImageOption, probeWaits, sandboxBanner, type CloudOptions } from '../session';
import { progress } from '../progress';

export interface ProbeCommandOptions extends CloudOptions {
  cluster: string;
  gpu: string;
  spot?: boolean;
  count?: number;
  json?: boolean;
}

type Session = Awaited<ReturnType<typeof openCloudSession>>;
type ProbeResult = Awaited<ReturnType<Awaited<ReturnType<Session['adapters']['prober']>>['run']>>;

/** Run one GPU probe in a cluster, record it as evidence and print the outcome. */
export async function probeCommand(
  ws: Workspace,
  io: Io,
  logger: Logger,
  options: ProbeCommandOptions,
): Promise<number> {
  const spec = readSpec(ws);
  const cluster = probeTarget(ws, spec, options);
  const count = options.count ?? spec.gpu.count;
  const session = await openCloudSession(ws, spec, io, logger, options);
  try {
    const now = session.clock.now();
    const budget = chargeBudget(spec, session, count, now);
    const prober = await readyProber(spec, session, cluster, count, io);
    const bar = progress(
      io,
      `probing ${count} × ${options.gpu}${options.spot ? ' (spot)' : ''} in ${cluster.name} (${cluster.region})`,
    );
    const sweepId = `probe-${now.getTime().toString(36)}`;
    const result = await prober.run({
      membership: cluster.name,
      region: cluster.region,
      gpu: options.gpu,
      count,
      spot: !!options.spot,
      namespace: spec.scout.probeNamespace,
      sweepId,
      deadlineSeconds: spec.scout.probeDeadlineSeconds,
    });
    bar.done();
    session.ledger.add({
      source: 'probe',
      region: cluster.region,
      zone: result.zone,
      gpu: options.gpu,
      spot: !!options.spot,
      outcome: result.outcome,
      at: session.clock.now().toISOString(),
      details: result.details,
      sweepId,
      ...(result.cause ? { cause: result.cause } : {}),
    });
    await session.saveEvidence();
    printProbe(io, session, { cluster, options, count, result, budget });
    return result.outcome === 'success' ? EXIT.ok : EXIT.checkFailed;
  } finally {
    await session.close();
  }
}

/** The spec's cluster and a GPU type the catalog knows, or a bad-input error naming the flag. */
function probeTarget(ws: Workspace, spec: FleetSpec, options: ProbeCommandOptions): ClusterSpec {
  const cluster = spec.clusters.find((c) => c.name === options.cluster);
  if (!cluster)
    throw new CliError(
      `--cluster: "${options.cluster}" is not a cluster of the spec; clusters: ${spec.clusters.map((c) => c.name).join(', ')}`,
    );
  if (!ws.catalog.gpu(options.gpu))
    throw new CliError(
      `--gpu: "${options.gpu}" is not a GKE accelerator type; known: ${ws.catalog.gpuTypes().join(', ')}`,
    );
  return cluster;
}

/** Charge today's probe budget for one probe of its whole deadline, or stop (exit 1). */
function chargeBudget(spec: FleetSpec, session: Session, count: number, now: Date): ProbeBudget {
  const gpuMinutes = Math.ceil((count * spec.scout.probeDeadlineSeconds) / 60);
  const budget = ProbeBudget.fromObservations(spec.scout.probeBudget, session.ledger.all(), gpuMinutes);
  const charge = budget.tryCharge(now, gpuMinutes);
  if (!charge.ok)
    throw new CliError(`probe not run: ${charge.reason} (scout.probeBudget in the spec)`, EXIT.checkFailed);
  return budget;
}

/** A prober in the cluster's membership, with finished Jobs cleaned up and room in the probe namespace's quota. */
async function readyProber(spec: FleetSpec, session: Session, cluster: ClusterSpec, count: number, io: Io) {
  const [projectNumber, memberships] = await Promise.all([
    session.adapters.ports.fleet.projectNumber(),
    session.adapters.ports.fleet.memberships(),
  ]);
  const member = membershipFor(cluster, memberships);
  if (!member)
    throw new CliError(
      `--cluster: ${cluster.name} (${cluster.region}) has no fleet membership yet; infra/ registers it when it creates the cluster`,
      EXIT.checkFailed,
    );
  const prober = await session.adapters.prober(member, projectNumber, {
    ...probeWaits(session),
    ...probeImageOption(spec),
  });
  const { removed, live } = await prober.cleanup(spec.scout.probeNamespace);
  if (removed) io.err(`removed ${removed} finished probe Job(s) left by an earlier run`);
  if (freeProbeGpus(spec.scout.probeMaxGpus, live) < count) {
    throw new CliError(
      `probe not run: ${cluster.name}'s probe namespace allows ${spec.scout.probeMaxGpus} GPU(s) (scout.probeMaxGpus) and live probe(s) ${live.map((l) => l.job).join(', ')} hold them; wait for them to finish (at most scout.probeDeadlineSeconds)`,
      EXIT.checkFailed,
    );
  }
  return prober;
}

function printProbe(
  io: Io,
  session: Session,
  p: { cluster: ClusterSpec; options: ProbeCommandOptions; count: number; result: ProbeResult; budget: ProbeBudget },
): void {
  const { cluster, options, count, result } = p;
  if (options.json) {
    io.out(
      JSON.stringify({
        cluster: cluster.name,
        region: cluster.region,
        gpu: options.gpu,
        spot: !!options.spot,
        count,
        ...result,
      }),
    );
    return;
  }
  const banner = sandboxBanner(session);
  if (banner) io.out(banner);
  const took = result.secondsToRunning !== null ? `, Running after ${result.secondsToRunning} s` : '';
  io.out(
    `probe ${cluster.name} (${cluster.region}) ${count} × ${options.gpu}${options.spot ? ' spot' : ''}: ${result.outcome}${result.cause ? ` (${result.cause})` : ''}${took}${result.zone ? ` in ${result.zone}` : ''} — ${result.details}`,
  );
  const left = p.budget.remaining(session.clock.now());
  io.out(`budget today: ${left.probes} probe(s), ${left.gpuMinutes} GPU-minute(s) left`);
}
