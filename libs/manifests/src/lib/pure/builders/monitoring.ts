import { cronIntervalMinutes, FLEET_METRIC_PREFIX, promqlMetricName, type FleetSpec } from '@gpu-fleet/fleet-spec';

/**
 * Cloud Monitoring alert policies and a dashboard over the metrics each sweep writes
 * (custom.googleapis.com/gpu_fleet/*, libs/scout-gcp metrics.ts; names in
 * libs/scout-decide facts.ts factsToMetricPoints). Rendered as the REST resources
 * (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies,
 * https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards), so infra/ creates
 * them (monitoring.tf) and `gcloud alpha monitoring policies create --policy-from-file` or
 * `gcloud monitoring dashboards create --config-from-file` take the same files.
 */

/** Where render writes them (a folder render owns). */
export const MONITORING_DIR = 'fleet-config/monitoring';
export const ALERT_POLICIES_DIR = `${MONITORING_DIR}/alert-policies`;
export const DASHBOARD_FILE = `${MONITORING_DIR}/dashboard.yaml`;

/**
 * A selector of one fleet metric. The scout writes them on the `global` monitored resource with
 * project_id; "some metrics … map to more than one resource type", and a custom metric can, so the
 * resource is named (`monitored_resource="global"`, promql-mapping page above), and project_id
 * keeps the queries to this fleet when the metrics scope spans several projects.
 */
export function fleetSelector(spec: FleetSpec, name: string, matchers = ''): string {
  const base = `monitored_resource="global",project_id="${spec.project}"`;
  return `${promqlMetricName(FLEET_METRIC_PREFIX + name)}{${base}${matchers ? `,${matchers}` : ''}}`;
}

/** Minutes between sweeps: the fixed cron interval (validate requires one while alerts are on), else hourly. */
export const sweepInterval = (spec: FleetSpec): number => cronIntervalMinutes(spec.scout.schedule.cron) ?? 60;

/**
 * How far back a query looks for a sweep's point. The scout writes one point per series per sweep,
 * while Prometheus' instant selectors only look 5 minutes back
 * (https://prometheus.io/docs/prometheus/latest/querying/basics/#staleness), so every query takes
 * the last value over three intervals: a late sweep or two (GitHub may delay scheduled runs,
 * https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#schedule)
 * neither blanks the charts nor silences an alert, and when the scout has stopped the values go
 * stale exactly as the sweeps-stopped alert (same three intervals) starts to fire, so some alert
 * always speaks.
 */
export const lookback = (spec: FleetSpec): string => `${3 * sweepInterval(spec)}m`;

/** `max(last_over_time(metric[W]))`: the fleet's latest value of a label-less gauge. */
const latest = (spec: FleetSpec, name: string) =>
  `max(last_over_time(${fleetSelector(spec, name)}[${lookback(spec)}]))`;

export type AlertSeverity = 'CRITICAL' | 'ERROR' | 'WARNING';

export interface AlertPolicy {
  displayName: string;
  /** "OR": one condition per policy here, so the combiner only has to be valid. */
  combiner: 'OR';
  severity: AlertSeverity;
  userLabels: Record<string, string>;
  documentation: { content: string; mimeType: 'text/markdown'; subject: string };
  conditions: Array<{
    displayName: string;
    conditionPrometheusQueryLanguage: {
      query: string;
      duration: string;
      evaluationInterval: string;
      disableMetricValidation: boolean;
    };
  }>;
}

/**
 * How often each policy is evaluated: "Must be a positive multiple of 30 seconds or missing"
 * (google/monitoring/v3/alert.proto, PrometheusQueryLanguageCondition.evaluation_interval). A
 * minute is ample for data that changes once per sweep.
 */
export const EVALUATION_INTERVAL = '60s';

interface AlertDef {
  id: string;
  title: string;
  severity: AlertSeverity;
  query: string;
  /** Seconds the query must hold before the alert fires (the condition's duration). */
  forSeconds: number;
  /** What it means and what to do, for the notification (Markdown). */
  runbook: string[];
}

