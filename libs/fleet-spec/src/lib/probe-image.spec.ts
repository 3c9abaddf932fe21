import { EXAMPLE_FLEET_YAML, loadFleetSpec, probeImageOf } from '../index';

describe('the GPU probe image', () => {
  const digest = `sha256:${'b'.repeat(64)}`;
  const scout = (section: string) =>
    loadFleetSpec(EXAMPLE_FLEET_YAML.replace('clusters:\n', `scout:\n${section}clusters:\n`)).spec;

  it('is scout.probeImage, else the scout image (both pinned by digest in the fleet registry), else none', () => {
    const scoutImage = `us-docker.pkg.dev/sd-fleet-test-4821/gpu-fleet/region-scout@${digest}`;
    const probe = `us-docker.pkg.dev/sd-fleet-test-4821/gpu-fleet/gpu-probe@${digest}`;
    expect(probeImageOf(scout(`  image: ${scoutImage}\n  probeImage: ${probe}\n`))).toBe(probe);
    expect(probeImageOf(scout(`  image: ${scoutImage}\n`))).toBe(scoutImage);
    expect(probeImageOf(loadFleetSpec(EXAMPLE_FLEET_YAML).spec)).toBeNull();
  });
});
