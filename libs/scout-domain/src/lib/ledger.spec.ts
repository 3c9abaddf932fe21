import { EvidenceLedger, fitSnapshot, LedgerSnapshotSchema, snapshotBytes } from './ledger';
import { ProbeBudget } from './probe-budget';
import type { Observation } from './types';

const t0 = new Date('2026-11-23T12:00:00Z');
const minutes = (m: number) => new Date(t0.getTime() + m * 60_000);
const obs = (outcome: Observation['outcome'], at: Date, extra: Partial<Observation> = {}): Observation => ({
  source: 'probe',
  region: 'us-central1',
  zone: 'us-central1-a',
  gpu: 'nvidia-l4',
  spot: false,
  outcome,
  at: at.toISOString(),
  details: outcome,
  ...extra,
});
const key = { region: 'us-central1', gpu: 'nvidia-l4', spot: false };

describe('EvidenceLedger decay', () => {
  it('a stockout halves its weight every 30 minutes', () => {
    const l = new EvidenceLedger([obs('stockout', t0)]);
    expect(l.evidenceFor(key, t0).stockoutWeight).toBeCloseTo(1);
    expect(l.evidenceFor(key, minutes(30)).stockoutWeight).toBeCloseTo(0.5);
    expect(l.evidenceFor(key, minutes(90)).stockoutWeight).toBeCloseTo(0.125);
  });

  it('a success fades over hours, a quota limit over a day', () => {
    const l = new EvidenceLedger([
      obs('success', t0),
      obs('quota', t0, { source: 'quota', details: 'NVIDIA_L4_GPUS: limit 0' }),
    ]);
    const at2h = l.evidenceFor(key, minutes(120));
    expect(at2h.capacity).toBeCloseTo(0.5);
    expect(at2h.quotaWeight).toBeCloseTo(0.5 ** (120 / 1440));
  });

  it('recent stockouts outweigh an older success', () => {
    const l = new EvidenceLedger([obs('success', t0), obs('stockout', minutes(100)), obs('stockout', minutes(110))]);
    expect(l.evidenceFor(key, minutes(115)).capacity).toBeLessThan(0);
    // ... and a fresh success after the stockouts fade wins again
    l.add(obs('success', minutes(300)));
    expect(l.evidenceFor(key, minutes(300)).capacity).toBeGreaterThan(0.5);
  });

  it('knows nothing without observations, and ignores the future', () => {
    const l = new EvidenceLedger([obs('success', minutes(10))]);
    expect(l.evidenceFor(key, t0)).toMatchObject({ capacity: 0, confidence: 0, lastSeen: null });
  });

  it('keys evidence by region, GPU and spot', () => {
    const l = new EvidenceLedger([
      obs('success', t0),
      obs('stockout', t0, { spot: true }),
      obs('stockout', t0, { region: 'europe-west4' }),
    ]);
    expect(l.query(t0).map((e) => [e.region, e.spot, Math.sign(e.capacity)])).toEqual([
      ['europe-west4', false, -1],
      ['us-central1', false, 1],
      ['us-central1', true, -1],
    ]);
  });

  it('records the same event once, even when seen by several sweeps', () => {
    const l = new EvidenceLedger();
    expect(l.add(obs('stockout', t0), obs('stockout', t0))).toBe(1);
    expect(l.add(obs('stockout', t0))).toBe(0);
    expect(l.all()).toHaveLength(1);
  });

  it('compacts: forgets decayed observations and bounds its size, newest kept', () => {
    const many = Array.from({ length: 50 }, (_, i) => obs('success', minutes(i), { details: `probe ${i}` }));
    const l = new EvidenceLedger([...many, obs('transient', t0, { details: 'old blip' })], { maxObservations: 10 });
    const snap = l.snapshot(minutes(200));
    expect(snap.observations).toHaveLength(10);
    expect(snap.observations.map((o) => o.details)).toEqual(Array.from({ length: 10 }, (_, i) => `probe ${40 + i}`));
    expect(LedgerSnapshotSchema.parse(snap)).toEqual(snap);
  });
});

