import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blocksOf, checkInfra, pinnedGoogleVersion, readInfra } from './provider-check';

const INFRA = join(__dirname, '../../infra');

/** infra/ copied, one file edited; the check's findings on that copy. */
async function withEdit(file: string, from: string, to: string) {
  const dir = mkdtempSync(join(tmpdir(), 'infra-check-'));
  try {
    cpSync(INFRA, dir, { recursive: true });
    const text = readFileSync(join(dir, file), 'utf8');
    if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}: update the test`);
    writeFileSync(join(dir, file), text.replace(from, to));
    return (await checkInfra(dir)).map((f) => `${f.file}: ${f.address}: ${f.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('offline provider check of infra/ (hashicorp/google schema, real HCL parser)', () => {
  it('parses every resource of infra/ and finds it all in the pinned provider schema', async () => {
    const blocks = blocksOf(await readInfra(INFRA));
    // the check would be vacuous if the parser found nothing
    expect(blocks.length).toBeGreaterThan(20);
    expect(await pinnedGoogleVersion(INFRA)).toBe('6.38.0');
    expect(await checkInfra(INFRA)).toEqual([]);
  });

  it.each([
    [
      'an unknown resource type',
      'registry.tf',
      'resource "google_artifact_registry_repository" "images"',
      'resource "google_artifact_registry_repo" "images"',
      /google_artifact_registry_repo\.images: unknown resource type google_artifact_registry_repo in hashicorp\/google 6\.38\.0/,
    ],
    [
      'an unknown argument',
      'registry.tf',
      '  description   = "gpu-fleet',
      '  descripton    = "gpu-fleet',
      /google_artifact_registry_repository\.images: descripton: unknown argument or block; the schema has /,
    ],
    [
      'an unknown nested block',
      'clusters.tf',
      '  release_channel {',
      '  release_chanel {',
      /google_container_cluster\.fleet: release_chanel: unknown argument or block/,
    ],
    [
      'a computed-only argument that is set',
      'registry.tf',
      '  format        = "DOCKER"',
      '  format        = "DOCKER"\n  create_time   = "2026-01-01T00:00:00Z"',
      /google_artifact_registry_repository\.images: create_time: computed by the provider, cannot be set/,
    ],
    [
      'a missing required argument',
      'registry.tf',
      '  repository_id = local.registry_repository\n',
      '',
      /google_artifact_registry_repository\.images: repository_id: required argument missing/,
    ],
    [
      'a missing required nested argument',
      'clusters.tf',
      '    channel = local.release_channel\n',
      '',
      /google_container_cluster\.fleet: release_channel\.channel: required argument missing/,
    ],
    [
      'too many blocks',
      'clusters.tf',
      '  release_channel {\n    channel = local.release_channel\n  }',
      '  release_channel {\n    channel = local.release_channel\n  }\n  release_channel {\n    channel = "STABLE"\n  }',
      /google_container_cluster\.fleet: release_channel: 2 blocks, at most 1 allowed/,
    ],
  ])('catches %s', async (_name, file, from, to, expected) => {
    const findings = await withEdit(file, from, to);
    expect(findings).toEqual([expect.stringMatching(expected)]);
  });
});
