import { EvidenceLedger } from '@gpu-fleet/scout-domain';
import { CallPolicy, connectGatewayKubeConfig, CorruptEvidenceError, kubeApis } from '../../index';
import { harness, T0 } from '../../test/harness';
import { ConfigMapEvidenceStore } from './configmap-store';

jest.setTimeout(30_000);

describe('ConfigMapEvidenceStore (config cluster, through Connect Gateway)', () => {
  it('creates, reads back and replaces the evidence; a concurrent writer gets a conflict, not a lost update', async () => {
    const h = await harness();
    try {
      const core = () => kubeApis(connectGatewayKubeConfig(h.sandbox.endpoints.connectgateway, h.world.projectNumber, 'fleet-config', h.sandbox.token)).core;
      const policy = new CallPolicy({ retries: 0 });
      const a = new ConfigMapEvidenceStore(core(), 'gpu-fleet-system', 'region-scout-evidence', policy);
      const b = new ConfigMapEvidenceStore(core(), 'gpu-fleet-system', 'region-scout-evidence', policy);
      expect(await a.load()).toBeNull();
      const ledger = new EvidenceLedger([{ source: 'probe', region: 'europe-west4', zone: null, gpu: 'nvidia-l4', spot: false, outcome: 'success', at: T0.toISOString(), details: 'NVIDIA L4' }]);
      await a.save(ledger.snapshot(T0));
      expect(await b.load()).toEqual(ledger.snapshot(T0));
      await a.save(ledger.snapshot(T0)); // a replaces with the version it wrote
      await expect(b.save(ledger.snapshot(T0))).rejects.toThrow(/HTTP 409: Conflict: Operation cannot be fulfilled on configmaps "region-scout-evidence"/);
      expect(await b.load()).toEqual(ledger.snapshot(T0));
      await b.save(ledger.snapshot(T0)); // after re-reading, b may write
    } finally {
      await h.close();
    }
  });

  it('sets unreadable evidence aside in a new ConfigMap (never overwritten) and starts a new history', async () => {
    const h = await harness();
    try {
      const core = kubeApis(connectGatewayKubeConfig(h.sandbox.endpoints.connectgateway, h.world.projectNumber, 'fleet-config', h.sandbox.token)).core;
      const policy = new CallPolicy({ retries: 0 });
      await core.createNamespacedConfigMap({ namespace: 'gpu-fleet-system', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'region-scout-evidence' }, data: { 'evidence.json': '{"schemaVersion": 1, "observations": "oops"' } } });
      const store = new ConfigMapEvidenceStore(core, 'gpu-fleet-system', 'region-scout-evidence', policy, () => T0);
      const err = await store.load().then(() => null, (e: unknown) => e as CorruptEvidenceError);
      expect(err).toBeInstanceOf(CorruptEvidenceError);
      expect(err!.message).toMatch(/^evidence store configmap gpu-fleet-system\/region-scout-evidence is unreadable \(not JSON: .*\); moved it to configmap gpu-fleet-system\/region-scout-evidence-corrupt-\d{14} and starting a new history$/);
      const aside = await core.readNamespacedConfigMap({ namespace: 'gpu-fleet-system', name: err!.movedTo.split('/')[1]! });
      expect(aside.data!['evidence.json']).toBe('{"schemaVersion": 1, "observations": "oops"');
      // The next save replaces the unreadable one.
      await store.save(new EvidenceLedger().snapshot(T0));
      expect(await new ConfigMapEvidenceStore(core, 'gpu-fleet-system', 'region-scout-evidence', policy).load()).toEqual(new EvidenceLedger().snapshot(T0));
    } finally {
      await h.close();
    }
  });
});
