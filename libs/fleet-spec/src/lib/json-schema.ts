import { z } from 'zod';
import { FleetSpec } from './schema';

/** The editor JSON Schema of fleet.yaml, generated from the zod schema (input side: defaults optional; draft-07 for the widest editor support). */
export function fleetJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(FleetSpec, { io: 'input', target: 'draft-07', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: schema.$schema,
    $id: 'https://gpu-fleet.dev/schemas/fleet.schema.json',
    title: 'gpu-fleet spec (fleet-config/fleet.yaml)',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  items?: JsonSchemaNode;
  additionalProperties?: JsonSchemaNode | boolean;
  anyOf?: JsonSchemaNode[];
  minimum?: number;
  maximum?: number;
}

/** Markdown reference of every spec field, generated from the same schema. */
export function fleetSpecMarkdown(): string {
  const rows: string[] = [];
  const typeOf = (n: JsonSchemaNode): string => {
    if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``;
    if (n.enum) return n.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
    if (n.anyOf) return n.anyOf.map(typeOf).join(' \\| ');
    if (n.type === 'array') return `list of ${n.items ? typeOf(n.items) : 'any'}`;
    if (n.type === 'object' && n.additionalProperties && typeof n.additionalProperties === 'object')
      return `map of ${typeOf(n.additionalProperties)}`;
    const range = n.minimum !== undefined || n.maximum !== undefined ? ` (${n.minimum ?? ''}–${n.maximum ?? ''})` : '';
    return `${Array.isArray(n.type) ? n.type.join('/') : (n.type ?? 'any')}${range}`;
  };
  const walk = (node: JsonSchemaNode, path: string, required: boolean) => {
    if (path) {
      const def = node.default !== undefined ? `\`${JSON.stringify(node.default)}\`` : required ? '**required**' : '';
      rows.push(`| \`${path}\` | ${typeOf(node)} | ${def} | ${(node.description ?? '').replace(/\|/g, '\\|')} |`);
    }
    if (node.properties) {
      for (const [k, child] of Object.entries(node.properties))
        walk(child, path ? `${path}.${k}` : k, node.required?.includes(k) ?? false);
    }
    if (node.type === 'array' && node.items?.properties)
      walk({ ...node.items, description: undefined, default: undefined }, `${path}[]`, false);
  };
  walk(fleetJsonSchema() as JsonSchemaNode, '', true);
  return [
    '<!-- GENERATED from libs/fleet-spec/src/lib/schema.ts by `npm run scout -- render`. Do not edit. -->',
    '# fleet.yaml reference',
    '',
    'Every field of `fleet-config/fleet.yaml`. The same schema validates the file, generates',
    '`fleet-config/fleet.schema.json` for editor completion and produces this page.',
    '',
    '| field | type | default | description |',
    '|---|---|---|---|',
    ...rows.filter((r) => !r.startsWith('| `[]`')),
    '',
  ].join('\n');
}
