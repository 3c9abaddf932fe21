/**
 * Benchmark: how long the CLI takes from the shell prompt, as a new user runs it.
 *
 *   npm run bench:cold-start            # print the table
 *   npm run bench:cold-start -- --write # also record it in docs/benchmarks.md
 *
 * Targets (issue "A CLI that starts at once…"), median, 2 cores: `npm run scout -- --help` ≤ 0.6 s,
 * `npx region-scout --help` ≤ 0.5 s, `validate` on the example fleet ≤ 1.5 s. The tool overheads
 * (npm, npx, node itself) are measured beside them, since they bound what the CLI can reach.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordInDocs } from './record';

const ROOT = join(__dirname, '../..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

interface Case {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
  /** Run before every timed run (not timed), e.g. emptying a cache. */
  before?: () => void;
  target?: number;
  /** What the case is: the product, or a tool overhead or baseline beside it. */
  kind: 'product' | 'overhead' | 'baseline';
}

function time(c: Case, runs = RUNS): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    c.before?.();
    const t = performance.now();
    const r = spawnSync(c.cmd[0]!, c.cmd.slice(1), {
      cwd: ROOT,
      env: { ...process.env, ...c.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${c.cmd.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
    out.push(ms);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function main() {
  const write = process.argv.includes('--write');
  const coldCache = mkdtempSync(join(tmpdir(), 'gpu-fleet-bench-cache-'));
  const cases: Case[] = [
    { name: '`node -e 0` (Node itself)', cmd: ['node', '-e', '0'], kind: 'overhead' },
    { name: '`npm -v` (npm itself)', cmd: ['npm', '-v'], kind: 'overhead' },
    { name: '`npx --no-install true` (npx itself)', cmd: ['npx', '--no-install', 'true'], kind: 'overhead' },
    {
      name: '`npm run scout -- --help`',
      cmd: ['npm', 'run', '--silent', 'scout', '--', '--help'],
      target: 600,
      kind: 'product',
    },
    { name: '`npx region-scout --help`', cmd: ['npx', 'region-scout', '--help'], target: 500, kind: 'product' },
    {
      name: '`region-scout --help` (node_modules/.bin, no npm)',
      cmd: ['node_modules/.bin/region-scout', '--help'],
      kind: 'product',
    },
    {
      name: '`npm run scout -- validate` (example fleet, schema cache warm)',
      cmd: ['npm', 'run', '--silent', 'scout', '--', 'validate'],
      target: 1500,
      kind: 'product',
    },
    {
      name: '`npm run scout -- validate`, schema cache empty (first run after `npm ci`)',
      cmd: ['npm', 'run', '--silent', 'scout', '--', 'validate'],
      env: { GPU_FLEET_CACHE_DIR: coldCache },
      before: () => {
        rmSync(coldCache, { recursive: true, force: true });
      },
      kind: 'product',
    },
    {
      name: '`npm run scout -- get project`',
      cmd: ['npm', 'run', '--silent', 'scout', '--', 'get', 'project'],
      kind: 'product',
    },
    // The way region-scout ran before: the tsx CLI, which starts a second Node process for the loader.
    {
      name: 'baseline: `tsx apps/region-scout/src/main.ts --help` (tsx CLI, two processes)',
      cmd: ['npx', 'tsx', '--tsconfig', 'tsconfig.base.json', 'apps/region-scout/src/main.ts', '--help'],
      kind: 'baseline',
    },
  ];
  // Warm-up: tsx's transform cache and the schema cache, as after the first use on a fresh clone.
  time(cases[6]!, 2);
  const rows = cases.map((c) => {
    const runs = time(c);
    const m = median(runs);
    const verdict = c.target === undefined ? '' : m <= c.target ? `≤ ${s(c.target)} ✓` : `> ${s(c.target)} ✗ (misses)`;
    return `| ${c.name} | ${s(m)} | ${s(Math.min(...runs))} – ${s(Math.max(...runs))} | ${verdict} |`;
  });
  rmSync(coldCache, { recursive: true, force: true });
  const table = [
    `Median of ${RUNS} runs each, from the repository root after \`npm ci\`; ${cpus().length} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}.`,
    '',
    '| command | median | range | target |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (write) process.stdout.write(`recorded in ${recordInDocs('cold-start', table)}\n`);
}

main();
