import type { monitoring_v3 } from 'googleapis/build/src/apis/monitoring/v3';
import { FLEET_METRIC_PREFIX } from '@gpu-fleet/fleet-spec';
import type { MetricPoint, MetricsPort } from '@gpu-fleet/scout-domain';
import type { CallPolicy } from '../policy/policy';

/**
 * A sweep's numbers as Cloud Monitoring custom metrics: `custom.googleapis.com/gpu_fleet/<name>`,
 * gauges on the `global` monitored resource, one point per series per sweep
 * (projects.timeSeries.create: "The new data point must be more recent than any other point in its
 * time series", at most 200 time series per request;
 * https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/create). Labels are few
 * and bounded (cluster, region), so the series count stays that of the fleet. Managed Service for
 * Prometheus reads them back as custom_googleapis_com:gpu_fleet_<name>
 * (https://cloud.google.com/monitoring/promql/promql-mapping).
 */
export const METRIC_PREFIX = FLEET_METRIC_PREFIX;
export const MAX_SERIES_PER_REQUEST = 200;

export function toTimeSeries(
  project: string,
  points: readonly MetricPoint[],
  at: Date,
): monitoring_v3.Schema$TimeSeries[] {
  return points.map((p) => ({
    metric: { type: `${METRIC_PREFIX}${p.name}`, labels: p.labels ?? {} },
    resource: { type: 'global', labels: { project_id: project } },
    metricKind: 'GAUGE',
    // Always DOUBLE: the first point auto-creates the descriptor with its value type and every later
    // point must match it ("the point's type must be the same as the value type of the associated
    // metric", google/api/metric.proto TimeSeries.points). A gauge such as the cost per hour that
    // is sometimes whole would otherwise be refused as soon as its type flipped ("Value type for
    // metric … must be INT64, but is DOUBLE", https://github.com/micrometer-metrics/micrometer/issues/2160).
    valueType: 'DOUBLE',
    points: [{ interval: { endTime: at.toISOString() }, value: { doubleValue: p.value } }],
  }));
}

export class CloudMonitoringMetrics implements MetricsPort {
  readonly destination: string;

  constructor(
    private readonly monitoring: monitoring_v3.Monitoring,
    private readonly project: string,
    private readonly policy: CallPolicy,
    /** The API root when not Google's (the sandbox). */
    private readonly rootUrl?: string,
  ) {
    this.destination = `Cloud Monitoring, project ${project}: ${METRIC_PREFIX}*`;
  }

  async write(points: readonly MetricPoint[], at: Date): Promise<void> {
    const series = toTimeSeries(this.project, points, at);
    for (let i = 0; i < series.length; i += MAX_SERIES_PER_REQUEST) {
      const batch = series.slice(i, i + MAX_SERIES_PER_REQUEST);
      await this.policy.run('monitoring', {}, (signal) =>
        this.monitoring.projects.timeSeries.create(
          { name: `projects/${this.project}`, requestBody: { timeSeries: batch } },
          { signal, ...(this.rootUrl ? { rootUrl: this.rootUrl } : {}) },
        ),
      );
    }
  }
}