/** The alerts a spec asks for, by id (the file name under fleet-config/monitoring/alert-policies/). */
export function alertDefinitions(spec: FleetSpec): AlertDef[] {
  if (!spec.monitoring.alerts) return [];
  const min = spec.placement.minServingRegions;
  const I = sweepInterval(spec);
  const status = '`npm run scout -- status` (add `--json` for the numbers)';
  const defs: AlertDef[] = [
    {
      id: 'no-serving-region',
      title: 'no region serves the URL',
      severity: 'CRITICAL',
      query: `${latest(spec, 'serving_regions')} < 1`,
      forSeconds: 0,
      runbook: [
        'The last sweep found no active cluster with all its WebUI replicas ready: the global URL has no healthy backend.',
        `1. ${status} shows each cluster's health and the evidence behind it.`,
        '2. Merge the open region-scout pull request if there is one (it adds a region that has GPUs now).',
        '3. Otherwise run a sweep by hand (`gh workflow run sweep.yml`, or the CronJob) and read its plan; `placement.candidateRegions` may need more regions.',
      ],
    },
    {
      id: 'below-minimum',
      title: `fewer than ${min} serving regions`,
      severity: 'ERROR',
      query: `${latest(spec, 'serving_regions')} < ${min}`,
      forSeconds: 0,
      runbook: [
        `The URL is served by fewer regions than placement.minServingRegions (${min}): one more regional failure away from an outage.`,
        `1. ${status}: which cluster is not serving, and why.`,
        '2. The scout proposes a replacement region in its pull request; review and merge it (the failover-proposal alert fires if it waits too long).',
        '3. No proposal: every candidate region was refused (quota, stockouts, probes). The sweep summary says why; add candidate regions or GPU types.',
      ],
    },
    {
      id: 'failover-proposal-waiting',
      title: `failover proposal waiting over ${spec.monitoring.failoverProposalMaxMinutes} min`,
      severity: 'CRITICAL',
      query: `${latest(spec, 'failover_proposal_open')} > 0`,
      forSeconds: spec.monitoring.failoverProposalMaxMinutes * 60,
      runbook: [
        `A region-scout pull request has been open for ${spec.monitoring.failoverProposalMaxMinutes} minutes while the URL is below placement.minServingRegions (${min}). Git is the slow loop: until someone merges it, the fleet stays short of regions.`,
        `1. Open the pull request (\`gh pr view ${spec.scout.proposal.branch}\`), read the plan and the evidence, merge it.`,
        '2. Config Sync applies the new folders within minutes; the next sweep confirms the region serves.',
        '3. If it must not merge, close it: the next sweep proposes again from fresh evidence.',
      ],
    },
    {
      id: 'sweeps-stopped',
      title: 'region-scout is not sweeping',
      severity: 'ERROR',
      // absent_over_time returns 1 when no point matched in the window
      // (https://prometheus.io/docs/prometheus/latest/querying/functions/#absent_over_time): no
      // sweep that got as far as deciding in three intervals.
      query: `absent_over_time(${fleetSelector(spec, 'sweep', 'outcome!="stopped"')}[${lookback(spec)}])`,
      forSeconds: 0,
      runbook: [
        `No sweep has completed in ${3 * I} minutes (three intervals of scout.schedule.cron, "${spec.scout.schedule.cron}"): nobody is watching GPU capacity.`,
        `1. The runner is ${spec.scout.schedule.runner}: ${spec.scout.schedule.runner === 'github-actions' ? 'check the sweep.yml runs (`gh run list --workflow sweep.yml`); in a public repository GitHub disables scheduled workflows after 60 days without activity (`gh workflow enable sweep.yml`)' : 'check the CronJob and its last Job in the config cluster (`kubectl -n ' + spec.scout.namespace + ' get cronjob,jobs`)'}.`,
        '2. A sweep that stops on purpose (renderer or spec mismatch, bad input) says why in its log and exits 1.',
        `3. ${status} shows the last recorded sweep.`,
      ],
    },
  ];
  if (spec.scout.probesPerSweep > 0 && spec.scout.probeBudget.maxProbesPerDay > 0)
    defs.push({
      id: 'probe-budget-exhausted',
      title: 'probe budget used up for today',
      severity: 'WARNING',
      query: `${latest(spec, 'probe_budget_exhausted')} > 0`,
      forSeconds: 0,
      runbook: [
        'The scout has used scout.probeBudget for this UTC day: until midnight UTC it decides from catalog, quota and stockout evidence only, without probing regions for GPUs.',
        '1. Nothing is broken. If it happens daily, raise scout.probeBudget (maxProbesPerDay, maxGpuMinutesPerDay) or lower scout.probesPerSweep.',
      ],
    });
  if (spec.scout.evidenceStore.kind === 'configmap')
    defs.push({
      id: 'evidence-near-budget',
      title: `evidence over ${Math.round(spec.monitoring.evidenceBudgetShare * 100)}% of its ConfigMap`,
      severity: 'WARNING',
      query: `${latest(spec, 'evidence_budget_share')} >= ${spec.monitoring.evidenceBudgetShare}`,
      forSeconds: 0,
      runbook: [
        'The evidence ledger is close to what one ConfigMap holds; beyond it the oldest observations are dropped, and the scout decides from a shorter history.',
        '1. Move it to Cloud Storage: set scout.evidenceStore to kind gcs with a bucket (docs/operate.md), apply infra/, render, merge.',
      ],
    });
  return defs;
}

