import type { CoreV1Api } from '@kubernetes/client-node';
import { LedgerSnapshotSchema, type EvidenceStore, type LedgerSnapshot } from '@gpu-fleet/scout-domain';
import type { CallPolicy } from '../policy/policy';

/**
 * Evidence in a ConfigMap, for the in-cluster CronJob (its filesystem is read-only and ephemeral).
 * Written with the resourceVersion read, so two writers cannot silently overwrite each other.
 * ConfigMaps hold at most 1 MiB: the ledger's compaction keeps it well below.
 */
export class ConfigMapEvidenceStore implements EvidenceStore {
  private resourceVersion: string | undefined;

  constructor(
    private readonly core: CoreV1Api,
    private readonly namespace: string,
    private readonly name: string,
    private readonly policy: CallPolicy,
  ) {}

  async load(): Promise<LedgerSnapshot | null> {
    try {
      const cm = await this.policy.run('kubernetes', {}, () => this.core.readNamespacedConfigMap({ name: this.name, namespace: this.namespace }));
      this.resourceVersion = cm.metadata?.resourceVersion;
      const text = cm.data?.['evidence.json'];
      if (!text) return null;
      const parsed = LedgerSnapshotSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(`ConfigMap ${this.namespace}/${this.name} holds unreadable evidence: ${parsed.error.issues[0]?.message}`);
      return parsed.data as LedgerSnapshot;
    } catch (e) {
      if (/HTTP 404|not found/i.test((e as Error).message)) return null;
      throw e;
    }
  }

  async save(snapshot: LedgerSnapshot): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: this.name, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'region-scout' }, ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}) },
      data: { 'evidence.json': JSON.stringify(snapshot) },
    };
    const saved = this.resourceVersion
      ? await this.policy.run('kubernetes', {}, () => this.core.replaceNamespacedConfigMap({ name: this.name, namespace: this.namespace, body }))
      : await this.policy.run('kubernetes', {}, () => this.core.createNamespacedConfigMap({ namespace: this.namespace, body }));
    this.resourceVersion = saved.metadata?.resourceVersion;
  }
}