describe('EvidenceLedger.merge: two writers of one store', () => {
  it("keeps both writers' observations once each and both sweep histories in time order", () => {
    const shared = obs('success', minutes(0));
    const a = new EvidenceLedger([shared, obs('stockout', minutes(5), { region: 'europe-west4' })]);
    a.recordSweep({ id: 's10', at: minutes(10).toISOString(), clusters: [] });
    const b = new EvidenceLedger([shared, obs('quota', minutes(7), { region: 'asia-northeast1' })]);
    b.recordSweep({ id: 's5', at: minutes(5).toISOString(), clusters: [] });
    b.recordSweep({ id: 's10', at: minutes(10).toISOString(), clusters: [] });
    a.merge(b.snapshot(minutes(10)));
    expect(
      a
        .all()
        .map((o) => o.region)
        .sort(),
    ).toEqual(['asia-northeast1', 'europe-west4', 'us-central1']);
    expect(a.sweeps().map((s) => s.id)).toEqual(['s5', 's10']);
    // Merging the same snapshot again changes nothing.
    const before = a.snapshot(minutes(10));
    a.merge(b.snapshot(minutes(10)));
    expect(a.snapshot(minutes(10))).toEqual(before);
  });
});

describe('ProbeBudget', () => {
  it('charges probes and GPU-minutes per UTC day', () => {
    const b = new ProbeBudget({ maxProbesPerDay: 2, maxGpuMinutesPerDay: 25 });
    expect(b.tryCharge(t0, 10)).toEqual({ ok: true });
    expect(b.tryCharge(t0, 20)).toEqual({ ok: false, reason: 'daily GPU-minute budget left 15 < 20 needed' });
    expect(b.tryCharge(t0, 10)).toEqual({ ok: true });
    expect(b.tryCharge(t0, 1)).toEqual({ ok: false, reason: 'daily probe budget spent (2 probes)' });
    expect(b.tryCharge(new Date('2026-11-24T00:00:01Z'), 10)).toEqual({ ok: true });
  });

  it('rebuilds today’s spending from the ledger after a restart', () => {
    const b = ProbeBudget.fromObservations(
      { maxProbesPerDay: 3, maxGpuMinutesPerDay: 100 },
      [obs('success', t0), obs('stockout', t0), obs('quota', t0, { source: 'quota' })],
      10,
    );
    expect(b.remaining(t0)).toEqual({ probes: 1, gpuMinutes: 80 });
  });
});

