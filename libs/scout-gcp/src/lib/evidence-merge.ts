import { EvidenceLedger, type LedgerSnapshot } from '@gpu-fleet/scout-domain';
import { retryOnConflict } from '@gpu-fleet/retry';

/**
 * The shared stores' optimistic write: write `snapshot` conditioned on what was last read; when the
 * store answers that another runner wrote in between (`isConflict`), read theirs, merge both ledgers
 * (observations are a set, sweeps are keyed by id) and write again — neither runner's evidence is
 * lost. `readFirst`: the store was never read, so its first write must be preceded by a read too.
 */
export async function saveMerging(
  snapshot: LedgerSnapshot,
  store: {
    load(): Promise<LedgerSnapshot | null>;
    write(snapshot: LedgerSnapshot): Promise<void>;
    now(): Date;
  },
  isConflict: (e: unknown) => boolean,
  readFirst = false,
): Promise<void> {
  let merged = snapshot;
  let first = !readFirst;
  await retryOnConflict(
    async () => {
      if (!first) {
        const theirs = await store.load();
        if (theirs) {
          const ledger = EvidenceLedger.fromSnapshot(snapshot);
          ledger.merge(theirs);
          merged = ledger.snapshot(store.now());
        }
      }
      first = false;
      await store.write(merged);
    },
    { isConflict },
  );
}
