import type { CoreV1Api } from '@kubernetes/client-node';
import {
  answerOf,
  fitSnapshot,
  parseLedgerSnapshot,
  snapshotBytes,
  type EvidenceStore,
  type LedgerSnapshot,
} from '@gpu-fleet/scout-domain';
import type { CallPolicy } from '../policy/policy';
import { abortable } from '../kubernetes/kubernetes';
import { EVIDENCE_WARN_SHARE_DEFAULT, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '@gpu-fleet/fleet-spec';
import { CorruptEvidenceError } from '../evidence-file/file-store';
import { saveMerging } from '../evidence-merge';

/**
 * Evidence in a ConfigMap, for the in-cluster CronJob (its filesystem is read-only and ephemeral).
 * Written with the resourceVersion read, so two writers never silently overwrite each other: a
 * conflict is merged (see save).
 */
const KEY = 'evidence.json';

/**
 * The most evidence JSON one write carries. The values of a ConfigMap's data and binaryData together may not
 * exceed 1 MiB — the API server answers 422 "Too long: may not be more than 1048576 bytes"
 * (https://kubernetes.io/docs/concepts/configuration/configmap/) — and a save that fails never
 * advances the sweep history, so hysteresis never completes and failover silently stops. 900 KiB
 * leaves 124 KiB under the limit for the key, a future second key and schema growth across releases;
 * what does not fit is the oldest evidence, the least weighted (fitSnapshot). docs/benchmarks.md
 * (soak) has the sizes a real month reaches.
 */
export const CONFIGMAP_EVIDENCE_BUDGET = 900 * 1024;

export class ConfigMapEvidenceStore implements EvidenceStore {
  private resourceVersion: string | undefined;

  constructor(
    private readonly core: CoreV1Api,
    private readonly namespace: string,
    private readonly name: string,
    private readonly policy: CallPolicy,
    private readonly now: () => Date = () => new Date(),
    /** Told when the evidence nears the ConfigMap's budget, and when it drops the oldest to fit. */
    private readonly warn: (message: string) => void = () => undefined,
    /** Warn from this share of the budget on (monitoring.evidenceBudgetShare): time to move to scout.evidenceStore kind gcs before evidence is dropped. */
    private readonly warnShare: number = EVIDENCE_WARN_SHARE_DEFAULT,
  ) {}

  async load(): Promise<LedgerSnapshot | null> {
    let cm;
    try {
      cm = await this.policy.run('kubernetes', {}, (signal) =>
        this.core.readNamespacedConfigMap({ name: this.name, namespace: this.namespace }, abortable(signal)),
      );
    } catch (e) {
      if (answerOf(e).status === 404) {
        // Gone (deleted by hand, or never written): the next write creates it. A resourceVersion kept
        // from an earlier read would make that write a replace of nothing, refused with 404 again.
        this.resourceVersion = undefined;
        return null;
      }
      throw e;
    }
    this.resourceVersion = cm.metadata?.resourceVersion;
    const text = cm.data?.[KEY];
    if (!text) return null;
    const read = parseLedgerSnapshot(text);
    if ('snapshot' in read) return read.snapshot;
    // As the file store does: keep the unreadable history aside (never overwrite it), start anew.
    // The next save replaces this ConfigMap (its resourceVersion was read above).
    const aside = `${this.name}-corrupt-${this.now().toISOString().replace(/\D/g, '').slice(0, 14)}`;
    // A fixed name: a repeated create answers 409, which means the copy is already there.
    await this.policy
      .run('kubernetes', {}, (signal) =>
        this.core.createNamespacedConfigMap(
          {
            namespace: this.namespace,
            body: {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: aside, namespace: this.namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
              data: { [KEY]: text },
            },
          },
          abortable(signal),
        ),
      )
      .catch((e: unknown) => {
        if (answerOf(e).status !== 409) throw e;
      });
    throw new CorruptEvidenceError(
      `configmap ${this.namespace}/${this.name}`,
      `configmap ${this.namespace}/${aside}`,
      read.reason,
    );
  }

  /**
   * Write with the resourceVersion last read (optimistic concurrency). When another runner wrote
   * in between (409 Conflict), read theirs, merge both ledgers (observations are a set, sweeps are
   * keyed by id) and write again: neither runner's evidence is lost.
   */
  async save(snapshot: LedgerSnapshot): Promise<void> {
    await saveMerging(
      snapshot,
      { load: () => this.load(), write: (s) => this.write(s), now: this.now },
      // 409 Conflict: a replace with a stale resourceVersion; 409 AlreadyExists: a create raced another
      // writer's; 404 NotFound: the replace found the ConfigMap deleted since it was read. Each is
      // re-read (which forgets a resourceVersion that no longer exists) and written again.
      (e) => answerOf(e).status === 409 || answerOf(e).status === 404,
    );
  }

  private async write(full: LedgerSnapshot): Promise<void> {
    // Every write, the merged one after a conflict included (a union of two fitting snapshots may not fit).
    const snapshot = fitSnapshot(full, CONFIGMAP_EVIDENCE_BUDGET);
    const size = snapshotBytes(full);
    const dropped = full.observations.length - snapshot.observations.length;
    if (dropped > 0)
      this.warn(
        `evidence ConfigMap ${this.namespace}/${this.name}: ${Math.round(size / 1024)} KiB of evidence is over its ${CONFIGMAP_EVIDENCE_BUDGET / 1024} KiB budget, so the ${dropped} oldest observation(s) were dropped; set scout.evidenceStore kind "gcs" to keep them all`,
      );
    else if (size >= this.warnShare * CONFIGMAP_EVIDENCE_BUDGET)
      this.warn(
        `evidence ConfigMap ${this.namespace}/${this.name} holds ${Math.round(size / 1024)} KiB of its ${CONFIGMAP_EVIDENCE_BUDGET / 1024} KiB budget (${Math.round((100 * size) / CONFIGMAP_EVIDENCE_BUDGET)} %); beyond it the oldest evidence is dropped: set scout.evidenceStore kind "gcs" before then`,
      );
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
        ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}),
      },
      data: { [KEY]: JSON.stringify(snapshot) },
    };
    // Both are safe to repeat: a replace carries the resourceVersion it read (a repeat after it took
    // effect answers 409 Conflict, then merged), and a repeated create answers 409 AlreadyExists.
    const saved = this.resourceVersion
      ? await this.policy.run('kubernetes', {}, (signal) =>
          this.core.replaceNamespacedConfigMap({ name: this.name, namespace: this.namespace, body }, abortable(signal)),
        )
      : await this.policy.run('kubernetes', {}, (signal) =>
          this.core.createNamespacedConfigMap({ namespace: this.namespace, body }, abortable(signal)),
        );
    this.resourceVersion = saved.metadata?.resourceVersion;
  }
}
