// Prometheus API answers to numbers, and numbers to a MetricWindow: the worked examples of
// prometheus-response.ts. Pure.
import { describe, expect, it } from 'vitest';
import { parseQueryResponse, toMetricWindow, type EmptyMeaning, type QueryValue } from '../../../src/autoscale/prometheus-response.js';

const TS = 1_700_000_000.123;
const vector = (...values: string[]) => ({ status: 'success', data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { i: String(i) }, value: [TS, v] })) } });

describe('parseQueryResponse', () => {
  const cases: Array<{ name: string; status?: number; body: unknown; empty?: EmptyMeaning; expected: QueryValue }> = [
    { name: 'a one-series vector is its value', body: vector('1.5'), expected: { ok: true, value: 1.5 } },
    { name: 'an integer value in exponent form is read', body: vector('2e3'), expected: { ok: true, value: 2000 } },
    { name: 'an empty vector is 0 for a rate or a gauge', body: vector(), empty: 'zero', expected: { ok: true, value: 0 } },
    { name: 'an empty vector is unknown for a quantile', body: vector(), empty: 'unknown', expected: { ok: true, value: undefined } },
    { name: 'NaN (a quantile of no requests) is unknown', body: vector('NaN'), expected: { ok: true, value: undefined } },
    { name: 'a scalar result is its value', body: { status: 'success', data: { resultType: 'scalar', result: [TS, '2'] } }, expected: { ok: true, value: 2 } },
    { name: '+Inf is an error', body: vector('+Inf'), expected: { ok: false, error: 'the value is +Inf: not a finite number' } },
    { name: 'a negative value is an error', body: vector('-3'), expected: { ok: false, error: 'the value -3 is negative' } },
    { name: 'a value that is no number is an error', body: vector('abc'), expected: { ok: false, error: "a sample value 'abc' is not a number" } },
    { name: 'two series ask for an aggregation', body: vector('1', '2'), expected: { ok: false, error: 'the query returns 2 series; aggregate it to one (e.g. sum(...))' } },
    {
      name: 'a matrix (a range selector without a function) is refused',
      body: { status: 'success', data: { resultType: 'matrix', result: [] } },
      expected: { ok: false, error: 'the query returns a matrix, not an instant vector or a scalar' },
    },
    {
      name: 'a PromQL error quotes Prometheus',
      status: 400,
      body: { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error: unexpected "("' },
      expected: { ok: false, error: 'HTTP 400: bad_data: invalid parameter "query": 1:5: parse error: unexpected "("' },
    },
    { name: 'an error without a message still says so', status: 503, body: { status: 'error' }, expected: { ok: false, error: 'HTTP 503: no error message' } },
    { name: 'an answer that is no object is refused', status: 502, body: 'Bad Gateway', expected: { ok: false, error: 'HTTP 502: the answer is not a Prometheus API JSON object' } },
    { name: 'success on a non-200 status is refused', status: 204, body: vector('1'), expected: { ok: false, error: 'HTTP 204 with status success' } },
    { name: 'a success without data is refused', body: { status: 'success' }, expected: { ok: false, error: 'the answer has no data' } },
    {
      name: 'a malformed sample is refused',
      body: { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [TS, 1.5] }] } },
      expected: { ok: false, error: 'a sample is not [timestamp, "value"]' },
    },
  ];

  it.each(cases)('$name', ({ status, body, empty, expected }) => {
    expect(parseQueryResponse(status ?? 200, body, empty ?? 'zero')).toEqual(expected);
  });
});

describe('toMetricWindow', () => {
  it('takes the rate as requestsPerSecond and counts requests over the window (the worked example)', () => {
    expect(toMetricWindow({ rps: 50, p95Ms: 300, concurrency: 7 }, 60_000)).toEqual({ windowMs: 60_000, requests: 3000, requestsPerSecond: 50, p95Ms: 300, concurrency: 7 });
  });

  it('rounds requests to a whole number', () => {
    expect(toMetricWindow({ rps: 0.333 }, 1_000).requests).toBe(0);
    expect(toMetricWindow({ rps: 12.46 }, 10_000).requests).toBe(125);
  });

  it('reads a metric without a query as an idle proxy would: 0 rate and concurrency, unknown p95', () => {
    expect(toMetricWindow({}, 6_000)).toEqual({ windowMs: 6_000, requests: 0, requestsPerSecond: 0, p95Ms: undefined, concurrency: 0 });
  });
});
