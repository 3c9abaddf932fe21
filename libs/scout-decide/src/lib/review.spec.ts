import { formatReview, REVIEW_MARKER, reviewSpecChange } from './review';
import { baseSpec, catalog } from '../testing/world';
import type { ClusterSpec, FleetSpec } from '@gpu-fleet/fleet-spec';

const edit = (
  spec: FleetSpec,
  change: (clusters: ClusterSpec[]) => ClusterSpec[],
  extra: Partial<FleetSpec> = {},
): FleetSpec => ({ ...spec, ...extra, clusters: change(spec.clusters.map((c) => ({ ...c }))) });
const set = (name: string, patch: Partial<ClusterSpec>) => (cs: ClusterSpec[]) =>
  cs.map((c) => (c.name === name ? { ...c, ...patch } : c));

describe('reviewSpecChange: what a pull request does to the fleet', () => {
  const before = baseSpec();
  const active = before.clusters.filter((c) => c.mode === 'active');
  const standby = before.clusters.find((c) => c.mode === 'standby')!;

  it('says nothing changed when nothing did', () => {
    const r = reviewSpecChange(before, before, catalog);
    expect(r).toEqual({ clusters: [], traffic: [], sections: [], infra: [], warnings: [] });
    expect(formatReview(r)).toBe(
      `${REVIEW_MARKER}\n### gpu-fleet: what this pull request changes\n\nNo change to \`fleet-config/fleet.yaml\`.\n`,
    );
  });

  it('a standby region becoming active: the region, its traffic effect, no infra change', () => {
    const after = edit(before, set(standby.name, { mode: 'active' }), {
      placement: { ...before.placement, maxChangesPerSweep: 2 },
    });
    const r = reviewSpecChange(before, after, catalog);
    expect(r.clusters).toEqual([
      `**${standby.region}** (\`${standby.name}\`) becomes active (${standby.replicas} pod(s), behind the global URL)`,
    ]);
    expect(r.traffic).toContain(
      `${standby.region} starts taking traffic once its pods are ready (the load balancer health check gates it)`,
    );
    expect(r.infra).toEqual([]);
    expect(r.sections).toEqual(['`placement`']);
  });

  it('draining the only region of a continent warns that it is left unserved, and below the minimum', () => {
    const asia = { ...active[0]!, name: 'sd-asia-southeast1', region: 'asia-southeast1' };
    const withAsia = edit(before, (cs) => [...cs, asia]);
    const after = edit(withAsia, set(asia.name, { mode: 'draining' }));
    const r = reviewSpecChange(withAsia, after, catalog);
    expect(r.warnings).toContain(
      'no cluster left serving in Asia: users there are routed to another continent (higher latency)',
    );
    const drainAll = edit(before, (cs) => cs.map((c) => ({ ...c, mode: 'draining' as const })));
    const none = reviewSpecChange(before, drainAll, catalog);
    expect(none.warnings).toEqual(
      expect.arrayContaining([
        `0 serving region(s), below placement.minServingRegions (${before.placement.minServingRegions})`,
        'nothing serves: the global URL will answer errors',
      ]),
    );
  });

  it('a new cluster and a removed one need Terraform on merge, and say so', () => {
    const added = { name: 'sd-us-east4', region: 'us-east4', mode: 'active' as const, gpu: 'nvidia-l4', replicas: 1 };
    const after = edit(before, (cs) => [...cs.filter((c) => c.name !== standby.name), added]);
    const r = reviewSpecChange(before, after, catalog);
    expect(r.clusters).toEqual([
      `**us-east4** (\`sd-us-east4\`) is a new cluster: becomes active (1 pod(s), behind the global URL), L4`,
      `**${standby.region}** (\`${standby.name}\`) is removed`,
    ]);
    expect(r.infra).toEqual([
      'creates the Autopilot cluster `sd-us-east4` in us-east4 and registers it to the fleet; Config Sync then applies `clusters/sd-us-east4/`',
      `deletes the cluster \`${standby.name}\``,
    ]);
    const md = formatReview(r);
    expect(md.startsWith(REVIEW_MARKER)).toBe(true);
    expect(md).toContain('**On merge, infra/ (Terraform)**');
  });

  it('removing a cluster whose deletion protection is still on in the applied spec takes two pull requests, and says so', () => {
    const removed = edit(before, (cs) => cs.filter((c) => c.name !== standby.name));
    expect(reviewSpecChange(before, removed, catalog).warnings).toContainEqual(
      expect.stringMatching(/^Terraform will refuse to delete `.+`: .* first set its `deletionProtection: false`/),
    );
    // the first pull request turns it off for that cluster only; the second removes it without the warning
    const unprotected = edit(before, set(standby.name, { deletionProtection: false }));
    expect(reviewSpecChange(unprotected, removed, catalog).warnings.filter((w) => w.includes('refuse'))).toEqual([]);
  });

  it('a GPU switch restarts pods; a make-before-break replacement is named', () => {
    const after = edit(before, set(active[0]!.name, { gpu: 'nvidia-tesla-t4', replaces: active[1]!.name }));
    const [line] = reviewSpecChange(before, after, catalog).clusters;
    expect(line).toContain('switches GPU L4 → T4 (pods restart on the new GPU)');
    expect(line).toContain(`replaces \`${active[1]!.name}\` (make-before-break)`);
  });
});
