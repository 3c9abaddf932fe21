import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { EXAMPLE_FLEET_YAML } from '@gpu-fleet/fleet-spec';
import { silentLogger } from '@gpu-fleet/scout-domain';
import { buildProgram, run } from './program';

/**
 * docs/runbook.md is followed by people against a real project, where a wrong name costs an
 * afternoon: every command, spec path, Terraform output, secret, variable, file and link it names
 * must exist, and every secret the workflows read must be explained in it.
 */
const ROOT = resolve(__dirname, '../../..');
const RUNBOOK = readFileSync(join(ROOT, 'docs/runbook.md'), 'utf8');
const shellBlocks = [...RUNBOOK.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const shell = shellBlocks.join('\n');
const workflows = ['infra.yml', 'sweep.yml', 'validate.yml']
  .map((f) => readFileSync(join(ROOT, '.github/workflows', f), 'utf8'))
  .join('\n');

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'region-scout-runbook-'));
  mkdirSync(join(root, 'fleet-config'));
  // The example fleet with a managed certificate, as step 3 sets up.
  writeFileSync(
    join(root, 'fleet-config/fleet.yaml'),
    EXAMPLE_FLEET_YAML.replace(
      '  preSharedCertificates: [sd-webui-cert]\n',
      '  managedCertificate: {name: sd-webui-cert}\n',
    ),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, {
    cwd: root,
    logger: silentLogger,
    io: { out: (l) => out.push(l), err: (l) => err.push(l) },
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('docs/runbook.md', () => {
  it('has shell blocks that are complete (no unfilled placeholders such as <…> or …)', () => {
    expect(shellBlocks.length).toBeGreaterThan(10);
    for (const block of shellBlocks) {
      const code = block.replace(/#.*$/gm, '').replace(/<<EOF[\s\S]*?\nEOF/g, '');
      expect(code).not.toMatch(/<[a-z][^>]*>|…|\bYOUR_|\bCHANGE_ME/i);
    }
  });

  it('uses only region-scout commands that exist', () => {
    const program = buildProgram({ io: { out: () => undefined, err: () => undefined }, cwd: root }, () => undefined);
    const known = new Set(program.commands.map((c) => c.name()));
    const used = [...shell.matchAll(/npm run (?:--silent )?scout -- ([a-z-]+)/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((c) => !known.has(c))).toEqual([]);
  });

  it('reads only spec paths that `get` resolves, defaults applied', async () => {
    const paths = [...new Set([...shell.matchAll(/scout -- get ([A-Za-z.]+)/g)].map((m) => m[1]!))];
    expect(paths).toEqual(
      expect.arrayContaining(['app.namespace', 'ingress.iap.oauthSecretName', 'configCluster.name']),
    );
    for (const p of paths) {
      const r = await cli('get', p);
      expect({ path: p, code: r.code, err: r.err }).toEqual({ path: p, code: 0, err: '' });
      expect(r.out).not.toBe('');
    }
  });

  it('reads only Terraform outputs infra/ defines', () => {
    const outputs = readFileSync(join(ROOT, 'infra/outputs.tf'), 'utf8');
    const defined = new Set([...outputs.matchAll(/^output "([a-z_]+)"/gm)].map((m) => m[1]));
    const used = [...shell.matchAll(/terraform -chdir=infra output (?:-raw |-json )?([a-z_]+)/g)].map((m) => m[1]!);
    expect(used).toEqual(
      expect.arrayContaining(['static_ip_address', 'image_repository', 'model_bucket', 'github_actions_variables']),
    );
    expect(used.filter((o) => !defined.has(o))).toEqual([]);
  });

  it('sets exactly the secrets the workflows read, and explains each', () => {
    const read = new Set(
      [...workflows.matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1]!).filter((s) => s !== 'GITHUB_TOKEN'),
    );
    const mentioned = new Set(
      [...RUNBOOK.matchAll(/\b(CONFIG_SYNC_[A-Z_]+|REGION_SCOUT_[A-Z_]+)\b/g)].map((m) => m[1]!),
    );
    const set = new Set([...shell.matchAll(/gh secret set ([A-Z_]+)/g)].map((m) => m[1]!));
    // every secret a workflow reads is named in the runbook (set by a command, or named as the alternative)
    expect([...read].filter((s) => !mentioned.has(s))).toEqual([]);
    // and the runbook sets no secret nothing reads
    expect([...set].filter((s) => !read.has(s))).toEqual([]);
  });

  it('sets the repository variables the workflows read from the Terraform output', () => {
    const read = new Set([...workflows.matchAll(/vars\.([A-Z_]+)/g)].map((m) => m[1]!));
    const outputs = readFileSync(join(ROOT, 'infra/outputs.tf'), 'utf8');
    const block = /output "github_actions_variables"[\s\S]*?\{\s*([\s\S]*?)\}\s*:\s*\{\}/.exec(outputs)![1]!;
    const given = new Set([...block.matchAll(/^\s*([A-Z_]+)\s*=/gm)].map((m) => m[1]!));
    expect([...read].filter((v) => !given.has(v))).toEqual([]);
    expect(shell).toContain('terraform -chdir=infra output -json github_actions_variables');
    expect(shell).toMatch(/gh variable set .*-f /);
  });

  it('names only files that exist and links that resolve', () => {
    const links = [...RUNBOOK.matchAll(/\]\((?!https?:)([^)#]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(2);
    expect(links.filter((l) => !existsSync(resolve(dirname(join(ROOT, 'docs/runbook.md')), l)))).toEqual([]);
    const files = [...shell.matchAll(/(?:--config |-chdir=)((?:tools|infra|apps)[\w./-]*)/g)].map((m) => m[1]!);
    expect(files).toEqual(expect.arrayContaining(['tools/webui-image/cloudbuild.yaml', 'infra']));
    expect(files.filter((f) => !existsSync(join(ROOT, f)))).toEqual([]);
  });

  it('gives the IAP OAuth client the redirect URI IAP uses and stores it under the keys the BackendConfig reads', () => {
    expect(RUNBOOK).toContain('https://iap.googleapis.com/v1/oauth/clientIds/CLIENT_ID:handleRedirect');
    expect(shell).toMatch(/--from-literal=client_id=.*--from-literal=client_secret=/);
  });

  it('requests quota with the command that prints it from the spec, and checks it live', () => {
    expect(shell).toContain('npm run --silent scout -- quota\n');
    expect(shell).toContain('scout -- quota --live --project "$PROJECT_ID"');
    expect(shell).toContain('cloudquotas.googleapis.com');
  });

  it('checks that Actions run on the fork before the first workflow run, and follows the run it started', () => {
    const check = shell.indexOf('actions/permissions" --jq .enabled');
    expect(check).toBeGreaterThan(-1);
    expect(check).toBeLessThan(shell.indexOf('gh workflow run infra.yml'));
    // the run it watches is newer than the one before the dispatch, never just "the latest"
    expect(shell).toMatch(/before=\$\(gh run list[^\n]*\n[\s\S]*select\(\.databaseId > \$before\)/);
    expect(shell).not.toMatch(/gh run watch[^\n]*--limit 1/);
  });

  it('builds images from the source bucket the build account can read', () => {
    for (const cmd of shell.match(/gcloud builds submit(?:[^\n]*\\\n)*[^\n]*/g) ?? [])
      if (!cmd.includes('--no-source')) expect(cmd).toContain('--gcs-source-staging-dir "$staging"');
    expect(shell).toContain('staging=$(terraform -chdir=infra output -raw build_source_staging_dir)');
  });

  it('says what each GitHub plan allows for the infra environment, removal takes two applies, and what stops silently', () => {
    expect(RUNBOOK).toMatch(/required reviewers need\s+Enterprise/);
    expect(RUNBOOK).not.toMatch(/Required reviewers on a private repository need a GitHub Team/);
    expect(RUNBOOK).toMatch(/first set the\s+cluster's `deletionProtection: false`, then remove the entry/);
    expect(RUNBOOK).toMatch(/60 days/);
    expect(RUNBOOK).toMatch(/iam\.allowedPolicyMemberDomains/);
    expect(RUNBOOK).toMatch(/keep a `standby` cluster there/);
  });

  it('commits the provider lock file before the workflows need it', () => {
    const lock = shell.indexOf('git add infra/.terraform.lock.hcl');
    expect(lock).toBeGreaterThan(shell.indexOf('terraform -chdir=infra init'));
    expect(lock).toBeLessThan(shell.indexOf('gh workflow run infra.yml'));
  });
});
