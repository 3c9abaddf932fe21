import { execFileSync, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_FLEET_YAML, loadFleetSpec, writeClusters } from '@gpu-fleet/fleet-spec';
import { ManualClock, sandboxEpoch } from '@gpu-fleet/sandbox';
import { run } from './program';
import { DEMO_START } from './commands/start';
import { onTermination } from './commands/sweep';
import { silentLogger } from '@gpu-fleet/scout-domain';

/** The CLI's sweep, plan, status and start on the embedded sandbox, in a scratch git repository. */
let root: string;
const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'P',
      GIT_AUTHOR_EMAIL: 'p@x',
      GIT_COMMITTER_NAME: 'P',
      GIT_COMMITTER_EMAIL: 'p@x',
    },
  }).trim();
async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  // A manual sandbox clock: simulated time moves only when the scout waits, so every outcome below is
  // the same on a fast laptop and a busy CI machine.
  const sandboxClock = new ManualClock(argv[0] === 'start' ? DEMO_START : sandboxEpoch(1));
  const code = await run(argv, { cwd: root, sandboxClock, io: { out: (l) => out.push(l), err: (l) => err.push(l) } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'region-scout-sweep-'));
  mkdirSync(join(root, 'fleet-config'));
  writeFileSync(join(root, 'fleet-config/fleet.yaml'), EXAMPLE_FLEET_YAML);
  expect((await cli('render')).code).toBe(0);
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'fleet');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));
jest.setTimeout(60_000);

describe('region-scout start (the main job on the sandbox)', () => {
  it('runs an incident through three sweeps to one proposal on the local branch, idempotently, without touching the checkout', async () => {
    const first = await cli('start', '--sandbox');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/scenario: nvidia-l4 and nvidia-tesla-t4 stocked out in us-central1/);
    // The same sweeps, probes and times on every machine (manual clock, seed 1).
    const lines = first.out.split('\n');
    expect(lines.filter((l) => /^(sweep \d\/3| {2}probe )/.test(l))).toEqual([
      'sweep 1/3 at 08:06Z: No change: 2 region(s) serve: us-central1 (L4), europe-west4 (L4); 2/3 regions eligible. [sd-us-central1: bad 1/3]',
      '  probe sd-us-central1 nvidia-tesla-t4: stockout',
      '  probe sd-asia-northeast1 nvidia-l4: success',
      'sweep 2/3 at 08:16Z: No change: 2 region(s) serve: us-central1 (L4), europe-west4 (L4); 2/3 regions eligible. [sd-us-central1: bad 2/3]',
      'sweep 3/3 at 08:26Z: Activate sd-asia-northeast1 (asia-northeast1): replaces sd-us-central1: nvidia-l4 failing in us-central1 for 3 sweeps (0/1 ready, nvidia-l4 stockout (passive, 2 min ago)). [sd-us-central1: bad 3/3]',
    ]);
    expect(first.out).toMatch(/proposal: created — created branch region-scout\/placement at [0-9a-f]{7}/);
    // Every round wrote its numbers; the rendered alert policies, evaluated over them, see the lost
    // region (below the minimum) and the failover proposal that now waits for a merge.
    expect(first.out).toMatch(/^ {2}FIRING {2}ERROR {4}below-minimum: fewer than 2 serving regions$/m);
    expect(first.out).toMatch(
      /^ {2}PENDING CRITICAL failover-proposal-waiting: failover proposal waiting over 60 min \(fires once it has held 60 min\)$/m,
    );
    expect(first.out).toMatch(/^ {2}ok {6}no-serving-region, sweeps-stopped, /m);
    expect(first.out).toContain('pull request preview');
    const proposed = git('show', 'region-scout/placement:fleet-config/fleet.yaml');
    expect(proposed).toContain('replaces: sd-us-central1');
    // everything it produced says it is simulated: the first line, the commit, the PR body
    expect(first.out.split('\n')[0]).toMatch(/^SANDBOX — simulated cloud, not Google/);
    const commit = git('log', '-1', '--format=%B', 'region-scout/placement');
    expect(commit.split('\n')[0]).toMatch(/^\[sandbox\] region-scout: /);
    expect(commit).toContain('Simulated: decided on signals from the embedded sandbox');
    expect(readFileSync(join(root, '.gpu-fleet/proposal.md'), 'utf8')).toMatch(
      /^> \[!WARNING\]\n> Simulated: every signal in this proposal comes from the embedded sandbox/m,
    );
    expect(git('status', '--porcelain')).toBe('?? .gpu-fleet/');
    expect(git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');

    const second = await cli('start', '--sandbox');
    expect(second.out).toMatch(/proposal: unchanged — region-scout\/placement already proposes this plan/);
    expect(git('rev-list', '--count', 'main..region-scout/placement')).toBe('1');
  });
});

