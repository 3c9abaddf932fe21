import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { EXAMPLE_FLEET_YAML } from '@gpu-fleet/fleet-spec';
import { silentLogger } from '@gpu-fleet/scout-domain';
import { run } from './program';
import { createLogger } from './logger';

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
    const r = await cli(['classify'], "Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 0.0 in region us-central1.\n\nscale.up.error.out.of.resources\n");
    expect(r.code).toBe(0);
    expect(r.out.split('\n').map((l) => JSON.parse(l))).toEqual([
      { kind: 'quota', scope: 'region', zone: null, region: 'us-central1', gpu: 'nvidia-l4', suggestedZones: [], metric: 'NVIDIA_L4_GPUS' },
      { kind: 'stockout', scope: null, zone: null, region: null, gpu: null, suggestedZones: [], metric: null },
    ]);
  });
});

describe('region-scout signals (embedded sandbox)', () => {
  it('prints a table per region and records evidence', async () => {
    const r = await cli(['signals', '--time-factor', '600']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^signals · embedded sandbox \(seed 1, clock ×600, project sd-fleet-test-4821\)/);
    expect(r.out).toMatch(/europe-west4\s+ok\s+nvidia-l4\s+3\s+\d\.\d\d \(\d\.\d\d\)/);
    expect(r.out).toContain('sd-europe-west4 active RUNNING sync SYNCED');
    expect(r.out).toMatch(/3 regions, 0 unknown/);
    expect(existsSync(join(root, '.gpu-fleet/sandbox-evidence.json'))).toBe(true);
  });

  it('--json emits the whole report', async () => {
    const r = await cli(['signals', '--json']);
    const report = JSON.parse(r.out) as { source: string; regions: Array<{ region: string; quota: unknown[] }> };
    expect(report.source).toBe('sandbox');
    expect(report.regions.map((x) => x.region)).toEqual(['asia-northeast1', 'europe-west4', 'us-central1']);
    expect(report.regions[0]!.quota).toContainEqual(expect.objectContaining({ gpu: 'nvidia-l4', spot: false, metric: 'NVIDIA_L4_GPUS' }));
  });

  it('reports a corrupt evidence file, sets it aside and carries on', async () => {
    mkdirSync(join(root, '.gpu-fleet'));
    writeFileSync(join(root, '.gpu-fleet/sandbox-evidence.json'), 'garbage');
    const r = await cli(['signals']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: evidence store .*sandbox-evidence\.json is unreadable \(not JSON: .*\); moved it to .*sandbox-evidence\.json\.corrupt-/);
  });
});

describe('region-scout probe (embedded sandbox)', () => {
  it('runs one probe, records it and charges the daily budget', async () => {
    const r = await cli(['probe', '--cluster', 'sd-europe-west4', '--gpu', 'nvidia-tesla-t4', '--time-factor', '1200', '--json']);
    const result = JSON.parse(r.out) as { outcome: string; cluster: string };
    expect(result.cluster).toBe('sd-europe-west4');
    expect(['success', 'stockout', 'quota', 'timeout']).toContain(result.outcome);
    expect(r.code).toBe(result.outcome === 'success' ? 0 : 1);
    const evidence = JSON.parse(readFileSync(join(root, '.gpu-fleet/sandbox-evidence.json'), 'utf8')) as { observations: Array<{ source: string; gpu: string }> };
    expect(evidence.observations).toContainEqual(expect.objectContaining({ source: 'probe', gpu: 'nvidia-tesla-t4' }));
  });

  it('refuses when the daily budget is spent (exit 1)', async () => {
    writeFileSync(join(root, 'fleet-config/fleet.yaml'), EXAMPLE_FLEET_YAML + 'scout:\n  probeBudget:\n    maxProbesPerDay: 0\n');
    const r = await cli(['probe', '--cluster', 'sd-europe-west4', '--gpu', 'nvidia-l4']);
    expect(r).toMatchObject({ code: 1, err: 'error: probe not run: daily probe budget spent (0 probes) (scout.probeBudget in the spec)' });
  });

  it('names a bad --cluster or --gpu with the allowed values (exit 2)', async () => {
    expect(await cli(['probe', '--cluster', 'nope', '--gpu', 'nvidia-l4'])).toMatchObject({ code: 2, err: 'error: --cluster: "nope" is not a cluster of the spec; clusters: sd-us-central1, sd-europe-west4, sd-asia-northeast1' });
    expect((await cli(['probe', '--cluster', 'sd-us-central1', '--gpu', 'nvidia-l5'])).err).toMatch(/^error: --gpu: "nvidia-l5" is not a GKE accelerator type; known: /);
  });
});

describe('region-scout sandbox', () => {
  it('prints its endpoints as one JSON line and serves until stopped', async () => {
    const stop = new AbortController();
    let line = '';
    const done = cli(['sandbox', '--seed', '3'], undefined, stop.signal, (l) => {
      line = l;
      void (async () => {
        const e = JSON.parse(l) as Record<string, string>;
        const res = await fetch(`${e.compute}/compute/v1/projects/${e.project}/regions`, { headers: { authorization: `Bearer ${e.accessToken}` } });
        expect(res.status).toBe(200);
        // the refresh token gets a new access token from the printed token endpoint, as Google's does
        const tok = await fetch(e.oauth2Token!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: e.refreshToken! }) });
        const fresh = (await tok.json()) as { access_token: string; expires_in: number };
        expect(fresh.expires_in).toBe(3599);
        expect((await fetch(`${e.compute}/compute/v1/projects/${e.project}/regions`, { headers: { authorization: `Bearer ${fresh.access_token}` } })).status).toBe(200);
        stop.abort();
      })();
    });
    const r = await done;
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(line))).toEqual(['compute', 'container', 'gkehub', 'connectgateway', 'github', 'oauth2Token', 'project', 'projectNumber', 'accessToken', 'refreshToken']);
  });
});

describe('logs', () => {
  it('are JSON off a TTY and never contain tokens or secrets', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
    const log = createLogger({ level: 'debug', pretty: false, destination: sink });
    log.info({ token: 'ya29.secret', headers: { authorization: 'Bearer ya29.secret' }, github: { privateKey: '-----BEGIN' }, region: 'us-central1' }, 'calling');
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ msg: 'calling', region: 'us-central1', token: '[redacted]', headers: { authorization: '[redacted]' }, github: { privateKey: '[redacted]' } });
    expect(lines.join('')).not.toContain('ya29.secret');
    expect(lines.join('')).not.toContain('BEGIN');
  });
});
