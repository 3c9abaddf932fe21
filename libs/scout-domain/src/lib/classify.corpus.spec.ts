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
  surface?: string;
  /** Structured fields, where the source shows them (heldout-5 on): what the adapters pass. */
  reason?: string;
  code?: string;
  httpStatus?: number;
}
const load = (file: string): Row[] =>
  readFileSync(join(__dirname, '../testdata', file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row);

const tuning = ['tuning', 'heldout', 'heldout-2', 'heldout-3'].flatMap((f) => load(`capacity-messages.${f}.jsonl`));
const heldout = load('capacity-messages.heldout-4.jsonl');
/** Round 5: gathered after the structured-field rules were written, measured once (docs/classifier.md). */
const heldout5 = load('capacity-messages.heldout-5.jsonl');
const GOOGLE_SURFACES = new Set(['gke-event', 'autopilot-admission', 'gce-api', 'gcloud', 'terraform', 'tpu']);
const KINDS: FailureKind[] = ['stockout', 'quota', 'rejected', 'transient', 'unknown'];
const kindOf = (r: Row) => classify(r.message, { reason: r.reason, code: r.code, httpStatus: r.httpStatus }).kind;
const misses = (rows: Row[]) =>
  rows
    .filter((r) => kindOf(r) !== r.kind)
    .map((r) => ({ want: r.kind, got: kindOf(r), source: r.source, message: r.message.slice(0, 160) }));

describe('classify on the corpus of real messages', () => {
  it('has every kind in both sets, and no message in both', () => {
    for (const rows of [tuning, heldout, heldout5]) expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(KINDS));
    const seen = new Set(tuning.map((r) => r.message));
    expect(heldout.filter((r) => seen.has(r.message))).toEqual([]);
    const seen4 = new Set([...seen, ...heldout.map((r) => r.message)]);
    expect(heldout5.filter((r) => seen4.has(r.message))).toEqual([]);
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

  it('classifies at least as many heldout-5 messages as when it was measured, fields passed as the adapters do (45/70; 37/58 on Google surfaces; the target is 95 %, not met)', () => {
    expect(heldout5).toHaveLength(70);
    expect(heldout5.length - misses(heldout5).length).toBeGreaterThanOrEqual(45);
    const google = heldout5.filter((r) => GOOGLE_SURFACES.has(r.surface ?? ''));
    expect(google.length - misses(google).length).toBeGreaterThanOrEqual(37);
  });
});
