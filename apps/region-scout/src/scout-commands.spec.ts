import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { EXAMPLE_FLEET_YAML } from '@gpu-fleet/fleet-spec';
import { silentLogger } from '@gpu-fleet/scout-domain';
import { ManualClock, sandboxEpoch } from '@gpu-fleet/sandbox';
import { run } from './program';
import fc from 'fast-check';
import { createLogger, SECRET_KEYS } from './logger';

jest.setTimeout(60_000);
let root: string;

async function cli(argv: string[], stdin?: string, signal?: AbortSignal, onOut?: (l: string) => void) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, {
    cwd: root,
    stdin: stdin === undefined ? undefined : Readable.from([stdin]),
    logger: silentLogger,
    signal,
    // Simulated time moves only when the scout waits: no outcome depends on how busy the machine is.
    sandboxClock: new ManualClock(sandboxEpoch(1)),
    io: { out: (l) => (out.push(l), onOut?.(l)), err: (l) => err.push(l) },
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'region-scout-scout-'));
  mkdirSync(join(root, 'fleet-config'));
  writeFileSync(join(root, 'fleet-config/fleet.yaml'), EXAMPLE_FLEET_YAML);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('region-scout classify', () => {
  it('prints one JSON object per input line', async () => {
    const r = await cli(
      ['classify'],
      "Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 0.0 in region us-central1.\n\nscale.up.error.out.of.resources\n",
    );
    expect(r.code).toBe(0);
    expect(r.out.split('\n').map((l) => JSON.parse(l))).toEqual([
      {
        kind: 'quota',
        scope: 'region',
        zone: null,
        region: 'us-central1',
        gpu: 'nvidia-l4',
        suggestedZones: [],
        metric: 'NVIDIA_L4_GPUS',
      },
      { kind: 'stockout', scope: null, zone: null, region: null, gpu: null, suggestedZones: [], metric: null },
    ]);
  });

  it('reads the structured fields of a JSON line first; a JSON error body is still a message', async () => {
    const r = await cli(
      ['classify'],
      [
        JSON.stringify({ message: 'Operation failed', code: 'ZONE_RESOURCE_POOL_EXHAUSTED' }),
        JSON.stringify({
          message: "pod didn't trigger scale-up: 1 max node group size reached",
          reason: 'NotTriggerScaleUp',
        }),
        '{"error": {"code": 403, "message": "Quota \'NVIDIA_L4_GPUS\' exceeded. Limit: 0.0 in region us-east4."}}',
        'Operation failed',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
    expect(r.out.split('\n').map((l) => (JSON.parse(l) as { kind: string }).kind)).toEqual([
      'stockout',
      'unknown',
      'quota',
      'unknown',
    ]);
  });
});

describe('region-scout signals (embedded sandbox)', () => {
  it('prints a table per region and records evidence', async () => {
    const r = await cli(['signals', '--sandbox']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(
      'SANDBOX — simulated cloud, not Google: embedded sandbox (seed 1, manual clock, project sd-fleet-test-4821)',
    );
    expect(r.out.split('\n')[1]).toBe(
      'signals · embedded sandbox (seed 1, manual clock, project sd-fleet-test-4821) · 2026-11-23T01:00:00.000Z',
    );
    expect(r.out).toMatch(/europe-west4\s+ok\s+nvidia-l4\s+3\s+\d\.\d\d \(\d\.\d\d\)/);
    expect(r.out).toContain('sd-europe-west4 active RUNNING sync SYNCED');
    expect(r.out).toMatch(/3 regions, 0 unknown/);
    expect(existsSync(join(root, '.gpu-fleet/sandbox-evidence.json'))).toBe(true);
  });

  it('--json emits the whole report', async () => {
    const r = await cli(['signals', '--sandbox', '--json']);
    const report = JSON.parse(r.out) as { source: string; regions: Array<{ region: string; quota: unknown[] }> };
    expect(report.source).toBe('sandbox');
    expect(report.regions.map((x) => x.region)).toEqual(['asia-northeast1', 'europe-west4', 'us-central1']);
    expect(report.regions[0]!.quota).toContainEqual(
      expect.objectContaining({ gpu: 'nvidia-l4', spot: false, metric: 'NVIDIA_L4_GPUS' }),
    );
  });

  it('reports a corrupt evidence file, sets it aside and carries on', async () => {
    mkdirSync(join(root, '.gpu-fleet'));
    writeFileSync(join(root, '.gpu-fleet/sandbox-evidence.json'), 'garbage');
    const r = await cli(['signals', '--sandbox']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      /warning: evidence store .*sandbox-evidence\.json is unreadable \(not JSON: .*\); moved it to .*sandbox-evidence\.json\.corrupt-/,
    );
  });
});

describe('region-scout probe (embedded sandbox)', () => {
  it('runs one probe, records it and charges the daily budget', async () => {
    const r = await cli(['probe', '--sandbox', '--cluster', 'sd-europe-west4', '--gpu', 'nvidia-tesla-t4', '--json']);
    const result = JSON.parse(r.out) as {
      outcome: string;
      cluster: string;
      zone: string | null;
      secondsToRunning: number | null;
    };
    // Seed 1 on the manual clock: the same answer on every machine and every day.
    expect(result).toMatchObject({ cluster: 'sd-europe-west4', outcome: 'success', zone: 'europe-west4-c' });
    expect(r.code).toBe(0);
    const evidence = JSON.parse(readFileSync(join(root, '.gpu-fleet/sandbox-evidence.json'), 'utf8')) as {
      observations: Array<{ source: string; gpu: string }>;
    };
    expect(evidence.observations).toContainEqual(expect.objectContaining({ source: 'probe', gpu: 'nvidia-tesla-t4' }));
  });

  it('refuses when the daily budget is spent (exit 1)', async () => {
    writeFileSync(
      join(root, 'fleet-config/fleet.yaml'),
      EXAMPLE_FLEET_YAML + 'scout:\n  probeBudget:\n    maxProbesPerDay: 0\n',
    );
    const r = await cli(['probe', '--sandbox', '--cluster', 'sd-europe-west4', '--gpu', 'nvidia-l4']);
    expect(r).toMatchObject({
      code: 1,
      err: 'error: probe not run: daily probe budget spent (0 probes) (scout.probeBudget in the spec)',
    });
  });

  it('names a bad --cluster or --gpu with the allowed values (exit 2)', async () => {
    expect(await cli(['probe', '--sandbox', '--cluster', 'nope', '--gpu', 'nvidia-l4'])).toMatchObject({
      code: 2,
      err: 'error: --cluster: "nope" is not a cluster of the spec; clusters: sd-us-central1, sd-europe-west4, sd-asia-northeast1',
    });
    expect((await cli(['probe', '--sandbox', '--cluster', 'sd-us-central1', '--gpu', 'nvidia-l5'])).err).toMatch(
      /^error: --gpu: "nvidia-l5" is not a GKE accelerator type; known: /,
    );
  });
});

describe('region-scout sandbox', () => {
  it('prints its endpoints as one JSON line and serves until stopped', async () => {
    const stop = new AbortController();
    let printed!: (line: string) => void;
    const endpointsLine = new Promise<string>((resolve) => (printed = resolve));
    const done = cli(['sandbox', '--seed', '3'], undefined, stop.signal, (l) => printed(l));
    // Every check is awaited here: a failing expect fails this test, never an orphaned promise.
    const line = await endpointsLine;
    try {
      const e = JSON.parse(line) as Record<string, string>;
      expect(Object.keys(e)).toEqual([
        'compute',
        'container',
        'gkehub',
        'connectgateway',
        'github',
        'storage',
        'monitoring',
        'oauth2Token',
        'project',
        'projectNumber',
        'accessToken',
        'refreshToken',
        'githubToken',
        'githubRepository',
      ]);
      // The repository docs/sandbox.md describes: the spec and the tree rendered from it, on main.
      const gh = (path: string) =>
        fetch(`${e.github}/repos/${e.githubRepository}${path}`, {
          headers: { authorization: `token ${e.githubToken}` },
        }).then((r) => r.json() as Promise<Record<string, unknown>>);
      const main = (await gh('/git/ref/heads/main')) as { object: { sha: string } };
      const commit = (await gh(`/git/commits/${main.object.sha}`)) as { tree: { sha: string } };
      const tree = (await gh(`/git/trees/${commit.tree.sha}?recursive=1`)) as { tree: Array<{ path: string }> };
      const paths = tree.tree.map((t) => t.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          'fleet-config/fleet.yaml',
          'fleet-config/base/deployment.yaml',
          'clusters/sd-us-central1/kustomization.yaml',
          '.github/workflows/sweep.yml',
        ]),
      );
      const res = await fetch(`${e.compute}/compute/v1/projects/${e.project}/regions`, {
        headers: { authorization: `Bearer ${e.accessToken}` },
      });
      expect(res.status).toBe(200);
      // the refresh token gets a new access token from the printed token endpoint, as Google's does
      const tok = await fetch(e.oauth2Token!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: e.refreshToken! }),
      });
      const fresh = (await tok.json()) as { access_token: string; expires_in: number };
      expect(fresh.expires_in).toBe(3599);
      expect(
        (
          await fetch(`${e.compute}/compute/v1/projects/${e.project}/regions`, {
            headers: { authorization: `Bearer ${fresh.access_token}` },
          })
        ).status,
      ).toBe(200);
    } finally {
      stop.abort();
    }
    expect((await done).code).toBe(0);
  });
});

