/** One problem found in the spec: `path: message`, with the source position when known. */
export interface SpecIssue {
  /** Spec path such as `clusters[2].gpu`, or `fleet.yaml` for file-level problems. */
  path: string;
  /** What is wrong, quoting the bad value, and what to do instead. */
  message: string;
  /** 1-based line and column in the YAML file, when known. */
  line?: number;
  column?: number;
}

export type PathSegment = string | number;

/** `['clusters', 2, 'gpu']` → `clusters[2].gpu`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

/** Render a value for a message: strings quoted, others as JSON, long values shortened. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function formatIssue(issue: SpecIssue): string {
  const where = issue.line ? ` (line ${issue.line})` : '';
  return `${issue.path}: ${issue.message}${where}`;
}

/** Thrown by loaders when a spec is invalid; carries every issue found. */
export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly SpecIssue[],
  ) {
    super(
      `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
    );
    this.name = 'SpecError';
  }
}
