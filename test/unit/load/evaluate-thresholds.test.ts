import { describe, expect, it } from 'vitest';
import {
  canaryThresholds,
  CUSTOM_METRICS,
  k6Thresholds,
  ROLLOUT_THRESHOLDS,
  scaleLatency,
  SCENARIOS,
  SMOKE_THRESHOLDS,
  SPIKE_THRESHOLDS,
  STEADY_THRESHOLDS,
  thresholdsFor,
} from '../../../load-tests/thresholds.js';
import { aggregate, evaluateThresholds, parseThreshold, type MetricValue } from '../../../test/load/evaluate-thresholds.js';
import { quantile, sortedCopy, summarize } from '../../../test/load/quantile.js';

describe('quantile (k6 Trend interpolation)', () => {
  it('interpolates between the nearest ranks: [10, 20, 30, 40] -> med 25, p95 38.5, p100 40', () => {
    const sorted = [10, 20, 30, 40];
    expect(quantile(sorted, 0.5)).toBe(25);
    expect(quantile(sorted, 0.95)).toBeCloseTo(38.5, 9);
    expect(quantile(sorted, 1)).toBe(40);
    expect(quantile(sorted, 0)).toBe(10);
  });

  it('gives the single value for one sample and NaN for none', () => {
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
    expect(summarize([]).count).toBe(0);
    expect(summarize([]).p95).toBeNaN();
  });

  it('summarizes sorted values', () => {
    const s = summarize(sortedCopy([5, 1, 3, 2, 4]));
    expect(s).toMatchObject({ count: 5, min: 1, max: 5, avg: 3, med: 3 });
    expect(s.p99).toBeCloseTo(4.96, 9);
  });
});

describe('parseThreshold', () => {
  it.each([
    ['rate<0.01', { aggregation: 'rate', operator: '<', limit: 0.01 }],
    ['p(95)<200', { aggregation: 'p', percentile: 0.95, operator: '<', limit: 200 }],
    ['p(99.9) <= 250', { aggregation: 'p', percentile: expect.closeTo(0.999, 9) as number, operator: '<=', limit: 250 }],
    ['count>=2', { aggregation: 'count', operator: '>=', limit: 2 }],
    ['rate==0', { aggregation: 'rate', operator: '==', limit: 0 }],
    ['max>=1', { aggregation: 'max', operator: '>=', limit: 1 }],
  ])('reads %s', (expression, expected) => {
    expect(parseThreshold(expression)).toMatchObject(expected);
  });

  it.each(['rate', 'p(95)', 'p95<200', 'rate<', 'rate<abc', 'p(101)<5', 'sum<3'])('refuses %s, naming it', (expression) => {
    expect(() => parseThreshold(expression)).toThrow(expression);
  });
});

describe('aggregate (k6 aggregations per metric type)', () => {
  const trend: MetricValue = { kind: 'trend', sorted: [10, 20, 30, 40] };
  it('computes avg, min, max, med and p(N) of a trend', () => {
    expect(aggregate('t', trend, parseThreshold('avg<1'))).toBe(25);
    expect(aggregate('t', trend, parseThreshold('min<1'))).toBe(10);
    expect(aggregate('t', trend, parseThreshold('max<1'))).toBe(40);
    expect(aggregate('t', trend, parseThreshold('med<1'))).toBe(25);
    expect(aggregate('t', trend, parseThreshold('p(95)<1'))).toBeCloseTo(38.5, 9);
  });

  it('computes a counter\'s count and its rate per second', () => {
    const counter: MetricValue = { kind: 'counter', count: 30, durationMs: 10_000 };
    expect(aggregate('c', counter, parseThreshold('count<1'))).toBe(30);
    expect(aggregate('c', counter, parseThreshold('rate<1'))).toBe(3);
  });

  it('refuses an aggregation the metric type does not have, as k6 does at start', () => {
    expect(() => aggregate('http_req_failed', { kind: 'rate', passes: 1, total: 2 }, parseThreshold('p(95)<1'))).toThrow(/http_req_failed: a rate metric has no 'p\(N\)'/);
    expect(() => aggregate('d', trend, parseThreshold('rate<1'))).toThrow(/a trend metric has no 'rate'/);
  });
});

describe('evaluateThresholds', () => {
  it('passes and fails each expression on its own, with the observed value', () => {
    const results = evaluateThresholds(
      { http_req_failed: ['rate<0.01'], http_req_duration: ['p(95)<100', 'p(99)<35'] },
      { http_req_failed: { kind: 'rate', passes: 1, total: 1000 }, http_req_duration: { kind: 'trend', sorted: [10, 20, 30, 40] } },
    );
    expect(results).toEqual([
      { metric: 'http_req_failed', expression: 'rate<0.01', observed: 0.001, ok: true },
      { metric: 'http_req_duration', expression: 'p(95)<100', observed: 38.5, ok: true },
      { metric: 'http_req_duration', expression: 'p(99)<35', observed: expect.closeTo(39.7, 6) as number, ok: false },
    ]);
  });

  it('fails a threshold whose metric was never measured or has no data, instead of passing it silently', () => {
    const results = evaluateThresholds({ canary_share: ['rate>=0.15'], after_spike_req_duration: ['p(95)<250'] }, { after_spike_req_duration: { kind: 'trend', sorted: [] } });
    expect(results).toEqual([
      { metric: 'canary_share', expression: 'rate>=0.15', observed: Number.NaN, ok: false, note: 'not measured' },
      { metric: 'after_spike_req_duration', expression: 'p(95)<250', observed: Number.NaN, ok: false, note: 'no data' },
    ]);
  });

  it('counts a counter without events as 0, as k6 does: dropped_iterations count<1 passes', () => {
    const [result] = evaluateThresholds({ dropped_iterations: ['count<1'] }, { dropped_iterations: { kind: 'counter', count: 0, durationMs: 1000 } });
    expect(result?.ok).toBe(true);
  });

  it('requires exactly zero failures for rate==0: one failed request in 10000 fails it', () => {
    const [result] = evaluateThresholds(ROLLOUT_THRESHOLDS, { http_req_failed: { kind: 'rate', passes: 1, total: 10_000 } });
    expect(result).toMatchObject({ metric: 'http_req_failed', expression: 'rate==0', ok: false });
  });
});

