import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvidenceLedger } from '@gpu-fleet/scout-domain';
import { CorruptEvidenceError, FileEvidenceStore } from './file-store';

const now = new Date('2026-11-23T12:00:00Z');
let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'evidence-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FileEvidenceStore', () => {
  it('round-trips a ledger snapshot and writes atomically (no temp file left)', async () => {
    const store = new FileEvidenceStore(join(dir, 'state/evidence.json'));
    expect(await store.load()).toBeNull();
    const ledger = new EvidenceLedger([
      {
        source: 'probe',
        region: 'us-central1',
        zone: null,
        gpu: 'nvidia-l4',
        spot: false,
        outcome: 'success',
        at: now.toISOString(),
        details: 'NVIDIA L4',
      },
    ]);
    await store.save(ledger.snapshot(now));
    expect(await store.load()).toEqual(ledger.snapshot(now));
    expect(readdirSync(join(dir, 'state'))).toEqual(['evidence.json']);
  });

  it.each([
    ['not JSON', '{ "schemaVersion": 1, "observ', /not JSON/],
    [
      'a future schema version',
      '{"schemaVersion": 2, "observations": []}',
      /schemaVersion 2 is not supported \(expected 1\)/,
    ],
    ['a bad observation', '{"schemaVersion": 1, "observations": [{"region": 3}]}', /observations\.0\./],
  ])('a corrupt file (%s) is reported and set aside, never silently reset', async (_name, content, reason) => {
    const file = join(dir, 'evidence.json');
    writeFileSync(file, content);
    const store = new FileEvidenceStore(file, () => now);
    const err = await store.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptEvidenceError);
    expect((err as Error).message).toMatch(reason);
    const movedTo = (err as CorruptEvidenceError).movedTo;
    expect(movedTo).toBe(`${file}.corrupt-2026-11-23T12-00-00-000Z`);
    expect(readFileSync(movedTo, 'utf8')).toBe(content);
    expect(existsSync(file)).toBe(false);
  });
});