describe('the sandbox is only ever chosen explicitly', () => {
  it('start refuses to run without --sandbox (exit 2)', async () => {
    const r = await cli('start');
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'start runs a scripted incident on the embedded sandbox (a simulated cloud) and commits its proposal to a local branch: pass --sandbox',
    );
    expect(git('branch', '--list', 'region-scout/placement')).toBe('');
  });

  it('a cloud command without --sandbox talks to Google, and without credentials says how to go on (exit 2)', async () => {
    const saved = {
      HOME: process.env.HOME,
      GAC: process.env.GOOGLE_APPLICATION_CREDENTIALS,
      MSD: process.env.METADATA_SERVER_DETECTION,
    };
    const home = mkdtempSync(join(tmpdir(), 'region-scout-nohome-'));
    process.env.HOME = home;
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.METADATA_SERVER_DETECTION = 'none';
    try {
      for (const cmd of [['plan'], ['status'], ['sweep', '--dry-run']]) {
        const r = await cli(...cmd);
        expect({ cmd, code: r.code }).toEqual({ cmd, code: 2 });
        expect(r.err).toContain('no Google credentials found for project sd-fleet-test-4821');
        expect(r.err).toContain('gcloud auth application-default login');
        expect(r.err).toContain('or pass --sandbox');
        expect(r.out).toBe('');
      }
    } finally {
      process.env.HOME = saved.HOME;
      if (saved.GAC === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved.GAC;
      if (saved.MSD === undefined) delete process.env.METADATA_SERVER_DETECTION;
      else process.env.METADATA_SERVER_DETECTION = saved.MSD;
      rmSync(home, { recursive: true, force: true });
    }
    expect(existsSync(join(root, '.gpu-fleet/evidence.json'))).toBe(false);
  });

  it('refuses sandbox-only options without --sandbox, and --project with it (exit 2)', async () => {
    const seed = await cli('plan', '--seed', '3');
    expect(seed).toMatchObject({
      code: 2,
      err: 'error: --seed only applies with --sandbox (the embedded simulated cloud); add --sandbox, or drop --seed to use Google.',
    });
    const both = await cli('status', '--sandbox', '--project', 'my-proj');
    expect(both.code).toBe(2);
    expect(both.err).toContain('--project "my-proj" and --sandbox exclude each other');
  });
});

