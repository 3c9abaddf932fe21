import { isMap, isScalar, isSeq, type Document, type YAMLMap } from 'yaml';
import type { ClusterSpec } from './schema';

/**
 * How the scout writes YAML: no line folding, and flow lists written as people write them
 * (`[a, b]`), so an untouched file round-trips byte for byte.
 */
export const YAML_WRITE_OPTIONS = { lineWidth: 0, flowCollectionPadding: false } as const;

const FIELDS = ['name', 'region', 'mode', 'gpu', 'replicas', 'replaces'] as const;

/**
 * Replace the clusters section of a parsed spec with `clusters` and return the new file text.
 * Only the clusters section changes: comments, key order and formatting everywhere else are kept
 * (the yaml Document API edits nodes in place), and a cluster's own comments survive when only its
 * values change. Existing clusters are matched by name; new ones are appended; clusters no longer
 * listed are removed. The document passed in is not modified.
 */
export function writeClusters(document: Document, clusters: ClusterSpec[]): string {
  const doc = document.clone();
  const seq = doc.get('clusters', true);
  if (!isSeq(seq)) throw new Error('the spec has no clusters list to edit');
  const byName = new Map<string, YAMLMap>();
  for (const item of seq.items) {
    if (isMap(item)) byName.set(String(item.get('name')), item);
  }
  const items = clusters.map((c) => {
    const existing = byName.get(c.name);
    if (!existing)
      return doc.createNode(Object.fromEntries(FIELDS.filter((f) => c[f] !== undefined).map((f) => [f, c[f]])));
    for (const f of FIELDS) {
      const value = c[f];
      if (value === undefined) {
        existing.delete(f);
        continue;
      }
      const node = existing.get(f, true);
      // Assigning the scalar's value keeps its style and comments.
      if (isScalar(node)) {
        if (node.value !== value) node.value = value;
      } else existing.set(f, value);
    }
    return existing;
  });
  seq.items = items;
  return doc.toString(YAML_WRITE_OPTIONS);
}

/** Fields only machines write: the static IP behind its name (from Terraform) and the scout image digest (from a build). */
export const MACHINE_FIELDS = {
  staticIpAddress: ['ingress', 'staticIp', 'address'],
  scoutImage: ['scout', 'image'],
} as const;

/**
 * Set machine-written fields and return the new file text; everything else (comments, order,
 * formatting) is kept. An existing scalar keeps its style and comment; a missing one is added at the
 * end of its section. The document passed in is not modified.
 */
export function writeMachineFields(
  document: Document,
  values: Partial<Record<keyof typeof MACHINE_FIELDS, string>>,
): string {
  const doc = document.clone();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const path = MACHINE_FIELDS[key as keyof typeof MACHINE_FIELDS];
    const node = doc.getIn(path, true);
    if (isScalar(node)) node.value = value;
    else doc.setIn(path, value);
  }
  return doc.toString(YAML_WRITE_OPTIONS);
}
