import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';

/**
 * A PromQL evaluator for the sandbox's recorded time series: the subset gpu-fleet's alert policies
 * and dashboard use (selectors with matchers, the *_over_time functions, absent_over_time, sum/max/
 * min/count/avg by, comparison and arithmetic with scalars, or/and, vector(), time()), with
 * Prometheus' semantics (https://prometheus.io/docs/prometheus/latest/querying/). Parsing is the
 * Prometheus project's own grammar (lezer-promql); anything outside the subset is an error, never a
 * silent empty result, so a query the sandbox cannot judge fails its test.
 */

export type Labels = Record<string, string>;
export interface Series {
  labels: Labels;
  /** Samples in time order: t in ms since the epoch. */
  points: Array<{ t: number; v: number }>;
}
export interface Sample {
  labels: Labels;
  value: number;
}
type Value =
  | { kind: 'scalar'; value: number }
  | { kind: 'vector'; samples: Sample[] }
  | { kind: 'matrix'; series: Series[]; equalities: Labels };

/** Prometheus' default lookback for an instant selector (--query.lookback-delta, 5m). */
export const LOOKBACK_MS = 5 * 60_000;

export class PromqlError extends Error {}

export function parseDuration(text: string): number {
  const units: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
    w: 604_800_000,
    y: 31_536_000_000,
  };
  let ms = 0;
  let rest = text;
  while (rest) {
    const m = /^(\d+)(ms|s|m|h|d|w|y)/.exec(rest);
    if (!m) throw new PromqlError(`not a duration: "${text}"`);
    ms += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return ms;
}

const children = (node: SyntaxNode): SyntaxNode[] => {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
};

const signature = (l: Labels) =>
  Object.entries(l)
    .filter(([k]) => k !== '__name__')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
const dropName = ({ __name__: _, ...rest }: Labels): Labels => rest;

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  Lss: (a, b) => a < b,
  Gtr: (a, b) => a > b,
  Lte: (a, b) => a <= b,
  Gte: (a, b) => a >= b,
  Eql: (a, b) => a === b,
  Neq: (a, b) => a !== b,
};
const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
};
const OVER_TIME: Record<string, (vs: number[]) => number> = {
  LastOverTime: (vs) => vs[vs.length - 1]!,
  MaxOverTime: (vs) => Math.max(...vs),
  MinOverTime: (vs) => Math.min(...vs),
  SumOverTime: (vs) => vs.reduce((a, b) => a + b, 0),
  AvgOverTime: (vs) => vs.reduce((a, b) => a + b, 0) / vs.length,
  CountOverTime: (vs) => vs.length,
};
const AGGREGATE: Record<string, (vs: number[]) => number> = {
  Sum: (vs) => vs.reduce((a, b) => a + b, 0),
  Max: (vs) => Math.max(...vs),
  Min: (vs) => Math.min(...vs),
  Count: (vs) => vs.length,
  Avg: (vs) => vs.reduce((a, b) => a + b, 0) / vs.length,
};

