import { EvidenceLedger, snapshotBytes } from '@gpu-fleet/scout-domain';
import { CallPolicy, CorruptEvidenceError } from '../../index';
import { harness, T0 } from '../../test/harness';
import { CONFIGMAP_EVIDENCE_BUDGET, ConfigMapEvidenceStore } from './configmap-store';

jest.setTimeout(30_000);

describe('ConfigMapEvidenceStore (config cluster, through Connect Gateway)', () => {
  it('creates, reads back and replaces the evidence; a concurrent writer is merged in, not lost', async () => {
    const h = await harness();
    try {
      const core = () => h.kube('fleet-config').core;
      const policy = new CallPolicy({ retries: 0 });
      const a = new ConfigMapEvidenceStore(core(), 'gpu-fleet-system', 'region-scout-evidence', policy, () => T0);
      const b = new ConfigMapEvidenceStore(core(), 'gpu-fleet-system', 'region-scout-evidence', policy, () => T0);
      expect(await a.load()).toBeNull();
      const seen = {
        source: 'probe' as const,
        region: 'europe-west4',
        zone: null,
        gpu: 'nvidia-l4',
        spot: false,
        outcome: 'success' as const,
        at: T0.toISOString(),
        details: 'NVIDIA L4',
      };
      const ledger = new EvidenceLedger([seen]);
      await a.save(ledger.snapshot(T0));
      expect(await b.load()).toEqual(ledger.snapshot(T0));
      // a writes again; b still holds the older resourceVersion: its write conflicts, is merged and retried.
      const fromA = new EvidenceLedger([
        seen,
        { ...seen, region: 'us-east4', outcome: 'stockout', details: 'a saw this' },
      ]);
      await a.save(fromA.snapshot(T0));
      const fromB = new EvidenceLedger([
        seen,
        { ...seen, region: 'asia-northeast1', outcome: 'quota', details: 'b saw this' },
      ]);
      await b.save(fromB.snapshot(T0));
      const stored = await new ConfigMapEvidenceStore(
        core(),
        'gpu-fleet-system',
        'region-scout-evidence',
        policy,
      ).load();
      expect(stored!.observations.map((o) => o.region).sort()).toEqual(['asia-northeast1', 'europe-west4', 'us-east4']);
    } finally {
      await h.close();
    }
  });

  it('a ConfigMap deleted after it was read is created again on save, also when the delete comes during a conflict retry', async () => {
    const h = await harness();
    try {
      const core = () => h.kube('fleet-config').core;
      const policy = new CallPolicy({ retries: 0 });
      const store = () =>
        new ConfigMapEvidenceStore(core(), 'gpu-fleet-system', 'region-scout-evidence', policy, () => T0);
      const seen = (region: string) =>
        new EvidenceLedger([
          {
            source: 'probe' as const,
            region,
            zone: null,
            gpu: 'nvidia-l4',
            spot: false,
            outcome: 'success' as const,
            at: T0.toISOString(),
            details: 'NVIDIA L4',
          },
        ]).snapshot(T0);
      const remove = () => h.world.deleteConfigMap('fleet-config', 'gpu-fleet-system', 'region-scout-evidence');
      const a = store();
      await a.save(seen('europe-west4'));
      await a.load();
      expect(remove()).toBe(true);
      await a.save(seen('us-east4'));
      expect((await store().load())!.observations.map((o) => o.region)).toEqual(['us-east4']);
      // b read an older version; a wrote since (b's write conflicts), and the ConfigMap is deleted just
      // before b re-reads it to merge.
      const bCore = core();
      const b = new ConfigMapEvidenceStore(bCore, 'gpu-fleet-system', 'region-scout-evidence', policy, () => T0);
      await b.load();
      await a.save(seen('asia-northeast1'));
      const read = bCore.readNamespacedConfigMap.bind(bCore);
      bCore.readNamespacedConfigMap = (...args: Parameters<typeof read>) => {
        remove();
        return read(...args);
      };
      await b.save(seen('europe-west1'));
      expect((await store().load())!.observations.map((o) => o.region)).toEqual(['europe-west1']);
    } finally {
      await h.close();
    }
  });

  it('sets unreadable evidence aside in a new ConfigMap (never overwritten) and starts a new history', async () => {
    const h = await harness();
    try {
      const core = h.kube('fleet-config').core;
      const policy = new CallPolicy({ retries: 0 });
      await core.createNamespacedConfigMap({
        namespace: 'gpu-fleet-system',
        body: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'region-scout-evidence' },
          data: { 'evidence.json': '{"schemaVersion": 1, "observations": "oops"' },
        },
      });
      const store = new ConfigMapEvidenceStore(core, 'gpu-fleet-system', 'region-scout-evidence', policy, () => T0);
      const err = await store.load().then(
        () => null,
        (e: unknown) => e as CorruptEvidenceError,
      );
      expect(err).toBeInstanceOf(CorruptEvidenceError);
      expect(err!.message).toMatch(
        /^evidence store configmap gpu-fleet-system\/region-scout-evidence is unreadable \(not JSON: .*\); moved it to configmap gpu-fleet-system\/region-scout-evidence-corrupt-\d{14} and starting a new history$/,
      );
      const aside = await core.readNamespacedConfigMap({
        namespace: 'gpu-fleet-system',
        name: err!.movedTo.split('/')[1]!,
      });
      expect(aside.data!['evidence.json']).toBe('{"schemaVersion": 1, "observations": "oops"');
      // The next save replaces the unreadable one.
      await store.save(new EvidenceLedger().snapshot(T0));
      expect(
        await new ConfigMapEvidenceStore(core, 'gpu-fleet-system', 'region-scout-evidence', policy).load(),
      ).toEqual(new EvidenceLedger().snapshot(T0));
    } finally {
      await h.close();
    }
  });

  it('never writes more than a ConfigMap holds: the API server refuses 1 MiB with 422, the store keeps the newest evidence under its budget', async () => {
    const h = await harness();
    try {
      const core = h.kube('fleet-config').core;
      const policy = new CallPolicy({ retries: 0 });
      // The sandbox's API server refuses what Kubernetes refuses, with its words.
      const refused = await core
        .createNamespacedConfigMap({
          namespace: 'gpu-fleet-system',
          body: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'too-big' },
            data: { k: 'x'.repeat(1024 * 1024 + 1) },
          },
        })
        .then(
          () => null,
          (e: unknown) => e as { code: number; body: string },
        );
      expect(refused?.code).toBe(422);
      expect(JSON.parse(refused!.body)).toMatchObject({
        reason: 'Invalid',
        message: 'ConfigMap "too-big" is invalid: []: Too long: may not be more than 1048576 bytes',
      });
      // A month of passive evidence: ~1.5 MB of JSON.
      const many = Array.from({ length: 6000 }, (_, i) => ({
        source: 'passive' as const,
        region: 'europe-west4',
        zone: null,
        gpu: 'nvidia-l4',
        spot: false,
        outcome: 'stockout' as const,
        at: new Date(T0.getTime() - (6000 - i) * 1000).toISOString(),
        details: `Node scale up in zones europe-west4-a, europe-west4-b associated with this pod failed: GCE out of resources. ${i}`,
      }));
      const snapshot = { schemaVersion: 1 as const, observations: many, sweeps: [] };
      expect(snapshotBytes(snapshot)).toBeGreaterThan(1024 * 1024);
      const warnings: string[] = [];
      const store = new ConfigMapEvidenceStore(
        core,
        'gpu-fleet-system',
        'region-scout-evidence',
        policy,
        () => T0,
        (m) => warnings.push(m),
      );
      // nearing the budget: a warning, nothing dropped yet
      const near = { ...snapshot, observations: many.slice(-3000) };
      expect(snapshotBytes(near) / CONFIGMAP_EVIDENCE_BUDGET).toBeGreaterThan(0.8);
      expect(snapshotBytes(near)).toBeLessThan(CONFIGMAP_EVIDENCE_BUDGET);
      await store.save(near);
      expect(warnings).toEqual([
        expect.stringMatching(/holds \d+ KiB of its 900 KiB budget \(\d+ %\).*kind "gcs" before then$/),
      ]);
      await store.save(snapshot);
      expect(warnings[1]).toMatch(
        /over its 900 KiB budget, so the \d+ oldest observation\(s\) were dropped; set scout\.evidenceStore kind "gcs"/,
      );
      // The share comes from the spec (monitoring.evidenceBudgetShare): at 0.95 the same size is quiet.
      const quiet: string[] = [];
      const later = new ConfigMapEvidenceStore(
        core,
        'gpu-fleet-system',
        'region-scout-evidence-2',
        policy,
        () => T0,
        (m) => quiet.push(m),
        0.95,
      );
      expect(snapshotBytes(near) / CONFIGMAP_EVIDENCE_BUDGET).toBeLessThan(0.95);
      await later.save(near);
      expect(quiet).toEqual([]);
      const stored = await new ConfigMapEvidenceStore(core, 'gpu-fleet-system', 'region-scout-evidence', policy).load();
      expect(snapshotBytes(stored!)).toBeLessThanOrEqual(CONFIGMAP_EVIDENCE_BUDGET);
      expect(stored!.observations.at(-1)).toEqual(many.at(-1));
      expect(stored!.observations.length).toBeLessThan(many.length);
    } finally {
      await h.close();
    }
  });
});
