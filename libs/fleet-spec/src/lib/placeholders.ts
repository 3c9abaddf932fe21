/**
 * Values that look like a template someone forgot to fill in. A GitOps tree must never carry them:
 * Config Sync would apply them as-is (DESIGN.md §5, "YAML that is invalid until someone pastes an IP").
 */
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\b(CHANGE[_-]?ME|REPLACE[_-]?ME|FIXME|TODO|TBD|PLACEHOLDER)\b/i, 'a to-do marker'],
  [/\bYOUR[_-][A-Z0-9_-]+\b/i, 'a "YOUR_…" template value'],
  [/<[A-Za-z][A-Za-z0-9 _-]*>/, 'an <angle-bracket> template value'],
  [/\$\{[^}]*\}|\{\{[^}]*\}\}/, 'an unexpanded ${…} or {{…}} template'],
  [/^my-(gcp-)?project(-id)?$/, 'the documentation example project id'],
  [/\bPROJECT_ID\b/, 'a PROJECT_ID template value'],
  [/(^|[./@])example\.(com|org|net)$/, 'a reserved example domain'],
];

export interface Placeholder {
  path: string;
  value: string;
  why: string;
}

/** Every string value (not key) in `value` that looks like a placeholder, with its path. */
export function findPlaceholders(value: unknown, path = ''): Placeholder[] {
  if (typeof value === 'string') {
    for (const [re, why] of PATTERNS) if (re.test(value)) return [{ path: path || '(root)', value, why }];
    return [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findPlaceholders(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      findPlaceholders(v, path ? `${path}.${k}` : k),
    );
  }
  return [];
}