/** Evaluate an instant query at `at` over the given series. Returns the resulting vector (a scalar as one unlabelled sample). */
export function evaluatePromql(query: string, at: Date, series: readonly Series[]): Sample[] {
  const tree = parser.parse(query);
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) throw new PromqlError(`${query}: syntax error at character ${n.from + 1}`);
    },
  });
  const t = at.getTime();
  const text = (n: SyntaxNode) => query.slice(n.from, n.to);
  const unsupported = (n: SyntaxNode): never => {
    throw new PromqlError(`the sandbox does not evaluate ${n.name} ("${text(n)}") in ${query}`);
  };

  const selector = (node: SyntaxNode): { match: (l: Labels) => boolean; equalities: Labels } => {
    const name = node.getChild('Identifier');
    const tests: Array<(l: Labels) => boolean> = [];
    const equalities: Labels = {};
    if (name) {
      const metric = text(name);
      tests.push((l) => l['__name__'] === metric);
    }
    for (const m of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
      const key = text(m.getChild('LabelName')!);
      const op = m.getChild('MatchOp')!.firstChild!.name;
      const value = JSON.parse(text(m.getChild('StringLiteral')!)) as string;
      const actual = (l: Labels) => l[key] ?? '';
      if (op === 'EqlSingle') {
        tests.push((l) => actual(l) === value);
        equalities[key] = value;
      } else if (op === 'Neq') tests.push((l) => actual(l) !== value);
      else if (op === 'EqlRegex') tests.push((l) => new RegExp(`^(?:${value})$`).test(actual(l)));
      else if (op === 'NeqRegex') tests.push((l) => !new RegExp(`^(?:${value})$`).test(actual(l)));
      else unsupported(m);
    }
    if (name) equalities['__name__'] = text(name);
    return { match: (l) => tests.every((f) => f(l)), equalities };
  };

  const eval_ = (node: SyntaxNode): Value => {
    switch (node.name) {
      case 'PromQL':
      case 'ParenExpr':
        return eval_(children(node).find((c) => c.name !== '(' && c.name !== ')')!);
      case 'NumberDurationLiteral':
        return { kind: 'scalar', value: Number(text(node)) };
      case 'VectorSelector': {
        const { match } = selector(node);
        const samples: Sample[] = [];
        for (const s of series) {
          if (!match(s.labels)) continue;
          const last = [...s.points].reverse().find((p) => p.t <= t && p.t > t - LOOKBACK_MS);
          if (last) samples.push({ labels: s.labels, value: last.v });
        }
        return { kind: 'vector', samples };
      }
      case 'MatrixSelector': {
        const vs = node.getChild('VectorSelector')!;
        const range = parseDuration(text(node.getChild('DurationExpr')!));
        const { match, equalities } = selector(vs);
        const out: Series[] = [];
        for (const s of series) {
          if (!match(s.labels)) continue;
          const points = s.points.filter((p) => p.t <= t && p.t > t - range);
          if (points.length) out.push({ labels: s.labels, points });
        }
        return { kind: 'matrix', series: out, equalities };
      }
      case 'FunctionCall':
        return call(node);
      case 'AggregateExpr':
        return aggregate(node);
      case 'BinaryExpr':
        return binary(node);
      default:
        return unsupported(node);
    }
  };

  const args = (node: SyntaxNode): Value[] =>
    children(node.getChild('FunctionCallBody')!)
      .filter((c) => !['(', ')', ','].includes(c.name))
      .map(eval_);

  const call = (node: SyntaxNode): Value => {
    const fn = node.getChild('FunctionIdentifier')!.firstChild!;
    const a = args(node);
    if (fn.name === 'Time') return { kind: 'scalar', value: t / 1000 };
    if (fn.name === 'Vector') {
      const [x] = a;
      if (x?.kind !== 'scalar') return unsupported(node);
      return { kind: 'vector', samples: [{ labels: {}, value: x.value }] };
    }
    const [m] = a;
    if (m?.kind !== 'matrix') return unsupported(node);
    if (fn.name === 'AbsentOverTime') {
      // "an empty vector if the range vector passed to it has any elements … and a 1-element vector
      // with the value 1 if the range vector passed to it has no elements", labelled with its equality matchers.
      const { __name__: _, ...labels } = m.equalities;
      return { kind: 'vector', samples: m.series.length ? [] : [{ labels, value: 1 }] };
    }
    const f = OVER_TIME[fn.name];
    if (!f) return unsupported(node);
    return {
      kind: 'vector',
      samples: m.series.map((s) => ({ labels: dropName(s.labels), value: f(s.points.map((p) => p.v)) })),
    };
  };

  const aggregate = (node: SyntaxNode): Value => {
    const op = node.getChild('AggregateOp')!.firstChild!;
    const f = AGGREGATE[op.name] ?? unsupported(op);
    const modifier = node.getChild('AggregateModifier');
    const grouping = (modifier?.getChild('GroupingLabels')?.getChildren('LabelName') ?? []).map(text);
    const without = !!modifier?.getChild('Without');
    const inner = eval_(children(node.getChild('FunctionCallBody')!).find((c) => !['(', ')'].includes(c.name))!);
    if (inner.kind !== 'vector') return unsupported(node);
    const groups = new Map<string, { labels: Labels; values: number[] }>();
    for (const s of inner.samples) {
      const labels = without
        ? Object.fromEntries(Object.entries(dropName(s.labels)).filter(([k]) => !grouping.includes(k)))
        : Object.fromEntries(grouping.filter((k) => k in s.labels).map((k) => [k, s.labels[k]!]));
      const key = signature(labels);
      const g = groups.get(key) ?? { labels, values: [] };
      g.values.push(s.value);
      groups.set(key, g);
    }
    return { kind: 'vector', samples: [...groups.values()].map((g) => ({ labels: g.labels, value: f(g.values) })) };
  };

  const binary = (node: SyntaxNode): Value => {
    const parts = children(node);
    const [lhsNode, opNode] = parts;
    const rhsNode = parts[parts.length - 1]!;
    if (parts.some((p) => p.name === 'BoolModifier' || p.name === 'MatchingModifierClause')) return unsupported(node);
    const lhs = eval_(lhsNode!);
    const rhs = eval_(rhsNode);
    const op = opNode!.name;
    if (op === 'Or' || op === 'And' || op === 'Unless') {
      if (lhs.kind !== 'vector' || rhs.kind !== 'vector') return unsupported(node);
      const right = new Set(rhs.samples.map((s) => signature(s.labels)));
      if (op === 'Or') {
        const left = new Set(lhs.samples.map((s) => signature(s.labels)));
        return {
          kind: 'vector',
          samples: [...lhs.samples, ...rhs.samples.filter((s) => !left.has(signature(s.labels)))],
        };
      }
      const keep = (s: Sample) => right.has(signature(s.labels)) === (op === 'And');
      return { kind: 'vector', samples: lhs.samples.filter(keep) };
    }
    const compare = COMPARE[op];
    const arith = ARITHMETIC[op];
    if (!compare && !arith) return unsupported(opNode!);
    if (lhs.kind === 'scalar' && rhs.kind === 'scalar') {
      if (!arith) throw new PromqlError(`${query}: comparisons between scalars must use the bool modifier`);
      return { kind: 'scalar', value: arith(lhs.value, rhs.value) };
    }
    if (lhs.kind === 'matrix' || rhs.kind === 'matrix') return unsupported(node);
    const pair = (a: number, b: number, labels: Labels, keepName: boolean): Sample[] => {
      if (compare) return compare(a, b) ? [{ labels: keepName ? labels : dropName(labels), value: a }] : [];
      return [{ labels: dropName(labels), value: arith!(a, b) }];
    };
    if (lhs.kind === 'vector' && rhs.kind === 'scalar')
      return { kind: 'vector', samples: lhs.samples.flatMap((s) => pair(s.value, rhs.value, s.labels, true)) };
    if (lhs.kind === 'scalar' && rhs.kind === 'vector')
      return {
        kind: 'vector',
        samples: rhs.samples.flatMap((s) =>
          compare
            ? compare(lhs.value, s.value)
              ? [{ labels: s.labels, value: s.value }]
              : []
            : [{ labels: dropName(s.labels), value: arith!(lhs.value, s.value) }],
        ),
      };
    // vector op vector: one-to-one on identical label sets (without the metric name).
    const right = new Map((rhs as { samples: Sample[] }).samples.map((s) => [signature(s.labels), s]));
    return {
      kind: 'vector',
      samples: (lhs as { samples: Sample[] }).samples.flatMap((s) => {
        const r = right.get(signature(s.labels));
        return r ? pair(s.value, r.value, s.labels, false) : [];
      }),
    };
  };

  const v = eval_(tree.topNode);
  if (v.kind === 'scalar') return [{ labels: {}, value: v.value }];
  if (v.kind === 'matrix') throw new PromqlError(`${query}: a range vector is not an instant query's result`);
  return v.samples;
}

/**
 * Whether an alert condition fires at `at`: its query returned a sample at every evaluation over the
 * last `durationMs` ("Alerts are considered firing once their PromQL expression was evaluated to be
 * "true" for this long", google/monitoring/v3/alert.proto PrometheusQueryLanguageCondition.duration),
 * evaluated every `intervalMs`. Returns the samples of the last evaluation when it fires.
 */
export function alertFiring(
  query: string,
  at: Date,
  durationMs: number,
  intervalMs: number,
  series: readonly Series[],
): Sample[] {
  const now = evaluatePromql(query, at, series);
  if (!now.length) return [];
  for (let back = intervalMs; back <= durationMs; back += intervalMs)
    if (!evaluatePromql(query, new Date(at.getTime() - back), series).length) return [];
  return now;
}
