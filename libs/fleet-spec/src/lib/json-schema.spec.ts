import Ajv from 'ajv';
import { parse } from 'yaml';
import { EXAMPLE_FLEET_YAML, fleetJsonSchema, fleetSpecMarkdown } from '../index';

type Node = { description?: string; properties?: Record<string, Node>; items?: Node; anyOf?: Node[] };

function undescribed(node: Node, path: string): string[] {
  const own = path && !node.description ? [path] : [];
  const props = Object.entries(node.properties ?? {}).flatMap(([k, v]) => undescribed(v, path ? `${path}.${k}` : k));
  const items = node.items?.properties
    ? Object.entries(node.items.properties).flatMap(([k, v]) => undescribed(v, `${path}[].${k}`))
    : [];
  return [...own, ...props, ...items];
}

describe('fleet JSON Schema (generated from the zod schema)', () => {
  const schema = fleetJsonSchema();
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);

  it('describes every field', () => {
    expect(undescribed(schema as Node, '')).toEqual([]);
  });

  it('accepts the example fleet', () => {
    expect(validate(parse(EXAMPLE_FLEET_YAML))).toBe(true);
  });

  it('rejects unknown keys and bad enum values, as the editor would show', () => {
    const bad = parse(EXAMPLE_FLEET_YAML) as { gpu: Record<string, unknown>; clusters: Array<Record<string, unknown>> };
    bad.gpu.provisoning = 'spot';
    bad.clusters[0]!.mode = 'paused';
    expect(validate(bad)).toBe(false);
    const messages = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    expect(messages).toContain('/gpu must NOT have additional properties');
    expect(messages).toContain('/clusters/0/mode must be equal to one of the allowed values');
  });

  it('documents every field in the Markdown reference', () => {
    const md = fleetSpecMarkdown();
    for (const field of [
      'project',
      'app.image',
      'gpu.preferences',
      'ingress.staticIp.address',
      'placement.minDwellMinutes',
      'clusters[].mode',
    ]) {
      expect(md).toContain(`| \`${field}\` |`);
    }
    expect(md.startsWith('<!-- GENERATED')).toBe(true);
  });
});