describe('region-scout sweep / plan / status', () => {
  it('sweep --dry-run --json prints the plan, evidence and result and writes nothing', async () => {
    const r = await cli('sweep', '--sandbox', '--dry-run', '--json', '--no-probes');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      plan: { summary: string; eligibility: string; clusters: unknown[] };
      evidence: unknown[];
      result: unknown;
    };
    expect(j.plan.summary).toMatch(/region\(s\) serve/);
    expect(j.plan.eligibility).toMatch(/regions eligible/);
    expect(j.evidence.length).toBeGreaterThan(0);
    expect(j.result).toBeNull();
    expect(existsSync(join(root, '.gpu-fleet'))).toBe(false);
    expect(git('branch', '--list', 'region-scout/placement')).toBe('');
  });

  it('plan shows the placement table and every ineligible region with its reason', async () => {
    const r = await cli('plan', '--sandbox', '--seed', '3');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/CLUSTER\s+REGION\s+MODE\s+GPU\s+READY\s+HEALTH\s+SCORE/);
    expect(r.out).toMatch(/sd-us-central1\s+us-central1\s+active\s+L4\s+1\/1\s+good\s+0\.93/);
    expect(r.out).toMatch(/sd-asia-northeast1\s+asia-northeast1\s+standby\s+T4\s+0\/0\s+idle\s+0\.57/);
    expect(r.out).toContain('No change: 2 region(s) serve: us-central1 (L4), europe-west4 (L4); 3/3 regions eligible.');
  });

  it('status shows mode, GPU, GKE and Config Sync state and serving health', async () => {
    const r = await cli('status', '--sandbox', '--json');
    const j = JSON.parse(r.out) as {
      clusters: Array<{ cluster: string; gke: string; sync: string; serving: boolean; desired: number }>;
    };
    expect(j.clusters.map((c) => c.cluster)).toEqual(['sd-us-central1', 'sd-europe-west4', 'sd-asia-northeast1']);
    expect(j.clusters.every((c) => c.gke === 'RUNNING' && c.sync.startsWith('SYNCED'))).toBe(true);
    expect(j.clusters.map((c) => [c.serving, c.desired])).toEqual([
      [true, 1],
      [true, 2],
      [false, 0],
    ]);
    // two serving, minServingRegions 2
    expect(r.code).toBe(0);
  });

  it('status --json carries the facts alerts are made of: serving regions vs the minimum, sweeps, probe budget, evidence', async () => {
    const fresh = JSON.parse((await cli('status', '--sandbox', '--json')).out) as { facts: Record<string, unknown> };
    expect(fresh.facts).toMatchObject({
      servingRegions: 2,
      minServingRegions: 2,
      belowMinimum: false,
      lastSweep: null,
      sweepIntervalMinutes: 20,
      sweepsStopped: true,
      probeBudget: { probesLeft: 24, gpuMinutesLeft: 360, exhausted: false },
      evidence: { store: 'configmap', budgetBytes: 921600 },
    });
    // after a sweep (the sandbox keeps its evidence in a local file): it is recorded, and not stale
    expect((await cli('sweep', '--sandbox', '--no-probes')).code).toBe(0);
    const after = JSON.parse((await cli('status', '--sandbox', '--json')).out) as {
      facts: { lastSweep: { ageMinutes: number } | null; sweepsStopped: boolean; evidence: { observations: number } };
    };
    expect(after.facts.lastSweep).not.toBeNull();
    expect(after.facts.sweepsStopped).toBe(false);
    expect(after.facts.evidence.observations).toBeGreaterThan(0);
  });

  it('sweep --proposal github needs credentials outside the sandbox, and says which', async () => {
    const token = process.env.GITHUB_TOKEN;
    delete process.env.GITHUB_TOKEN;
    try {
      const r = await cli('sweep', '--project', 'some-project-123', '--proposal', 'github');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(
        /--proposal github needs GITHUB_TOKEN .* or a GitHub App \(GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID\)/,
      );
    } finally {
      if (token !== undefined) process.env.GITHUB_TOKEN = token;
    }
  });
});

describe('the scheduled sweep without a checkout (as the CronJob runs it)', () => {
  it('reads the repository from GitHub, keeps evidence in the config cluster ConfigMap and leaves the local tree alone', async () => {
    const r = await cli(
      'sweep',
      '--sandbox',
      '--proposal',
      'github',
      '--from-github',
      'main',
      '--no-probes',
      '--evidence',
      'configmap:gpu-fleet-system/region-scout-evidence',
    );
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      /· checkout: \d+ files of GitHub gpu-fleet\/gpu-fleet at http:\/\/127\.0\.0\.1:\d+ at main \([0-9a-f]{7}\)/,
    );
    expect(r.out).toMatch(/proposal: nothing-open/);
    // Evidence went to the ConfigMap, not to a file; the local checkout is untouched.
    expect(existsSync(join(root, '.gpu-fleet'))).toBe(false);
    expect(git('status', '--porcelain')).toBe('');
  });

  it('keeps the evidence in a Cloud Storage object with --evidence gcs://bucket/object, never in a local file', async () => {
    const r = await cli(
      'sweep',
      '--sandbox',
      '--proposal',
      'github',
      '--from-github',
      'main',
      '--no-probes',
      '--evidence',
      'gcs://sd-scout-evidence/region-scout/evidence.json',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/proposal: nothing-open/);
    // and the sweep's numbers went to (the sandbox's) Cloud Monitoring
    expect(r.out).toMatch(
      /^metrics: \d+ time series → Cloud Monitoring, project \S+: custom\.googleapis\.com\/gpu_fleet\/\*$/m,
    );
    // not a file path: nothing named gcs:, no .gpu-fleet folder, the checkout untouched
    expect(existsSync(join(root, 'gcs:'))).toBe(false);
    expect(existsSync(join(root, '.gpu-fleet'))).toBe(false);
    expect(git('status', '--porcelain')).toBe('');
  });

  it('names the mistake: --from-github without --proposal github, a bad ConfigMap reference, a branch that does not exist', async () => {
    const local = await cli('sweep', '--sandbox', '--from-github', 'main');
    expect(local.code).toBe(2);
    expect(local.err).toContain(
      '--from-github reads the repository from GitHub, so the proposal must go there too: add --proposal github (got --proposal local)',
    );
    const cm = await cli('sweep', '--sandbox', '--dry-run', '--evidence', 'configmap:Bad/x');
    expect(cm.code).toBe(2);
    expect(cm.err).toContain('--evidence: "configmap:Bad/x" is not configmap:<namespace>/<name>');
    const gcs = await cli('sweep', '--sandbox', '--dry-run', '--evidence', 'gcs://Bad Bucket/x');
    expect(gcs.code).toBe(2);
    expect(gcs.err).toContain('--evidence: "gcs://Bad Bucket/x" is not gcs://<bucket>/<object>');
    const noEvidence = await cli('sweep', '--sandbox', '--proposal', 'github', '--from-github', 'main');
    expect(noEvidence.code).toBe(2);
    expect(noEvidence.err).toContain('--from-github leaves no local folder to keep evidence in');
    const branch = await cli(
      'sweep',
      '--sandbox',
      '--proposal',
      'github',
      '--from-github',
      'release',
      '--evidence',
      'configmap:gpu-fleet-system/e',
    );
    expect(branch.code).toBe(2);
    expect(branch.err).toMatch(/branch "release" not found; check configSync.branch/);
  });
});

