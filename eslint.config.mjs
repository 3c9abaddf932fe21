import nx from '@nx/eslint-plugin';
import prettierRecommended from 'eslint-plugin-prettier/recommended';

/** SDKs, network and process APIs: banned from pure libraries (domain and data). */
const IO_IMPORTS = [
  'child_process',
  'node:child_process',
  'http',
  'node:http',
  'https',
  'node:https',
  'net',
  'node:net',
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'dgram',
  'node:dgram',
  '@google-cloud/*',
  'googleapis',
  'google-auth-library',
  'octokit',
  '@octokit/*',
  '@kubernetes/*',
  'p-retry',
  'undici',
];

/**
 * Pure libraries (tags type:domain / type:data). Nx's bannedExternalImports only sees npm packages,
 * not Node builtins, so the same list is also enforced here by path with no-restricted-imports.
 */
const PURE_LIBS = [
  'libs/gcp-catalog/**/*.ts',
  'libs/fleet-spec/**/*.ts',
  'libs/scout-domain/**/*.ts',
  'libs/scout-decide/**/*.ts',
  // libs/manifests keeps its pure builders and checks apart from its I/O (src/lib/io: the atomic
  // tree writer, kubectl kustomize, compiled schema validators): the folder says which is which.
  'libs/manifests/src/lib/pure/**/*.ts',
];

/**
 * Layers: app → feature → adapter → domain → data. Pure layers may not do I/O. The sandbox (the
 * embedded default and the test double of every cloud API) may be used by the app, and by adapters
 * only in their tests.
 */
function boundaries(inTests) {
  const sandbox = inTests ? ['type:sandbox'] : [];
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      {
        sourceTag: 'type:app',
        onlyDependOnLibsWithTags: [
          'type:feature',
          'type:adapter',
          'type:sandbox',
          'type:domain',
          'type:data',
          'type:util',
        ],
      },
      {
        sourceTag: 'type:feature',
        onlyDependOnLibsWithTags: ['type:feature', 'type:adapter', 'type:domain', 'type:data', 'type:util', ...sandbox],
      },
      { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:domain', 'type:data', 'type:util', ...sandbox] },
      {
        sourceTag: 'type:sandbox',
        onlyDependOnLibsWithTags: ['type:domain', 'type:data', 'type:util'],
        bannedExternalImports: [
          '@google-cloud/*',
          'googleapis',
          'google-auth-library',
          'octokit',
          '@octokit/*',
          '@kubernetes/*',
        ],
      },
      {
        sourceTag: 'type:domain',
        onlyDependOnLibsWithTags: ['type:domain', 'type:data', 'type:util'],
        bannedExternalImports: IO_IMPORTS,
      },
      {
        sourceTag: 'type:data',
        onlyDependOnLibsWithTags: ['type:data', 'type:util'],
        bannedExternalImports: IO_IMPORTS,
      },
      {
        sourceTag: 'type:tool',
        onlyDependOnLibsWithTags: [
          'type:feature',
          'type:adapter',
          'type:sandbox',
          'type:domain',
          'type:data',
          'type:util',
        ],
      },
      // Scopes: shared libs know nothing of the scout.
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'scope:scout', onlyDependOnLibsWithTags: ['scope:scout', 'scope:shared'] },
      { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:scout', 'scope:shared'] },
    ],
  };
}

/** A config block banning `group` imports in `files` (tests excluded unless `ignores` says otherwise). */
function restrictImports(files, group, message, ignores = ['**/*.spec.ts']) {
  return {
    files,
    ignores,
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] },
  };
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/coverage', '.nx', 'tmp', '**/*.cjs', '.gpu-fleet-*'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
      // noUncheckedIndexedAccess makes `!` the honest way to say "checked above".
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  restrictImports(
    PURE_LIBS,
    IO_IMPORTS,
    'pure libraries (type:domain, type:data) may not do I/O or import SDKs: inject a port instead',
  ),
  // Their tests may read fixture files (a corpus of real messages), nothing more.
  restrictImports(
    PURE_LIBS.map((p) => p.replace('**/*.ts', '**/*.spec.ts')),
    IO_IMPORTS.filter((i) => !['fs', 'node:fs'].includes(i)),
    'tests of pure libraries may read fixtures, nothing more',
    [],
  ),
  // The sweep use case reaches the checkout only through its CheckoutPort (FsCheckout on disk).
  restrictImports(
    ['libs/scout-sweep/src/**/*.ts'],
    ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'child_process', 'node:child_process'],
    'the sweep use case reads and validates files through its CheckoutPort',
  ),
  {
    files: ['**/*.spec.ts', '**/src/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries(true)] },
  },
  // Functions a reader can follow: at most 100 lines, counted with blank lines and comments (a
  // function's nested functions count toward it). Tests (describe blocks group many cases) and the
  // sandbox (wire-format servers: one route table per API) are exempt.
  {
    files: ['**/*.ts'],
    ignores: ['**/*.spec.ts', '**/src/test/**/*.ts', 'libs/sandbox/**'],
    rules: { 'max-lines-per-function': ['error', { max: 100 }] },
  },
  // Formatting is Prettier's (.prettierrc.json, print width 120), checked here so `nx lint` fails on
  // unformatted code; `npm run format` fixes it. Last, so it switches off the stylistic rules it owns.
  prettierRecommended,
];