const seconds = (s: number) => `${s}s`;

/** The alert policies, as [file id, AlertPolicy] in a stable order. */
export function alertPolicies(spec: FleetSpec): Array<[string, AlertPolicy]> {
  return alertDefinitions(spec).map((d) => [
    d.id,
    {
      // alert.proto: "To avoid confusion, don't use the same display name for multiple policies in the same project."
      displayName: `gpu-fleet ${spec.app.name}: ${d.title}`,
      combiner: 'OR',
      severity: d.severity,
      userLabels: { gpu_fleet_app: spec.app.name, gpu_fleet_alert: d.id },
      documentation: {
        content: [
          `**${d.title}** (gpu-fleet, project ${spec.project}, app ${spec.app.name})`,
          '',
          d.runbook[0]!,
          '',
          ...d.runbook.slice(1),
          '',
          `Query: \`${d.query}\``,
          '',
          'All alerts and what they mean: docs/operate.md in the fleet repository.',
        ].join('\n'),
        mimeType: 'text/markdown',
        subject: `gpu-fleet ${spec.app.name}: ${d.title}`,
      },
      conditions: [
        {
          displayName: d.title,
          conditionPrometheusQueryLanguage: {
            query: d.query,
            duration: seconds(d.forSeconds),
            evaluationInterval: EVALUATION_INTERVAL,
            // The metrics exist only after the first sweep writes them; without this the API
            // refuses a policy on a metric that does not exist yet (alert.proto
            // disable_metric_validation: "defined on metrics that do not yet exist … using Terraform").
            disableMetricValidation: true,
          },
        },
      ],
    },
  ]);
}

type Tile = { xPos: number; yPos: number; width: number; height: number; widget: Record<string, unknown> };

/** MosaicLayout: "The number of columns must be between 1 and 12, inclusive" (google/monitoring/dashboard/v1/layouts.proto). */
export const DASHBOARD_COLUMNS = 12;

const chart = (
  title: string,
  dataSets: Array<{ query: string; plot?: 'LINE' | 'STACKED_AREA' | 'STACKED_BAR'; legend?: string }>,
  thresholds: Array<{ label: string; value: number; color: 'YELLOW' | 'RED'; direction: 'ABOVE' | 'BELOW' }> = [],
) => ({
  title,
  xyChart: {
    dataSets: dataSets.map((d) => ({
      timeSeriesQuery: { prometheusQuery: d.query },
      plotType: d.plot ?? 'LINE',
      ...(d.legend ? { legendTemplate: d.legend } : {}),
    })),
    ...(thresholds.length ? { thresholds } : {}),
  },
});

type Widget = [width: number, height: number, widget: Record<string, unknown>];

/** The dashboard: the three questions first (regions serving, sweeping, a proposal waiting), then cost and budgets. */
export function dashboard(spec: FleetSpec): Record<string, unknown> {
  return {
    displayName: `gpu-fleet: ${spec.app.name}`,
    labels: { gpu_fleet_app: spec.app.name },
    mosaicLayout: { columns: DASHBOARD_COLUMNS, tiles: flow([...summaryWidgets(spec), ...chartWidgets(spec)]) },
  };
}