describe('pin and get: machine-owned values, never pasted by hand', () => {
  const digest = `us-docker.pkg.dev/sd-fleet-test-4821/gpu-fleet/region-scout@sha256:${'d'.repeat(64)}`;

  it('writes the Terraform address and the image digest into the spec, re-renders, and is idempotent', async () => {
    const r = await cli('pin', '--static-ip-address', '34.120.9.9', '--scout-image', digest);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /ingress.staticIp.address = 34.120.9.9, scout.image = .*; render: \d+ generated files \(\d+ added, \d+ changed/,
    );
    const mci = readFileSync(join(root, 'fleet-config/config-cluster/multiclusteringress.yaml'), 'utf8');
    expect(mci).toContain('networking.gke.io/static-ip: 34.120.9.9');
    expect(readFileSync(join(root, 'fleet-config/config-cluster/region-scout.yaml'), 'utf8')).toContain(
      `image: ${digest}`,
    );
    expect((await cli('render', '--check')).code).toBe(0);
    expect((await cli('get', 'scout.image')).out).toBe(digest);
    const again = await cli('pin', '--static-ip-address', '34.120.9.9');
    expect(again.out).toContain('already has ingress.staticIp.address = 34.120.9.9; render: ');
    expect(again.out).toContain('already up to date');
  });

  it('refuses a bad value naming the field, and writes nothing', async () => {
    const before = readFileSync(join(root, 'fleet-config/fleet.yaml'), 'utf8');
    const r = await cli('pin', '--scout-image', 'ghcr.io/acme/region-scout:latest');
    expect(r.code).toBe(2);
    expect(r.err).toContain('scout.image: "ghcr.io/acme/region-scout:latest" must be an image pinned by digest');
    expect(r.err).toContain('Nothing was written.');
    expect(readFileSync(join(root, 'fleet-config/fleet.yaml'), 'utf8')).toBe(before);
    expect(git('status', '--porcelain')).toBe('');
    expect((await cli('pin')).err).toContain('pin: nothing to write');
  });

  it('get prints one value (defaults applied) and names an unknown field', async () => {
    expect((await cli('get', 'project')).out).toBe('sd-fleet-test-4821');
    expect((await cli('get', 'configCluster.name')).out).toBe('fleet-config');
    expect(JSON.parse((await cli('get', 'scout.schedule')).out)).toEqual({
      cron: '*/20 * * * *',
      runner: 'github-actions',
    });
    const bad = await cli('get', 'configCluster.zone');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('get: "configCluster.zone" is not a field of the spec (at "zone")');
  });

  it('get prints the value a computed default takes, and tells an unset field from an unknown one', async () => {
    // app.namespace defaults to app.name, configCluster.region to the first candidate region
    expect((await cli('get', 'app.namespace')).out).toBe('sd-webui');
    expect((await cli('get', 'configCluster.region')).out).toBe('us-central1');
    expect((await cli('get', 'scout.gcpServiceAccount')).out).toBe(
      'region-scout@sd-fleet-test-4821.iam.gserviceaccount.com',
    );
    const unset = await cli('get', 'ingress.staticIp.reason');
    expect(unset.code).toBe(1);
    expect(unset.err).toContain('get: "ingress.staticIp.reason" is not set in');
  });
});

