import { EvidenceLedger, gatherSignals, SignalError } from '@gpu-fleet/scout-domain';
import { ComputeSignals, CallPolicy } from '../index';
import { harness, hours, type Harness } from '../test/harness';

jest.setTimeout(30_000);

describe('adapters against the sandbox, with the official clients', () => {
  let h: Harness;
  beforeAll(async () => {
    // Real-time clock: nothing here waits for GPU nodes, and a pending pod's FailedScaleUp series
    // moves its lastTimestamp every 5 simulated minutes (0.5 s at ×600), which is new evidence.
    h = await harness({ factor: 1, setup: (w) => w.forceStockout('us-central1', 'nvidia-l4', hours(-2), hours(3)) });
  });
  afterAll(() => h.close());

  it('reads every zone’s accelerators in one aggregated call when one page holds them', async () => {
    const before = h.sandbox.requests.length;
    const zones = await new ComputeSignals(h.adapters.clients, h.spec.project, new CallPolicy()).acceleratorsByZone();
    expect(
      h.sandbox.requests.slice(before).filter((r) => r.path.endsWith('/aggregated/acceleratorTypes')),
    ).toHaveLength(1);
    expect(zones.find((z) => z.zone === 'us-central1-a')?.accelerators.map((a) => a.gpu)).toContain('nvidia-l4');
    expect(new Set(zones.map((z) => z.region)).size).toBeGreaterThan(25);
  });

  it('follows pagination when the server pages: every zone once, nothing lost', async () => {
    const all = await new ComputeSignals(h.adapters.clients, h.spec.project, new CallPolicy()).acceleratorsByZone();
    const before = h.sandbox.requests.length;
    h.world.pageSizeCap = 25;
    try {
      const paged = await new ComputeSignals(h.adapters.clients, h.spec.project, new CallPolicy()).acceleratorsByZone();
      const pages = h.sandbox.requests.slice(before).filter((r) => r.path.endsWith('/aggregated/acceleratorTypes'));
      const zoneCount = h.world.catalog.regions().flatMap((r) => r.zones).length;
      expect(pages).toHaveLength(Math.ceil(zoneCount / 25));
      expect(pages.length).toBeGreaterThan(3);
      expect(paged).toEqual(all);
    } finally {
      h.world.pageSizeCap = Infinity;
    }
  });

  it('follows nextPageToken when the server pages', async () => {
    const before = h.sandbox.requests.length;
    const zones: string[] = [];
    for await (const [scope] of h.adapters.clients.accelerators.aggregatedListAsync(
      { project: h.spec.project, maxResults: 40 },
      { retry: null, autoPaginate: false } as never,
    ))
      zones.push(scope);
    const pages = h.sandbox.requests.slice(before).length;
    expect(pages).toBeGreaterThan(2);
    expect(new Set(zones).size).toBe(zones.length);
    expect(zones.length).toBe(h.world.catalog.regions().flatMap((r) => r.zones).length);
  });

  it('reads GPU quotas per region and the project-wide limit', async () => {
    const regions = await h.adapters.ports.quota.regionQuotas();
    const usc1 = regions.find((r) => r.region === 'us-central1')!;
    expect(usc1.quotas.find((q) => q.metric === 'NVIDIA_L4_GPUS')).toEqual({
      metric: 'NVIDIA_L4_GPUS',
      limit: h.world.quotaLimit('us-central1', 'NVIDIA_L4_GPUS'),
      usage: 0,
    });
    expect(await h.adapters.ports.quota.projectQuotas()).toEqual([
      expect.objectContaining({ metric: 'GPUS_ALL_REGIONS', limit: 64 }),
    ]);
  });

  it('lists clusters (int-encoded enums decoded), memberships and Config Sync state', async () => {
    const clusters = await h.adapters.ports.fleet.clusters();
    expect(clusters.find((c) => c.name === 'sd-us-central1')).toEqual({
      name: 'sd-us-central1',
      location: 'us-central1',
      status: 'RUNNING',
      autopilot: true,
      endpoint: expect.any(String),
    });
    const ms = await h.adapters.ports.fleet.memberships();
    expect(ms.find((m) => m.id === 'sd-europe-west4')).toEqual({
      id: 'sd-europe-west4',
      location: 'global',
      cluster: 'europe-west4/sd-europe-west4',
      state: 'READY',
    });
    const sync = await h.adapters.ports.fleet.configSync();
    expect(sync.find((s) => s.membership === 'sd-europe-west4')).toMatchObject({
      code: 'SYNCED',
      syncToken: h.world.syncToken(),
    });
    expect(await h.adapters.ports.fleet.projectNumber()).toBe(h.world.projectNumber);
  });

  it('turns pending app pods into classified stockout evidence (passive signal)', async () => {
    const ledger = new EvidenceLedger();
    const report = await gatherSignals(h.spec, h.adapters.ports, ledger);
    expect(report.problems).toEqual([]);
    const usc1 = report.regions.find((r) => r.region === 'us-central1')!;
    expect(usc1.status).toBe('ok');
    expect(usc1.clusters[0]).toMatchObject({ name: 'sd-us-central1', pendingPods: 1, syncCode: 'SYNCED' });
    const passive = report.newObservations.filter((o) => o.source === 'passive' && o.outcome !== 'success');
    expect(passive).toEqual([
      expect.objectContaining({ region: 'us-central1', gpu: 'nvidia-l4', outcome: 'stockout', zone: 'us-central1-a' }),
    ]);
    expect(passive[0]!.details).toContain('GCE out of resources');
    // The cluster with every replica ready had its GPUs: one success for the learned uptime.
    expect(report.newObservations.filter((o) => o.outcome === 'success')).toEqual([
      expect.objectContaining({
        source: 'passive',
        region: 'europe-west4',
        details: 'sd-europe-west4: 2/2 replicas ready',
      }),
    ]);
    // gathering again does not double-count the same event
    const again = await gatherSignals(h.spec, h.adapters.ports, ledger);
    expect(again.newObservations.filter((o) => o.source === 'passive' && o.outcome === 'stockout')).toEqual([]);
  });

  it('sends Google’s error body back as a SignalError naming the API', async () => {
    const wrong = new ComputeSignals(h.adapters.clients, 'not-our-project', new CallPolicy({ retries: 0 }));
    await expect(wrong.acceleratorsByZone()).rejects.toThrow(SignalError);
    await expect(wrong.acceleratorsByZone()).rejects.toThrow(
      /compute: .*Permission denied on resource project not-our-project/,
    );
  });
});

