import type { ProbeRequest } from '@gpu-fleet/scout-domain';
import type { SandboxWorld } from '@gpu-fleet/sandbox';
import { kubeApis, connectGatewayKubeConfig, parseNvidiaSmi, type KubeProbeRunner } from '../../index';
import { harness, hours, type Harness } from '../../test/harness';

jest.setTimeout(30_000);
const M = 'sd-europe-west4';
const NS = 'gpu-fleet-probes';
const req = (over: Partial<ProbeRequest> = {}): ProbeRequest => ({ membership: M, region: 'europe-west4', gpu: 'nvidia-l4', count: 1, spot: false, namespace: NS, computeClass: null, sweepId: 'sweep-1', deadlineSeconds: 900, ...over });

async function withProber(setup: ((w: SandboxWorld) => void) | undefined, fn: (p: KubeProbeRunner, h: Harness) => Promise<void>) {
  const h = await harness({ setup });
  try {
    const prober = (await h.adapters.prober(M, h.world.projectNumber, { pollMs: 10 })) as KubeProbeRunner;
    await fn(prober, h);
    // never a leftover probe Job or pod, whatever the outcome
    expect(h.world.listJobs(M, NS)).toEqual([]);
    expect(h.world.pods(M, NS)).toEqual([]);
  } finally {
    await h.close();
  }
}

describe('GPU probe against the sandbox', () => {
  it('success: parses the GPU nvidia-smi saw and the time to Running', () =>
    withProber(
      (w) => w.forceCapacity('europe-west4', 'nvidia-l4', hours(-1), hours(5)),
      async (p, h) => {
        const r = await p.run(req());
        expect(r).toMatchObject({ outcome: 'success', gpuName: 'NVIDIA L4', zone: expect.stringMatching(/^europe-west4-[a-z]$/) });
        expect(r.gpuMemoryMiB).toBeGreaterThan(20000);
        // GPU nodes take minutes in the sandbox, as on GKE
        expect(r.secondsToRunning).toBeGreaterThanOrEqual(120);
        const created = h.sandbox.requests.find((x) => x.method === 'POST' && x.path.endsWith(`/gkeMemberships/${M}/apis/batch/v1/namespaces/${NS}/jobs`));
        expect(created?.status).toBe(201);
      },
    ));

  it('stockout: classified from the FailedScaleUp event', () =>
    withProber(
      (w) => w.forceStockout('europe-west4', 'nvidia-l4', hours(-1), hours(5)),
      async (p) => {
        const r = await p.run(req());
        expect(r.outcome).toBe('stockout');
        expect(r.details).toMatch(/^FailedScaleUp: Node scale up in zones europe-west4-a, europe-west4-b, europe-west4-c associated with this pod failed: GCE out of resources/);
      },
    ));

  it('quota: classified from the quota event', () =>
    withProber(
      (w) => w.setQuota('europe-west4', 'NVIDIA_L4_GPUS', 0),
      async (p) => {
        const r = await p.run(req());
        expect(r.outcome).toBe('quota');
        expect(r.details).toContain('GCE quota exceeded');
      },
    ));

  it('rejected: Autopilot admission refuses an unsupported GPU type at creation', () =>
    withProber(undefined, async (p) => {
      const r = await p.run(req({ gpu: 'nvidia-b200', count: 8 }));
      expect(r.outcome).toBe('rejected');
      expect(r.details).toContain("The requested GPU type 'nvidia-b200' is not supported in Autopilot");
    }));

  it('timeout: no GPU before the deadline', () =>
    withProber(
      (w) => w.forceCapacity('europe-west4', 'nvidia-l4', hours(-1), hours(5)),
      async (p) => {
        const r = await p.run(req({ deadlineSeconds: 60 }));
        expect(r).toMatchObject({ outcome: 'timeout', details: 'no GPU within 60 s' });
      },
    ));

  it('builds a bounded, labelled Job with a deadline and TTL', () =>
    withProber(undefined, async (p) => {
      const job = p.jobFor(req({ spot: true }));
      expect(job.metadata!.name).toBe('gpu-probe-sweep-1-l4-spot');
      expect(job.spec).toMatchObject({ activeDeadlineSeconds: 900, ttlSecondsAfterFinished: 300, backoffLimit: 0 });
      expect(job.spec!.template.spec!.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4', 'cloud.google.com/gke-spot': 'true' });
      expect(job.metadata!.labels).toMatchObject({ 'gpu-fleet.dev/probe': 'true', 'gpu-fleet.dev/sweep': 'sweep-1' });
    }));

  it('cleans up Jobs and pods left by a crashed sweep', () =>
    withProber(
      (w) => w.forceCapacity('europe-west4', 'nvidia-l4', hours(-1), hours(5)),
      async (p, h) => {
        // a sweep that died after creating its probe: the Job exists, nobody will delete it
        const apis = kubeApis(connectGatewayKubeConfig(h.sandbox.endpoints.connectgateway, h.world.projectNumber, M, h.sandbox.token));
        await apis.batch.createNamespacedJob({ namespace: NS, body: p.jobFor(req({ sweepId: 'crashed' })) });
        expect(h.world.pods(M, NS)).toHaveLength(1);
        expect(await p.cleanup(NS)).toBe(1);
        expect(await p.cleanup(NS)).toBe(0);
      },
    ));
});

describe('parseNvidiaSmi', () => {
  it.each([
    ['NVIDIA L4, 23034 MiB, 550.90.07\n', { name: 'NVIDIA L4', memoryMiB: 23034, driver: '550.90.07' }],
    ['Tesla T4, 15360 MiB, 535.183.01', { name: 'Tesla T4', memoryMiB: 15360, driver: '535.183.01' }],
    ['NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.', null],
  ])('%s', (log, expected) => expect(parseNvidiaSmi(log)).toEqual(expected));
});
