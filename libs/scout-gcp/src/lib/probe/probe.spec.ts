import type { ProbeRequest } from '@gpu-fleet/scout-domain';
import { ManualClock, type Fault, type SandboxWorld } from '@gpu-fleet/sandbox';
import { parseNvidiaSmi, KubeProbeRunner } from '../../index';
import { harness, hours, T0, type Harness } from '../../test/harness';

jest.setTimeout(30_000);
const M = 'sd-europe-west4';
const STANDBY = 'sd-asia-northeast1';
const NS = 'gpu-fleet-probes';
const req = (over: Partial<ProbeRequest> = {}): ProbeRequest => ({
  membership: M,
  region: 'europe-west4',
  gpu: 'nvidia-l4',
  count: 1,
  spot: false,
  namespace: NS,
  sweepId: 'sweep-1',
  deadlineSeconds: 900,
  ...over,
});

/**
 * The probe against the sandbox on a hand-moved clock: each poll's sleep moves simulated time by
 * 20 s, so a GPU node that takes minutes appears after a fixed number of polls, on any machine.
 */
async function withProber(
  setup: ((w: SandboxWorld) => void) | undefined,
  fn: (p: KubeProbeRunner, h: Harness, clock: ManualClock) => Promise<void>,
  opts: { membership?: string; faults?: Fault[]; timeoutMs?: number } = {},
) {
  const clock = new ManualClock(T0);
  const membership = opts.membership ?? M;
  const h = await harness({ setup, clock, faults: opts.faults, timeoutMs: opts.timeoutMs });
  try {
    const prober = (await h.adapters.prober({ id: membership, location: 'global' }, h.world.projectNumber, {
      pollMs: 0,
      sleep: async () => clock.advance(20_000),
    })) as KubeProbeRunner;
    await fn(prober, h, clock);
    // never a leftover probe Job or pod of its own, whatever the outcome
    expect(h.world.listJobs(membership, NS).filter((j) => j.labels['gpu-fleet.dev/sweep'] === 'sweep-1')).toEqual([]);
  } finally {
    await h.close();
  }
}

const capacity =
  (region: string, gpu = 'nvidia-l4') =>
  (w: SandboxWorld) =>
    w.forceCapacity(region, gpu, hours(-1), hours(5));

describe('GPU probe against the sandbox', () => {
  it('success: parses the GPU nvidia-smi saw and the time to Running', () =>
    withProber(capacity('europe-west4'), async (p, h) => {
      const r = await p.run(req());
      expect(r).toMatchObject({
        outcome: 'success',
        cause: null,
        gpuName: 'NVIDIA L4',
        zone: expect.stringMatching(/^europe-west4-[a-z]$/),
      });
      expect(r.gpuMemoryMiB).toBeGreaterThan(20000);
      // GPU nodes take minutes in the sandbox, as on GKE
      expect(r.secondsToRunning).toBeGreaterThanOrEqual(120);
      const created = h.sandbox.requests.filter(
        (x) => x.method === 'POST' && x.path.endsWith(`/gkeMemberships/${M}/apis/batch/v1/namespaces/${NS}/jobs`),
      );
      expect(created.map((c) => c.status)).toEqual([201]);
    }));

  it('stockout: classified from the FailedScaleUp event', () =>
    withProber(
      (w) => w.forceStockout('europe-west4', 'nvidia-l4', hours(-1), hours(5)),
      async (p) => {
        const r = await p.run(req());
        expect(r.outcome).toBe('stockout');
        expect(r.details).toMatch(
          /^FailedScaleUp: Node scale up in zones europe-west4-a, europe-west4-b, europe-west4-c associated with this pod failed: GCE out of resources/,
        );
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
      expect(r).toMatchObject({ outcome: 'rejected', cause: 'admission' });
      expect(r.details).toContain("The requested GPU type 'nvidia-b200' is not supported in Autopilot");
    }));

  it('timeout: no GPU before the deadline', () =>
    withProber(capacity('europe-west4'), async (p) => {
      const r = await p.run(req({ deadlineSeconds: 60 }));
      expect(r).toMatchObject({ outcome: 'timeout', details: 'no GPU within 60 s' });
    }));

  it('builds a bounded Job labelled with the project’s own keys (Config Sync owns app.kubernetes.io/managed-by)', () =>
    withProber(undefined, async (p) => {
      const job = p.jobFor(req({ spot: true }));
      expect(job.metadata!.name).toBe('gpu-probe-sweep-1-l4-spot');
      expect(job.spec).toMatchObject({ activeDeadlineSeconds: 900, ttlSecondsAfterFinished: 300, backoffLimit: 0 });
      expect(job.spec!.template.spec!.nodeSelector).toEqual({
        'cloud.google.com/gke-accelerator': 'nvidia-l4',
        'cloud.google.com/gke-spot': 'true',
      });
      expect(job.metadata!.labels).toMatchObject({
        'gpu-fleet.dev/probe': 'true',
        'gpu-fleet.dev/sweep': 'sweep-1',
        'gpu-fleet.dev/managed-by': 'region-scout',
      });
      expect(Object.keys(job.metadata!.labels!)).not.toContain('app.kubernetes.io/managed-by');
    }));
});

