import { EXAMPLE_FLEET_YAML, loadFleetSpec, promqlMetricName, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { parse } from 'yaml';
import {
  ALERT_POLICIES_DIR,
  DASHBOARD_FILE,
  alertPolicies,
  dashboard,
  lookback,
  monitoringFileProblems,
  promqlErrors,
  renderTree,
} from '../../../index';

const specFrom = (edit: (y: string) => string = (y) => y): FleetSpec => loadFleetSpec(edit(EXAMPLE_FLEET_YAML)).spec;
const example = specFrom();
const withMonitoring = (block: string) => specFrom((y) => `${y}\nmonitoring:\n${block}\n`);
/** The example has no scout section (all defaults): add one. */
const withScout = (block: string) => specFrom((y) => `${y}\nscout:\n${block}\n`);
const queries = (value: unknown): string[] =>
  JSON.stringify(value)
    .match(/"(query|prometheusQuery)":"((?:[^"\\]|\\.)*)"/g)!
    .map((m) => JSON.parse(`{${m}}`) as Record<string, string>)
    .map((o) => Object.values(o)[0]!);

describe('monitoring: alert policies and the dashboard', () => {
  it('names metrics as Cloud Monitoring PromQL does (promql-mapping example)', () => {
    expect(promqlMetricName('custom.googleapis.com/opencensus/opencensus.io/http/server/request_count_by_method')).toBe(
      'custom_googleapis_com:opencensus_opencensus_io_http_server_request_count_by_method',
    );
    expect(promqlMetricName('custom.googleapis.com/gpu_fleet/serving_regions')).toBe(
      'custom_googleapis_com:gpu_fleet_serving_regions',
    );
  });

  it('renders one valid policy file per alert and a valid dashboard, every query PromQL', () => {
    const { files } = renderTree(example);
    const policies = [...files.keys()].filter((f) => f.startsWith(`${ALERT_POLICIES_DIR}/`));
    expect(policies.length).toBe(alertPolicies(example).length);
    for (const f of policies) expect(monitoringFileProblems('alert-policy', parse(files.get(f)!))).toEqual([]);
    const board = parse(files.get(DASHBOARD_FILE)!);
    expect(monitoringFileProblems('dashboard', board)).toEqual([]);
    const all = [...policies.map((f) => parse(files.get(f)!)), board].flatMap(queries);
    expect(all.length).toBeGreaterThan(10);
    for (const q of all) {
      expect(promqlErrors(q)).toEqual([]);
      expect(q).toContain(`project_id="${example.project}"`);
    }
  });

  it('measures windows in sweep intervals: last value over three, sweeps stopped after the same three', () => {
    const hourly = withScout('  schedule:\n    cron: "0 * * * *"');
    expect(hourly.scout.schedule.cron).toBe('0 * * * *');
    expect(lookback(hourly)).toBe('180m');
    const byId = Object.fromEntries(alertPolicies(hourly));
    expect(byId['below-minimum']!.conditions[0]!.conditionPrometheusQueryLanguage.query).toContain('[180m]');
    expect(byId['sweeps-stopped']!.conditions[0]!.conditionPrometheusQueryLanguage.query).toMatch(
      /^absent_over_time\(.*outcome!="stopped"\}\[180m\]\)$/,
    );
  });

  it('holds the failover alert for failoverProposalMaxMinutes, and the minimum in the below-minimum query', () => {
    const s = withMonitoring('  failoverProposalMaxMinutes: 45');
    const byId = Object.fromEntries(alertPolicies(s));
    expect(byId['failover-proposal-waiting']!.conditions[0]!.conditionPrometheusQueryLanguage.duration).toBe('2700s');
    expect(byId['failover-proposal-waiting']!.severity).toBe('CRITICAL');
    expect(byId['below-minimum']!.conditions[0]!.conditionPrometheusQueryLanguage.query).toMatch(
      new RegExp(`< ${s.placement.minServingRegions}$`),
    );
  });

  it('renders only what the spec asks for', () => {
    const off = renderTree(withMonitoring('  alerts: false\n  dashboard: false')).files;
    expect([...off.keys()].filter((f) => f.startsWith('fleet-config/monitoring/'))).toEqual([]);
    const noProbes = withScout('  probesPerSweep: 0');
    expect(noProbes.scout.probesPerSweep).toBe(0);
    expect(alertPolicies(noProbes).map(([id]) => id)).not.toContain('probe-budget-exhausted');
    expect(alertPolicies(example).map(([id]) => id)).toContain('evidence-near-budget');
    const gcs = withScout('  evidenceStore:\n    kind: gcs\n    bucket: sd-fleet-evidence');
    expect(alertPolicies(gcs).map(([id]) => id)).not.toContain('evidence-near-budget');
    expect(JSON.stringify(dashboard(gcs))).toContain('gpu_fleet_evidence_bytes');
  });

  it('refuses what the API refuses: evaluation intervals, empty or broken queries, tiles out of the grid', () => {
    const [, policy] = alertPolicies(example)[0]!;
    const cond = policy.conditions[0]!.conditionPrometheusQueryLanguage;
    const bad = (change: Partial<typeof cond>) =>
      monitoringFileProblems('alert-policy', {
        ...policy,
        conditions: [{ ...policy.conditions[0], conditionPrometheusQueryLanguage: { ...cond, ...change } }],
      });
    expect(bad({ evaluationInterval: '45s' }).join()).toMatch(/multiple of 30 seconds/);
    expect(bad({ evaluationInterval: '0s' }).join()).toMatch(/multiple of 30 seconds/);
    expect(bad({ query: '' }).join()).toMatch(/must not be empty/);
    expect(bad({ query: 'max(last_over_time(x[5m])' }).join()).toMatch(/not valid PromQL/);
    expect(monitoringFileProblems('alert-policy', { ...policy, severity: 'PAGE' }).join()).toMatch(/severity/);

    const board = dashboard(example) as { mosaicLayout: { tiles: Array<Record<string, number>> } };
    const tiles = board.mosaicLayout.tiles;
    const moved = (i: number, change: Record<string, number>) => ({
      ...board,
      mosaicLayout: { ...board.mosaicLayout, tiles: tiles.map((t, j) => (j === i ? { ...t, ...change } : t)) },
    });
    expect(monitoringFileProblems('dashboard', moved(1, { xPos: 10 })).join()).toMatch(/exceeds the 12 columns/);
    expect(monitoringFileProblems('dashboard', moved(2, { xPos: 0 })).join()).toMatch(/overlaps tile 1/);
  });
});
