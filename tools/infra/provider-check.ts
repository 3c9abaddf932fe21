/**
 * The offline provider check of infra/: every resource and data source of the Terraform, parsed
 * with a real HCL parser (@cdktf/hcl2json, HashiCorp's HCL compiled to WebAssembly), is checked
 * against the hashicorp/google provider schema (`terraform providers schema -json`) of the version
 * infra/versions.tf pins, copied into tools/infra/provider-schema/ by import-provider-schema.ts.
 * It catches what `terraform validate` would, without downloading the provider: an unknown
 * resource type, an unknown argument or block, a computed-only argument that is set, a missing
 * required argument or block, and more blocks than the schema allows. What it cannot see is the
 * provider's own validation (ConflictsWith, enum values, API-side rules): the closing note of the
 * issue lists those.
 *   npx tsx tools/infra/provider-check.ts [infra-dir]     (exit 1 on findings)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

interface Attribute {
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
}
interface BlockType {
  nesting_mode: 'single' | 'group' | 'list' | 'set' | 'map';
  block: SchemaBlock;
  min_items?: number;
  max_items?: number;
}
interface SchemaBlock {
  attributes?: Record<string, Attribute>;
  block_types?: Record<string, BlockType>;
}
export interface ProviderSchema {
  provider: string;
  version: string;
  resource_schemas: Record<string, { block: SchemaBlock }>;
  data_source_schemas: Record<string, { block: SchemaBlock }>;
}

/**
 * terraform_data is built into Terraform (provider terraform.io/builtin/terraform): arguments
 * `input` and `triggers_replace`, computed `id` and `output`
 * (https://developer.hashicorp.com/terraform/language/resources/terraform-data).
 */
const BUILTIN: Record<string, SchemaBlock> = {
  terraform_data: {
    attributes: {
      id: { computed: true },
      input: { optional: true },
      output: { computed: true },
      triggers_replace: { optional: true },
    },
  },
};

/** Meta-arguments every resource and data block may carry (https://developer.hashicorp.com/terraform/language/meta-arguments). */
const META = new Set(['count', 'for_each', 'depends_on', 'lifecycle', 'provider', 'provisioner', 'connection']);

type Json = Record<string, unknown>;
export interface TfFile {
  file: string;
  json: Json;
}
export interface TfBlock {
  file: string;
  kind: 'resource' | 'data';
  type: string;
  name: string;
  body: Json;
}
export interface ProviderFinding {
  file: string;
  address: string;
  message: string;
}

/** Every .tf file of a folder, parsed. */
export async function readInfra(dir: string): Promise<TfFile[]> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .sort();
  return Promise.all(
    files.map(async (file) => ({ file, json: (await parse(file, readFileSync(join(dir, file), 'utf8'))) as Json })),
  );
}

/** The resource and data blocks of parsed files (hcl2json: {resource: {type: {name: [body]}}}). */
export function blocksOf(files: TfFile[]): TfBlock[] {
  const out: TfBlock[] = [];
  for (const { file, json } of files) {
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, byName] of Object.entries((json[kind] ?? {}) as Record<string, Record<string, Json[]>>)) {
        for (const [name, bodies] of Object.entries(byName))
          for (const body of bodies) out.push({ file, kind, type, name, body });
      }
    }
  }
  return out;
}

/** The hashicorp/google version infra/ pins in terraform.required_providers (an exact version). */
export async function pinnedGoogleVersion(dir: string): Promise<string> {
  for (const { json } of await readInfra(dir)) {
    for (const tf of (json.terraform ?? []) as Json[]) {
      for (const requiredProviders of (tf.required_providers ?? []) as Json[]) {
        const google = requiredProviders.google as { version?: string } | undefined;
        if (google?.version) {
          if (!/^\d+\.\d+\.\d+$/.test(google.version))
            throw new Error(`infra/ must pin hashicorp/google to an exact version (found "${google.version}")`);
          return google.version;
        }
      }
    }
  }
  throw new Error('infra/ declares no required_providers.google version');
}

