import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_FLEET_YAML } from '@gpu-fleet/fleet-spec';
import { readOwnedTree } from '@gpu-fleet/manifests';
import { run } from './program';

// validate runs kubectl and compiles the schema validators (no cache in a scratch root): seconds on a busy machine.
jest.setTimeout(60_000);
let root: string;
const specPath = () => join(root, 'fleet-config/fleet.yaml');

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { cwd: root, io: { out: (l) => out.push(l), err: (l) => err.push(l) } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'region-scout-cli-'));
  mkdirSync(join(root, 'fleet-config'));
  writeFileSync(specPath(), EXAMPLE_FLEET_YAML);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('region-scout render', () => {
  it('writes the tree, then render --check passes (exit 0)', async () => {
    const r = await cli('render');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^render: \d+ generated files \(\d+ added, 0 changed, 0 removed\)$/);
    expect(await cli('render', '--check')).toMatchObject({ code: 0 });
    expect((await cli('render')).out).toMatch(/already up to date/);
  });

  it('render --check exits 1 and lists drifted files without writing', async () => {
    await cli('render');
    writeFileSync(specPath(), EXAMPLE_FLEET_YAML.replace('replicas: 2', 'replicas: 3'));
    const before = readOwnedTree(root);
    const r = await cli('render', '--check');
    expect(r.code).toBe(1);
    expect(r.out).toContain('  changed  clusters/sd-europe-west4/kustomization.yaml');
    expect(r.out).toContain('Run `npm run scout -- render` and commit the result.');
    expect(readOwnedTree(root)).toEqual(before);
  });
});

describe('bad input: exit 2, precise errors, nothing written', () => {
  it.each<[string, string, string[]]>([
    ['empty spec', '', ['fleet-config/fleet.yaml: is empty']],
    ['YAML syntax error', EXAMPLE_FLEET_YAML.replace('kind: Fleet', 'kind: [Fleet'), ['YAML syntax error']],
    [
      'unknown key',
      EXAMPLE_FLEET_YAML.replace('  count: 1', '  count: 1\n  colour: green'),
      [
        'gpu.colour: unknown key; allowed here: preferences, count, provisioning, hedge, acceptCutGenerations, selection (line 19)',
      ],
    ],
    [
      'GPU not offered',
      EXAMPLE_FLEET_YAML.replace('mode: standby\n    gpu: nvidia-tesla-t4', 'mode: standby\n    gpu: nvidia-l4')
        .replace('asia-northeast1]', 'asia-northeast1, australia-southeast1]')
        .replace('region: asia-northeast1', 'region: australia-southeast1'),
      ['clusters[2].gpu: "nvidia-l4" is not offered in australia-southeast1; offered there: nvidia-tesla-t4 (line 46)'],
    ],
  ])('%s', async (_name, spec, expected) => {
    await cli('render');
    const before = readOwnedTree(root);
    writeFileSync(specPath(), spec);
    for (const cmd of [['render'], ['render', '--check'], ['validate'], ['start', '--sandbox']]) {
      const r = await cli(...cmd);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      for (const e of expected) expect(r.err).toContain(e);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace without --debug
    }
    expect(readOwnedTree(root)).toEqual(before);
  });

  it('prints the stack trace with --debug', async () => {
    writeFileSync(specPath(), '');
    const r = await cli('--debug', 'render');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/CliError: fleet-config\/fleet\.yaml: 1 problem/);
    expect(r.err).toMatch(/\n\s+at /);
  });

  it('names a missing spec file and how to point at one', async () => {
    rmSync(specPath());
    const r = await cli('validate');
    expect(r).toMatchObject({ code: 2 });
    expect(r.err).toBe(
      'error: fleet-config/fleet.yaml: file not found. Run region-scout from the repository root, or pass --root <dir> / --spec <file>.',
    );
  });

  it('refuses to overwrite a hand-written file in clusters/ (exit 2)', async () => {
    await cli('render');
    mkdirSync(join(root, 'clusters/mine'));
    writeFileSync(join(root, 'clusters/mine/kustomization.yaml'), 'resources: []\n');
    const r = await cli('render');
    expect(r.code).toBe(2);
    expect(r.err).toContain('render refuses to replace files it did not generate:\n  clusters/mine/kustomization.yaml');
    expect(readFileSync(join(root, 'clusters/mine/kustomization.yaml'), 'utf8')).toBe('resources: []\n');
  });

  it('rejects unknown commands and options with usage help (exit 2)', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
    const r = await cli('render', '--chek');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--chek'");
  });
});

describe('region-scout validate and start', () => {
  it('validate passes on a fresh render (exit 0) and fails on a broken invariant (exit 1)', async () => {
    await cli('render');
    const ok = await cli('validate');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(
      /^validate: fleet-config\/fleet\.yaml ok; 4 folders built with kustomize, \d+ objects valid/,
    );
    const mcs = join(root, 'fleet-config/config-cluster/multiclusterservice.yaml');
    writeFileSync(
      mcs,
      readFileSync(mcs, 'utf8').replace(
        '- link: europe-west4/sd-europe-west4',
        '- link: asia-northeast1/sd-asia-northeast1',
      ),
    );
    const bad = await cli('validate', '--json');
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.out) as { ok: boolean; findings: Array<{ message: string }> };
    expect(report.ok).toBe(false);
    expect(report.findings.map((f) => f.message)).toContain(
      'routes to "asia-northeast1/sd-asia-northeast1", which is not an active cluster (active: us-central1/sd-us-central1, europe-west4/sd-europe-west4)',
    );
  });

  it('--help lists every command', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const c of ['render', 'validate', 'start', 'sweep', 'plan', 'status', 'signals', 'probe'])
      expect(r.out).toContain(c);
  });
});