describe('review: the pull request comment', () => {
  it('summarises the spec change against a git ref, and names a bad ref', async () => {
    const spec = readFileSync(join(root, 'fleet-config/fleet.yaml'), 'utf8');
    const { spec: parsed, document } = loadFleetSpec(spec);
    writeFileSync(
      join(root, 'fleet-config/fleet.yaml'),
      writeClusters(
        document,
        parsed.clusters.map((c) =>
          c.region === 'asia-northeast1'
            ? { ...c, mode: 'active' as const }
            : c.region === 'europe-west4'
              ? { ...c, mode: 'draining' as const }
              : c,
        ),
      ),
    );
    const r = await cli('review', '--base', 'main');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^<!-- gpu-fleet:review -->/);
    expect(r.out).toContain('**asia-northeast1** (`sd-asia-northeast1`) becomes active');
    expect(r.out).toContain('**europe-west4** (`sd-europe-west4`) drains');
    expect(r.out).toContain('no cluster left serving in Europe');
    const bad = await cli('review', '--base', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--base: cannot read fleet-config\/fleet.yaml at "nope"/);
  });
});

describe('the repository spec', () => {
  it('fleet-config/fleet.yaml round-trips through the scout’s editor byte for byte', () => {
    const text = readFileSync(join(__dirname, '../../../fleet-config/fleet.yaml'), 'utf8');
    const { spec, document } = loadFleetSpec(text);
    expect(writeClusters(document, spec.clusters)).toBe(text);
  });
});

describe('a sweep that is killed', () => {
  it('onTermination: SIGTERM and SIGINT save the evidence, then exit 143 / 130; disposed, it listens no more', async () => {
    const saved: string[] = [];
    const exits: number[] = [];
    const err: string[] = [];
    // The signals arrive on an emitter of our own (the process under jest's workers does not deliver an
    // emitted SIGTERM to listeners); the real process is the next test.
    const signals = new EventEmitter();
    const t = onTermination(
      async () => void saved.push('saved'),
      silentLogger,
      { err: (l) => err.push(l) },
      (code) => exits.push(code),
      signals,
    );
    signals.emit('SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect([saved, exits]).toEqual([['saved'], [143]]);
    expect(err).toEqual(['SIGTERM: saving the evidence gathered so far, then stopping']);
    t.dispose();
    const u = onTermination(
      () => Promise.reject(new Error('API server gone')),
      silentLogger,
      { err: () => undefined },
      (code) => exits.push(code),
      signals,
    );
    signals.emit('SIGINT');
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([143, 130]); // exits even when the save fails
    u.dispose();
    expect([signals.listenerCount('SIGTERM'), signals.listenerCount('SIGINT')]).toEqual([0, 0]);
  });

  it('the real process, killed with SIGTERM in the middle of a sweep, keeps what it gathered', async () => {
    const evidence = join(root, '.gpu-fleet/sandbox-evidence.json');
    const child = spawn(
      process.execPath,
      [join(__dirname, '../bin/region-scout.cjs'), 'sweep', '--sandbox', '--proposal', 'local'],
      {
        cwd: root,
        env: { ...process.env, METADATA_SERVER_DETECTION: 'none', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Signals are gathered (and in the ledger) once the probe step starts; nothing was saved yet.
        if (/· probes:/.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`the sweep ended before its probe step:\n${stderr}`)));
    });
    expect(existsSync(evidence)).toBe(false);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toContain('SIGTERM: saving the evidence gathered so far, then stopping');
    // Saved by the handler (killed before the decision, so before the sweep's own save).
    const saved = JSON.parse(readFileSync(evidence, 'utf8')) as { schemaVersion: number; sweeps: unknown[] };
    expect(saved.schemaVersion).toBe(1);
    expect(saved.sweeps).toEqual([]);
  }, 90_000);
});

it('--deadline-seconds takes whole seconds from 30 to a day, and says so', async () => {
  const r = await cli('sweep', '--sandbox', '--deadline-seconds', '10');
  expect(r.code).toBe(2);
  expect(r.err).toContain('--deadline-seconds must be an integer from 30 to 86400, got "10"');
});