describe('failure isolation (fault injection)', () => {
  it('5xx on one cluster marks that region unknown and leaves the others intact', async () => {
    const h = await harness({
      faults: [{ api: 'connectgateway', path: /gkeMemberships\/sd-us-central1\//, kind: 'status', status: 503 }],
    });
    try {
      const report = await gatherSignals(h.spec, h.adapters.ports, new EvidenceLedger());
      const byRegion = Object.fromEntries(report.regions.map((r) => [r.region, r]));
      expect(byRegion['us-central1']!.status).toBe('unknown');
      expect(byRegion['us-central1']!.problems.join()).toMatch(
        /sd-us-central1: workload signal unknown \(connectgateway \(sd-us-central1\): HTTP 503/,
      );
      expect(byRegion['us-central1']!.offered.map((o) => o.gpu)).toEqual(['nvidia-l4', 'nvidia-tesla-t4']);
      expect(byRegion['europe-west4']!.status).toBe('ok');
      expect(byRegion['europe-west4']!.clusters[0]!.pendingPods).toBe(0);
      // retried before giving up: 1 + 2 retries
      expect(
        h.sandbox.requests.filter((r) => r.path.includes('sd-us-central1/api/v1/namespaces/sd-webui/pods')).length,
      ).toBe(3);
    } finally {
      await h.close();
    }
  });

  it('429 with Retry-After is retried after the delay and then succeeds', async () => {
    const h = await harness({
      faults: [{ api: 'compute', path: /aggregated/, kind: 'rate-limit', retryAfterSec: 0.3, times: 1 }],
    });
    try {
      const t = Date.now();
      const zones = await h.adapters.ports.catalog.acceleratorsByZone();
      expect(zones.length).toBeGreaterThan(0);
      expect(Date.now() - t).toBeGreaterThanOrEqual(290);
      expect(
        h.sandbox.requests.filter((r) => r.path.endsWith('/aggregated/acceleratorTypes')).map((r) => r.status),
      ).toEqual([429, 200]);
    } finally {
      await h.close();
    }
  });

  it('a timeout or dropped connection on the catalog falls back to the bundled offering, marked unknown', async () => {
    for (const kind of ['timeout', 'drop'] as const) {
      const h = await harness({ faults: [{ api: 'compute', path: /aggregated/, kind }], timeoutMs: 300, retries: 1 });
      try {
        const report = await gatherSignals(h.spec, h.adapters.ports, new EvidenceLedger());
        expect(report.problems.join()).toMatch(/Compute acceleratorTypes: compute: /);
        const euw4 = report.regions.find((r) => r.region === 'europe-west4')!;
        expect(euw4.status).toBe('unknown');
        expect(euw4.offered.every((o) => o.source === 'bundled')).toBe(true);
        // quotas came from another call and are still known
        expect(euw4.quota.every((q) => q.headroom !== null)).toBe(true);
      } finally {
        await h.close();
      }
    }
  });
});

describe('caching', () => {
  it('reuses the accelerator offering within its TTL, but never quotas or Config Sync state', async () => {
    // Requests are counted: no retries, and a timeout no loaded machine reaches (a retried slow call
    // would count twice; this test is about the cache, not the retry policy).
    const h = await harness({ timeoutMs: 60_000, retries: 0 });
    try {
      const count = (re: RegExp) => h.sandbox.requests.filter((r) => re.test(r.path)).length;
      for (let i = 0; i < 3; i++) await gatherSignals(h.spec, h.adapters.ports, new EvidenceLedger());
      expect(count(/aggregated\/acceleratorTypes$/)).toBe(1);
      expect(count(/\/regions$/)).toBe(3);
      expect(count(/features\/configmanagement$/)).toBe(3);
    } finally {
      await h.close();
    }
  });
});

describe('credentials per request', () => {
  it('outlives an access token: every Kubernetes request asks for a current one (the sandbox’s tokens expire)', async () => {
    const h = await harness({ factor: 1, tokenLifetimeSeconds: 1 });
    try {
      const pn = await h.adapters.ports.fleet.projectNumber();
      const workloads = h.adapters.ports.workloads({ id: 'sd-europe-west4', location: 'global' }, pn);
      await workloads.appPods('sd-webui', 'app.kubernetes.io/name=sd-webui');
      // the first access token has expired now; a client holding it would get 401 from here on
      await new Promise((r) => setTimeout(r, 1300));
      await expect(workloads.appPods('sd-webui', 'app.kubernetes.io/name=sd-webui')).resolves.toMatchObject({
        total: h.world.appPods('sd-europe-west4').length,
      });
      await expect(h.adapters.ports.quota.projectQuotas()).resolves.toHaveLength(1);
      expect(h.sandbox.requests.filter((r) => r.status === 401)).toEqual([]);
      expect(h.sandbox.requests.filter((r) => r.api === 'oauth2').length).toBeGreaterThanOrEqual(2);
    } finally {
      await h.close();
    }
  });

  it('an expired or unknown token is refused with 401, as Google does', async () => {
    const h = await harness({ tokenLifetimeSeconds: 1 });
    try {
      const token = h.sandbox.accessToken();
      const url = `${h.sandbox.endpoints.compute}/compute/v1/projects/${h.spec.project}`;
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1100));
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
      expect((await fetch(url, { headers: { authorization: 'Bearer made-up' } })).status).toBe(401);
    } finally {
      await h.close();
    }
  });
});

describe('errors carry the server’s status and reason as typed fields', () => {
  it('Kubernetes Status reasons (NotFound, AlreadyExists) and Google error statuses', async () => {
    const h = await harness();
    try {
      const core = h.kube('fleet-config').core;
      const policy = new CallPolicy({ retries: 0 });
      const notFound = await policy
        .run('kubernetes', {}, () => core.readNamespacedConfigMap({ namespace: 'gpu-fleet-system', name: 'absent' }))
        .catch((e: unknown) => e as SignalError);
      expect(notFound).toBeInstanceOf(SignalError);
      expect(notFound).toMatchObject({ status: 404, reason: 'NotFound', transient: false });
      const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'twice' }, data: {} };
      await core.createNamespacedConfigMap({ namespace: 'gpu-fleet-system', body });
      const exists = await policy
        .run('kubernetes', {}, () => core.createNamespacedConfigMap({ namespace: 'gpu-fleet-system', body }))
        .catch((e: unknown) => e as SignalError);
      expect(exists).toMatchObject({ status: 409, reason: 'AlreadyExists' });
      const wrong = await new ComputeSignals(h.adapters.clients, 'not-our-project', new CallPolicy({ retries: 0 }))
        .projectQuotas()
        .catch((e: unknown) => e as SignalError);
      expect(wrong).toMatchObject({ status: 403, reason: 'PERMISSION_DENIED' });
    } finally {
      await h.close();
    }
  });

  it('a call that may have taken effect is not repeated unless it is marked idempotent', async () => {
    const h = await harness({
      faults: [{ api: 'compute', path: /\/projects\/[^/]+$/, kind: 'status', status: 503, times: 1 }],
    });
    try {
      const policy = new CallPolicy({ retries: 2, minBackoffMs: 1, maxBackoffMs: 2 });
      const get = () => h.adapters.clients.projects.get({ project: h.spec.project }, { retry: null } as never);
      await expect(policy.run('compute', {}, get, { idempotent: false })).rejects.toMatchObject({ status: 503 });
      h.sandbox.faults.push({ api: 'compute', path: /\/projects\/[^/]+$/, kind: 'status', status: 503, times: 1 });
      await expect(policy.run('compute', {}, get)).resolves.toBeTruthy();
      // a 429 proves the server did not act: retried even when not idempotent
      h.sandbox.faults.push({
        api: 'compute',
        path: /\/projects\/[^/]+$/,
        kind: 'rate-limit',
        retryAfterSec: 0,
        times: 1,
      });
      await expect(policy.run('compute', {}, get, { idempotent: false })).resolves.toBeTruthy();
      expect(h.sandbox.requests.filter((r) => /\/projects\/[^/]+$/.test(r.path)).map((r) => r.status)).toEqual([
        503, 503, 200, 429, 200,
      ]);
    } finally {
      await h.close();
    }
  });
});

