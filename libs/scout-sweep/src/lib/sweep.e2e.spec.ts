import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { FsCheckout, renderTree, validateTree, writeTree, type ValidationReport } from '@gpu-fleet/manifests';
import { ManualClock, SandboxWorld, startSandbox, type Sandbox } from '@gpu-fleet/sandbox';
import { EvidenceLedger, silentLogger, type GitHostPort, type MemberRef } from '@gpu-fleet/scout-domain';
import { createGcpAdapters, type GcpAdapters } from '@gpu-fleet/scout-gcp';
import { GitHubHost } from '@gpu-fleet/scout-git';
import type { Document } from 'yaml';
import { runSweep, type SweepResult } from './sweep';

/**
 * The sweep end to end against the sandbox: real adapters (official Google clients, octokit) over
 * loopback servers, a hand-moved clock, kustomize validation, and pull requests on the sandbox's
 * GitHub. Merging a PR is simulated as people do it: merge on GitHub, Config Sync applies it.
 */
const catalog = GpuCatalog.bundled();
const SPEC_PATH = 'fleet-config/fleet.yaml';
const SPEC_TEXT = readFileSync(join(__dirname, '../../../../fleet-config/fleet.yaml'), 'utf8');
const T0 = new Date('2026-11-23T12:00:00Z');
const at = (min: number) => new Date(T0.getTime() + min * 60_000);
const L4 = 'nvidia-l4';
const T4 = 'nvidia-tesla-t4';
const ALL = ['us-central1', 'us-east4', 'europe-west4', 'europe-west1', 'asia-northeast1', 'asia-southeast1'];

class Scenario {
  spec!: FleetSpec;
  document!: Document;
  ledger = new EvidenceLedger();
  private constructor(
    readonly clock: ManualClock,
    readonly world: SandboxWorld,
    readonly sandbox: Sandbox,
    readonly adapters: GcpAdapters,
    readonly root: string,
  ) {}

  static async start(setup: (w: SandboxWorld) => void): Promise<Scenario> {
    const clock = new ManualClock(T0);
    const { spec } = loadFleetSpec(SPEC_TEXT);
    const world = new SandboxWorld({ seed: 7, clock, spec });
    // Everything has capacity unless a scenario says otherwise: outcomes do not hang on the random walk.
    for (const r of ALL) for (const g of [L4, T4]) world.forceCapacity(r, g, at(-24 * 60), at(24 * 60));
    setup(world);
    const sandbox = await startSandbox(world, { githubFiles: { [SPEC_PATH]: SPEC_TEXT } });
    const adapters = await createGcpAdapters(sandbox.connection, {
      clock,
      logger: silentLogger,
      bundled: catalog,
      spec,
      policy: { timeoutMs: 3000, retries: 1, minBackoffMs: 5, maxBackoffMs: 10 },
    });
    const s = new Scenario(clock, world, sandbox, adapters, mkdtempSync(join(tmpdir(), 'sweep-e2e-')));
    s.checkout(SPEC_TEXT);
    return s;
  }

  /** The repository checkout the sweep runs in (what CI checks out from main). */
  checkout(text: string): void {
    const loaded = loadFleetSpec(text);
    this.spec = loaded.spec;
    this.document = loaded.document;
    writeTree(this.root, renderTree(this.spec, catalog));
    writeFileSync(join(this.root, SPEC_PATH), text);
  }

  host = () =>
    new GitHubHost({
      ...this.sandbox.githubTarget(),
      logger: silentLogger,
      retryBaseMs: 5,
      throttle: false,
    });

  async sweep(
    minute: number,
    opts: {
      probes?: boolean;
      validate?: (root: string, spec: FleetSpec) => Promise<ValidationReport>;
      host?: GitHostPort;
      saveEvidence?: () => Promise<void>;
      deadline?: Date;
    } = {},
  ): Promise<SweepResult> {
    this.clock.set(at(minute));
    // Probes poll on the hand-moved clock: each wait moves it 20 s, so outcomes do not depend on machine speed.
    const prober = (member: MemberRef, pn: string) =>
      this.adapters.prober(member, pn, { pollMs: 0, sleep: async () => this.clock.advance(20_000) });
    return runSweep(
      {
        checkout: new FsCheckout(this.root, opts.validate ?? ((root, spec) => validateTree(root, spec, { catalog }))),
        spec: this.spec,
        document: this.document,
        specPath: SPEC_PATH,
        catalog,
        ports: this.adapters.ports,
        ledger: this.ledger,
        prober: opts.probes ? prober : () => Promise.reject(new Error('probes are off in this scenario')),
        host: opts.host ?? this.host(),
        logger: silentLogger,
        saveEvidence: opts.saveEvidence,
        deadline: opts.deadline,
      },
      { sweepId: `s${minute}`, probes: opts.probes ?? false, dryRun: false },
    );
  }

