import type { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import type { BacktestResult } from './backtest';

/*
 * The HTML report: one self-contained file (inline SVG rendered here with Vega-Lite, nothing fetched
 * when it is viewed). Vega and Vega-Lite 5 are the last majors that load with require(), which the
 * CLI's synchronous loader and jest need; they are loaded only when a report is written.
 */
type VegaLite = typeof import('vega-lite');
type Vega = typeof import('vega');

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

async function svg(spec: object): Promise<string> {
  const vl = require('vega-lite') as VegaLite;
  const vega = require('vega') as Vega;
  // Warnings go nowhere: the report is written by a CLI whose output may be JSON.
  const quiet = { level: () => quiet, error: () => quiet, warn: () => quiet, info: () => quiet, debug: () => quiet };
  const compiled = vl.compile(spec as Parameters<VegaLite['compile']>[0], { logger: quiet as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const fixed = (x: number | null, d = 0) => (x === null ? '—' : x.toFixed(d));

/** Rows of the summary table, in the JSON's units (fractions shown as percentages with 2 decimals). */
export function reportRows(r: Pick<BacktestResult, 'policies'>): string[][] {
  return r.policies.map((p) => [
    p.name,
    pct(p.availability),
    pct(p.targetReadyShare),
    pct(p.minServingAvailability),
    String(p.outages),
    String(p.outageMinutes),
    fixed(p.restoreP50Minutes),
    fixed(p.restoreP95Minutes),
    fixed(p.gpuHours, 1),
    fixed(p.cost, 2),
    `${fixed(p.costBreakdown.gpu, 0)} / ${fixed(p.costBreakdown.clusterFees, 0)} / ${fixed(p.costBreakdown.probes, 0)} / ${fixed(p.costBreakdown.controller, 0)}`,
    String(p.changes),
    String(p.pullRequests),
    String(p.probeGpuMinutes),
  ]);
}

export const REPORT_COLUMNS = [
  'policy',
  'availability',
  'target ready',
  'min serving',
  'outages',
  'outage minutes',
  'restore p50 (min)',
  'restore p95 (min)',
  'GPU hours',
  'cost (USD)',
  'GPU / clusters / probes / controller',
  'changes',
  'pull requests',
  'probe GPU minutes',
];

/** Rows of the users' table (demand runs only): what the policies' fleets meant for generations. */
export function demandRows(r: Pick<BacktestResult, 'policies'>): string[][] {
  return r.policies
    .filter((p) => p.demand)
    .map((p) => {
      const d = p.demand!;
      return [
        p.name,
        String(d.generations),
        pct(d.generations ? d.served / d.generations : 1),
        String(d.failedNoRegion + d.timedOut),
        fixed(d.waitP50Minutes),
        fixed(d.waitP95Minutes),
        pct(d.remoteShare),
        String(d.coldStarts),
        fixed(d.coldWaitP50Minutes),
        fixed(d.coldWaitP95Minutes),
        String(d.cutByScaleDown),
        String(d.cutByNodeLoss),
      ];
    });
}

export const DEMAND_COLUMNS = [
  'policy',
  'generations',
  'served',
  'failed',
  'wait p50 (min)',
  'wait p95 (min)',
  'served remotely',
  'cold starts',
  'cold wait p50 (min)',
  'cold wait p95 (min)',
  'cut by scale-down',
  'cut by node loss',
];

const htmlTable = (id: string, columns: string[], rows: string[][]) =>
  `<table id="${id}"><thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>
${rows
  .map(
    (row) =>
      `<tr>${row.map((c, i) => (i === 0 ? `<th>${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`,
  )
  .join('\n')}
</tbody></table>`;

const CHART_WIDTH = 1000;

/**
 * When each policy's URL was up (one lane per policy, on top), then per candidate region its
 * capacity and each policy's serving time there.
 */
function timelineSpec(r: BacktestResult): object {
  const t0 = Date.parse(r.period.start);
  const at = (m: number) => t0 + m * 60_000;
  const policies = Object.keys(r.timelines.serving);
  const tracks = ['capacity', ...policies.map((p) => `${p} serving`)];
  const upLane = policies.flatMap((policy) =>
    (r.timelines.up[policy] ?? []).map(([a, b]) => ({
      region: 'URL up',
      track: `${policy} serving`,
      from: at(a),
      to: at(b),
    })),
  );
  const values = [
    ...upLane,
    ...r.timelines.regions.flatMap((region) => [
      ...r.timelines.capacity[region]!.map(([a, b]) => ({ region, track: 'capacity', from: at(a), to: at(b) })),
      ...Object.entries(r.timelines.serving).flatMap(([policy, byRegion]) =>
        byRegion[region]!.map(([a, b]) => ({ region, track: `${policy} serving`, from: at(a), to: at(b) })),
      ),
    ]),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'When the URL was up (each policy), then capacity and serving per candidate region',
    data: { values },
    facet: {
      row: {
        field: 'region',
        type: 'nominal',
        title: null,
        sort: ['URL up', ...r.timelines.regions],
        header: { labelAngle: 0, labelAlign: 'left' },
      },
    },
    spec: {
      width: CHART_WIDTH - 260,
      height: 14 * tracks.length,
      mark: { type: 'bar', height: 10 },
      encoding: {
        x: { field: 'from', type: 'temporal', title: null, axis: { format: '%b %d', labelOverlap: true } },
        x2: { field: 'to' },
        y: { field: 'track', type: 'nominal', title: null, sort: tracks },
        color: { field: 'track', type: 'nominal', title: null, legend: { orient: 'top', columns: 4 } },
      },
    },
    resolve: { scale: { y: 'independent' } },
    config: { view: { stroke: null } },
  };
}

/** Cost against availability: each policy a point, the foresight GPU cost floor a rule. */
function scatterSpec(r: BacktestResult): object {
  const points = r.policies.map((p) => ({ policy: p.name, cost: p.cost, availability: p.availability }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Cost against availability (the rule: the foresight GPU cost floor)',
    width: CHART_WIDTH - 300,
    height: 320,
    layer: [
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 90 },
        encoding: {
          x: { field: 'cost', type: 'quantitative', title: 'cost (USD)', scale: { zero: true } },
          y: { field: 'availability', type: 'quantitative', title: 'URL availability', axis: { format: '.1%' } },
          color: { field: 'policy', type: 'nominal', title: null },
        },
      },
      {
        data: { values: points },
        mark: { type: 'text', dx: 8, align: 'left', fontSize: 11 },
        encoding: {
          x: { field: 'cost', type: 'quantitative' },
          y: { field: 'availability', type: 'quantitative' },
          text: { field: 'policy' },
        },
      },
      {
        data: { values: [{ floor: r.oracle.foresightCostFloor }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#555' },
        encoding: { x: { field: 'floor', type: 'quantitative' } },
      },
    ],
  };
}

/** The candidate regions on a world map, sized by how long the scout (or the first policy) served there. */
function mapSpec(r: BacktestResult, catalog: GpuCatalog): object {
  const land = require('world-atlas/land-110m.json') as object;
  const policy = r.timelines.serving['scout'] ? 'scout' : Object.keys(r.timelines.serving)[0];
  const points = r.timelines.regions.map((region) => {
    const info = catalog.region(region);
    const served = policy ? r.timelines.serving[policy]![region]!.reduce((s, [a, b]) => s + (b - a), 0) : 0;
    const capacity = r.timelines.capacity[region]!.reduce((s, [a, b]) => s + (b - a), 0);
    return {
      region,
      latitude: info?.latitude ?? 0,
      longitude: info?.longitude ?? 0,
      servedShare: served / r.period.minutes,
      capacityShare: capacity / r.period.minutes,
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Candidate regions (size: share of time ${policy ?? ''} served there)`,
    width: CHART_WIDTH - 100,
    height: 450,
    projection: { type: 'equalEarth' },
    layer: [
      {
        data: { values: land, format: { type: 'topojson', feature: 'land' } },
        mark: { type: 'geoshape', fill: '#e5e5e5', stroke: '#bbb' },
      },
      {
        data: { values: points },
        mark: { type: 'circle', opacity: 0.8, stroke: '#333' },
        encoding: {
          longitude: { field: 'longitude', type: 'quantitative' },
          latitude: { field: 'latitude', type: 'quantitative' },
          size: {
            field: 'servedShare',
            type: 'quantitative',
            scale: { domain: [0, 1], range: [30, 900] },
            title: 'served',
          },
          color: {
            field: 'capacityShare',
            type: 'quantitative',
            scale: { domain: [0, 1], scheme: 'redyellowgreen' },
            title: 'capacity',
          },
        },
      },
      {
        data: { values: points },
        mark: { type: 'text', dy: -14, fontSize: 11 },
        encoding: {
          longitude: { field: 'longitude', type: 'quantitative' },
          latitude: { field: 'latitude', type: 'quantitative' },
          text: { field: 'region' },
        },
      },
    ],
  };
}

/** The report as one HTML document: summary table, timelines, map, and the result as JSON. */
export async function renderReport(r: BacktestResult, catalog: GpuCatalog): Promise<string> {
  const [timeline, scatter, map] = await Promise.all([
    svg(timelineSpec(r)),
    svg(scatterSpec(r)),
    svg(mapSpec(r, catalog)),
  ]);
  const { timelines: _timelines, ...summary } = r;
  const users = demandRows(r);
  const t = r.period.timeline;
  const knobs = Object.entries(t)
    .map(([k, v]) => `<li><code>${escapeHtml(k)}</code>: ${escapeHtml(String(v))}</li>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>gpu-fleet backtest</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 1320px; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 13px; }
th, td { padding: .25rem .45rem; border-bottom: 1px solid #ddd; text-align: right; }
thead th { vertical-align: bottom; max-width: 7rem; }
figure { margin: 1rem 0; max-width: 100%; overflow: hidden; }
figure svg { max-width: 100%; height: auto; }
tr th:first-child { text-align: left; }
.note { color: #555; }
</style>
</head>
<body>
<h1>Backtest: where could the app run?</h1>
<p class="note">${escapeHtml(r.period.days.toFixed(1))} days from ${escapeHtml(r.period.start)}; ${escapeHtml(r.period.capacity)}; ${escapeHtml(t.provisioning)}; seed ${r.period.seed}.
Oracles: some candidate zone has spot capacity <strong id="oracle">${escapeHtml(pct(r.oracle.availability))}</strong>; with the node and app start delay <strong id="oracle-start">${escapeHtml(pct(r.oracle.withStartDelay.all))}</strong>; foresight GPU cost floor <strong id="floor">$${escapeHtml(r.oracle.foresightCostFloor.toFixed(0))}</strong>.</p>
${htmlTable('summary', REPORT_COLUMNS, reportRows(r))}
${
  users.length
    ? `<h2>Users</h2>
<p class="note">${escapeHtml(r.period.demand ?? '')}. Waits: minutes from sending a generation to it starting; cold starts: a region at zero woken by demand, minutes from the demand to the region serving (the warm regions serve meanwhile).</p>
${htmlTable('users', DEMAND_COLUMNS, users)}`
    : ''
}
<h2>Cost and availability</h2>
<figure id="scatter">${scatter}</figure>
<h2>Timeline</h2>
<figure id="timeline">${timeline}</figure>
<h2>Map</h2>
<figure id="map">${map}</figure>
<h2>Delays used</h2>
<ul>${knobs}</ul>
<script type="application/json" id="result">${JSON.stringify(summary).replace(/</g, '\\u003c')}</script>
</body>
</html>
`;
}
