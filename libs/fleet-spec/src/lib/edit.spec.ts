import {
  EXAMPLE_FLEET_YAML,
  formatIssue,
  loadFleetSpec,
  parseFleetSpec,
  writeClusters,
  writeMachineFields,
} from '../index';

describe('writeClusters: the scout edits only the clusters section', () => {
  // The repository's fleet-config/fleet.yaml is checked the same way by the region-scout app tests.
  it('round-trips an untouched spec byte for byte', () => {
    const { spec, document } = loadFleetSpec(EXAMPLE_FLEET_YAML);
    expect(writeClusters(document, spec.clusters)).toBe(EXAMPLE_FLEET_YAML);
  });

  it('changes values in place, keeps every comment, appends new clusters and drops markers', () => {
    const source = EXAMPLE_FLEET_YAML.replace(
      'candidateRegions: [us-central1,',
      'candidateRegions: [us-central1, us-east4,',
    );
    const { spec, document } = loadFleetSpec(source);
    const clusters = spec.clusters.map((c) =>
      c.name === 'sd-us-central1' ? { ...c, mode: 'draining' as const } : { ...c },
    );
    clusters.push({
      name: 'sd-us-east4',
      region: 'us-east4',
      mode: 'active',
      gpu: 'nvidia-l4',
      replicas: 1,
      replaces: 'sd-us-central1',
    });
    const out = writeClusters(document, clusters);
    const before = source.split('\n');
    const after = out.split('\n');
    // Every comment line of the original is still there, in order.
    expect(after.filter((l) => l.trim().startsWith('#'))).toEqual(before.filter((l) => l.trim().startsWith('#')));
    // Nothing before the clusters section moved.
    const head = before.findIndex((l) => l.startsWith('clusters:'));
    expect(after.slice(0, head)).toEqual(before.slice(0, head));
    const reparsed = parseFleetSpec(out);
    if (!reparsed.ok) throw new Error(reparsed.issues.map(formatIssue).join('\n'));
    expect(reparsed.spec.clusters).toEqual(clusters);
    expect(out).toMatch(
      /- name: sd-us-east4\n {4}region: us-east4\n {4}mode: active\n {4}gpu: nvidia-l4\n {4}replicas: 1\n {4}replaces: sd-us-central1\n$/,
    );

    // Clearing the marker removes the key; the document given is never modified.
    const cleared = writeClusters(
      reparsed.document,
      reparsed.spec.clusters.map(({ replaces: _r, ...c }) => c),
    );
    expect(cleared).not.toContain('replaces:');
    expect(reparsed.document.toString()).toContain('replaces: sd-us-central1');
  });
});

describe('clusters[].replaces (make-before-break marker)', () => {
  const withReplaces = (value: string, mode = 'active') =>
    EXAMPLE_FLEET_YAML.replace(
      /(- name: sd-asia-northeast1\n\s+region: asia-northeast1\n\s+mode: )standby/,
      `$1${mode}\n    replaces: ${value}`,
    );

  it('must name another cluster, on an active cluster', () => {
    const issues = (text: string) => {
      const r = parseFleetSpec(text);
      return r.ok ? [] : r.issues.map(formatIssue);
    };
    expect(issues(withReplaces('sd-nowhere')).join('\n')).toMatch(
      /clusters\[2\]\.replaces: "sd-nowhere" is not a cluster of the spec \(sd-us-central1, sd-europe-west4, sd-asia-northeast1\); remove "replaces" or fix the name/,
    );
    expect(issues(withReplaces('sd-asia-northeast1')).join('\n')).toMatch(/a cluster cannot replace itself/);
    expect(issues(withReplaces('sd-us-central1', 'standby')).join('\n')).toMatch(
      /only an active cluster can replace another/,
    );
  });

  it('lets a replacement serve next to the cluster it replaces, even above maxServingRegions', () => {
    const text = withReplaces('sd-us-central1').replace('maxServingRegions: 3', 'maxServingRegions: 2');
    expect(text).toContain('maxServingRegions: 2');
    const r = parseFleetSpec(text);
    expect(r.ok ? [] : r.issues.map(formatIssue)).toEqual([]);
    const over = parseFleetSpec(text.replace(/\n\s+replaces: sd-us-central1/, ''));
    expect(over.ok ? [] : over.issues.map(formatIssue).join('\n')).toMatch(
      /3 active regions .* but placement.maxServingRegions is 2/,
    );
  });
});

describe('writeMachineFields: Terraform outputs and build digests written into the spec', () => {
  const digest = `us-docker.pkg.dev/sd-fleet-test-4821/gpu-fleet/region-scout@sha256:${'ab'.repeat(32)}`;

  it('replaces an existing value in place and adds a missing one, changing no other line', () => {
    const { document } = loadFleetSpec(EXAMPLE_FLEET_YAML);
    const out = writeMachineFields(document, { staticIpAddress: '34.120.1.2', scoutImage: digest });
    const reparsed = parseFleetSpec(out);
    if (!reparsed.ok) throw new Error(reparsed.issues.map(formatIssue).join('\n'));
    expect(reparsed.spec.ingress.staticIp.address).toBe('34.120.1.2');
    expect(reparsed.spec.scout.image).toBe(digest);
    const removed = EXAMPLE_FLEET_YAML.split('\n').filter((l) => !out.split('\n').includes(l));
    expect(removed).toEqual([expect.stringMatching(/^ {4}address: /)]);
  });

  it('is idempotent: writing the current values gives the same text', () => {
    const { document } = loadFleetSpec(EXAMPLE_FLEET_YAML);
    const once = writeMachineFields(document, { staticIpAddress: '34.120.1.2', scoutImage: digest });
    expect(
      writeMachineFields(loadFleetSpec(once).document, { staticIpAddress: '34.120.1.2', scoutImage: digest }),
    ).toBe(once);
  });
});
