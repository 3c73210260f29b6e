// Evaluates k6 threshold expressions (load-tests/thresholds.ts: `rate<0.01`, `p(95)<200`,
// `count>=2`, `max>=1`) on the Node runner's own measurements, with k6's aggregations per metric
// type: counter count/rate, rate rate, trend avg/min/max/med/p(N), gauge value. Pure.
import type { ThresholdSet } from '../../load-tests/thresholds.js';
import { quantile } from './quantile.js';

/** One metric's measurements, by k6 metric type. */
export type MetricValue =
  | { readonly kind: 'counter'; readonly count: number; readonly durationMs: number }
  | { readonly kind: 'rate'; readonly passes: number; readonly total: number }
  /** Values sorted ascending. */
  | { readonly kind: 'trend'; readonly sorted: readonly number[] }
  | { readonly kind: 'gauge'; readonly value: number };

export type Metrics = Readonly<Record<string, MetricValue>>;

type Operator = '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';

export interface ParsedThreshold {
  /** `count`, `rate`, `value`, `avg`, `min`, `max`, `med` or `p(N)`. */
  readonly aggregation: string;
  /** For p(N): N / 100. */
  readonly percentile?: number | undefined;
  readonly operator: Operator;
  readonly limit: number;
}

export interface ThresholdResult {
  readonly metric: string;
  readonly expression: string;
  /** The aggregated value; NaN when the metric has no data. */
  readonly observed: number;
  readonly ok: boolean;
  /** Why it failed when not because of the value (no data). */
  readonly note?: string | undefined;
}

const EXPRESSION = /^\s*(count|rate|value|avg|min|max|med|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

const AGGREGATIONS: Readonly<Record<MetricValue['kind'], readonly string[]>> = {
  counter: ['count', 'rate'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p'],
  gauge: ['value'],
};

/** Parses one k6 threshold expression; throws naming the expression when it is not one. */
export function parseThreshold(expression: string): ParsedThreshold {
  const match = EXPRESSION.exec(expression);
  if (match === null) throw new Error(`threshold '${expression}' is not a k6 expression such as 'rate<0.01' or 'p(95)<200'`);
  const [, aggregation = '', percentile, operator = '<', limit = '0'] = match;
  if (percentile !== undefined) {
    const n = Number(percentile);
    if (n < 0 || n > 100) throw new Error(`threshold '${expression}': p(${percentile}) is not a percentile from 0 to 100`);
    return { aggregation: 'p', percentile: n / 100, operator: operator as Operator, limit: Number(limit) };
  }
  return { aggregation, operator: operator as Operator, limit: Number(limit) };
}

function compare(observed: number, operator: Operator, limit: number): boolean {
  switch (operator) {
    case '<':
      return observed < limit;
    case '<=':
      return observed <= limit;
    case '>':
      return observed > limit;
    case '>=':
      return observed >= limit;
    case '==':
    case '===':
      return observed === limit;
    case '!=':
      return observed !== limit;
  }
}

/** The aggregation of a metric; NaN when it has no data. Throws when the metric type has no such
 * aggregation (a threshold definition error, as k6 reports it at start). */
export function aggregate(metricName: string, value: MetricValue, parsed: ParsedThreshold): number {
  if (!AGGREGATIONS[value.kind].includes(parsed.aggregation)) {
    const name = parsed.aggregation === 'p' ? 'p(N)' : parsed.aggregation;
    throw new Error(`threshold on ${metricName}: a ${value.kind} metric has no '${name}' (it has ${AGGREGATIONS[value.kind].join(', ')})`);
  }
  switch (value.kind) {
    case 'counter':
      if (parsed.aggregation === 'count') return value.count;
      return value.durationMs > 0 ? (value.count * 1000) / value.durationMs : Number.NaN;
    case 'rate':
      return value.total > 0 ? value.passes / value.total : Number.NaN;
    case 'gauge':
      return value.value;
    case 'trend': {
      const sorted = value.sorted;
      if (sorted.length === 0) return Number.NaN;
      switch (parsed.aggregation) {
        case 'avg':
          return sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
        case 'min':
          return sorted[0] ?? Number.NaN;
        case 'max':
          return sorted[sorted.length - 1] ?? Number.NaN;
        case 'med':
          return quantile(sorted, 0.5);
        default:
          return quantile(sorted, parsed.percentile ?? Number.NaN);
      }
    }
  }
}

/**
 * Every expression of `set` against `metrics`. A metric that was never measured, or has no data
 * (a rate or trend with no sample), fails its thresholds with a note: a threshold that cannot be
 * checked must not pass silently. (A counter with no event counts 0, as in k6.)
 */
export function evaluateThresholds(set: ThresholdSet, metrics: Metrics): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const [metric, expressions] of Object.entries(set)) {
    for (const expression of expressions) {
      const parsed = parseThreshold(expression);
      const value = metrics[metric];
      if (value === undefined) {
        results.push({ metric, expression, observed: Number.NaN, ok: false, note: 'not measured' });
        continue;
      }
      const observed = aggregate(metric, value, parsed);
      if (Number.isNaN(observed)) {
        results.push({ metric, expression, observed, ok: false, note: 'no data' });
        continue;
      }
      results.push({ metric, expression, observed, ok: compare(observed, parsed.operator, parsed.limit) });
    }
  }
  return results;
}
