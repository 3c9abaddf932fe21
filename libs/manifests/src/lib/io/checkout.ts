import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { PATCHES_DIR, type RenderedTree } from '../pure/tree';
import { ownedFilesOnDisk, writeTree } from './fs-tree';
import type { ValidationReport } from './validate-tree';

/**
 * A repository checkout on disk, as the sweep use case sees it (its CheckoutPort): read a file,
 * list the generated files, and validate a proposed tree in a scratch copy — the checkout itself is
 * never written.
 */
export class FsCheckout {
  constructor(
    readonly root: string,
    private readonly validate: (root: string, spec: FleetSpec) => Promise<ValidationReport>,
  ) {}

  read(path: string): string | null {
    const abs = join(this.root, path);
    return existsSync(abs) ? readFileSync(abs, 'utf8') : null;
  }

  ownedFiles(): string[] {
    return ownedFilesOnDisk(this.root);
  }

  /** The tree as the checkout would hold it after the proposal, with the checkout's own patches. */
  async validateProposed(tree: RenderedTree, spec: FleetSpec): Promise<ValidationReport> {
    const scratch = mkdtempSync(join(tmpdir(), 'region-scout-sweep-'));
    try {
      if (existsSync(join(this.root, PATCHES_DIR)))
        cpSync(join(this.root, PATCHES_DIR), join(scratch, PATCHES_DIR), { recursive: true });
      writeTree(scratch, tree);
      return await this.validate(scratch, spec);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
}
