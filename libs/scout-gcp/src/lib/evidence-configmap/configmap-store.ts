import type { CoreV1Api } from '@kubernetes/client-node';
import { EvidenceLedger, parseLedgerSnapshot, type EvidenceStore, type LedgerSnapshot } from '@gpu-fleet/scout-domain';
import type { CallPolicy } from '../policy/policy';
import { CorruptEvidenceError } from '../evidence-file/file-store';

/**
 * Evidence in a ConfigMap, for the in-cluster CronJob (its filesystem is read-only and ephemeral).
 * Written with the resourceVersion read, so two writers never silently overwrite each other: a
 * conflict is merged (see save).
 * ConfigMaps hold at most 1 MiB: the ledger's compaction keeps it well below.
 */
const KEY = 'evidence.json';

export class ConfigMapEvidenceStore implements EvidenceStore {
  private resourceVersion: string | undefined;

  constructor(
    private readonly core: CoreV1Api,
    private readonly namespace: string,
    private readonly name: string,
    private readonly policy: CallPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async load(): Promise<LedgerSnapshot | null> {
    let cm;
    try {
      cm = await this.policy.run('kubernetes', {}, () => this.core.readNamespacedConfigMap({ name: this.name, namespace: this.namespace }));
    } catch (e) {
      if (/HTTP 404|not found/i.test((e as Error).message)) return null;
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
    await this.policy.run('kubernetes', {}, () =>
      this.core.createNamespacedConfigMap({ namespace: this.namespace, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: aside, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'region-scout' } }, data: { [KEY]: text } } }),
    );
    throw new CorruptEvidenceError(`configmap ${this.namespace}/${this.name}`, `configmap ${this.namespace}/${aside}`, read.reason);
  }

  /**
   * Write with the resourceVersion last read (optimistic concurrency). When another runner wrote
   * in between (409 Conflict), read theirs, merge both ledgers (observations are a set, sweeps are
   * keyed by id) and write again: neither runner's evidence is lost.
   */
  async save(snapshot: LedgerSnapshot): Promise<void> {
    let merged = snapshot;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write(merged);
      } catch (e) {
        if (attempt >= 3 || !/HTTP 409|Conflict/.test((e as Error).message)) throw e;
        const theirs = await this.load();
        if (theirs) {
          const ledger = EvidenceLedger.fromSnapshot(snapshot);
          ledger.merge(theirs);
          merged = ledger.snapshot(this.now());
        }
      }
    }
  }

  private async write(snapshot: LedgerSnapshot): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: this.name, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'region-scout' }, ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}) },
      data: { [KEY]: JSON.stringify(snapshot) },
    };
    const saved = this.resourceVersion
      ? await this.policy.run('kubernetes', {}, () => this.core.replaceNamespacedConfigMap({ name: this.name, namespace: this.namespace, body }))
      : await this.policy.run('kubernetes', {}, () => this.core.createNamespacedConfigMap({ namespace: this.namespace, body }));
    this.resourceVersion = saved.metadata?.resourceVersion;
  }
}