describe('a failed probe is not a rejection: the cause decides the evidence', () => {
  it.each([
    ['crash', { kind: 'crash' as const }, 'crash', /failed: Error \(exit code 255\)/],
    ['image pull', { kind: 'image-pull' as const }, 'image-pull', /ImagePullBackOff: Back-off pulling image/],
    [
      'node lost',
      { kind: 'node-lost' as const },
      'node-failure',
      /failed: NodeLost: Node gk3-node-europe-west4-[a-z] which was running pod .* is unresponsive/,
    ],
  ])('%s → transient evidence naming its cause', (_name, fault, cause, details) =>
    withProber(
      (w) => {
        capacity('europe-west4')(w);
        w.failProbePods(M, fault);
      },
      async (p) => {
        const r = await p.run(req());
        expect(r).toMatchObject({ outcome: 'transient', cause });
        expect(r.details).toMatch(details);
      },
    ),
  );

  it('an admission webhook refusing the pod (FailedCreate on the Job) is rejected, at once', () =>
    withProber(
      (w) => {
        capacity('europe-west4')(w);
        w.failProbePods(M, {
          kind: 'denied',
          message:
            'admission webhook "warden-validating.common-webhooks.networking.gke.io" denied the request: GKE Warden rejected the request because it violates one or more constraints.',
        });
      },
      async (p, _h, clock) => {
        const r = await p.run(req());
        expect(r).toMatchObject({ outcome: 'rejected', cause: 'admission' });
        expect(r.details).toMatch(
          /^FailedCreate: Error creating: pods "gpu-probe-sweep-1-l4-od-" is forbidden: admission webhook/,
        );
        // from the Job's first events, not after the 900 s deadline
        expect(clock.now().getTime() - T0.getTime()).toBeLessThanOrEqual(20_000);
      },
    ));
});

