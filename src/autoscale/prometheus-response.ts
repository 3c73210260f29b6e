// Reading Prometheus HTTP API answers (`GET /api/v1/query`) into one number per query, and the
// numbers of one read into the MetricWindow the autoscaler takes. Pure: no I/O, no clock.
import type { MetricWindow } from '../model/autoscale.js';

export type QueryValue = { readonly ok: true; readonly value: number | undefined } | { readonly ok: false; readonly error: string };

/** What an empty answer means: no series for a rate or a gauge is 0; for a quantile, unknown. */
export type EmptyMeaning = 'zero' | 'unknown';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A sample `[unixSeconds, "1.5"]` to its number; NaN (e.g. a quantile of no requests) is unknown. */
function sampleValue(sample: unknown): QueryValue {
  if (!Array.isArray(sample) || sample.length !== 2 || typeof sample[1] !== 'string') {
    return { ok: false, error: 'a sample is not [timestamp, "value"]' };
  }
  const text = sample[1];
  if (text === 'NaN') return { ok: true, value: undefined };
  // Go formats infinities as +Inf and -Inf, which Number() does not read.
  if (text === '+Inf' || text === '-Inf') return { ok: false, error: `the value is ${text}: not a finite number` };
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) return { ok: false, error: `a sample value '${text}' is not a number` };
  if (!Number.isFinite(value)) return { ok: false, error: `the value is ${text}: not a finite number` };
  if (value < 0) return { ok: false, error: `the value ${text} is negative` };
  return { ok: true, value };
}

/**
 * One query's answer to a single number. Worked examples (the tests reuse them):
 * - 200 `{status: success, data: {resultType: vector, result: [{metric: {}, value: [1.7e9, "1.5"]}]}}` -> 1.5
 * - the same with `result: []` -> 0 (`empty: 'zero'`) or undefined (`empty: 'unknown'`)
 * - a value "NaN" -> undefined; "+Inf" or "-3" -> an error
 * - `resultType: scalar, result: [1.7e9, "2"]` -> 2
 * - two series -> an error asking for an aggregation such as sum(...)
 * - 400 `{status: error, errorType: bad_data, error: "parse error ..."}` -> an error quoting it
 */
export function parseQueryResponse(httpStatus: number, body: unknown, empty: EmptyMeaning): QueryValue {
  if (!isRecord(body)) return { ok: false, error: `HTTP ${httpStatus}: the answer is not a Prometheus API JSON object` };
  if (body['status'] !== 'success') {
    const errorType = typeof body['errorType'] === 'string' ? `${body['errorType']}: ` : '';
    const error = typeof body['error'] === 'string' ? body['error'] : 'no error message';
    return { ok: false, error: `HTTP ${httpStatus}: ${errorType}${error}` };
  }
  if (httpStatus !== 200) return { ok: false, error: `HTTP ${httpStatus} with status success` };
  const data = body['data'];
  if (!isRecord(data)) return { ok: false, error: 'the answer has no data' };
  const resultType = data['resultType'];
  const result = data['result'];
  if (resultType === 'scalar') return sampleValue(result);
  if (resultType !== 'vector') return { ok: false, error: `the query returns a ${String(resultType)}, not an instant vector or a scalar` };
  if (!Array.isArray(result)) return { ok: false, error: 'the vector result is not a list' };
  if (result.length === 0) return { ok: true, value: empty === 'zero' ? 0 : undefined };
  if (result.length > 1) {
    return { ok: false, error: `the query returns ${result.length} series; aggregate it to one (e.g. sum(...))` };
  }
  const series: unknown = result[0];
  return sampleValue(isRecord(series) ? series['value'] : undefined);
}

export interface SourceValues {
  readonly rps?: number | undefined;
  readonly p95Ms?: number | undefined;
  readonly concurrency?: number | undefined;
}

/**
 * The values of one read as a window of `windowMs` (the policy's stableWindowMs). A metric
 * without a query counts as 0 (rate, concurrency) or unknown (p95), as an idle proxy would.
 * Example: rps 50, p95Ms 300, concurrency 7 over 60 000 ms -> requests 3000.
 */
export function toMetricWindow(values: SourceValues, windowMs: number): MetricWindow {
  const requestsPerSecond = values.rps ?? 0;
  return {
    windowMs,
    requests: Math.round((requestsPerSecond * windowMs) / 1000),
    requestsPerSecond,
    p95Ms: values.p95Ms,
    concurrency: values.concurrency ?? 0,
  };
}
