import { EXAMPLE_FLEET_YAML, loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import {
  EvidenceLedger,
  silentLogger,
  type LiveProbe,
  type MemberRef,
  type Membership,
  type ProbePort,
  type ProbeResult,
  type SignalPorts,
} from '@gpu-fleet/scout-domain';
import { runProbes, type SweepDeps, type SweepOptions } from './sweep';

/**
 * runProbes on its own, with fake ports: which ranked targets it probes, skips or leaves untried
 * (the sweep's e2e tests reach only the success and the full-namespace cases).
 */
const NOW = new Date('2026-11-23T12:00:00Z');
const L4 = 'nvidia-l4';
const OPTS: SweepOptions = { sweepId: 'sw1', probes: true, dryRun: false };
const REGIONS: Record<string, string> = { 'sd-a': 'us-central1', 'sd-b': 'us-east4', 'sd-c': 'europe-west4' };
const target = (cluster: string) => ({ cluster, region: REGIONS[cluster] ?? 'asia-northeast1', gpu: L4 });
const SUCCESS: ProbeResult = {
  outcome: 'success',
  cause: null,
  gpuName: 'NVIDIA L4',
  gpuMemoryMiB: 23034,
  secondsToRunning: 90,
  zone: 'us-central1-a',
  details: 'NVIDIA L4, 23034 MiB',
};

function harness(
  o: {
    probesPerSweep?: number;
    maxProbesPerDay?: number;
    live?: Record<string, LiveProbe[]>;
    fleetDown?: string;
    failing?: string[];
  } = {},
) {
  const { spec: loaded } = loadFleetSpec(EXAMPLE_FLEET_YAML);
  const spec: FleetSpec = {
    ...loaded,
    gpu: { ...loaded.gpu, count: 1 },
    scout: {
      ...loaded.scout,
      probesPerSweep: o.probesPerSweep ?? 3,
      probeMaxGpus: 1,
      probeBudget: { ...loaded.scout.probeBudget, maxProbesPerDay: o.maxProbesPerDay ?? 24 },
    },
  };
  const calls: string[] = [];
  const memberships: Membership[] = ['sd-a', 'sd-b', 'sd-c', 'sd-d'].map((id) => ({
    id,
    location: 'global',
    cluster: null,
    state: 'READY',
  }));
  const ports = {
    fleet: {
      projectNumber: async () => {
        if (o.fleetDown) throw new Error(o.fleetDown);
        return '123';
      },
      memberships: async () => memberships,
    },
    clock: { now: () => NOW },
  } as unknown as SignalPorts;
  const prober = async (member: MemberRef): Promise<ProbePort> => {
    calls.push(`prober ${member.id}`);
    return {
      cleanup: async () => {
        calls.push(`cleanup ${member.id}`);
        return { removed: 0, live: o.live?.[member.id] ?? [] };
      },
      run: async (req) => {
        calls.push(`run ${req.membership}`);
        if (o.failing?.includes(req.membership)) throw new Error('gateway 502');
        return SUCCESS;
      },
    };
  };
  const ledger = new EvidenceLedger();
  const deps = { spec, ports, ledger, prober, logger: silentLogger } as unknown as SweepDeps;
  return { deps, calls, ledger };
}

describe('runProbes', () => {
  it('probes in rank order up to scout.probesPerSweep; a full namespace is skipped without using one', async () => {
    const h = harness({ live: { 'sd-a': [{ job: 'gpu-probe-other', sweepId: 'other', gpus: 1 }] } });
    const runs = await runProbes(h.deps, OPTS, ['sd-x', 'sd-a', 'sd-b', 'sd-b', 'sd-c', 'sd-d'].map(target));
    expect(runs.map((r) => [r.cluster, r.result?.outcome ?? r.skipped])).toEqual([
      ['sd-x', 'probe could not run: no fleet membership'],
      ['sd-a', expect.stringMatching(/^sd-a's probe namespace has no GPU quota left .*; held by gpu-probe-other\)/)],
      ['sd-b', 'success'],
      ['sd-b', expect.stringMatching(/^sd-b's probe namespace has no GPU quota left/)],
      ['sd-c', 'success'],
    ]);
    // each cluster is learnt once (cleanup first); sd-d, past probesPerSweep, is never asked
    expect(h.calls).toEqual([
      'prober sd-a',
      'cleanup sd-a',
      'prober sd-b',
      'cleanup sd-b',
      'run sd-b',
      'prober sd-c',
      'cleanup sd-c',
      'run sd-c',
    ]);
    expect(h.ledger.all()).toEqual([
      expect.objectContaining({ source: 'probe', region: 'us-east4', outcome: 'success', sweepId: 'sw1' }),
      expect.objectContaining({ source: 'probe', region: 'europe-west4', outcome: 'success', sweepId: 'sw1' }),
    ]);
    expect(h.ledger.all().map((x) => x.at)).toEqual([NOW.toISOString(), NOW.toISOString()]);
  });

  it('a spent budget skips the probe, which still uses one of the sweep’s', async () => {
    const h = harness({ probesPerSweep: 1, maxProbesPerDay: 0 });
    const runs = await runProbes(h.deps, OPTS, ['sd-a', 'sd-b'].map(target));
    expect(runs).toEqual([{ ...target('sd-a'), result: null, skipped: 'daily probe budget spent (0 probes)' }]);
    expect(h.calls).toEqual(['prober sd-a', 'cleanup sd-a']);
    expect(h.ledger.all()).toEqual([]);
  });

  it('an unknown fleet skips the first scout.probesPerSweep targets', async () => {
    const h = harness({ probesPerSweep: 2, fleetDown: 'permission denied' });
    const runs = await runProbes(h.deps, OPTS, ['sd-a', 'sd-b', 'sd-c'].map(target));
    expect(runs).toEqual([
      { ...target('sd-a'), result: null, skipped: 'fleet unknown: permission denied' },
      { ...target('sd-b'), result: null, skipped: 'fleet unknown: permission denied' },
    ]);
    expect(h.calls).toEqual([]);
  });

  it('a probe that fails to run is reported as skipped and records nothing', async () => {
    const h = harness({ probesPerSweep: 1, failing: ['sd-a'] });
    const runs = await runProbes(h.deps, OPTS, ['sd-a', 'sd-b'].map(target));
    expect(runs).toEqual([{ ...target('sd-a'), result: null, skipped: 'probe could not run: gateway 502' }]);
    expect(h.calls).toEqual(['prober sd-a', 'cleanup sd-a', 'run sd-a']);
    expect(h.ledger.all()).toEqual([]);
  });
});