  /** A person merges the open PR; Config Sync applies it; the next sweep runs on the new main. */
  merge(r: SweepResult): void {
    expect(r.result?.number).toBeTruthy();
    this.sandbox.github.merge(r.result!.number!);
    const text = this.sandbox.github.files('main').get(SPEC_PATH)!;
    this.checkout(text);
    this.world.applySpec(this.spec);
  }

  mode = (r: SweepResult, name: string) => r.plan.clusters.find((c) => c.name === name)?.mode;
  openPulls = () => this.sandbox.github.pulls.filter((p) => p.state === 'open');

  async close() {
    await this.adapters.close();
    await this.sandbox.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

let s: Scenario | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});
jest.setTimeout(60_000);

describe('sweep probes (sandbox)', () => {
  it('probes the best candidate and records what it saw', async () => {
    s = await Scenario.start(() => undefined);
    const r = await s.sweep(0, { probes: true });
    expect(r.probes.map((p) => [p.cluster, p.gpu, p.result?.outcome ?? p.skipped])).toEqual([
      ['sd-asia-northeast1', L4, 'success'],
    ]);
    expect(s.ledger.all().filter((o) => o.source === 'probe')).toEqual([
      expect.objectContaining({ region: 'asia-northeast1', gpu: L4, outcome: 'success', sweepId: 's0' }),
    ]);
    expect(s.world.listJobs('sd-asia-northeast1', s.spec.scout.probeNamespace)).toEqual([]);
  });

  it('leaves another runner’s live probe alone and does not probe where the namespace’s GPU quota is held', async () => {
    s = await Scenario.start(() => undefined);
    const ns = s.spec.scout.probeNamespace;
    // another runner (the CronJob while someone sweeps from a laptop) is probing in the standby cluster
    s.clock.set(at(-2));
    s.world.createJob('sd-asia-northeast1', ns, {
      metadata: {
        name: 'gpu-probe-other-runner-t4-od',
        labels: { 'gpu-fleet.dev/probe': 'true', 'gpu-fleet.dev/sweep': 'other-runner' },
      },
      spec: {
        activeDeadlineSeconds: 900,
        template: {
          spec: {
            nodeSelector: { 'cloud.google.com/gke-accelerator': T4 },
            containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }],
          },
        },
      },
    });
    const r = await s.sweep(0, { probes: true });
    expect(r.probes).toEqual([
      expect.objectContaining({
        cluster: 'sd-asia-northeast1',
        gpu: L4,
        result: null,
        skipped: expect.stringMatching(
          /^sd-asia-northeast1's probe namespace has no GPU quota left \(scout\.probeMaxGpus 1; held by gpu-probe-other-runner-t4-od\)/,
        ),
      }),
    ]);
    expect(s.world.listJobs('sd-asia-northeast1', ns).map((j) => j.name)).toEqual(['gpu-probe-other-runner-t4-od']);
    // nothing was learnt, so nothing was recorded (no timeout, no rejection)
    expect(s.ledger.all().filter((o) => o.source === 'probe')).toEqual([]);
  });
});

