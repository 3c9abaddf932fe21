import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec, type FleetSpec } from '@gpu-fleet/fleet-spec';
import {
  compressedClock,
  SandboxWorld,
  startSandbox,
  type Fault,
  type Sandbox,
  type SimClock,
  type WorldOptions,
} from '@gpu-fleet/sandbox';
import { silentLogger } from '@gpu-fleet/scout-domain';
import { createGcpAdapters, kubeApis, type GcpAdapters, type KubeApis } from '../index';

export const T0 = new Date('2026-11-23T12:00:00Z');
export const hours = (h: number) => new Date(T0.getTime() + h * 3600_000);

export interface Harness {
  spec: FleetSpec;
  world: SandboxWorld;
  sandbox: Sandbox;
  adapters: GcpAdapters;
  clock: SimClock;
  /** Kubernetes clients of a fleet member through the sandbox's Connect Gateway (as a person with kubectl would have). */
  kube(membership: string): KubeApis;
  close(): Promise<void>;
}

/**
 * The sandbox servers over the example fleet, and the real adapters (official clients) pointed at
 * them. The clock runs 600× (a 5-minute GPU node appears in 0.5 s); scenarios that need a fixed
 * outcome force capacity or stockouts over a window wide enough to make the result certain.
 */
export async function harness(
  opts: {
    faults?: Fault[];
    setup?: (w: SandboxWorld) => void;
    factor?: number;
    clock?: SimClock;
    timeoutMs?: number;
    retries?: number;
    tokenLifetimeSeconds?: number;
    memberships?: WorldOptions['memberships'];
    /** Cloud Storage buckets that exist in the sandbox (default: the spec's). */
    storageBuckets?: string[];
  } = {},
): Promise<Harness> {
  const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
  const clock = opts.clock ?? compressedClock(T0, opts.factor ?? 600);
  const world = new SandboxWorld({ seed: 42, clock, spec, memberships: opts.memberships });
  opts.setup?.(world);
  const sandbox = await startSandbox(world, {
    faults: opts.faults,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds,
    ...(opts.storageBuckets ? { storageBuckets: opts.storageBuckets } : {}),
  });
  const adapters = await createGcpAdapters(sandbox.connection, {
    clock,
    logger: silentLogger,
    bundled: GpuCatalog.bundled(),
    spec,
    policy: { timeoutMs: opts.timeoutMs ?? 2000, retries: opts.retries ?? 2, minBackoffMs: 10, maxBackoffMs: 50 },
  });
  return {
    spec,
    world,
    sandbox,
    adapters,
    clock,
    kube: (membership) => {
      const m = world.memberships().find((x) => x.name === membership)!;
      return kubeApis(
        {
          gateway: sandbox.endpoints.connectgateway,
          projectNumber: world.projectNumber,
          location: m.location,
          membership,
        },
        async () => sandbox.accessToken(),
      );
    },
    close: async () => {
      await adapters.close();
      await sandbox.close();
    },
  };
}