describe('region-scout quota', () => {
  it('prints, from the spec alone, every regional and project-wide GPU quota with a command to request it', async () => {
    const r = await cli(['quota']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^quota · project sd-fleet-test-4821 · the spec and the bundled catalog/);
    // sd-europe-west4 runs 2 replicas: (2 + 1 surge) × 1 GPU + 1 probe GPU.
    expect(r.out).toMatch(/europe-west4\s+NVIDIA_L4_GPUS\s+NVIDIA-L4-GPUS-per-project-region\s+4\s/);
    expect(r.out).toContain(
      'gcloud beta quotas preferences update gpu-fleet-nvidia-l4-gpus-per-project-region-europe-west4 --project=sd-fleet-test-4821 --service=compute.googleapis.com --quota-id=NVIDIA-L4-GPUS-per-project-region --dimensions=region=europe-west4 --preferred-value=4 --email="${QUOTA_EMAIL:?set QUOTA_EMAIL to your contact address}"',
    );
    expect(r.out).toMatch(/--quota-id=GPUS-ALL-REGIONS-per-project --preferred-value=\d+ /);
    expect(r.out).not.toContain('PREEMPTIBLE_');
    expect(r.out).toContain('gcloud services enable cloudquotas.googleapis.com --project=sd-fleet-test-4821');
  });

  it('--live compares with the limits Compute reports, prints only the requests still short and exits 1', async () => {
    writeFileSync(
      join(root, 'fleet-config/fleet.yaml'),
      EXAMPLE_FLEET_YAML.replace('    gpu: nvidia-l4\n    replicas: 1\n', '    gpu: nvidia-l4\n    replicas: 40\n'),
    );
    const r = await cli(['quota', '--live', '--sandbox', '--json', '--email', 'ops@gpu-fleet.dev']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as {
      source: string;
      requestsNeeded: number;
      needs: Array<{
        region: string | null;
        metric: string;
        needed: number;
        limit: number | null;
        verdict: string;
        command: string | null;
      }>;
    };
    expect(report.source).toMatch(/^embedded sandbox/);
    const l4 = report.needs.find((n) => n.region === 'us-central1' && n.metric === 'NVIDIA_L4_GPUS')!;
    expect(l4.needed).toBe(42);
    expect(l4.limit).toBeLessThan(42);
    expect(l4.verdict).toBe('request');
    expect(l4.command).toContain('--preferred-value=42 --email=ops@gpu-fleet.dev');
    for (const n of report.needs) expect(n.command === null).toBe(n.verdict === 'ok');
    expect(report.requestsNeeded).toBe(report.needs.filter((n) => n.verdict !== 'ok').length);
    expect(report.needs.some((n) => n.verdict === 'ok')).toBe(true);
  });

  it('--live exits 0 when every quota is granted', async () => {
    const r = await cli(['quota', '--live', '--sandbox']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/every quota the spec needs is granted \(\d+ checked\)/);
    expect(r.out).not.toContain('gcloud beta quotas');
  });

  it('refuses a bad --email and --project without --live (exit 2)', async () => {
    const bad = await cli(['quota', '--email', 'ops at example']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--email: "ops at example" is not an email address');
    const project = await cli(['quota', '--project', 'my-proj']);
    expect(project.code).toBe(2);
    expect(project.err).toContain('--project "my-proj" only applies with --live');
  });
});

describe('logs', () => {
  const capture = () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
    return { lines, log: createLogger({ level: 'debug', pretty: false, destination: sink }) };
  };

  it('are JSON off a TTY and never contain tokens or secrets', () => {
    const { lines, log } = capture();
    log.info(
      {
        token: 'ya29.secret',
        headers: { authorization: 'Bearer ya29.secret' },
        github: { privateKey: '-----BEGIN' },
        region: 'us-central1',
      },
      'calling',
    );
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({
      msg: 'calling',
      region: 'us-central1',
      token: '[redacted]',
      headers: { authorization: '[redacted]' },
      github: { privateKey: '[redacted]' },
    });
    expect(lines.join('')).not.toContain('ya29.secret');
    expect(lines.join('')).not.toContain('BEGIN');
  });

  it('censor a secret-named field at any depth, in arrays, in child bindings and in any letter case', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom('request', 'config', 'auth', 'items', 'x'), fc.nat(3)), { maxLength: 6 }),
        fc.constantFrom(...SECRET_KEYS, 'Authorization', 'PrivateKey', 'CLIENT_SECRET'),
        fc.string({ minLength: 6, maxLength: 20 }).map((x) => `s3cr3t-${x.replace(/[^A-Za-z0-9]/g, 'q')}`),
        (path, key, secret) => {
          // Build { request: [ { … { <key>: secret } } ] } along the random path.
          let inner: unknown = { [key]: secret, keep: 'visible' };
          for (const step of [...path].reverse())
            inner =
              typeof step === 'number'
                ? Object.assign(new Array(step + 1).fill(null), { [step]: inner })
                : { [step]: inner };
          const { lines, log } = capture();
          log.child({ binding: inner }).warn({ field: inner }, 'message');
          const text = lines.join('');
          expect(text).not.toContain(secret);
          expect(text).toContain('visible');
          expect(text).toContain('[redacted]');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('mask credentials inside strings: messages, errors and free-text fields', () => {
    const { lines, log } = capture();
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    log.error(
      {
        err: new Error(
          'GET failed with Authorization: Bearer ya29.a0AfH6SMBx9 from ghp_abcdefghijklmnopqrstuvwxyz0123',
        ),
        note: `key was ${pem}`,
      },
      'call with token ghs_ABCDEFGHIJKLMNOPQRSTUVWX12 failed',
    );
    const text = lines.join('');
    for (const secret of [
      'ya29.a0AfH6SMBx9',
      'ghp_abcdefghijklmnopqrstuvwxyz0123',
      'ghs_ABCDEFGHIJKLMNOPQRSTUVWX12',
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
    ])
      expect(text).not.toContain(secret);
    expect(text).toContain('GET failed with Authorization: Bearer [redacted]');
  });
});
