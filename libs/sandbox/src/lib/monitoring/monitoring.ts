import { HttpError, googleError, type Handler } from '../http';
import { promqlMetricName } from '@gpu-fleet/fleet-spec';
import { alertFiring, evaluatePromql, parseDuration, type Sample, type Series } from './promql';

/**
 * Cloud Monitoring's projects.timeSeries.create, as far as the scout writes it, refusing what the
 * API refuses (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/create):
 * at most 200 time series per request, exactly one point each, a user-defined metric type under
 * custom.googleapis.com/ (or external.googleapis.com/), a value, an end time, and each point more
 * recent than the last one of its series, and one value type per metric: the first point
 * auto-creates the descriptor and fixes it ("the point's type must be the same as the value type of
 * the associated metric", google/api/metric.proto TimeSeries.points). Written series are kept for
 * tests and `npm start`.
 */
export interface RecordedPoint {
  type: string;
  labels: Record<string, string>;
  resource: string;
  /** The monitored resource's labels (project_id for `global`). */
  resourceLabels: Record<string, string>;
  valueType: 'INT64' | 'DOUBLE';
  endTime: string;
  value: number;
}

export class SandboxMonitoring {
  readonly points: RecordedPoint[] = [];
  private readonly last = new Map<string, string>();
  /** Auto-created descriptors: metric type → value type. */
  readonly valueTypes = new Map<string, 'INT64' | 'DOUBLE'>();

  latest(type: string, labels: Record<string, string> = {}): number | undefined {
    const key = seriesKey(type, labels);
    return [...this.points].reverse().find((p) => seriesKey(p.type, p.labels) === key)?.value;
  }

  /** Refuses a point not newer than its series' last one (checked for the whole request before any is kept). */
  check(p: RecordedPoint): void {
    const known = this.valueTypes.get(p.type);
    if (known && known !== p.valueType)
      throw new HttpError(
        400,
        `One or more TimeSeries could not be written: Value type for metric ${p.type} must be ${known}, but is ${p.valueType}.`,
      );
    const prev = this.last.get(seriesKey(p.type, p.labels));
    if (prev && Date.parse(p.endTime) <= Date.parse(prev))
      throw new HttpError(
        400,
        `One or more TimeSeries could not be written: Points must be written in order. One or more of the points specified had an older start time than the most recent point.: ${p.type}`,
      );
  }

  /**
   * The recorded series as Cloud Monitoring's PromQL sees them: the metric named by the
   * promql-mapping rules ("Replace the first / with :", every other special character with _,
   * https://cloud.google.com/monitoring/promql/promql-mapping), its labels, the resource's labels
   * and `monitored_resource`.
   */
  series(): Series[] {
    const bySeries = new Map<string, Series>();
    for (const p of this.points) {
      const key = `${seriesKey(p.type, p.labels)}|${p.resource}|${seriesKey('', p.resourceLabels)}`;
      const s = bySeries.get(key) ?? {
        labels: {
          ...p.resourceLabels,
          ...p.labels,
          monitored_resource: p.resource,
          __name__: promqlMetricName(p.type),
        },
        points: [],
      };
      s.points.push({ t: Date.parse(p.endTime), v: p.value });
      bySeries.set(key, s);
    }
    for (const s of bySeries.values()) s.points.sort((a, b) => a.t - b.t);
    return [...bySeries.values()];
  }

  /** An instant PromQL query over what was written, at `at`. */
  evaluate(query: string, at: Date): Sample[] {
    return evaluatePromql(query, at, this.series());
  }

  /** Whether a PromQL alert condition fires at `at` (its duration and evaluation interval honoured). */
  firing(condition: { query: string; duration: string; evaluationInterval: string }, at: Date): Sample[] {
    return alertFiring(
      condition.query,
      at,
      parseDuration(condition.duration),
      parseDuration(condition.evaluationInterval),
      this.series(),
    );
  }

  /** projects.timeSeries.create: all series of the request are written, or none (HttpError 400). */
  create(series: readonly WrittenSeries[]): void {
    const bad = (why: string) =>
      new HttpError(
        400,
        `One or more TimeSeries could not be written: ${why}`,
        googleError(400, `One or more TimeSeries could not be written: ${why}`, 'badRequest'),
      );
    if (!series.length) throw bad('timeSeries is empty');
    if (series.length > 200) throw bad(`${series.length} time series in one request; at most 200 are allowed`);
    const accepted: RecordedPoint[] = [];
    for (const s of series) {
      const type = s.metric?.type ?? '';
      if (!/^(custom|external)\.googleapis\.com\/[A-Za-z0-9_/.]+$/.test(type))
        throw bad(`metric type "${type}" is not a user-defined metric type`);
      if ((s.points ?? []).length !== 1)
        throw bad(`${type}: exactly one point per time series, got ${(s.points ?? []).length}`);
      const point = s.points![0]!;
      const end = point.interval?.endTime;
      if (!end || Number.isNaN(Date.parse(end))) throw bad(`${type}: the point has no valid interval.endTime`);
      const v = point.value?.int64Value !== undefined ? Number(point.value.int64Value) : point.value?.doubleValue;
      if (v === undefined || !Number.isFinite(v)) throw bad(`${type}: the point has no value`);
      for (const k of Object.keys(s.metric?.labels ?? {}))
        if (!/^[a-z][a-z0-9_]{0,99}$/.test(k)) throw bad(`${type}: label key "${k}" is not valid`);
      accepted.push({
        type,
        labels: s.metric?.labels ?? {},
        resource: s.resource?.type ?? 'global',
        resourceLabels: s.resource?.labels ?? {},
        valueType: point.value?.int64Value !== undefined ? 'INT64' : 'DOUBLE',
        endTime: end,
        value: v,
      });
    }
    for (const p of accepted) this.check(p);
    for (const p of accepted) this.record(p);
  }

  record(p: RecordedPoint): void {
    if (!this.valueTypes.has(p.type)) this.valueTypes.set(p.type, p.valueType);
    this.last.set(seriesKey(p.type, p.labels), p.endTime);
    this.points.push(p);
  }
}

const seriesKey = (type: string, labels: Record<string, string>) =>
  `${type}|${Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;

/** A TimeSeries as the REST API takes it (the fields the sandbox reads). */
export interface WrittenSeries {
  metric?: { type?: string; labels?: Record<string, string> };
  resource?: { type?: string; labels?: Record<string, string> };
  points?: Array<{ interval?: { endTime?: string }; value?: { int64Value?: string; doubleValue?: number } }>;
}

export function monitoringApi(store: SandboxMonitoring, project: string): Handler {
  return async ({ method, path, body }) => {
    const m = /^\/v3\/projects\/([^/]+)\/timeSeries$/.exec(path);
    if (method !== 'POST' || !m) throw new HttpError(404, `no route ${method} ${path}`);
    if (m[1] !== project)
      throw new HttpError(
        403,
        `Permission denied on resource project ${m[1]}.`,
        googleError(403, `Permission denied on resource project ${m[1]}.`, 'forbidden'),
      );
    store.create(((body as { timeSeries?: WrittenSeries[] } | undefined)?.timeSeries ?? []) as WrittenSeries[]);
    return { body: {} };
  };
}
