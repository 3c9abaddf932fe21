import { CallPolicy } from '../../index';
import { harness, T0, type Harness } from '../../test/harness';
import { CloudMonitoringMetrics, METRIC_PREFIX, toTimeSeries } from './metrics';

jest.setTimeout(60_000);

/** The sweep's numbers through Google's Cloud Monitoring client, against the sandbox's timeSeries.create. */
describe('CloudMonitoringMetrics', () => {
  let h: Harness;
  const policy = new CallPolicy({ retries: 0 });
  const writer = () =>
    new CloudMonitoringMetrics(
      h.adapters.clients.monitoring,
      h.spec.project,
      policy,
      h.adapters.clients.monitoringRoot,
    );
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  it('writes one DOUBLE gauge point per series on the global resource, whole numbers included', async () => {
    await writer().write(
      [
        { name: 'serving_regions', value: 2 },
        { name: 'evidence_budget_share', value: 0.42 },
        { name: 'cluster_serving', value: 1, labels: { cluster: 'sd-us-central1', region: 'us-central1' } },
      ],
      T0,
    );
    const rec = h.sandbox.monitoring;
    expect(rec.latest(`${METRIC_PREFIX}serving_regions`)).toBe(2);
    expect(rec.latest(`${METRIC_PREFIX}evidence_budget_share`)).toBe(0.42);
    expect(rec.latest(`${METRIC_PREFIX}cluster_serving`, { cluster: 'sd-us-central1', region: 'us-central1' })).toBe(1);
    expect(rec.points.every((p) => p.valueType === 'DOUBLE' && p.resourceLabels['project_id'] === h.spec.project)).toBe(
      true,
    );
    // A gauge that is whole in one sweep and fractional in the next keeps one value type.
    await writer().write([{ name: 'gpu_cost_per_hour', value: 2 }], T0);
    await writer().write([{ name: 'gpu_cost_per_hour', value: 2.35 }], new Date(T0.getTime() + 60_000));
    expect(rec.latest(`${METRIC_PREFIX}gpu_cost_per_hour`)).toBe(2.35);
    expect(toTimeSeries('p', [{ name: 'x', value: 0.5 }], T0)[0]).toMatchObject({
      metricKind: 'GAUGE',
      valueType: 'DOUBLE',
      resource: { type: 'global', labels: { project_id: 'p' } },
      points: [{ interval: { endTime: T0.toISOString() }, value: { doubleValue: 0.5 } }],
    });
  });

  it('the API refuses a point not newer than its series’ last, and a request of more than 200 series is split', async () => {
    const w = writer();
    await w.write([{ name: 'serving_regions', value: 2 }], T0);
    await expect(w.write([{ name: 'serving_regions', value: 3 }], T0)).rejects.toThrow(
      /Points must be written in order/,
    );
    expect(h.sandbox.monitoring.latest(`${METRIC_PREFIX}serving_regions`)).toBe(2);
    const many = Array.from({ length: 450 }, (_, i) => ({
      name: 'cluster_serving',
      value: 1,
      labels: { cluster: `c${i}` },
    }));
    await w.write(many, new Date(T0.getTime() + 60_000));
    const posts = h.sandbox.requests.filter((r) => r.api === 'monitoring' && r.status === 200);
    expect(posts).toHaveLength(1 + 3);
  });

  it('the sandbox refuses what Cloud Monitoring refuses: no user-defined type, more than one point, 201 series, a value type change', async () => {
    const post = (body: unknown) =>
      fetch(`${h.sandbox.endpoints.monitoring}/v3/projects/${h.spec.project}/timeSeries`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.sandbox.accessToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const point = { interval: { endTime: T0.toISOString() }, value: { int64Value: '1' } };
    const bad = await post({
      timeSeries: [{ metric: { type: 'compute.googleapis.com/instance/up' }, points: [point] }],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /not a user-defined metric type/,
    );
    const two = await post({ timeSeries: [{ metric: { type: `${METRIC_PREFIX}x` }, points: [point, point] }] });
    expect(two.status).toBe(400);
    const series = Array.from({ length: 201 }, (_, i) => ({
      metric: { type: `${METRIC_PREFIX}x`, labels: { i: String(i) } },
      points: [point],
    }));
    expect((await post({ timeSeries: series })).status).toBe(400);
    expect(h.sandbox.monitoring.points).toEqual([]);
    // The first point fixes the auto-created descriptor's value type.
    expect((await post({ timeSeries: [{ metric: { type: `${METRIC_PREFIX}y` }, points: [point] }] })).status).toBe(200);
    const later = { interval: { endTime: new Date(T0.getTime() + 60_000).toISOString() }, value: { doubleValue: 1.5 } };
    const flipped = await post({ timeSeries: [{ metric: { type: `${METRIC_PREFIX}y` }, points: [later] }] });
    expect(flipped.status).toBe(400);
    expect(((await flipped.json()) as { error: { message: string } }).error.message).toMatch(
      /Value type for metric custom\.googleapis\.com\/gpu_fleet\/y must be INT64, but is DOUBLE/,
    );
  });
});