export function loadProviderSchema(version: string): ProviderSchema {
  const file = join(__dirname, 'provider-schema', `google-${version}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as ProviderSchema;
}

/** Check every resource and data block of infra/ against the provider schema. */
export async function checkInfra(dir: string, schema?: ProviderSchema): Promise<ProviderFinding[]> {
  const files = await readInfra(dir);
  const s = schema ?? loadProviderSchema(await pinnedGoogleVersion(dir));
  const findings: ProviderFinding[] = [];
  for (const b of blocksOf(files)) {
    const address = `${b.kind === 'data' ? 'data.' : ''}${b.type}.${b.name}`;
    const add = (message: string) => findings.push({ file: `infra/${b.file}`, address, message });
    const known =
      b.kind === 'resource'
        ? (s.resource_schemas[b.type]?.block ?? BUILTIN[b.type])
        : s.data_source_schemas[b.type]?.block;
    if (!known) {
      add(
        `unknown ${b.kind === 'resource' ? 'resource' : 'data source'} type ${b.type} in hashicorp/google ${s.version} (a typo, or a type this version lacks; if it is new in infra/, run tools/infra/import-provider-schema.ts)`,
      );
      continue;
    }
    checkBody(b.body, known, '', true, add);
  }
  return findings;
}

function checkBody(body: Json, block: SchemaBlock, path: string, top: boolean, add: (m: string) => void): void {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  const seen = new Set<string>();
  const attrs = block.attributes ?? {};
  const blocks = block.block_types ?? {};
  for (const [key, value] of Object.entries(body)) {
    if (top && META.has(key)) continue;
    if (key === 'dynamic') {
      for (const [name, entries] of Object.entries(value as Record<string, Json[]>)) {
        const bt = blocks[name];
        if (!bt) {
          add(`${at(name)}: unknown block (dynamic); the schema has ${list(Object.keys(blocks))}`);
          continue;
        }
        seen.add(name);
        for (const entry of entries)
          for (const content of (entry.content ?? []) as Json[]) checkBody(content, bt.block, at(name), false, add);
      }
      continue;
    }
    seen.add(key);
    const attr = attrs[key];
    if (attr) {
      if (attr.computed && !attr.optional && !attr.required) add(`${at(key)}: computed by the provider, cannot be set`);
      continue;
    }
    const bt = blocks[key];
    if (!bt) {
      add(
        `${at(key)}: unknown argument or block; the schema has ${list([...Object.keys(attrs), ...Object.keys(blocks)])}`,
      );
      continue;
    }
    const items = (Array.isArray(value) ? value : [value]) as Json[];
    const max = bt.nesting_mode === 'single' || bt.nesting_mode === 'group' ? 1 : bt.max_items;
    if (max !== undefined && max > 0 && items.length > max)
      add(`${at(key)}: ${items.length} blocks, at most ${max} allowed`);
    for (const item of items) checkBody(item, bt.block, at(key), false, add);
  }
  for (const [name, a] of Object.entries(attrs))
    if (a.required && !seen.has(name)) add(`${at(name)}: required argument missing`);
  for (const [name, bt] of Object.entries(blocks))
    if ((bt.min_items ?? 0) > 0 && !seen.has(name))
      add(`${at(name)}: required block missing (at least ${bt.min_items})`);
}

const list = (names: string[]) => {
  const sorted = [...new Set(names)].sort();
  return sorted.length > 12
    ? `${sorted.slice(0, 12).join(', ')}, … (${sorted.length})`
    : sorted.join(', ') || 'nothing';
};

if (require.main === module) {
  const dir = process.argv[2] ?? join(__dirname, '../../infra');
  checkInfra(dir)
    .then((findings) => {
      for (const f of findings) console.log(`${f.file}: ${f.address}: ${f.message}`);
      console.log(
        findings.length
          ? `provider check: ${findings.length} problem(s)`
          : 'provider check: infra/ matches the hashicorp/google schema',
      );
      process.exit(findings.length ? 1 : 0);
    })
    .catch((e: unknown) => {
      console.error((e as Error).message);
      process.exit(2);
    });
}