describe('the shared thresholds (load-tests/thresholds.ts)', () => {
  const BUILT_IN: Readonly<Record<string, MetricValue['kind']>> = {
    http_req_failed: 'rate',
    http_req_duration: 'trend',
    checks: 'rate',
    dropped_iterations: 'counter',
  };
  const SAMPLE: Readonly<Record<MetricValue['kind'], MetricValue>> = {
    rate: { kind: 'rate', passes: 1, total: 2 },
    trend: { kind: 'trend', sorted: [1] },
    counter: { kind: 'counter', count: 1, durationMs: 1000 },
    gauge: { kind: 'gauge', value: 1 },
  };

  it('every scenario has thresholds, each on a known metric with an aggregation its type has', () => {
    for (const scenario of SCENARIOS) {
      const set = thresholdsFor(scenario, { weightPercent: 20 });
      expect(Object.keys(set).length, scenario).toBeGreaterThan(0);
      for (const [metric, expressions] of Object.entries(set)) {
        const kind = BUILT_IN[metric] ?? (CUSTOM_METRICS as Readonly<Record<string, MetricValue['kind']>>)[metric];
        expect(kind, `${scenario}: ${metric} is neither a k6 built-in nor in CUSTOM_METRICS`).toBeDefined();
        for (const expression of expressions) expect(() => aggregate(metric, SAMPLE[kind ?? 'gauge'], parseThreshold(expression))).not.toThrow();
      }
    }
  });

  it('LATENCY_SCALE stretches latency bounds only: p(95)<200 at 2.5 is p(95)<500, failure and share bounds stay', () => {
    expect(scaleLatency(STEADY_THRESHOLDS, 2.5)).toEqual({ http_req_failed: ['rate<0.01'], http_req_duration: ['p(95)<250', 'p(99)<625'], checks: ['rate>0.99'], dropped_iterations: ['count<1'] });
    expect(scaleLatency(SPIKE_THRESHOLDS, 4)).toEqual({ ...SPIKE_THRESHOLDS, after_spike_req_duration: ['p(95)<1000'] });
    expect(scaleLatency(canaryThresholds(20), 3)).toEqual(canaryThresholds(20));
    expect(scaleLatency(SMOKE_THRESHOLDS, 1)).toBe(SMOKE_THRESHOLDS);
    expect(k6Thresholds(SMOKE_THRESHOLDS, 2)).toEqual({ http_req_failed: ['rate<0.01'], http_req_duration: ['p(95)<400'], checks: ['rate==1'] });
    // A scaled bound still fails a slow run: p95 of [100, 900] is 860 ms, over 200 x 4.
    const [result] = evaluateThresholds({ http_req_duration: scaleLatency(SMOKE_THRESHOLDS, 4)['http_req_duration'] ?? [] }, { http_req_duration: { kind: 'trend', sorted: [100, 900] } });
    expect(result?.ok).toBe(false);
    expect(() => scaleLatency(SMOKE_THRESHOLDS, 0.5)).toThrow(/LATENCY_SCALE=0.5/);
  });

  it('keeps the thresholds the k6 scripts had before they were shared', () => {
    expect(SMOKE_THRESHOLDS).toEqual({ http_req_failed: ['rate<0.01'], http_req_duration: ['p(95)<200'], checks: ['rate==1'] });
    expect(STEADY_THRESHOLDS).toEqual({ http_req_failed: ['rate<0.01'], http_req_duration: ['p(95)<100', 'p(99)<250'], checks: ['rate>0.99'], dropped_iterations: ['count<1'] });
    expect(SPIKE_THRESHOLDS['replica_growth']).toEqual(['max>=1']);
  });

  it('puts the canary share within 5 points of the weight, clamped to 0..1', () => {
    expect(canaryThresholds(20)['canary_share']).toEqual(['rate>=0.15', 'rate<=0.25']);
    expect(canaryThresholds(3)['canary_share']).toEqual(['rate>=0', 'rate<=0.08']);
    expect(canaryThresholds(98)['canary_share']).toEqual(['rate>=0.93', 'rate<=1']);
  });

  it('gives k6 mutable copies', () => {
    const copy = k6Thresholds(SMOKE_THRESHOLDS);
    copy['checks']?.push('rate>0');
    expect(SMOKE_THRESHOLDS['checks']).toEqual(['rate==1']);
  });
});