describe('EvidenceLedger within a byte budget (a ConfigMap holds at most 1 MiB)', () => {
  const quota = (at: Date, details = 'NVIDIA_L4_GPUS: limit 1, usage 1') =>
    obs('quota', at, { source: 'quota', zone: null, details, sweepId: at.toISOString() });

  it('a quota condition seen every sweep stays one observation: the latest sighting, since the first', () => {
    const l = new EvidenceLedger();
    for (let i = 0; i < 72; i++) l.add(quota(minutes(20 * i)));
    expect(l.all()).toHaveLength(1);
    expect(l.all()[0]).toMatchObject({ at: minutes(20 * 71).toISOString(), since: t0.toISOString() });
    // it stays fresh: full weight at the last sighting
    expect(l.evidenceFor(key, minutes(20 * 71)).quotaWeight).toBeCloseTo(1);
    // new numbers are news: recorded
    l.add(quota(minutes(20 * 72), 'NVIDIA_L4_GPUS: limit 2, usage 1'));
    expect(l.all()).toHaveLength(2);
    // probes and passive stockouts are not coalesced (their repetitions are what the evidence weighs)
    l.add(obs('stockout', minutes(1)), obs('stockout', minutes(21)));
    expect(l.all().filter((o) => o.outcome === 'stockout')).toHaveLength(2);
  });

  it('coalescing survives a save and a reload', () => {
    const l = new EvidenceLedger([quota(t0)]);
    l.add(quota(minutes(20)));
    const reloaded = EvidenceLedger.fromSnapshot(
      LedgerSnapshotSchema.parse(JSON.parse(JSON.stringify(l.snapshot(minutes(20))))),
    );
    reloaded.add(quota(minutes(40)));
    expect(reloaded.all()).toEqual([
      expect.objectContaining({ since: t0.toISOString(), at: minutes(40).toISOString() }),
    ]);
  });

  it('fitSnapshot keeps the newest observations and stays within the budget', () => {
    const many = Array.from({ length: 400 }, (_, i) =>
      obs('stockout', minutes(i), { source: 'passive', details: `FailedScaleUp ${i} ${'x'.repeat(100)}` }),
    );
    const snapshot = new EvidenceLedger(many).snapshot(minutes(400));
    const full = snapshotBytes(snapshot);
    for (const budget of [full, full - 1, 20_000, 3_000]) {
      const fitted = fitSnapshot(snapshot, budget);
      expect(snapshotBytes(fitted)).toBeLessThanOrEqual(budget);
      // a suffix in time: the oldest went first
      const kept = fitted.observations.length;
      expect(fitted.observations).toEqual(snapshot.observations.slice(snapshot.observations.length - kept));
      // and no more was dropped than needed: one more observation would not fit
      if (kept < snapshot.observations.length)
        expect(
          snapshotBytes({
            ...fitted,
            observations: snapshot.observations.slice(snapshot.observations.length - kept - 1),
          }),
        ).toBeGreaterThan(budget);
    }
    expect(fitSnapshot(snapshot, full)).toBe(snapshot);
    const l = new EvidenceLedger(many, { maxBytes: 20_000 });
    expect(snapshotBytes(l.snapshot(minutes(400)))).toBeLessThanOrEqual(20_000);
  });
});

describe('EvidenceLedger: the learned uptime (one-day half-life)', () => {
  it('is 0.5 with nothing known and moves only part-way on one sighting', () => {
    expect(new EvidenceLedger([]).evidenceFor(key, t0).uptime).toBe(0.5);
    const once = new EvidenceLedger([obs('success', t0)]).evidenceFor(key, t0);
    expect(once.uptime).toBeCloseTo(2 / 3);
    expect(once.uptimeWeight).toBeCloseTo(1);
  });

  it('weighs a stockout and a success alike, however short-lived their own half-lives', () => {
    // Six hours later the stockout says nothing about capacity now, but still as much as the success about uptime.
    const l = new EvidenceLedger([obs('stockout', t0), obs('success', t0, { details: 'ok' })]);
    const e = l.evidenceFor(key, minutes(360));
    expect(e.stockoutWeight).toBeLessThan(0.001);
    expect(e.uptime).toBeCloseTo(0.5);
    expect(e.uptimeWeight).toBeCloseTo(2 * 0.5 ** (360 / (24 * 60)));
  });

  it("a serving cluster's own successes teach the uptime, not the current capacity", () => {
    const passive = Array.from({ length: 6 }, (_, i) =>
      obs('success', minutes(i * 20), { source: 'passive', details: `ready ${i}` }),
    );
    const e = new EvidenceLedger([...passive, obs('stockout', minutes(101), { source: 'passive' })]).evidenceFor(
      key,
      minutes(102),
    );
    expect(e.capacity).toBeLessThan(0);
    expect(e.uptime).toBeGreaterThan(0.7);
  });

  it('compaction keeps what the uptime still weighs (four half-lives), not only what the capacity does', () => {
    const l = new EvidenceLedger([obs('stockout', t0)]);
    l.compact(minutes(3 * 24 * 60));
    expect(l.all()).toHaveLength(1);
    l.compact(minutes(5 * 24 * 60));
    expect(l.all()).toHaveLength(0);
  });
});