describe('regional fleet memberships', () => {
  it('lists memberships in every location and reaches each cluster at its own location', async () => {
    const h = await harness({ factor: 1, memberships: { 'sd-us-central1': 'regional', 'fleet-config': 'regional' } });
    try {
      const ms = await h.adapters.ports.fleet.memberships();
      expect(ms.find((m) => m.id === 'sd-us-central1')).toEqual({
        id: 'sd-us-central1',
        location: 'us-central1',
        cluster: 'us-central1/sd-us-central1',
        state: 'READY',
      });
      expect(ms.find((m) => m.id === 'sd-europe-west4')).toMatchObject({ location: 'global' });
      expect(
        h.sandbox.requests.filter((r) => r.api === 'gkehub' && r.path.endsWith('/memberships')).map((r) => r.path),
      ).toEqual([`/v1/projects/${h.spec.project}/locations/-/memberships`]);
      const report = await gatherSignals(h.spec, h.adapters.ports, new EvidenceLedger());
      expect(report.problems).toEqual([]);
      expect(report.regions.find((r) => r.region === 'us-central1')!.clusters[0]).toMatchObject({
        name: 'sd-us-central1',
        syncCode: 'SYNCED',
        readyPods: expect.any(Number),
      });
      const pods = h.sandbox.requests.filter(
        (r) => r.api === 'connectgateway' && r.path.includes('/gkeMemberships/sd-us-central1/'),
      );
      expect(pods.length).toBeGreaterThan(0);
      expect(
        pods.every(
          (r) =>
            r.path.startsWith(
              `/us-central1-connectgateway.googleapis.com/v1/projects/${h.world.projectNumber}/locations/us-central1/gkeMemberships/sd-us-central1/`,
            ) && r.status === 200,
        ),
      ).toBe(true);
      // the evidence ConfigMap lives in the config cluster, registered regionally here
      const store = await h.adapters.evidenceConfigMap('gpu-fleet-system', 'region-scout-evidence');
      await expect(store.load()).resolves.toBeNull();
    } finally {
      await h.close();
    }
  });

  it('the sandbox answers per-location listings as Google does: an empty list where a location has none', async () => {
    const h = await harness({ memberships: { 'sd-us-central1': 'regional' } });
    try {
      const list = async (location: string) => {
        const res = await fetch(
          `${h.sandbox.endpoints.gkehub}/v1/projects/${h.spec.project}/locations/${location}/memberships`,
          { headers: { authorization: `Bearer ${h.sandbox.accessToken()}` } },
        );
        return {
          status: res.status,
          names: (((await res.json()) as { resources?: Array<{ name: string }> }).resources ?? []).map((r) =>
            r.name.split('/').slice(-3).join('/'),
          ),
        };
      };
      expect(await list('us-central1')).toEqual({ status: 200, names: ['us-central1/memberships/sd-us-central1'] });
      expect(await list('asia-south1')).toEqual({ status: 200, names: [] });
      expect((await list('global')).names).not.toContain('us-central1/memberships/sd-us-central1');
      // and Connect Gateway does not find a regional membership under locations/global
      const at = (host: string, location: string) =>
        fetch(
          `${h.sandbox.endpoints.connectgateway.replace('{host}', host)}/v1/projects/${h.world.projectNumber}/locations/${location}/gkeMemberships/sd-us-central1/api/v1/namespaces/sd-webui/pods`,
          { headers: { authorization: `Bearer ${h.sandbox.accessToken()}` } },
        );
      expect((await at('connectgateway.googleapis.com', 'global')).status).toBe(404);
      // nor on the global host under its own location: a regional membership has a regional host
      const wrongHost = await at('connectgateway.googleapis.com', 'us-central1');
      expect(wrongHost.status).toBe(400);
      expect(((await wrongHost.json()) as { message: string }).message).toMatch(
        /served at us-central1-connectgateway\.googleapis\.com/,
      );
      expect((await at('europe-west4-connectgateway.googleapis.com', 'us-central1')).status).toBe(400);
      expect((await at('us-central1-connectgateway.googleapis.com', 'us-central1')).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});
