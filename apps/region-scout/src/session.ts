import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeImageOf, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { EvidenceLedger, type Clock, type EvidenceStore, type Logger } from '@gpu-fleet/scout-domain';
import {
  createGcpAdapters,
  CorruptEvidenceError,
  FileEvidenceStore,
  NoGoogleCredentialsError,
  type GcpAdapters,
} from '@gpu-fleet/scout-gcp';
import { readCheckout } from '@gpu-fleet/manifests';
import { startEmbeddedSandbox, type EmbeddedSandbox, type SimClock } from '@gpu-fleet/sandbox';
import type { Io, Workspace } from './context';
import { CliError } from './errors';

export interface SessionOptions {
  /** The embedded sandbox instead of Google: chosen explicitly, never by default. */
  sandbox?: boolean;
  /** GCP project to talk to (default: the spec's project). Ignored with `sandbox`. */
  project?: string;
  seed?: number;
  timeFactor?: number;
  /** Evidence store: a file path (default .gpu-fleet/…), configmap:<namespace>/<name> in the config cluster, or gcs://<bucket>/<object>. */
  evidence?: string;
  /** Sandbox: simulated start time (default: sandboxEpoch(seed)). */
  start?: Date;
  /** Sandbox: the clock to run on instead of a compressed real clock (tests inject a ManualClock). */
  clock?: SimClock;
  logger: Logger;
  onWarning?: (message: string) => void;
}

/** One scout run's wiring: adapters over Google or the embedded sandbox, the clock, the evidence. */
export interface ScoutSession {
  mode: 'google' | 'sandbox';
  description: string;
  adapters: GcpAdapters;
  clock: Clock;
  ledger: EvidenceLedger;
  store: EvidenceStore;
  sandbox?: EmbeddedSandbox;
  saveEvidence(): Promise<void>;
  close(): Promise<void>;
}

/** The options every cloud command takes (--sandbox, --project, --seed, --time-factor, --evidence). */
export interface CloudOptions {
  sandbox?: boolean;
  /** Sandbox clock override (tests; RunOptions.sandboxClock). */
  clock?: SimClock;
  project?: string;
  seed?: number;
  timeFactor?: number;
  evidence?: string;
}

/** --seed and --time-factor shape the sandbox only; --project names a real project. Refused when mixed up. */
export function checkCloudOptions(options: CloudOptions): void {
  if (options.sandbox && options.project) {
    throw new CliError(
      `--project "${options.project}" and --sandbox exclude each other: --project talks to Google, --sandbox to the simulated cloud; pass one.`,
    );
  }
  if (!options.sandbox) {
    const given = [options.seed !== undefined && '--seed', options.timeFactor !== undefined && '--time-factor'].filter(
      (x): x is string => !!x,
    );
    if (given.length) {
      const names = given.join(' and ');
      throw new CliError(
        `${names} only appl${given.length > 1 ? 'y' : 'ies'} with --sandbox (the embedded simulated cloud); add --sandbox, or drop ${names} to use Google.`,
      );
    }
  }
}

/** A session for a cloud command: warnings (a corrupt evidence store set aside) go to stderr. */
export function openCloudSession(
  ws: Workspace,
  spec: FleetSpec,
  io: Io,
  logger: Logger,
  options: CloudOptions,
): Promise<ScoutSession> {
  checkCloudOptions(options);
  return openSession(ws, spec, {
    sandbox: options.sandbox,
    project: options.project,
    seed: options.seed,
    timeFactor: options.timeFactor,
    clock: options.clock,
    evidence: options.evidence,
    logger,
    onWarning: (m) => io.err(`warning: ${m}`),
  });
}

/**
 * How a prober waits between polls: in the sandbox, on the sandbox clock (a manual clock moves at
 * once, so a test never depends on the machine's speed); against Google, real time.
 */
export function probeWaits(session: ScoutSession): { pollMs?: number; sleep?: (ms: number) => Promise<void> } {
  const clock = session.sandbox?.world.clock;
  return clock ? { pollMs: 5_000, sleep: (ms) => clock.sleep(ms) } : {};
}

/** The probe Job's image from the spec (docs/runbook.md step 8); none: the adapter's default. */
export function probeImageOption(spec: Pick<FleetSpec, 'scout'>): { image?: string } {
  const image = probeImageOf(spec);
  return image ? { image } : {};
}

/** The first line a command prints when its data is simulated, so a sandbox result is never read as a real one. */
export const sandboxBanner = (session: ScoutSession): string | null =>
  session.mode === 'sandbox' ? `SANDBOX — simulated cloud, not Google: ${session.description}` : null;