/** The header and the three scorecards: enough regions, a proposal waiting, still sweeping. */
function summaryWidgets(spec: FleetSpec): Widget[] {
  const min = spec.placement.minServingRegions;
  return [
    [
      12,
      2,
      {
        title: `gpu-fleet: ${spec.app.name}`,
        text: {
          content: [
            `One point per sweep (every ${sweepInterval(spec)} min, \`${spec.scout.schedule.cron}\`), written by region-scout to \`${FLEET_METRIC_PREFIX}*\`.`,
            `Serving = an active cluster with all its WebUI replicas ready. Minimum: ${min} regions. Alerts and runbook: docs/operate.md.`,
          ].join('\n\n'),
          format: 'MARKDOWN',
        },
      },
    ],
    [
      4,
      3,
      {
        title: 'Serving regions',
        scorecard: {
          timeSeriesQuery: { prometheusQuery: latest(spec, 'serving_regions') },
          // Whole numbers: half a region below the minimum reads the same with "<" or "<=".
          thresholds: [{ label: 'below minimum', value: min - 0.5, color: 'RED', direction: 'BELOW' }],
          sparkChartView: { sparkChartType: 'SPARK_LINE' },
        },
      },
    ],
    [
      4,
      3,
      {
        title: 'Failover proposal open (1 = waiting for a merge while below minimum)',
        scorecard: {
          timeSeriesQuery: { prometheusQuery: latest(spec, 'failover_proposal_open') },
          thresholds: [{ label: 'waiting', value: 0.5, color: 'RED', direction: 'ABOVE' }],
          sparkChartView: { sparkChartType: 'SPARK_BAR' },
        },
      },
    ],
    [
      4,
      3,
      {
        title: `Sweeps completed in the last ${3 * sweepInterval(spec)} min`,
        scorecard: {
          // The sweeps-stopped alert's window; "or vector(0)" shows 0 instead of no data.
          timeSeriesQuery: {
            prometheusQuery: `sum(count_over_time(${fleetSelector(spec, 'sweep', 'outcome!="stopped"')}[${3 * sweepInterval(spec)}m])) or vector(0)`,
          },
          thresholds: [{ label: 'sweeps stopped', value: 0.5, color: 'RED', direction: 'BELOW' }],
          sparkChartView: { sparkChartType: 'SPARK_BAR' },
        },
      },
    ],
  ];
}

/** The charts: serving, readiness by region and GPU, cost, sweep history, the proposal's age, budgets. */
function chartWidgets(spec: FleetSpec): Widget[] {
  const W = lookback(spec);
  const min = spec.placement.minServingRegions;
  const over = (name: string, by: string) => `max by (${by}) (last_over_time(${fleetSelector(spec, name)}[${W}]))`;
  return [
    [
      6,
      4,
      chart(
        'Serving regions against the minimum',
        [
          { query: latest(spec, 'serving_regions'), legend: 'serving' },
          { query: latest(spec, 'min_serving_regions'), legend: 'minimum' },
        ],
        [{ label: 'minServingRegions', value: min, color: 'RED', direction: 'BELOW' }],
      ),
    ],
    [
      6,
      4,
      chart('Serving clusters by region and GPU', [
        { query: over('cluster_serving', 'region, gpu'), plot: 'STACKED_AREA', legend: '${region} ${gpu}' },
      ]),
    ],
    [
      6,
      4,
      chart('Ready WebUI replicas by cluster', [
        { query: over('cluster_ready_replicas', 'cluster, region'), plot: 'STACKED_AREA', legend: '${cluster}' },
      ]),
    ],
    [
      6,
      4,
      chart('GPU list price of ready replicas (USD per hour)', [
        { query: over('gpu_cost_per_hour', 'region'), plot: 'STACKED_AREA', legend: '${region}' },
      ]),
    ],
    [
      6,
      4,
      chart('Sweeps by outcome', [
        {
          query: `sum by (outcome) (count_over_time(${fleetSelector(spec, 'sweep')}[1h]))`,
          plot: 'STACKED_BAR',
          legend: '${outcome}',
        },
      ]),
    ],
    [
      6,
      4,
      chart(
        'Open proposal age (minutes)',
        [{ query: latest(spec, 'proposal_age_minutes'), legend: 'age' }],
        [
          {
            label: 'failover page after',
            value: spec.monitoring.failoverProposalMaxMinutes,
            color: 'YELLOW',
            direction: 'ABOVE',
          },
        ],
      ),
    ],
    [
      6,
      4,
      chart('Probe budget left today', [
        { query: latest(spec, 'probes_left'), legend: 'probes' },
        { query: latest(spec, 'probe_gpu_minutes_left'), legend: 'GPU minutes' },
      ]),
    ],
    [
      6,
      4,
      spec.scout.evidenceStore.kind === 'configmap'
        ? chart(
            'Evidence ledger: share of the ConfigMap budget',
            [{ query: latest(spec, 'evidence_budget_share'), legend: 'share' }],
            [{ label: 'warn', value: spec.monitoring.evidenceBudgetShare, color: 'YELLOW', direction: 'ABOVE' }],
          )
        : chart('Evidence ledger size (bytes, Cloud Storage)', [
            { query: latest(spec, 'evidence_bytes'), legend: 'bytes' },
          ]),
    ],
  ];
}

/** Place widgets left to right, wrapping at the column count; a row is as tall as its tallest tile. */
function flow(widgets: Widget[]): Tile[] {
  const tiles: Tile[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const [width, height, widget] of widgets) {
    if (x + width > DASHBOARD_COLUMNS) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    tiles.push({ xPos: x, yPos: y, width, height, widget });
    x += width;
    rowHeight = Math.max(rowHeight, height);
  }
  return tiles;
}