describe('sweep end to end (sandbox)', () => {
  it('steady state: nothing proposed', async () => {
    s = await Scenario.start(() => undefined);
    for (const m of [0, 10]) {
      const r = await s.sweep(m);
      expect(r.plan.changes).toEqual([]);
      expect(r.result?.action).toBe('nothing-open');
    }
    expect(s.sandbox.github.pulls).toHaveLength(0);
  });

  it('a serving region stocks out: replacement first, standby only once it is ready, no flapping back', async () => {
    s = await Scenario.start((w) => {
      for (const g of [L4, T4]) w.forceStockout('us-central1', g, at(-10), at(60));
    });
    // Hysteresis: two bad sweeps change nothing.
    for (const m of [0, 10]) expect((await s.sweep(m)).plan.changes).toEqual([]);
    const third = await s.sweep(20);
    const add = third.plan.changes[0]!;
    expect(add).toMatchObject({ replaces: 'sd-us-central1', to: { mode: 'active' } });
    expect(s.mode(third, 'sd-us-central1')).toBe('active');
    expect(third.validation?.ok).toBe(true);
    expect(third.result).toMatchObject({ action: 'created', number: 1 });
    expect(third.specText).toContain(`replaces: sd-us-central1`);
    // The spec's comments survive the scout's edit.
    for (const line of SPEC_TEXT.split('\n').filter((l) => l.trim().startsWith('#')))
      expect(third.specText).toContain(line);

    // The same plan again: still one PR, no new commit.
    const again = await s.sweep(22);
    expect(again.result?.commit).toBe(third.result?.commit);
    expect(s.sandbox.github.pulls).toHaveLength(1);

    s.merge(again);
    // The replacement is starting (GPU node, model load): the failing region keeps serving.
    const starting = await s.sweep(24);
    expect(starting.plan.changes).toEqual([]);
    expect(starting.plan.notes.join('\n')).toMatch(
      new RegExp(`sd-us-central1 keeps serving until its replacement ${add.cluster} has ready replicas`),
    );

    // Ready: make-before-break is complete. The failing region had no ready replica — no backend, no
    // request in flight — so it goes to standby at once: one pull request, no separate drain.
    const swap = await s.sweep(34);
    expect(swap.plan.changes.map((c) => [c.cluster, c.kind, c.to.mode])).toEqual([
      ['sd-us-central1', 'standby', 'standby'],
      [add.cluster, 'tidy', 'active'],
    ]);
    expect(swap.result?.action).toBe('created');
    s.merge(swap);
    expect((await s.sweep(40)).plan.changes).toEqual([]);

    // us-central1 recovers at +60; within the dwell time nothing moves back.
    for (const m of [70, 80, 95]) {
      const r = await s.sweep(m);
      expect(r.plan.changes.filter((c) => c.cluster === 'sd-us-central1')).toEqual([]);
    }
    expect(s.openPulls()).toHaveLength(0);
  });

  it('GPU fallback inside a region (node selectors): switch the GPU type before moving the region', async () => {
    s = await Scenario.start((w) => w.forceStockout('us-central1', L4, at(-10), at(120)));
    // With a ComputeClass the pods already fall back to T4 in the region; with node selectors the scout does.
    s.checkout(SPEC_TEXT.replace(/^gpu:\n/m, 'gpu:\n  selection: node-selector\n'));
    for (const m of [0, 10]) await s.sweep(m);
    // An earlier sweep's probe got a T4 there (probes themselves are tested with the GCP adapters).
    s.ledger.add({
      source: 'probe',
      region: 'us-central1',
      zone: 'us-central1-a',
      gpu: T4,
      spot: false,
      outcome: 'success',
      at: at(15).toISOString(),
      details: 'Tesla T4, 15360 MiB',
    });
    const r = await s.sweep(20);
    expect(r.plan.changes).toEqual([
      expect.objectContaining({
        cluster: 'sd-us-central1',
        kind: 'switch-gpu',
        to: expect.objectContaining({ gpu: T4, mode: 'active' }),
      }),
    ]);
    expect(r.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([SPEC_PATH, 'clusters/sd-us-central1/gpu-patch.yaml']),
    );
    expect(r.result?.action).toBe('created');
  });

  it('a region with capacity but zero quota gets a quota request, not the workload', async () => {
    s = await Scenario.start((w) => {
      for (const g of [L4, T4]) w.forceStockout('us-central1', g, at(-10), at(120));
      for (const r of ['us-east4', 'europe-west1', 'asia-southeast1', 'asia-northeast1']) {
        w.setQuota(r, 'NVIDIA_L4_GPUS', 0);
        w.setQuota(r, 'NVIDIA_T4_GPUS', 0);
      }
    });
    for (const m of [0, 10]) await s.sweep(m);
    const r = await s.sweep(20);
    expect(r.plan.changes).toEqual([]);
    expect(r.plan.quotaRequests.map((q) => q.region).sort()).toEqual([
      'asia-northeast1',
      'asia-southeast1',
      'europe-west1',
      'us-east4',
    ]);
    expect(r.plan.quotaRequests[0]!.note).toMatch(/allows 0 .* request ≥ \d+ in the console/);
    expect(r.plan.notes.join('\n')).toMatch(/sd-us-central1 stays active although failing/);
    expect(s.sandbox.github.pulls).toHaveLength(0);
  });

  it('total outage: explained in one line, nothing unsafe proposed', async () => {
    s = await Scenario.start((w) => {
      for (const r of ALL) for (const g of [L4, T4]) w.forceStockout(r, g, at(-30), at(120));
    });
    // Probes keep finding no GPU anywhere (probes themselves are tested with the GCP adapters); a
    // stockout stops blocking after about one 30-minute half-life, so they are repeated.
    let last: SweepResult | undefined;
    for (const m of [0, 10, 20, 30]) {
      for (const r of ALL)
        for (const g of [L4, T4])
          s.ledger.add({
            source: 'probe',
            region: r,
            zone: `${r}-a`,
            gpu: g,
            spot: false,
            outcome: 'stockout',
            at: at(m - 1).toISOString(),
            details: 'GCE out of resources',
          });
      last = await s.sweep(m);
    }
    expect(last!.plan.changes).toEqual([]);
    expect(last!.plan.eligibility).toMatch(/^0\/6 regions eligible: 6 stockout \(last \d+m\)$/);
    expect(last!.plan.clusters).toEqual(s.spec.clusters);
    expect(s.sandbox.github.pulls).toHaveLength(0);
  });

  it('nothing is proposed when validation fails', async () => {
    s = await Scenario.start((w) => w.forceStockout('us-central1', L4, at(-10), at(120)));
    for (const m of [0, 10]) await s.sweep(m);
    const r = await s.sweep(20, {
      validate: async () =>
        ({
          built: new Map(),
          findings: [{ scope: 'clusters/sd-us-central1', object: 'Deployment/sd-webui', message: 'injected' }],
          timingsMs: {},
        }) as unknown as ValidationReport,
    });
    expect(r.stopped).toMatch(/validation failed, nothing proposed/);
    expect(r.result).toBeNull();
    expect(s.sandbox.github.refs.has('heads/region-scout/placement')).toBe(false);
  });

  it('the plan empties while a PR is open: the PR is closed with a comment', async () => {
    s = await Scenario.start((w) => w.forceStockout('us-central1', L4, at(-10), at(25)));
    for (const m of [0, 10]) await s.sweep(m);
    expect((await s.sweep(20)).result?.action).toBe('created');
    // L4 is back and the pod is ready again: nothing to change any more.
    const r = await s.sweep(60);
    expect(r.plan.changes).toEqual([]);
    expect(r.result).toMatchObject({ action: 'closed', number: 1 });
    expect(s.sandbox.github.pulls[0]!.comments[0]).toMatch(/needs no change any more/);
  });
});

