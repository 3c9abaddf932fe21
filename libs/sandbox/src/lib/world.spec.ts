import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { ManualClock } from './clock';
import { AdmissionError, SandboxWorld } from './world';
import { startSandbox } from './sandbox';

const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
const T0 = new Date('2026-11-23T12:00:00Z');
const world = (seed = 1) => new SandboxWorld({ seed, clock: new ManualClock(T0), spec });

describe('SandboxWorld stockout process', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const timeline = (w: SandboxWorld) =>
      Array.from(
        { length: 48 },
        (_, i) => w.stockoutSince('us-central1-a', 'nvidia-l4', T0.getTime() + i * 1800_000) !== null,
      );
    expect(timeline(world(1))).toEqual(timeline(world(1)));
    expect(timeline(world(1))).not.toEqual(timeline(world(2)));
  });

  it('keeps L4 stocked out for a realistic share of the time, in episodes of tens of minutes', () => {
    const w = world(7);
    const step = 5 * 60_000;
    let out = 0;
    let episodes = 0;
    let prev = false;
    const samples = (30 * 24 * 3600_000) / step;
    for (let i = 0; i < samples; i++) {
      const now = w.stockoutSince('europe-west4-b', 'nvidia-l4', T0.getTime() + i * step) !== null;
      if (now) out++;
      if (now && !prev) episodes++;
      prev = now;
    }
    const share = out / samples;
    // profile: available ~150 min, stockout ~60 min → ~29 % of the time
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.45);
    const meanEpisodeMin = (out * 5) / episodes;
    expect(meanEpisodeMin).toBeGreaterThan(30);
    expect(meanEpisodeMin).toBeLessThan(120);
  });

  it('honours forced stockouts and forced capacity, capacity winning', () => {
    const w = world();
    const from = new Date(T0.getTime() - 3600_000);
    const until = new Date(T0.getTime() + 3600_000);
    w.forceStockout('us-central1', 'nvidia-l4', from, until);
    expect(w.zonesWithCapacity('us-central1', 'nvidia-l4', T0.getTime())).toEqual([]);
    expect(w.stockoutSince('us-central1-b', 'nvidia-l4', T0.getTime())).toBe(from.getTime());
    w.forceCapacity('us-central1-c', 'nvidia-l4', from, until);
    expect(w.zonesWithCapacity('us-central1', 'nvidia-l4', T0.getTime())).toEqual(['us-central1-c']);
  });
});

