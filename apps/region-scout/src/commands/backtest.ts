import { resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import {
  loadTraceFolder,
  POLICY_NAMES,
  renderReport,
  REPORT_COLUMNS,
  reportRows,
  runBacktest,
  TimelineError,
  timelineFor,
  TraceError,
  type BacktestResult,
  type CapacitySource,
  type PolicyName,
  type Timeline,
} from '@gpu-fleet/backtest';
import { backtestRandom, sandboxEpoch, syntheticCapacity } from '@gpu-fleet/sandbox';
import { readSpecDocument, type Io, type Workspace } from '../context';
import { CliError, EXIT } from '../errors';
import { table } from '../table';

export interface BacktestCommandOptions {
  traces?: string;
  days: number;
  seed: number;
  policies: string;
  provisioning?: string;
  json?: boolean;
  report?: string;
  sweepInterval?: number;
  autoMergeMinutes?: number;
  personMergeMinutes?: number;
  configSyncSeconds?: number;
  clusterCreateMinutes?: number;
  nodeProvisionMinutes?: number;
  appStartMinutes?: number;
  healthCheckSeconds?: number;
  nodeEventsPerMonth?: number;
  /** Where progress goes (a terminal's stderr); none when absent. */
  progress?: (done: number, total: number) => void;
}

export function parsePolicies(list: string): PolicyName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(POLICY_NAMES as readonly string[]).includes(n));
  if (bad.length || !names.length)
    throw new CliError(
      `--policies: ${bad.length ? `"${bad.join(',')}" is not a policy` : 'no policy given'}; choose from ${POLICY_NAMES.join(',')} (comma-separated).`,
    );
  return [...new Set(names)] as PolicyName[];
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** The summary as a table a person reads: the report's rows and columns. */
export function summaryLines(r: BacktestResult): string[] {
  return [
    `backtest: ${r.period.days.toFixed(1)} days from ${r.period.start.slice(0, 16)}Z, ${r.period.capacity}, ${r.period.timeline.provisioning}`,
    `oracle availability (any candidate zone has capacity): ${pct(r.oracle.availability)}`,
    '',
    ...table(REPORT_COLUMNS, reportRows(r)),
  ];
}

/** `backtest`: replay capacity through the real scout and its alternatives. */
export async function backtestCommand(ws: Workspace, io: Io, options: BacktestCommandOptions): Promise<number> {
  const policies = parsePolicies(options.policies);
  const { spec, text } = readSpecDocument(ws);
  if (options.provisioning !== undefined && !['on-demand', 'spot'].includes(options.provisioning))
    throw new CliError(`--provisioning: "${options.provisioning}" is not a provisioning model; use on-demand or spot.`);
  let timeline: Timeline;
  let capacity: CapacitySource;
  let start: Date;
  try {
    timeline = timelineFor(spec, {
      sweepIntervalMinutes: options.sweepInterval,
      autoMergeMinutes: options.autoMergeMinutes,
      personMergeMinutes: options.personMergeMinutes,
      configSyncSeconds: options.configSyncSeconds,
      clusterCreateMinutes: options.clusterCreateMinutes,
      nodeProvisionMinutes: options.nodeProvisionMinutes,
      appStartMinutes: options.appStartMinutes,
      healthCheckSeconds: options.healthCheckSeconds,
      nodeEventsPerMonth: options.nodeEventsPerMonth,
      provisioning: options.provisioning as Timeline['provisioning'] | undefined,
    });
    if (options.traces) {
      capacity = loadTraceFolder(resolve(options.traces), ws.catalog);
      start = sandboxEpoch(options.seed);
    } else {
      ({ capacity, start } = syntheticCapacity(options.seed, spec, ws.catalog));
    }
  } catch (e) {
    if (e instanceof TraceError || e instanceof TimelineError) throw new CliError(e.message);
    throw e;
  }
  const result = await runBacktest({
    specText: text,
    catalog: ws.catalog,
    capacity,
    timeline,
    days: options.days,
    seed: options.seed,
    random: backtestRandom(options.seed),
    policies,
    start,
    onProgress: options.progress,
  });
  if (options.report) {
    const path = resolve(options.report);
    writeFileAtomic.sync(path, await renderReport(result, ws.catalog));
    if (!options.json) io.err(`backtest: report written to ${path}`);
  }
  if (options.json) {
    const { timelines: _timelines, ...summary } = result;
    io.out(JSON.stringify(summary));
  } else {
    for (const line of summaryLines(result)) io.out(line);
  }
  return EXIT.ok;
}
