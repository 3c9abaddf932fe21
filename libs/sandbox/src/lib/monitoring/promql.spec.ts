import { alertFiring, evaluatePromql, parseDuration, PromqlError, type Series } from './promql';

const T = Date.parse('2026-12-01T12:00:00Z');
const min = (m: number) => T - m * 60_000;
const s = (name: string, labels: Record<string, string>, points: Array<[number, number]>): Series => ({
  labels: { __name__: name, monitored_resource: 'global', project_id: 'p', ...labels },
  points: points.map(([t, v]) => ({ t, v })),
});
const series = [
  s('m:serving', {}, [
    [min(45), 2],
    [min(25), 1],
    [min(5), 1],
  ]),
  s('m:cluster', { cluster: 'a', region: 'r1', gpu: 'l4' }, [[min(5), 1]]),
  s('m:cluster', { cluster: 'b', region: 'r1', gpu: 't4' }, [[min(5), 0]]),
  s('m:cluster', { cluster: 'c', region: 'r2', gpu: 'l4' }, [[min(25), 1]]),
  s('m:sweep', { outcome: 'proposed' }, [
    [min(50), 1],
    [min(30), 1],
  ]),
  s('m:sweep', { outcome: 'stopped' }, [[min(10), 1]]),
];
const at = new Date(T);
const values = (q: string, when = at) =>
  evaluatePromql(q, when, series)
    .map((x) => `${JSON.stringify(Object.fromEntries(Object.entries(x.labels).sort()))}=${x.value}`)
    .sort();

describe('sandbox PromQL (Prometheus semantics on recorded series)', () => {
  it('an instant selector looks back 5 minutes; last_over_time reaches past it', () => {
    expect(values('m:serving')).toEqual([]); // newest point is exactly 5 minutes old: outside (t-5m, t]
    expect(values('m:serving', new Date(T - 1000))).toHaveLength(1);
    expect(values('max(last_over_time(m:serving[40m]))')).toEqual(['{}=1']);
    expect(values('max_over_time(m:serving{project_id="p"}[60m])')).toEqual([
      '{"monitored_resource":"global","project_id":"p"}=2',
    ]);
  });

  it('filters by comparison with a scalar and matches labels with = != =~', () => {
    expect(values('max(last_over_time(m:serving[40m])) < 2')).toEqual(['{}=1']);
    expect(values('max(last_over_time(m:serving[40m])) < 1')).toEqual([]);
    expect(values('last_over_time(m:cluster{region=~"r1|r3",gpu!="t4"}[10m])')).toEqual([
      '{"cluster":"a","gpu":"l4","monitored_resource":"global","project_id":"p","region":"r1"}=1',
    ]);
  });

  it('aggregates by and without labels', () => {
    expect(values('sum by (region) (last_over_time(m:cluster[40m]))')).toEqual([
      '{"region":"r1"}=1',
      '{"region":"r2"}=1',
    ]);
    expect(values('count without (cluster, gpu, region) (last_over_time(m:cluster[40m]))')).toEqual([
      '{"monitored_resource":"global","project_id":"p"}=3',
    ]);
  });

  it('absent_over_time: 1 with the equality labels when nothing matched, empty otherwise', () => {
    expect(values('absent_over_time(m:sweep{project_id="p",outcome!="stopped"}[20m])')).toEqual([
      '{"project_id":"p"}=1',
    ]);
    expect(values('absent_over_time(m:sweep{outcome!="stopped"}[60m])')).toEqual([]);
  });

  it('or fills in where the left side has no series; arithmetic with time()', () => {
    expect(values('sum(count_over_time(m:sweep{outcome="none"}[1h])) or vector(0)')).toEqual(['{}=0']);
    expect(values('sum(count_over_time(m:sweep[1h])) or vector(0)')).toEqual(['{}=3']);
    expect(values('(time() - 60) / 60')).toEqual([`{}=${(T / 1000 - 60) / 60}`]);
  });

  it('refuses syntax errors and what it does not evaluate, instead of answering empty', () => {
    expect(() => evaluatePromql('max(', at, series)).toThrow(PromqlError);
    expect(() => evaluatePromql('rate(m:sweep[5m])', at, series)).toThrow(/does not evaluate/);
    expect(() => evaluatePromql('1 < 2', at, series)).toThrow(/bool modifier/);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(() => parseDuration('5x')).toThrow(/not a duration/);
  });

  it('an alert fires only when its query held at every evaluation over its duration', () => {
    const q = 'max(last_over_time(m:serving[40m])) < 2';
    // serving fell to 1 at min(25): true from then on.
    expect(alertFiring(q, at, 20 * 60_000, 60_000, series)).toHaveLength(1);
    expect(alertFiring(q, at, 30 * 60_000, 60_000, series)).toEqual([]);
    expect(alertFiring(q, at, 0, 60_000, series)).toHaveLength(1);
  });
});
