import { EXAMPLE_FLEET_YAML, loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { alertPolicies } from '@gpu-fleet/manifests';
import { SandboxMonitoring, type WrittenSeries } from '@gpu-fleet/sandbox';
import { factsToMetricPoints, fleetFacts, type ClusterHealth } from '@gpu-fleet/scout-decide';
import { EvidenceLedger } from '@gpu-fleet/scout-domain';
import { toTimeSeries } from '@gpu-fleet/scout-gcp';

/**
 * The rendered alert policies, evaluated (sandbox PromQL) over the time series that sweeps write:
 * the facts a sweep computes → the metric points → the REST TimeSeries the Cloud Monitoring adapter
 * sends → the sandbox's timeSeries.create. A wrong metric name, label or window in a query, or a
 * point the writer stopped sending, shows up as an alert that does not fire here.
 */
const T0 = Date.parse('2026-12-01T06:00:00Z'); // early in a UTC day, after the probes below
const minutes = (m: number) => new Date(T0 + m * 60_000);

interface Sweep {
  bad?: string[];
  proposalOpen?: boolean;
  outcome?: 'proposed' | 'nothing-to-propose' | 'stopped';
  ledger?: EvidenceLedger;
  budgetBytes?: number | null;
}

class Fleet {
  readonly monitoring = new SandboxMonitoring();
  readonly policies: Map<string, { query: string; duration: string; evaluationInterval: string }>;
  constructor(readonly spec: FleetSpec) {
    this.policies = new Map(
      alertPolicies(spec).map(([id, p]) => [id, p.conditions[0]!.conditionPrometheusQueryLanguage]),
    );
  }
  sweep(at: Date, s: Sweep = {}): void {
    const health = this.spec.clusters.map(
      (c) => ({ cluster: c.name, health: s.bad?.includes(c.name) ? 'bad' : 'good', readyReplicas: 1 }) as ClusterHealth,
    );
    const facts = fleetFacts(this.spec, health, s.ledger ?? new EvidenceLedger(), at, s.budgetBytes ?? null);
    const points = factsToMetricPoints(
      facts,
      { outcome: s.outcome ?? 'nothing-to-propose', proposalOpen: s.proposalOpen ?? false },
      at,
    );
    this.monitoring.create(toTimeSeries(this.spec.project, points, at) as WrittenSeries[]);
  }
  /** Sweeps every interval from `from` to `to` minutes (inclusive). */
  sweeps(from: number, to: number, s: Sweep = {}): void {
    for (let m = from; m <= to; m += 20) this.sweep(minutes(m), s);
  }
  firing(at: Date): string[] {
    return [...this.policies]
      .filter(([, c]) => this.monitoring.firing(c, at).length)
      .map(([id]) => id)
      .sort();
  }
}

const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec; // sweeps every 20 min, minimum 2 regions, 60-min failover page
const [a, b] = spec.clusters.filter((c) => c.mode === 'active').map((c) => c.name);

describe('alert policies over the metrics sweeps write (sandbox Cloud Monitoring)', () => {
  it('a healthy fleet sweeping on schedule fires nothing', () => {
    const f = new Fleet(spec);
    f.sweeps(0, 240);
    for (const m of [60, 130, 240, 250]) expect(f.firing(minutes(m))).toEqual([]);
  });

  it('a region lost: below the minimum at the next sweep; with a proposal waiting, a page after failoverProposalMaxMinutes', () => {
    const f = new Fleet(spec);
    f.sweeps(0, 60);
    f.sweeps(80, 240, { bad: [a!], proposalOpen: true, outcome: 'proposed' });
    expect(f.firing(minutes(70))).toEqual([]);
    expect(f.firing(minutes(81))).toEqual(['below-minimum']);
    // the condition has held 60 minutes by 140: pending before, firing after
    expect(f.firing(minutes(139))).toEqual(['below-minimum']);
    expect(f.firing(minutes(141))).toEqual(['below-minimum', 'failover-proposal-waiting']);
  });

  it('every region lost: no serving region, critical', () => {
    const f = new Fleet(spec);
    f.sweeps(0, 40, { bad: [a!, b!] });
    expect(f.firing(minutes(41))).toEqual(['below-minimum', 'no-serving-region']);
  });

  it('the scout stops: sweeps-stopped after three intervals without a completed sweep, and the rest go quiet', () => {
    const f = new Fleet(spec);
    f.sweeps(0, 100, { bad: [a!] });
    expect(f.firing(minutes(101))).toEqual(['below-minimum']);
    // 59 min since the last sweep: its last value still counts (the queries look back 3 intervals)…
    expect(f.firing(minutes(159))).toEqual(['below-minimum']);
    // …and past 60 min (3 × 20) sweeps-stopped takes over: no gap in which nothing fires.
    expect(f.firing(minutes(161))).toEqual(['sweeps-stopped']);
  });

  it('sweeps that run but stop before deciding count as stopped', () => {
    const f = new Fleet(spec);
    f.sweeps(0, 20);
    f.sweeps(40, 200, { outcome: 'stopped' });
    expect(f.firing(minutes(60))).toEqual([]);
    expect(f.firing(minutes(81))).toEqual(['sweeps-stopped']);
  });

  it('the probe budget used up, and the evidence near its ConfigMap budget, warn', () => {
    const f = new Fleet(spec);
    const ledger = new EvidenceLedger(
      Array.from({ length: spec.scout.probeBudget.maxProbesPerDay }, (_, i) => ({
        source: 'probe' as const,
        region: 'us-east4',
        zone: null,
        gpu: 'nvidia-l4',
        spot: false,
        outcome: 'success' as const,
        at: new Date(T0 - (i + 1) * 60_000).toISOString(),
        details: `probe ${i} ${'x'.repeat(200)}`,
      })),
    );
    f.sweep(minutes(0), { ledger, budgetBytes: 1_000_000 });
    expect(f.firing(minutes(1))).toEqual(['probe-budget-exhausted']);
    f.sweep(minutes(20), { ledger, budgetBytes: 1000 });
    expect(f.firing(minutes(21))).toEqual(['evidence-near-budget', 'probe-budget-exhausted']);
  });
});
