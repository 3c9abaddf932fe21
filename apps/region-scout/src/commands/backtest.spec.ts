import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { demandRows, reportRows, type BacktestResult } from '@gpu-fleet/backtest';
import { workspace } from '../context';
import { CliError } from '../errors';
import { backtestCommand, type BacktestCommandOptions } from './backtest';

const ROOT = join(__dirname, '../../../..');
const TRACES = join(ROOT, 'tools/backtest/traces/aws-08-27-2023-16node');
const CHROMIUM = '/usr/bin/chromium';
const ws = workspace({ root: ROOT }, ROOT);
let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'backtest-cli-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(options: Partial<BacktestCommandOptions>): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await backtestCommand(
    ws,
    { out: (l) => out.push(l), err: (l) => err.push(l) },
    { days: 2, seed: 1, policies: 'static,in-region,failover,scout', ...options },
  );
  return { code, out, err };
}

describe('region-scout backtest', () => {
  it('--json prints one document with the period, the oracle and every policy, the same on every run', async () => {
    const first = await run({ traces: TRACES, provisioning: 'spot', json: true });
    expect(first.code).toBe(0);
    expect(first.out).toHaveLength(1);
    const doc = JSON.parse(first.out[0]!) as Omit<BacktestResult, 'timelines'>;
    expect(Object.keys(doc)).toEqual(['period', 'oracle', 'policies']);
    expect(doc.period).toMatchObject({ days: 2, minutes: 2880, seed: 1 });
    expect(doc.period.timeline).toMatchObject({ provisioning: 'spot', sweepIntervalMinutes: 20 });
    expect(doc.policies.map((p) => p.name)).toEqual(['static', 'in-region', 'failover', 'scout']);
    for (const p of doc.policies) {
      for (const f of [p.availability, p.minServingAvailability]) expect(f >= 0 && f <= 1).toBe(true);
      expect(Object.keys(p)).toEqual([
        'name',
        'availability',
        'minServingAvailability',
        'targetReadyShare',
        'outages',
        'outageMinutes',
        'restoreP50Minutes',
        'restoreP95Minutes',
        'gpuHours',
        'cost',
        'costBreakdown',
        'changes',
        'pullRequests',
        'probeGpuMinutes',
        'maxRegionsHolding',
        'log',
        'demand',
      ]);
      // no --demand: nothing about users
      expect(p.demand).toBeNull();
    }
    const again = await run({ traces: TRACES, provisioning: 'spot', json: true });
    expect(again.out).toEqual(first.out);
  }, 120_000);

  it('prints a table on a terminal', async () => {
    const r = await run({ traces: TRACES, policies: 'static,failover' });
    expect(r.out[0]).toMatch(
      /^backtest: 2\.0 days from .*Z, traces .*aws-08-27-2023-16node \(3 zone\/GPU pairs\), on-demand$/,
    );
    expect(r.out[1]).toMatch(
      /^oracles: spot capacity somewhere .* with the start delay .*; foresight GPU cost floor \$\d+$/,
    );
    expect(r.out[3]).toMatch(/^policy\s+availability\s+target ready\s+min serving\s+outages/);
    expect(r.out.slice(4).map((l) => l.split(/\s+/)[0])).toEqual(['static', 'failover']);
  });

  it('refuses bad input with the field, the value and the fix, and writes no report', async () => {
    const report = join(dir, 'r.html');
    await expect(run({ policies: 'static,best', report })).rejects.toThrow(
      new CliError(
        '--policies: "best" is not a policy; choose from static,in-region,failover,failover-same-region,spothedge,scout,autoscaled (comma-separated).',
      ),
    );
    await expect(run({ traces: dir, report })).rejects.toThrow(
      /--traces .*: no traces\.yaml in it; write one mapping zones/,
    );
    await expect(run({ provisioning: 'reserved', report })).rejects.toThrow(
      '--provisioning: "reserved" is not a provisioning model; use on-demand, spot, spot-then-on-demand or hedged.',
    );
    await expect(run({ sweepInterval: 0, report })).rejects.toThrow(/sweepIntervalMinutes = 0 is invalid/);
    await expect(run({ demand: 'weekly', report })).rejects.toThrow(
      '--demand: "weekly" is not a demand model; use none, diurnal or file (with --demand-file).',
    );
    await expect(run({ demand: 'file', report })).rejects.toThrow(
      '--demand file needs --demand-file <file.csv> (header: hour,America,Europe,Asia)',
    );
    await expect(run({ demandFile: join(dir, 'd.csv'), report })).rejects.toThrow(
      /^--demand-file is read only with --demand file \(got --demand none\)/,
    );
    await expect(run({ demand: 'file', demandFile: join(dir, 'missing.csv'), report })).rejects.toThrow(
      /^--demand-file: cannot read .*missing\.csv \(ENOENT\); give a CSV with header hour,America,Europe,Asia$/,
    );
    writeFileSync(join(dir, 'd.csv'), 'hour,America,Europe,Asia\n0,1,x,0\n');
    await expect(run({ demand: 'file', demandFile: join(dir, 'd.csv'), report })).rejects.toThrow(
      /d\.csv:2: Europe is "x"; give generations started per minute/,
    );
    await expect(run({ onDemandCapacity: 'sometimes', report })).rejects.toThrow(
      '--on-demand-capacity: "sometimes" is not a rule; use always (on-demand obtainable) or trace (a new on-demand node needs the record\'s capacity too).',
    );
    await expect(run({ policies: 'spothedge', spothedge: '2-1', report })).rejects.toThrow(
      '--spothedge: "2-1" is not a size; give <target>+<extra> with a target from 1 to 64 and extra replicas from 0 to 64, e.g. --spothedge 2+0,2+1',
    );
    await expect(run({ policies: 'static', spothedge: '2+1', report })).rejects.toThrow(
      /^--spothedge sizes SpotHedge, which --policies does not run \(static\); add spothedge/,
    );
    expect(existsSync(report)).toBe(false);
  });

  it('--spothedge runs each size as its own policy; --on-demand-capacity trace makes on-demand wait on the record', async () => {
    const r = await run({ policies: 'spothedge', spothedge: '2+0,2+1', json: true, days: 2, provisioning: 'spot' });
    const doc = JSON.parse(r.out[0]!) as BacktestResult;
    expect(doc.policies.map((p) => p.name)).toEqual(['spothedge-2+0', 'spothedge-2+1']);
    const trace = await run({ policies: 'static', onDemandCapacity: 'trace', json: true, days: 2 });
    expect((JSON.parse(trace.out[0]!) as BacktestResult).period.timeline.onDemandCapacity).toBe('trace');
  });

  it('--demand diurnal: a users table per policy; the autoscaled fleet pays for fewer GPU-hours', async () => {
    const r = await run({ demand: 'diurnal', policies: 'scout,autoscaled', json: true });
    const doc = JSON.parse(r.out[0]!) as BacktestResult;
    expect(doc.period.demand).toMatch(/^synthetic diurnal demand \(seed 1;/);
    const [scout, auto] = doc.policies;
    expect(scout!.demand!.generations).toBe(auto!.demand!.generations);
    expect(auto!.gpuHours).toBeLessThan(scout!.gpuHours);
    expect(auto!.demand!.cutByScaleDown).toBe(0);
    const table = await run({ demand: 'diurnal', policies: 'scout,autoscaled' });
    expect(table.out).toContainEqual(expect.stringMatching(/^users \(synthetic diurnal demand/));
    expect(table.out).toContainEqual(expect.stringMatching(/^policy\s+generations\s+served\s+failed\s+wait p50/));
  });

  const browser = existsSync(CHROMIUM);
  if (!browser && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  (browser ? it : it.skip)(
    '--report: the page renders in Chromium without errors, and its numbers equal the JSON',
    async () => {
      const report = join(dir, 'report.html');
      const r = await run({
        traces: TRACES,
        provisioning: 'spot',
        report,
        json: true,
        demand: 'diurnal',
        policies: 'static,in-region,failover,scout,autoscaled',
      });
      const doc = JSON.parse(r.out[0]!) as BacktestResult;
      const html = readFileSync(report, 'utf8');
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(http/);
      const b = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-background-networking'],
      });
      try {
        const page = await b.newPage({ viewport: { width: 1400, height: 900 } });
        const problems: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('request', (q) => !q.url().startsWith('file:') && requests.push(q.url()));
        await page.goto(`file://${report}`);
        const rows = await page.$$eval('#summary tbody tr', (trs) =>
          trs.map((tr) => [...tr.querySelectorAll('th,td')].map((c) => c.textContent ?? '')),
        );
        const embedded = JSON.parse((await page.textContent('#result'))!) as Omit<BacktestResult, 'timelines'>;
        expect(embedded).toEqual(doc);
        expect(rows).toEqual(reportRows(doc));
        const users = await page.$$eval('#users tbody tr', (trs) =>
          trs.map((tr) => [...tr.querySelectorAll('th,td')].map((c) => c.textContent ?? '')),
        );
        expect(users).toEqual(demandRows(doc));
        expect(users.map((u) => u[0])).toEqual(['static', 'in-region', 'failover', 'scout', 'autoscaled']);
        expect(rows.map((row) => row[1])).toEqual(doc.policies.map((p) => `${(p.availability * 100).toFixed(2)} %`));
        expect(await page.textContent('#oracle')).toBe(`${(doc.oracle.availability * 100).toFixed(2)} %`);
        expect(await page.locator('#timeline svg path, #timeline svg rect').count()).toBeGreaterThan(10);
        expect(await page.locator('#map svg path').count()).toBeGreaterThan(0);
        // The URL-up lane sits above the regions; the scatter has every policy and the floor.
        expect(await page.locator('#timeline svg text', { hasText: 'URL up' }).count()).toBeGreaterThan(0);
        for (const p of doc.policies)
          expect(
            await page.locator('#scatter svg text', { hasText: new RegExp(`^${p.name}$`) }).count(),
          ).toBeGreaterThan(0);
        expect(await page.textContent('#floor')).toBe(`$${doc.oracle.foresightCostFloor.toFixed(0)}`);
        // A 1400-px window shows it all without scrolling sideways.
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1400);
        expect(problems).toEqual([]);
        expect(requests).toEqual([]);
      } finally {
        await b.close();
      }
    },
    120_000,
  );
});
