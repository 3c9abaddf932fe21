import { Document, LineCounter, isMap, isPair, isScalar, parseDocument, type Node } from 'yaml';
import type { core } from 'zod';
import { closest, distance } from 'fastest-levenshtein';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { FleetSpec } from './schema';
import { crossFieldIssues } from './semantic';
import { SpecError, formatPath, show, type PathSegment, type SpecIssue } from './issues';

export interface LoadedSpec {
  spec: FleetSpec;
  /** The parsed YAML document (comments and formatting kept) for machine edits. */
  document: Document;
}

export type ParseResult = { ok: true; spec: FleetSpec; document: Document } | { ok: false; issues: SpecIssue[] };

export interface ParseOptions {
  /** File name used in file-level messages. */
  file?: string;
  catalog?: GpuCatalog;
}

/**
 * Parse and validate a fleet spec from YAML text. Collects every problem: YAML syntax, schema
 * (types, unknown keys, ranges) and cross-field checks against the GPU catalog.
 */
export function parseFleetSpec(text: string, options: ParseOptions = {}): ParseResult {
  const file = options.file ?? 'fleet.yaml';
  const catalog = options.catalog ?? GpuCatalog.bundled();
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (document.errors.length) {
    return {
      ok: false,
      issues: document.errors.map((e) => {
        const pos = e.linePos?.[0];
        // The position is already in the path; drop yaml's own " at line L, column C:" suffix.
        const text = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return { path: pos ? `${file}:${pos.line}:${pos.col}` : file, message: `YAML syntax error: ${text}` };
      }),
    };
  }
  const raw: unknown = document.toJS();
  if (raw === null || raw === undefined) {
    return {
      ok: false,
      issues: [
        {
          path: file,
          message:
            'is empty; start from the example fleet-config/fleet.yaml in the repository (see README "Edit the spec")',
        },
      ],
    };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      issues: [
        {
          path: file,
          message: `must be a mapping (apiVersion, kind, project, …), got ${Array.isArray(raw) ? 'a list' : show(raw)}`,
        },
      ],
    };
  }

  const locate = (path: PathSegment[]): Pick<SpecIssue, 'line' | 'column'> => {
    const node = nodeAt(document, path);
    const offset = node?.range?.[0];
    if (offset === undefined) return {};
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  const issues: SpecIssue[] = [];
  const parsed = FleetSpec.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    for (const iss of parsed.error.issues) {
      for (const { path, message } of describeZodIssue(iss)) {
        issues.push({ path: formatPath(path), message, ...locate(path as PathSegment[]) });
      }
    }
  }
  for (const { path, message } of crossFieldIssues(raw as Record<string, unknown>, catalog)) {
    issues.push({ path: formatPath(path), message, ...locate(path) });
  }
  // In file order, like a compiler: easier to fix top to bottom.
  if (issues.length) return { ok: false, issues: dedupe(issues).sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
  return { ok: true, spec: parsed.data!, document };
}

/** Like parseFleetSpec, but throws a SpecError with every issue. */
export function loadFleetSpec(text: string, options: ParseOptions = {}): LoadedSpec {
  const r = parseFleetSpec(text, options);
  if (!r.ok) throw new SpecError(options.file ?? 'fleet.yaml', r.issues);
  return { spec: r.spec, document: r.document };
}

function dedupe(issues: SpecIssue[]): SpecIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function nodeAt(doc: Document, path: PathSegment[]): Node | undefined {
  let node: unknown = doc.contents;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
      if (!pair) return node as Node;
      node = pair.value ?? pair.key;
    } else if (node && typeof node === 'object' && 'items' in node && typeof seg === 'number') {
      const item = (node as { items: unknown[] }).items[seg];
      if (!item) return node as Node;
      node = item;
    } else break;
  }
  return node as Node | undefined;
}

/** Keys accepted by the object schema at `path` (for "unknown key" hints). */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = FleetSpec;
  const unwrap = (s: unknown): unknown => {
    let cur = s as { _zod?: { def: { type: string; innerType?: unknown; element?: unknown } } };
    while (cur?._zod && ['default', 'optional', 'prefault', 'nullable', 'pipe'].includes(cur._zod.def.type)) {
      cur = (cur._zod.def.innerType ?? (cur._zod.def as { in?: unknown }).in) as typeof cur;
    }
    return cur;
  };
  for (const seg of path) {
    schema = unwrap(schema);
    const def = (schema as { _zod: { def: { type: string; shape?: Record<string, unknown>; element?: unknown } } })._zod
      .def;
    if (def.type === 'object' && typeof seg === 'string') schema = def.shape?.[seg];
    else if (def.type === 'array') schema = def.element;
    else return [];
  }
  const def = (unwrap(schema) as { _zod: { def: { type: string; shape?: Record<string, unknown> } } } | undefined)?._zod
    .def;
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/** Turn a zod issue into one or more `path: message` entries that quote the value and say the fix. */
export function describeZodIssue(iss: core.$ZodIssue): Array<{ path: PropertyKey[]; message: string }> {
  const input = (iss as { input?: unknown }).input;
  const generic = /^(Invalid|Too (small|big)|Expected)/.test(iss.message);
  switch (iss.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(iss.path);
      return iss.keys.map((k) => {
        const candidate = allowed.length ? closest(k, allowed) : undefined;
        const guess =
          candidate && distance(k, candidate) <= Math.max(1, Math.floor(k.length / 3)) ? candidate : undefined;
        const hint = guess ? `did you mean ${show(guess)}? ` : '';
        return { path: [...iss.path, k], message: `unknown key; ${hint}allowed here: ${allowed.join(', ')}` };
      });
    }
    case 'invalid_type':
      if (input === undefined) return [{ path: iss.path, message: `is required (a ${iss.expected})` }];
      return [{ path: iss.path, message: `expected a ${iss.expected}, got ${typeName(input)} ${show(input)}` }];
    case 'invalid_value':
      if (iss.values.length === 1)
        return [{ path: iss.path, message: `must be ${show(iss.values[0])}, got ${show(input)}` }];
      return [
        {
          path: iss.path,
          message: `${show(input)} is not allowed; allowed: ${iss.values.map((v) => String(v)).join(', ')}`,
        },
      ];
    case 'too_small':
    case 'too_big': {
      if (!generic) return [{ path: iss.path, message: `${show(input)} ${iss.message}` }];
      const bound = iss.code === 'too_small' ? iss.minimum : iss.maximum;
      const word = iss.code === 'too_small' ? 'minimum' : 'maximum';
      if (iss.origin === 'array')
        return [{ path: iss.path, message: `has ${(input as unknown[]).length} item(s); ${word} ${String(bound)}` }];
      if (iss.origin === 'string')
        return [
          {
            path: iss.path,
            message: `${show(input)} is ${(input as string).length} characters; ${word} ${String(bound)}`,
          },
        ];
      return [
        {
          path: iss.path,
          message: `${show(input)} is ${iss.code === 'too_small' ? 'below the minimum' : 'above the maximum'} ${String(bound)}`,
        },
      ];
    }
    default:
      return [
        {
          path: iss.path,
          message: generic ? `${show(input)} is not valid (${iss.message})` : `${show(input)} ${iss.message}`,
        },
      ];
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  return typeof v;
}
