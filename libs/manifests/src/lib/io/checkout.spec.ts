import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { FsCheckout, readOwnedTree, renderTree, writeTree, type ValidationReport } from '../../index';

const catalog = GpuCatalog.bundled();
const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
const clean: ValidationReport = {
  findings: [],
  built: new Map(),
  timingsMs: { kustomize: 0, schemas: 0, invariants: 0 },
};
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'gpu-fleet-checkout-'));
  writeTree(root, renderTree(spec, catalog));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('FsCheckout', () => {
  it('reads files relative to the root, null when absent, and lists the generated files', () => {
    const checkout = new FsCheckout(root, async () => clean);
    expect(checkout.read('fleet-config/patches/kustomization.yaml')).toBe(
      readFileSync(join(root, 'fleet-config/patches/kustomization.yaml'), 'utf8'),
    );
    expect(checkout.read('fleet-config/no-such-file.yaml')).toBeNull();
    expect(checkout.ownedFiles().sort()).toEqual([...readOwnedTree(root).keys()].sort());
  });

  it('validates the proposed tree in a scratch copy with the checkout’s own patches, leaving the checkout as it was', async () => {
    writeFileSync(join(root, 'fleet-config/patches/extra.yaml'), '# a hand-written patch\n');
    const before = readOwnedTree(root);
    const smaller = { ...spec, clusters: spec.clusters.filter((c) => c.name !== 'sd-asia-northeast1') };
    const seen: { dir: string; clusters: string[]; patch: string }[] = [];
    const checkout = new FsCheckout(root, async (dir) => {
      seen.push({
        dir,
        clusters: readdirSync(join(dir, 'clusters')).sort(),
        patch: readFileSync(join(dir, 'fleet-config/patches/extra.yaml'), 'utf8'),
      });
      return clean;
    });
    await expect(checkout.validateProposed(renderTree(smaller, catalog), smaller)).resolves.toBe(clean);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.dir).not.toBe(root);
    expect(existsSync(seen[0]!.dir)).toBe(false);
    expect(seen[0]!.clusters).toEqual(smaller.clusters.map((c) => c.name).sort());
    expect(seen[0]!.patch).toBe('# a hand-written patch\n');
    expect(readOwnedTree(root)).toEqual(before);
    expect(readdirSync(join(root, 'clusters')).sort()).toEqual(spec.clusters.map((c) => c.name).sort());
  });
});
