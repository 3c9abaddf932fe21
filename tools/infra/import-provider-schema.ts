/**
 * Copies, from the reference provider schemas (`terraform providers schema -json` for
 * hashicorp/google; ../shared/terraform, see its SOURCES.md), the resource and data source types
 * infra/ uses — at the provider version infra/versions.tf pins — into
 * tools/infra/provider-schema/, which the offline check reads. Run it after adding a resource type:
 *   npx tsx tools/infra/import-provider-schema.ts [path/to/google-<version>.schema.json]
 * Nothing reads ../shared at run or test time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blocksOf, pinnedGoogleVersion, readInfra } from './provider-check';

async function main() {
  const infra = join(__dirname, '../../infra');
  const version = await pinnedGoogleVersion(infra);
  const source = process.argv[2] ?? join(__dirname, `../../../shared/terraform/google-${version}.schema.json`);
  const doc = JSON.parse(readFileSync(source, 'utf8')) as {
    provider_schemas: Record<
      string,
      { resource_schemas: Record<string, unknown>; data_source_schemas: Record<string, unknown> }
    >;
  };
  const provider = doc.provider_schemas['registry.terraform.io/hashicorp/google'];
  if (!provider) throw new Error(`${source}: no registry.terraform.io/hashicorp/google schema`);
  const used = blocksOf(await readInfra(infra));
  const pick = (kind: 'resource' | 'data', all: Record<string, unknown>) =>
    Object.fromEntries(
      [...new Set(used.filter((b) => b.kind === kind && b.type.startsWith('google_')).map((b) => b.type))]
        .sort()
        .map((t) => {
          if (!all[t]) throw new Error(`${t} is not a ${kind} type of hashicorp/google ${version}`);
          return [t, all[t]];
        }),
    );
  const out = {
    provider: 'registry.terraform.io/hashicorp/google',
    version,
    resource_schemas: pick('resource', provider.resource_schemas),
    data_source_schemas: pick('data', provider.data_source_schemas),
  };
  const file = join(__dirname, 'provider-schema', `google-${version}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(
    `${file}: ${Object.keys(out.resource_schemas).length} resource and ${Object.keys(out.data_source_schemas).length} data source types`,
  );
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
