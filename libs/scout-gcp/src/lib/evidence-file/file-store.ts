import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { parseLedgerSnapshot, type EvidenceStore, type LedgerSnapshot } from '@gpu-fleet/scout-domain';

/** The evidence file could not be read; it was moved aside (never overwritten) to `movedTo`. */
export class CorruptEvidenceError extends Error {
  constructor(
    readonly file: string,
    readonly movedTo: string,
    reason: string,
  ) {
    super(`evidence store ${file} is unreadable (${reason}); moved it to ${movedTo} and starting a new history`);
    this.name = 'CorruptEvidenceError';
  }
}

/**
 * The default evidence store: one JSON file, schema-versioned, written atomically (write-file-atomic:
 * a temporary file beside it, then renamed over it), bounded by the ledger's compaction.
 */
export class FileEvidenceStore implements EvidenceStore {
  constructor(
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async load(): Promise<LedgerSnapshot | null> {
    if (!existsSync(this.file)) return null;
    const read = parseLedgerSnapshot(readFileSync(this.file, 'utf8'));
    if ('snapshot' in read) return read.snapshot;
    const movedTo = `${this.file}.corrupt-${this.now().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.file, movedTo);
    throw new CorruptEvidenceError(this.file, movedTo, read.reason);
  }

  async save(snapshot: LedgerSnapshot): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(snapshot, null, 1) + '\n');
  }
}