describe('SandboxWorld Autopilot admission', () => {
  const w = world();
  const pod = (sel: Record<string, string> | undefined, gpus = '1') => ({
    nodeSelector: sel,
    containers: [{ resources: { limits: { 'nvidia.com/gpu': gpus } } }],
  });
  it.each([
    [
      'no accelerator selector',
      pod(undefined),
      /you must specify either node selector 'cloud.google.com\/gke-accelerator'/,
    ],
    [
      'unsupported GPU type',
      pod({ 'cloud.google.com/gke-accelerator': 'nvidia-h100' }),
      /The requested GPU type 'nvidia-h100' is not supported in Autopilot; allowed values are: \[nvidia-a100-80gb, /,
    ],
    [
      'invalid count',
      pod({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' }, '3'),
      /GPU count 3 is not valid for nvidia-l4; valid counts: 1, 2, 4, 8/,
    ],
    [
      'type not offered in the region',
      pod({ 'cloud.google.com/gke-accelerator': 'nvidia-tesla-p4' }),
      /isn't available in region asia-northeast1/,
    ],
  ])('rejects %s with Warden’s wording', (_n, spec, msg) => {
    expect(() => w.admit('asia-northeast1', spec)).toThrow(AdmissionError);
    expect(() => w.admit('asia-northeast1', spec)).toThrow(msg);
  });
  it('admits a supported, offered GPU', () => {
    expect(
      w.admit(
        'asia-northeast1',
        pod({ 'cloud.google.com/gke-accelerator': 'nvidia-l4', 'cloud.google.com/gke-spot': 'true' }),
      ),
    ).toEqual({ gpu: 'nvidia-l4', count: 1, spot: true });
  });
});

describe('SandboxWorld quotas and pods', () => {
  it('lists GPU quota metrics per region, seeded, with overrides and usage by running app pods', () => {
    const w = world();
    w.forceCapacity('us-central1', 'nvidia-l4', new Date(0), new Date(T0.getTime() + 3600_000));
    w.setQuota('us-central1', 'NVIDIA_L4_GPUS', 3);
    const q = w.regionQuotas('us-central1');
    expect(q.find((x) => x.metric === 'NVIDIA_L4_GPUS')).toEqual({ metric: 'NVIDIA_L4_GPUS', limit: 3, usage: 1 });
    expect(q.map((x) => x.metric)).toContain('PREEMPTIBLE_NVIDIA_T4_GPUS');
    expect(w.appPods('sd-us-central1')).toEqual([
      expect.objectContaining({ phase: 'Running', zone: expect.stringMatching(/^us-central1-/) }),
    ]);
    expect(w.appPods('sd-asia-northeast1')).toEqual([]); // standby
  });
});

describe('sandbox servers', () => {
  it('require the bearer token and answer with Google’s error body', async () => {
    const sb = await startSandbox(world());
    try {
      const noAuth = await fetch(`${sb.endpoints.compute}/compute/v1/projects/${spec.project}/regions`);
      expect(noAuth.status).toBe(401);
      expect(await noAuth.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
      const bad = await fetch(`${sb.endpoints.compute}/compute/v1/projects/${spec.project}/regions?pageToken=zzz`, {
        headers: { authorization: `Bearer ${sb.accessToken()}` },
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({
        error: { code: 400, status: 'INVALID_ARGUMENT', message: 'Invalid page token: zzz' },
      });
      const gw = await fetch(
        `${sb.endpoints.connectgateway.replace('{host}', 'connectgateway.googleapis.com')}/v1/projects/${spec.project}/locations/global/gkeMemberships/sd-us-central1/api/v1/namespaces/x/pods`,
        { headers: { authorization: `Bearer ${sb.accessToken()}` } },
      );
      expect(gw.status).toBe(403); // Connect Gateway wants the project number, not the id
      expect(sb.requests.map((r) => r.status)).toEqual([401, 400, 403]);
    } finally {
      await sb.close();
    }
  });
});

describe('SandboxWorld WebUI start-up and readiness', () => {
  // A cluster that just became active: its pod is scheduled after the GPU node appears, then the
  // WebUI's API answers (~20 s) well before the model has loaded (~95 s).
  const timeline = (readiness: (typeof spec)['app']['probes']['readiness']) => {
    const clock = new ManualClock(T0);
    const s = { ...spec, app: { ...spec.app, probes: { ...spec.app.probes, readiness } } };
    const w = new SandboxWorld({ seed: 3, clock, spec: s });
    w.forceCapacity(
      'asia-northeast1',
      'nvidia-tesla-t4',
      new Date(T0.getTime() - 3600_000),
      new Date(T0.getTime() + 3600_000),
    );
    w.applySpec({
      ...s,
      clusters: s.clusters.map((c) => (c.name === 'sd-asia-northeast1' ? { ...c, mode: 'active' as const } : c)),
    });
    const samples: Array<{ ready: boolean; canGenerate: boolean }> = [];
    for (let i = 0; i < (12 * 60) / 5; i++) {
      const [pod] = w.appPods('sd-asia-northeast1');
      samples.push({ ready: !!pod?.ready, canGenerate: !!pod?.canGenerate });
      clock.advance(5_000);
    }
    return samples;
  };

  it('with the ready gate, a pod is never ready before it can generate, and becomes ready soon after', () => {
    const samples = timeline({ mode: 'generation', path: '/ready', port: 7861, python: 'python3' });
    expect(samples.some((x) => x.ready)).toBe(true);
    expect(samples.filter((x) => x.ready && !x.canGenerate)).toEqual([]);
    const firstGen = samples.findIndex((x) => x.canGenerate);
    expect(samples.findIndex((x) => x.ready) - firstGen).toBeLessThanOrEqual(1);
  });

  it('on the WebUI’s /sdapi/v1/sd-models (what readiness used to ask), a pod is ready for over a minute before it can generate', () => {
    const samples = timeline({ mode: 'http-path', path: '/sdapi/v1/sd-models', port: 7861, python: 'python3' });
    expect(samples.filter((x) => x.ready && !x.canGenerate).length * 5).toBeGreaterThanOrEqual(60);
  });
});

describe('SandboxWorld with autoscaling on', () => {
  const autoscaled = loadFleetSpec(
    EXAMPLE_FLEET_YAML.replace(
      'clusters:\n',
      'autoscaling:\n  enabled: true\n  replicasOwner: autoscaler\nclusters:\n',
    ),
  ).spec;
  const at = (iso: string) => {
    const w = new SandboxWorld({ seed: 1, clock: new ManualClock(new Date(iso)), spec: autoscaled });
    // Capacity everywhere: only the autoscaler decides here.
    w.forceCapacity('europe-west4', 'nvidia-l4', new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'));
    return w;
  };

  it('the cold region has no pod while its users sleep and one, created when demand woke it, in their working day', () => {
    // Monday 2026-11-23: 03:00 in Europe (UTC+1) → asleep; 13:00 UTC → awake since the morning
    expect(at('2026-11-23T02:00:00Z').appPods('sd-europe-west4')).toEqual([]);
    const day = at('2026-11-23T13:00:00Z');
    const pods = day.appPods('sd-europe-west4');
    expect(pods).toHaveLength(1);
    expect(pods[0]!.phase).toBe('Running');
    const woke = day.coldAwakeSince(
      autoscaled.clusters.find((c) => c.name === 'sd-europe-west4')!,
      day.now(),
    )!;
    expect(new Date(woke).getUTCHours()).toBeGreaterThanOrEqual(6);
    expect(woke).toBeLessThan(day.now());
    // The warm region keeps its replicas around the clock.
    expect(at('2026-11-23T02:00:00Z').appPods('sd-us-central1')).toHaveLength(1);
  });
});
