import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { ManualClock, SandboxWorld, startSandbox, type Sandbox } from '@gpu-fleet/sandbox';

/** The sandbox the GitHub adapter's tests run against: its repository holds a spec and one generated file; a manual clock. */
export function githubSandbox(): Promise<Sandbox> {
  const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
  const world = new SandboxWorld({ seed: 1, clock: new ManualClock(new Date('2026-11-23T12:00:00Z')), spec });
  return startSandbox(world, {
    githubFiles: { 'fleet-config/fleet.yaml': 'clusters: []\n', 'clusters/old/kustomization.yaml': 'old\n' },
  });
}
