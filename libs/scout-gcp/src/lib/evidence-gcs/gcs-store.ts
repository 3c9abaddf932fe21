import type { storage_v1 } from 'googleapis/build/src/apis/storage/v1';
import { answerOf, parseLedgerSnapshot, type EvidenceStore, type LedgerSnapshot } from '@gpu-fleet/scout-domain';
import { saveMerging } from '../evidence-merge';
import type { CallPolicy } from '../policy/policy';
import { CorruptEvidenceError } from '../evidence-file/file-store';

/**
 * Evidence in one Cloud Storage object (scout.evidenceStore kind gcs), for fleets whose ledger
 * outgrows a ConfigMap's 1 MiB. Read-modify-write as Google documents it: read the object and its
 * generation, write with ifGenerationMatch set to that generation (0 when it did not exist), and on
 * 412 Precondition Failed — another runner wrote in between — read theirs, merge, write again
 * (https://cloud.google.com/storage/docs/request-preconditions). A precondition also makes the
 * write safe to retry: a repeat of a write that took effect fails its precondition instead of
 * overwriting a newer one.
 */
export class GcsEvidenceStore implements EvidenceStore {
  /** The generation last read (0: the object did not exist); undefined before the first read. */
  private generation: number | undefined;

  constructor(
    private readonly storage: storage_v1.Storage,
    private readonly bucket: string,
    private readonly object: string,
    private readonly policy: CallPolicy,
    private readonly now: () => Date = () => new Date(),
    /**
     * The JSON API root when not Google's (the sandbox). The generated client builds an upload's
     * URL from the call's own options only, never the client's rootUrl, so every call carries it.
     */
    private readonly rootUrl?: string,
  ) {}

  private opts(signal: AbortSignal, extra: Record<string, unknown> = {}) {
    return { signal, ...extra, ...(this.rootUrl ? { rootUrl: this.rootUrl } : {}) };
  }

  private get where(): string {
    return `gs://${this.bucket}/${this.object}`;
  }

  async load(): Promise<LedgerSnapshot | null> {
    let generation: number;
    try {
      const { data } = await this.policy.run('storage', {}, (signal) =>
        this.storage.objects.get({ bucket: this.bucket, object: this.object }, this.opts(signal)),
      );
      generation = Number(data.generation);
    } catch (e) {
      // 404 is both "No such object" (never written: start empty) and "The specified bucket does not
      // exist." (a setup error that must not pass as an empty history); the two share status and
      // reason (notFound), so the bucket's message tells them apart
      // (https://cloud.google.com/storage/docs/json_api/v1/status-codes#404-not-found).
      if (answerOf(e).status === 404 && !/bucket does not exist/i.test((e as Error).message)) {
        this.generation = 0;
        return null;
      }
      if (answerOf(e).status === 404)
        throw new Error(
          `${this.where}: the bucket does not exist; create it (infra/ does, for scout.evidenceStore.bucket) or fix scout.evidenceStore`,
        );
      throw e;
    }
    let text: string;
    try {
      // That very generation, so the bytes and the generation the next write is conditioned on agree.
      const res = await this.policy.run('storage', {}, (signal) =>
        this.storage.objects.get(
          { bucket: this.bucket, object: this.object, generation: String(generation), alt: 'media' },
          this.opts(signal, { responseType: 'text' }),
        ),
      );
      text = String(res.data);
    } catch (e) {
      // Overwritten between the two reads (that generation is gone): read again.
      if (answerOf(e).status === 404) return this.load();
      throw e;
    }
    this.generation = generation;
    const read = parseLedgerSnapshot(text);
    if ('snapshot' in read) return read.snapshot;
    // As the other stores do: keep the unreadable history aside (never overwritten), start anew.
    const aside = `${this.object}.corrupt-${this.now().toISOString().replace(/\D/g, '').slice(0, 14)}`;
    await this.policy
      .run('storage', {}, (signal) =>
        this.storage.objects.insert(
          {
            bucket: this.bucket,
            name: aside,
            ifGenerationMatch: '0',
            requestBody: { name: aside, contentType: 'application/json' },
            media: { mimeType: 'application/json', body: text },
          },
          this.opts(signal),
        ),
      )
      .catch((e: unknown) => {
        if (answerOf(e).status !== 412) throw e; // 412: the copy is already there
      });
    throw new CorruptEvidenceError(this.where, `gs://${this.bucket}/${aside}`, read.reason);
  }

  async save(snapshot: LedgerSnapshot): Promise<void> {
    await saveMerging(
      snapshot,
      { load: () => this.load(), write: (s) => this.write(s), now: this.now },
      // 412: the object changed since it was read (or appeared, for a create).
      (e) => answerOf(e).status === 412,
      // Never written blind: a store that was not read yet reads first (its generation conditions the write).
      this.generation === undefined,
    );
  }

  private async write(snapshot: LedgerSnapshot): Promise<void> {
    const ifGenerationMatch = String(this.generation ?? 0);
    const { data } = await this.policy.run('storage', {}, (signal) =>
      this.storage.objects.insert(
        {
          bucket: this.bucket,
          name: this.object,
          ifGenerationMatch,
          requestBody: { name: this.object, contentType: 'application/json' },
          media: { mimeType: 'application/json', body: JSON.stringify(snapshot) },
        },
        this.opts(signal),
      ),
    );
    // The object resource the insert answered: the generation this write made, never a later
    // writer's, which a separate read could return.
    const written = Number(data.generation);
    if (!Number.isFinite(written) || written <= 0)
      throw new Error(`${this.where}: the write answered no generation; the next write could not be conditioned on it`);
    this.generation = written;
  }
}
