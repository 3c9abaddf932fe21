import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Replace the section between `<!-- bench:<name>:start -->` and `…:end -->` of docs/benchmarks.md. */
export function recordInDocs(name: string, table: string): string {
  const doc = join(__dirname, '../../docs/benchmarks.md');
  const text = readFileSync(doc, 'utf8');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error(`${doc}: markers ${start} … ${end} not found`);
  // Measured output is generated: prettier leaves it as written (`prettier --check .` runs in npm test).
  writeFileSync(
    doc,
    `${text.slice(0, i + start.length)}\n<!-- prettier-ignore-start -->\n${table}\n<!-- prettier-ignore-end -->\n${text.slice(j)}`,
  );
  return doc;
}
