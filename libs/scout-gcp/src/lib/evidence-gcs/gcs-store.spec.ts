import { EvidenceLedger, type LedgerSnapshot } from '@gpu-fleet/scout-domain';
import { CallPolicy, CorruptEvidenceError } from '../../index';
import { harness, T0, type Harness } from '../../test/harness';
import { GcsEvidenceStore } from './gcs-store';

jest.setTimeout(60_000);

/**
 * The same contract as the ConfigMap store (configmap-store.spec.ts): create, read back, replace;
 * a concurrent writer is merged in, never lost — here forced with a write held until another runner
 * has written; unreadable evidence is set aside, never overwritten. Against the sandbox's Cloud
 * Storage JSON API, with the official client.
 */
const BUCKET = 'sd-scout-evidence';
const OBJECT = 'region-scout/evidence.json';

const seen = (region: string, details = 'NVIDIA L4') => ({
  source: 'probe' as const,
  region,
  zone: null,
  gpu: 'nvidia-l4',
  spot: false,
  outcome: 'success' as const,
  at: T0.toISOString(),
  details,
});
const snap = (...regions: string[]): LedgerSnapshot => new EvidenceLedger(regions.map((r) => seen(r))).snapshot(T0);

describe('GcsEvidenceStore (one Cloud Storage object, ifGenerationMatch preconditions)', () => {
  let h: Harness;
  const policy = new CallPolicy({ retries: 0 });
  const store = () =>
    new GcsEvidenceStore(h.adapters.clients.storage, BUCKET, OBJECT, policy, () => T0, h.adapters.clients.storageRoot);
  beforeEach(async () => {
    h = await harness({ storageBuckets: [BUCKET] });
  });
  afterEach(() => h.close());

  it('creates, reads back and replaces the evidence; each write is conditioned on the generation read', async () => {
    const a = store();
    expect(await a.load()).toBeNull();
    await a.save(snap('europe-west4'));
    expect(await store().load()).toEqual(snap('europe-west4'));
    await a.save(snap('europe-west4', 'us-east4'));
    expect((await store().load())!.observations.map((o) => o.region)).toEqual(['europe-west4', 'us-east4']);
    const uploads = h.sandbox.requests.filter((r) => r.api === 'storage' && r.method === 'POST');
    expect(uploads.map((r) => r.status)).toEqual([200, 200]);
  });

  it('a concurrent writer is merged in, not lost: b wrote with a stale generation, got 412, read, merged, wrote', async () => {
    const a = store();
    const b = store();
    await a.save(snap('europe-west4'));
    await b.load();
    await a.save(snap('europe-west4', 'us-east4'));
    await b.save(snap('europe-west4', 'asia-northeast1'));
    const stored = await store().load();
    expect(stored!.observations.map((o) => o.region).sort()).toEqual(['asia-northeast1', 'europe-west4', 'us-east4']);
    expect(h.sandbox.requests.filter((r) => r.api === 'storage' && r.status === 412)).toHaveLength(1);
  });

  it('a forced race: a write held until another runner has written loses its precondition and merges', async () => {
    const a = store();
    const b = store();
    await a.save(snap('europe-west4'));
    await b.load();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let waiting!: () => void;
    const started = new Promise<void>((r) => (waiting = r));
    h.sandbox.faults.push({
      api: 'storage',
      method: 'POST',
      kind: 'hold',
      until: held,
      onHold: () => waiting(),
      times: 1,
    });
    const bWrites = b.save(snap('europe-west4', 'europe-west1'));
    await started;
    // while b's upload waits, another runner (the object's owner now) writes directly
    h.sandbox.storage.put(
      BUCKET,
      OBJECT,
      Buffer.from(JSON.stringify(snap('europe-west4', 'us-central1'))),
      'application/json',
    );
    release();
    await bWrites;
    const stored = await store().load();
    expect(stored!.observations.map((o) => o.region).sort()).toEqual(['europe-west1', 'europe-west4', 'us-central1']);
  });

  it('a first write when the object appeared meanwhile (ifGenerationMatch 0) merges too', async () => {
    const a = store();
    expect(await a.load()).toBeNull();
    h.sandbox.storage.put(BUCKET, OBJECT, Buffer.from(JSON.stringify(snap('us-central1'))), 'application/json');
    await a.save(snap('europe-west4'));
    expect((await store().load())!.observations.map((o) => o.region).sort()).toEqual(['europe-west4', 'us-central1']);
  });

  it('sets unreadable evidence aside in a new object (never overwritten) and starts a new history', async () => {
    h.sandbox.storage.put(
      BUCKET,
      OBJECT,
      Buffer.from('{"schemaVersion": 1, "observations": "oops"'),
      'application/json',
    );
    const err = await store()
      .load()
      .then(
        () => null,
        (e: unknown) => e as CorruptEvidenceError,
      );
    expect(err).toBeInstanceOf(CorruptEvidenceError);
    expect(err!.message).toMatch(
      /^evidence store gs:\/\/sd-scout-evidence\/region-scout\/evidence\.json is unreadable .*; moved it to gs:\/\/sd-scout-evidence\/region-scout\/evidence\.json\.corrupt-\d{14} and starting a new history$/,
    );
    const aside = /corrupt-(\d{14})/.exec(err!.message)![1]!;
    expect(h.sandbox.storage.get(BUCKET, `${OBJECT}.corrupt-${aside}`)!.data.toString()).toContain('"oops"');
    const fresh = store();
    await fresh.load().catch(() => undefined);
    await fresh.save(snap('europe-west4'));
    expect((await store().load())!.observations.map((o) => o.region)).toEqual(['europe-west4']);
  });

  it('a bucket that does not exist is a clear error, not a silent empty store', async () => {
    const missing = new GcsEvidenceStore(
      h.adapters.clients.storage,
      'no-such-bucket',
      OBJECT,
      policy,
      () => T0,
      h.adapters.clients.storageRoot,
    );
    await expect(missing.load()).rejects.toThrow(/bucket does not exist|404/i);
  });
});