export async function openSession(ws: Workspace, spec: FleetSpec, options: SessionOptions): Promise<ScoutSession> {
  // Bad input is reported before any server starts.
  const configMap = parseConfigMapRef(options.evidence);
  const gcs = parseGcsRef(options.evidence);
  let sandbox: EmbeddedSandbox | undefined;
  let clock: Clock = { now: () => new Date() };
  let connection;
  if (options.sandbox) {
    sandbox = await startEmbeddedSandbox({
      spec,
      seed: options.seed ?? 1,
      timeFactor: options.timeFactor ?? 120,
      start: options.start,
      clock: options.clock,
      githubFiles: sandboxRepository(ws, spec.configSync.dir),
    });
    clock = sandbox.world.clock;
    connection = sandbox.connection;
    // The sandbox plays infra/: the evidence bucket named on the command line exists.
    if (gcs) sandbox.sandbox.storage.addBucket(gcs.bucket);
  } else {
    connection = { project: options.project ?? spec.project };
  }
  try {
    let adapters: GcpAdapters;
    try {
      adapters = await createGcpAdapters(connection, { clock, logger: options.logger, bundled: ws.catalog, spec });
    } catch (e) {
      if (!(e instanceof NoGoogleCredentialsError)) throw e;
      throw new CliError(
        `${e.message}. Either sign in to Google: \`gcloud auth application-default login\` (or set GOOGLE_APPLICATION_CREDENTIALS to a service account key, or run where a metadata server provides one), or pass --sandbox to run against the embedded simulated cloud.`,
      );
    }
    const store = configMap
      ? await adapters.evidenceConfigMap(configMap.namespace, configMap.name)
      : gcs
        ? adapters.evidenceGcs(gcs.bucket, gcs.object)
        : new FileEvidenceStore(
            options.evidence ?? join(ws.root, '.gpu-fleet', sandbox ? 'sandbox-evidence.json' : 'evidence.json'),
            () => clock.now(),
          );
    let ledger: EvidenceLedger;
    try {
      const snap = await store.load();
      ledger = snap ? EvidenceLedger.fromSnapshot(snap) : new EvidenceLedger();
    } catch (e) {
      if (!(e instanceof CorruptEvidenceError)) throw e;
      options.onWarning?.(e.message);
      options.logger.warn({ file: e.file, movedTo: e.movedTo }, 'evidence store was corrupt; set aside');
      ledger = new EvidenceLedger();
    }
    // Saves run one after another (the sweep saves before proposing, at the end, and on SIGTERM):
    // two concurrent writes of the same store would only conflict with each other.
    let saving: Promise<void> = Promise.resolve();
    const saveEvidence = () =>
      (saving = saving.catch(() => undefined).then(() => store.save(ledger.snapshot(clock.now()))));
    return {
      mode: sandbox ? 'sandbox' : 'google',
      description: sandbox
        ? `embedded sandbox (seed ${options.seed ?? 1}, ${options.clock ? 'manual clock' : `clock ×${options.timeFactor ?? 120}`}, project ${connection.project})`
        : `Google Cloud project ${connection.project}`,
      adapters,
      clock,
      ledger,
      store,
      sandbox,
      saveEvidence,
      close: async () => {
        await adapters.close();
        await sandbox?.close();
      },
    };
  } catch (e) {
    await sandbox?.close();
    throw e;
  }
}

/** `configmap:<namespace>/<name>` → its parts; any other value is a file path (null). */
export function parseConfigMapRef(value: string | undefined): { namespace: string; name: string } | null {
  if (!value?.startsWith('configmap:')) return null;
  const m = /^configmap:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(value);
  if (!m)
    throw new CliError(
      `--evidence: "${value}" is not configmap:<namespace>/<name>; for example --evidence configmap:gpu-fleet-system/region-scout-evidence`,
    );
  return { namespace: m[1]!, name: m[3]! };
}

/** `gcs://<bucket>/<object>` → its parts; any other value is not a Cloud Storage object (null). */
export function parseGcsRef(value: string | undefined): { bucket: string; object: string } | null {
  if (!value?.startsWith('gcs://')) return null;
  const m = /^gcs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])\/([^\s#?*[\]]{1,1024})$/.exec(value);
  if (!m)
    throw new CliError(
      `--evidence: "${value}" is not gcs://<bucket>/<object>; for example --evidence gcs://my-project-scout-evidence/region-scout/evidence.json`,
    );
  return { bucket: m[1]!, object: m[2]! };
}

/** The sandbox GitHub repository starts as this checkout (under configSync.dir): the spec and every file a sweep reads. */
function sandboxRepository(ws: Workspace, dir: string): Record<string, string> {
  const files = { ...Object.fromEntries(readCheckout(ws.root)), [ws.specLabel]: readFileSync(ws.specPath, 'utf8') };
  return Object.fromEntries(Object.entries(files).map(([p, c]) => [dir ? `${dir}/${p}` : p, c]));
}
