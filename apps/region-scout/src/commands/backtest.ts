import { resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import {
  DemandError,
  loadTraceFolder,
  parseDemandCsv,
  POLICY_NAMES,
  renderReport,
  REPORT_COLUMNS,
  reportRows,
  DEMAND_COLUMNS,
  demandRows,
  runBacktest,
  TimelineError,
  timelineFor,
  TraceError,
  type BacktestResult,
  type CapacitySource,
  type DemandSource,
  type PolicyName,
  type Timeline,
} from '@gpu-fleet/backtest';
import { backtestRandom, diurnalDemand, sandboxEpoch, syntheticCapacity } from '@gpu-fleet/sandbox';
import { readFileSync } from 'node:fs';
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
  scaleUpFailureMinutes?: number;
  onDemandCapacity?: string;
  spothedge?: string;
  demand?: string;
  demandFile?: string;
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

/** --spothedge 2+0,2+1: SpotHedge's sizes (target replicas + over-provisioning). */
export function parseSpotHedgeSizes(list: string): Array<{ target: number; extra: number }> {
  const sizes = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(\d+)\+(\d+)$/.exec(s);
      const target = Number(m?.[1]);
      const extra = Number(m?.[2]);
      if (!m || target < 1 || target > 64 || extra > 64)
        throw new CliError(
          `--spothedge: "${s}" is not a size; give <target>+<extra> with a target from 1 to 64 and extra replicas from 0 to 64, e.g. --spothedge 2+0,2+1`,
        );
      return { target, extra };
    });
  if (!sizes.length) throw new CliError('--spothedge: no size given; e.g. --spothedge 2+0,2+1');
  return sizes.filter((a, i) => sizes.findIndex((b) => b.target === a.target && b.extra === a.extra) === i);
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** The summary as a table a person reads: the report's rows and columns. */
export function summaryLines(r: BacktestResult): string[] {
  return [
    `backtest: ${r.period.days.toFixed(1)} days from ${r.period.start.slice(0, 16)}Z, ${r.period.capacity}, ${r.period.timeline.provisioning}`,
    ...(r.period.demand ? [`demand: ${r.period.demand}`] : []),
    `oracles: spot capacity somewhere ${pct(r.oracle.availability)}; with the start delay ${pct(r.oracle.withStartDelay.all)} (${Object.entries(
      r.oracle.withStartDelay.byGpu,
    )
      .map(([g, x]) => `${g} ${pct(x)}`)
      .join(', ')}); foresight GPU cost floor $${r.oracle.foresightCostFloor.toFixed(0)}`,
    '',
    ...table(REPORT_COLUMNS, reportRows(r)),
    ...(r.period.demand ? ['', `users (${r.period.demand}):`, ...table(DEMAND_COLUMNS, demandRows(r))] : []),
  ];
}

/** `backtest`: replay capacity through the real scout and its alternatives. */
export async function backtestCommand(ws: Workspace, io: Io, options: BacktestCommandOptions): Promise<number> {
  const policies = parsePolicies(options.policies);
  const { spec, text } = readSpecDocument(ws);
  if (
    options.provisioning !== undefined &&
    !['on-demand', 'spot', 'spot-then-on-demand', 'hedged'].includes(options.provisioning)
  )
    throw new CliError(
      `--provisioning: "${options.provisioning}" is not a provisioning model; use on-demand, spot, spot-then-on-demand or hedged.`,
    );
  if (options.onDemandCapacity !== undefined && !['always', 'trace'].includes(options.onDemandCapacity))
    throw new CliError(
      `--on-demand-capacity: "${options.onDemandCapacity}" is not a rule; use always (on-demand obtainable) or trace (a new on-demand node needs the record's capacity too).`,
    );
  const spothedgeSizes = options.spothedge !== undefined ? parseSpotHedgeSizes(options.spothedge) : undefined;
  if (spothedgeSizes && !policies.includes('spothedge'))
    throw new CliError(
      `--spothedge sizes SpotHedge, which --policies does not run (${policies.join(',')}); add spothedge to --policies or drop --spothedge`,
    );
  const demandKind = options.demand ?? 'none';
  if (!['none', 'diurnal', 'file'].includes(demandKind))
    throw new CliError(
      `--demand: "${demandKind}" is not a demand model; use none, diurnal or file (with --demand-file).`,
    );
  if ((demandKind === 'file') !== (options.demandFile !== undefined))
    throw new CliError(
      demandKind === 'file'
        ? '--demand file needs --demand-file <file.csv> (header: hour,America,Europe,Asia)'
        : `--demand-file is read only with --demand file (got --demand ${demandKind}); add --demand file or drop --demand-file`,
    );
  let timeline: Timeline;
  let capacity: CapacitySource;
  let start: Date;
  let demand: DemandSource | null = null;
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
      scaleUpFailureMinutes: options.scaleUpFailureMinutes,
      onDemandCapacity: options.onDemandCapacity as Timeline['onDemandCapacity'] | undefined,
      provisioning: options.provisioning as Timeline['provisioning'] | undefined,
    });
    if (options.traces) {
      capacity = loadTraceFolder(resolve(options.traces), ws.catalog);
      start = sandboxEpoch(options.seed);
    } else {
      ({ capacity, start } = syntheticCapacity(options.seed, spec, ws.catalog));
    }
    if (demandKind === 'diurnal') demand = diurnalDemand(options.seed, start);
    if (demandKind === 'file') {
      const path = resolve(options.demandFile!);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new CliError(
          `--demand-file: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)}); give a CSV with header hour,America,Europe,Asia`,
        );
      }
      demand = parseDemandCsv(text, options.demandFile!);
    }
  } catch (e) {
    if (e instanceof TraceError || e instanceof TimelineError || e instanceof DemandError)
      throw new CliError(e.message);
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
    ...(spothedgeSizes ? { spothedgeSizes } : {}),
    start,
    demand,
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