describe('a sweep that may be cut short (the CronJob deadline, a kill, a stale image)', () => {
  /** A stockout that makes the third sweep propose. */
  const proposing = async () => {
    s = await Scenario.start((w) => {
      for (const g of [L4, T4]) w.forceStockout('us-central1', g, at(-10), at(60));
    });
    for (const m of [0, 10]) await s.sweep(m);
  };
  const host = (propose: GitHostPort['propose']): GitHostPort & { calls: number } => {
    const h = {
      calls: 0,
      describe: () => 'a test host',
      propose: (req: Parameters<GitHostPort['propose']>[0]) => {
        h.calls++;
        return propose(req);
      },
      withdraw: () => Promise.reject(new Error('not expected')),
    };
    return h;
  };

  it('the evidence is saved before proposing: a sweep killed while proposing keeps its record', async () => {
    await proposing();
    const saved: string[][] = [];
    const killed = host(() => Promise.reject(new Error('SIGKILL while proposing')));
    await expect(
      s!.sweep(20, {
        host: killed,
        saveEvidence: async () => void saved.push(s!.ledger.sweeps().map((w) => w.id)),
      }),
    ).rejects.toThrow('SIGKILL while proposing');
    expect(killed.calls).toBe(1);
    expect(saved).toEqual([['s0', 's10', 's20']]);
  });

  it('evidence that cannot be saved means nothing is proposed', async () => {
    await proposing();
    const never = host(() => Promise.reject(new Error('not expected')));
    const r = await s!.sweep(20, { host: never, saveEvidence: () => Promise.reject(new Error('409 Conflict, twice')) });
    expect(r.stopped).toMatch(/^the evidence could not be saved \(409 Conflict, twice\): nothing proposed/);
    expect(never.calls).toBe(0);
  });

  it('past its deadline the sweep proposes nothing and says so', async () => {
    await proposing();
    const never = host(() => Promise.reject(new Error('not expected')));
    const r = await s!.sweep(20, { host: never, deadline: at(19) });
    expect(r.stopped).toMatch(/^the sweep's deadline \(.*\) passed before proposing: the evidence is saved/);
    expect(r.plan.changes.length).toBeGreaterThan(0);
    expect(never.calls).toBe(0);
  });

  it('main rendered by a newer region-scout: nothing proposed, "re-pin the scout image"', async () => {
    await proposing();
    const file = join(s!.root, 'clusters/sd-us-central1/kustomization.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\(renderer \d+\)/, '(renderer 999)'));
    const never = host(() => Promise.reject(new Error('not expected')));
    const r = await s!.sweep(20, { host: never });
    expect(r.stopped).toMatch(/newer region-scout \(renderer 999; this one is renderer \d+\).* Re-pin the scout image/);
    expect(never.calls).toBe(0);
  });
});
