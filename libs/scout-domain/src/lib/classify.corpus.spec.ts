import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from './classify';
import type { FailureKind } from './types';

/**
 * classify() on real messages with their sources (src/testdata, see SOURCES.md there):
 * - tuning: the messages the rules were written from — capacity-messages.tuning.jsonl, and the
 *   earlier held-out sets (heldout, heldout-2, heldout-3), each folded in after it had been measured once;
 * - heldout-4: gathered afterwards by someone who never saw the rules, and never used to change
 *   them: the measure on messages the classifier was not tuned on.
 * docs/classifier.md records each round's numbers.
 */
interface Row {
  source: string;
  kind: FailureKind;
  message: string;
}
const load = (file: string): Row[] =>
  readFileSync(join(__dirname, '../testdata', file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row);

const tuning = ['tuning', 'heldout', 'heldout-2', 'heldout-3'].flatMap((f) => load(`capacity-messages.${f}.jsonl`));
const heldout = load('capacity-messages.heldout-4.jsonl');
const KINDS: FailureKind[] = ['stockout', 'quota', 'rejected', 'transient', 'unknown'];
const misses = (rows: Row[]) =>
  rows
    .filter((r) => classify(r.message).kind !== r.kind)
    .map((r) => ({ want: r.kind, got: classify(r.message).kind, source: r.source, message: r.message.slice(0, 160) }));

describe('classify on the corpus of real messages', () => {
  it('has every kind in both sets, and no message in both', () => {
    for (const rows of [tuning, heldout]) expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(KINDS));
    const seen = new Set(tuning.map((r) => r.message));
    expect(heldout.filter((r) => seen.has(r.message))).toEqual([]);
  });

  it('classifies every message of the tuning set', () => {
    expect(misses(tuning)).toEqual([]);
  });

  it('classifies at least as many held-out messages as when the set was measured (38/68; the target is 95 %, not met: docs/classifier.md)', () => {
    // heldout-4 stays unseen: it is the standing measure for the next round of rules. This floor
    // only stops a change from making things worse; it is not a goal.
    expect(heldout).toHaveLength(68);
    expect(heldout.length - misses(heldout).length).toBeGreaterThanOrEqual(38);
  });
});
