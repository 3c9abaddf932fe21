import { execFile } from 'node:child_process';
import { join } from 'node:path';

/**
 * The architecture rules are enforced by lint; these tests make sure a violation really fails it.
 * The real ESLint CLI lints the code from stdin as if it lived at `filePath`; nothing is written.
 */
const root = join(__dirname, '../..');
jest.setTimeout(60_000);

// @nx/enforce-module-boundaries reads Nx's cached project graph and silently skips itself without
// one ("No cached ProjectGraph is available"); `nx run-many` computes it first, so make sure here.
beforeAll(
  () =>
    new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [require.resolve('nx/bin/nx'), 'show', 'projects'],
        { cwd: root, env: { ...process.env, NX_DAEMON: 'false' } },
        (err) => (err ? reject(err) : resolve()),
      ),
    ),
);

function errorsFor(filePath: string, code: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [
        join(root, 'node_modules/eslint/bin/eslint.js'),
        '--stdin',
        '--stdin-filename',
        join(root, filePath),
        '--format',
        'json',
      ],
      { cwd: root, env: { ...process.env, NX_DAEMON: 'false' } },
      (err, stdout, stderr) => {
        // exit 1 means lint errors were found, which is what these tests look for
        if (err && (err as { code?: number }).code !== 1)
          return reject(new Error(`eslint failed: ${stderr || err.message}`));
        try {
          // Nx plugins may print warnings before the JSON report
          const json = stdout.slice(stdout.indexOf('[{'));
          const [result] = JSON.parse(json) as Array<{
            messages: Array<{ severity: number; ruleId: string; message: string }>;
          }>;
          if (stdout.includes('No cached ProjectGraph'))
            throw new Error('module boundaries were skipped: no project graph');
          resolve(result!.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`));
        } catch (e) {
          reject(e as Error);
        }
      },
    );
    child.stdin!.end(code);
  });
}

describe('module boundaries', () => {
  it.each([
    ['libs/fleet-spec/src/lib/x.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
    ['libs/fleet-spec/src/lib/x.ts', "import { execFile } from 'child_process';\nexport const x = execFile;\n"],
    ['libs/gcp-catalog/src/lib/x.ts', "import * as https from 'node:https';\nexport const x = https;\n"],
  ])('a pure library may not do I/O: %s', async (file, code) => {
    const errors = await errorsFor(file, code);
    expect(errors.some((e) => e.startsWith('no-restricted-imports:') && e.includes('may not do I/O'))).toBe(true);
  });

  it('a pure library may import pure packages', async () => {
    expect(
      await errorsFor('libs/fleet-spec/src/lib/x.ts', "import { z } from 'zod';\nexport const x = z.string();\n"),
    ).toEqual([]);
  });

  it('the data layer may not depend on a feature library', async () => {
    const errors = await errorsFor(
      'libs/gcp-catalog/src/lib/x.ts',
      "import { renderTree } from '@gpu-fleet/manifests';\nexport const x = renderTree;\n",
    );
    expect(errors.some((e) => e.startsWith('@nx/enforce-module-boundaries:'))).toBe(true);
  });

  it('the app may use every library through its public index only', async () => {
    expect(
      await errorsFor(
        'apps/region-scout/src/x.ts',
        "import { renderTree } from '@gpu-fleet/manifests';\nexport const x = renderTree;\n",
      ),
    ).toEqual([]);
    const deep = await errorsFor(
      'apps/region-scout/src/x.ts',
      "import { renderTree } from '../../../libs/manifests/src/lib/tree';\nexport const x = renderTree;\n",
    );
    expect(deep.some((e) => e.startsWith('@nx/enforce-module-boundaries:'))).toBe(true);
  });

  it('an adapter may use the sandbox in its tests only', async () => {
    const code = "import { startSandbox } from '@gpu-fleet/sandbox';\nexport const x = startSandbox;\n";
    const prod = await errorsFor('libs/scout-gcp/src/lib/x.ts', code);
    expect(prod.some((e) => e.startsWith('@nx/enforce-module-boundaries:'))).toBe(true);
    expect(await errorsFor('libs/scout-gcp/src/lib/x.spec.ts', code)).toEqual([]);
  });
});