describe('probes sharing one cluster (the probe namespace’s GPU quota)', () => {
  it('a second probe in a full namespace reads the quota FailedCreate at once and leaves the live probe’s Job alone', () =>
    withProber(
      (w) => {
        capacity('asia-northeast1', 'nvidia-l4')(w);
        capacity('asia-northeast1', 'nvidia-tesla-t4')(w);
      },
      async (p, h, clock) => {
        // another runner's L4 probe is live in the standby cluster and holds its one probe GPU
        await h.kube(STANDBY).batch.createNamespacedJob({
          namespace: NS,
          body: p.jobFor(
            req({ membership: STANDBY, region: 'asia-northeast1', gpu: 'nvidia-l4', sweepId: 'other-runner' }),
          ),
        });
        expect(h.world.pods(STANDBY, NS)).toHaveLength(1);
        const second = await p.run(req({ membership: STANDBY, region: 'asia-northeast1', gpu: 'nvidia-tesla-t4' }));
        expect(second).toMatchObject({ outcome: 'transient', cause: 'probe-quota' });
        expect(second.details).toMatch(
          /^FailedCreate: Error creating: pods "gpu-probe-sweep-1-t4-od-" is forbidden: exceeded quota: gpu-probes, requested: requests\.nvidia\.com\/gpu=1, used: requests\.nvidia\.com\/gpu=1, limited: requests\.nvidia\.com\/gpu=1$/,
        );
        // at once, not after the 900 s deadline
        expect(clock.now().getTime() - T0.getTime()).toBeLessThanOrEqual(20_000);
        // the live probe's Job was not touched
        expect(h.world.listJobs(STANDBY, NS).map((j) => j.name)).toEqual(['gpu-probe-other-runner-l4-od']);
        const deletes = h.sandbox.requests
          .filter((x) => x.method === 'DELETE' && x.path.includes(`/gkeMemberships/${STANDBY}/`))
          .map((x) => x.path.split('/').pop());
        expect(deletes).toEqual(['gpu-probe-sweep-1-t4-od']);
      },
      { membership: STANDBY },
    ));

  it('cleanup deletes only finished or past-deadline probe Jobs, and reports the live ones', () =>
    withProber(capacity('europe-west4'), async (p, h, clock) => {
      const batch = h.kube(M).batch;
      const other = p.jobFor(req({ sweepId: 'other-runner', deadlineSeconds: 900 }));
      await batch.createNamespacedJob({
        namespace: NS,
        body: p.jobFor(req({ sweepId: 'crashed', deadlineSeconds: 300 })),
      });
      clock.advance(6 * 60_000); // 'crashed' is now past its own deadline (+ margin): it can no longer be running
      await batch.createNamespacedJob({ namespace: NS, body: other });
      const report = await p.cleanup(NS);
      expect(report).toEqual({
        removed: 1,
        live: [{ job: 'gpu-probe-other-runner-l4-od', sweepId: 'other-runner', gpus: 1 }],
      });
      expect(h.world.listJobs(M, NS).map((j) => j.name)).toEqual(['gpu-probe-other-runner-l4-od']);
      // once the live one finishes, it is a leftover too
      clock.advance(16 * 60_000);
      expect(await p.cleanup(NS)).toEqual({ removed: 1, live: [] });
      expect(h.world.listJobs(M, NS)).toEqual([]);
    }));
});

describe('retries never duplicate', () => {
  it('a create whose answer is late is aborted, retried, and its 409 AlreadyExists read as its own Job', () =>
    withProber(
      capacity('europe-west4'),
      async (p, h) => {
        const r = await p.run(req());
        expect(r.outcome).toBe('success');
        const posts = h.sandbox.requests.filter(
          (x) => x.method === 'POST' && x.path.endsWith(`/namespaces/${NS}/jobs`),
        );
        // first: took effect, answer never read (the client aborted: 499); second: 409, read as ours
        expect(posts.map((x) => x.status)).toEqual([499, 409]);
      },
      {
        faults: [{ api: 'connectgateway', path: /\/jobs$/, kind: 'slow-response', ms: 600, times: 1 }],
        timeoutMs: 250,
      },
    ));
});

describe('KubeProbeRunner.jobName', () => {
  it('is fixed by sweep, GPU and Spot, and a valid DNS label', () => {
    expect(KubeProbeRunner.jobName({ sweepId: 'sweep-20261123T1200', gpu: 'nvidia-tesla-t4', spot: false })).toBe(
      'gpu-probe-sweep-20261123t1200-t4-od',
    );
    const long = KubeProbeRunner.jobName({ sweepId: 'x'.repeat(80), gpu: 'nvidia-h100-80gb', spot: true });
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

describe('parseNvidiaSmi', () => {
  it.each([
    ['NVIDIA L4, 23034 MiB, 550.90.07\n', { name: 'NVIDIA L4', memoryMiB: 23034, driver: '550.90.07' }],
    ['Tesla T4, 15360 MiB, 535.183.01', { name: 'Tesla T4', memoryMiB: 15360, driver: '535.183.01' }],
    ["NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", null],
  ])('%s', (log, expected) => expect(parseNvidiaSmi(log)).toEqual(expected));
});
