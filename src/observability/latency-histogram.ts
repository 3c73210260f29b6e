// Fine latency histogram of the per-revision measurements that canary analysis reads: log-spaced
// bucket bounds in ms, the bucket of a sample in O(1), quantiles, and the difference of two
// cumulative totals. Pure.
import type { RevisionMeasurement } from '../deploy/plan/analysis.js';

/** Upper bound of the first bucket; faster answers all count as this. */
export const LATENCY_MIN_MS = 0.5;
/** The geometric bounds reach at least this; slower answers share one overflow bucket. */
export const LATENCY_MAX_MS = 120_000;
/** Ratio of consecutive geometric bounds: the relative error of a quantile stays below it. */
export const LATENCY_RATIO = 1.15;
/**
 * Bounds added to the geometric ones so that the Prometheus histogram's coarser buckets
 * (DURATION_BUCKETS_SECONDS in metrics.ts, here in ms) sum up exactly from fine buckets; a unit
 * test checks that every one of those is among LATENCY_BOUNDS_MS.
 */
export const ALIGNED_BOUNDS_MS: readonly number[] = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];

const LOG_RATIO = Math.log(LATENCY_RATIO);
/** Geometric bounds k = 0..GEOMETRIC_LAST: LATENCY_MIN_MS * LATENCY_RATIO^k. */
const GEOMETRIC_LAST = Math.ceil(Math.log(LATENCY_MAX_MS / LATENCY_MIN_MS) / LOG_RATIO);

function buildBounds(): { bounds: number[]; geometricAt: Int32Array } {
  const geometric = Array.from({ length: GEOMETRIC_LAST + 1 }, (_, k) => LATENCY_MIN_MS * Math.pow(LATENCY_RATIO, k));
  const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(a, b);
  const extra = ALIGNED_BOUNDS_MS.filter((a) => !geometric.some((g) => near(g, a)));
  const bounds = [...geometric, ...extra].sort((a, b) => a - b);
  const geometricAt = new Int32Array(geometric.length);
  for (let k = 0, i = 0; k < geometric.length; k++) {
    while (bounds[i] !== geometric[k]) i++;
    geometricAt[k] = i;
  }
  return { bounds, geometricAt };
}

const BUILT = buildBounds();

/**
 * Upper bounds in ms, ascending: about 90 geometric ones from 0.5 ms to 126 s (ratio 1.15) plus
 * ALIGNED_BOUNDS_MS. Bucket i counts samples in (bound[i-1], bound[i]] (bucket 0 everything up
 * to 0.5 ms); one more bucket, index LATENCY_BOUNDS_MS.length, counts what is slower.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze(BUILT.bounds);
export const LATENCY_BUCKET_COUNT = LATENCY_BOUNDS_MS.length + 1;
/** Union index of each geometric bound, so the logarithm lands next to the right bucket. */
const GEOMETRIC_AT = BUILT.geometricAt;
const BOUNDS = BUILT.bounds;

/**
 * The bucket of one sample: the logarithm finds the geometric bucket, then at most a step or
 * two settle rounding and an aligned bound in between (never a scan of the bounds).
 */
export function latencyBucketIndex(ms: number): number {
  if (!(ms > LATENCY_MIN_MS)) return 0; // NaN and negatives too
  const k = Math.min(GEOMETRIC_LAST, Math.ceil(Math.log(ms / LATENCY_MIN_MS) / LOG_RATIO));
  let i = GEOMETRIC_AT[k] as number;
  while (i > 0 && ms <= (BOUNDS[i - 1] as number)) i--;
  while (i < BOUNDS.length && ms > (BOUNDS[i] as number)) i++;
  return i;
}

/** A bucket array of LATENCY_BUCKET_COUNT zeros. */
export function emptyLatencyBuckets(): number[] {
  return new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
}

/**
 * The q-quantile (0..1) of the samples counted in `buckets` (indexed as latencyBucketIndex
 * gives), in ms: the upper bound of the bucket holding the nearest-rank sample, the
 * ceil(q * n)-th smallest. Error bound: that sample v and the answer u share a bucket, so
 * v <= u < 1.15 * v for 0.5 ms <= v <= 120 s; below 0.5 ms the answer is 0.5; above the last bound
 * the answer is the last bound (about 126 s, an underestimate). 0 when there are no samples.
 * Worked example: 90 samples of 10 ms and 10 of 200 ms: p50 = 10, p95 = the bound holding 200 ms
 * (200 <= p95 < 230).
 */
export function quantileMs(buckets: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < buckets.length; i++) total += buckets[i] as number;
  if (!(total > 0)) return 0;
  const clamped = Math.min(1, Math.max(0, q));
  // The epsilon keeps 0.95 * 100 (95.00000000000001 in floating point) at rank 95.
  const rank = Math.max(1, Math.ceil(clamped * total - 1e-9));
  const last = BOUNDS.length - 1;
  let cumulative = 0;
  for (let i = 0; i < buckets.length; i++) {
    cumulative += buckets[i] as number;
    if (cumulative >= rank) return BOUNDS[Math.min(i, last)] as number;
  }
  return BOUNDS[last] as number;
}

/** What the proxy measured for one revision of one service, cumulative since it started. */
export interface RevisionTotals {
  readonly requests: number;
  /** Answers with status >= 500, dockmaster's own 502 and 504 after failed attempts included. */
  readonly errors5xx: number;
  /** Request durations, indexed as latencyBucketIndex gives; LATENCY_BUCKET_COUNT entries. */
  readonly latencyBuckets: readonly number[];
}

export const ZERO_TOTALS: RevisionTotals = Object.freeze({ requests: 0, errors5xx: 0, latencyBuckets: Object.freeze(emptyLatencyBuckets()) });

/**
 * What happened between two readings of the same cumulative totals. When `later` counts fewer
 * requests than `earlier`, the totals were reset in between (the revision's cell was dropped
 * and made again), and `later` alone is what is known of the interval.
 */
export function diffTotals(later: RevisionTotals, earlier: RevisionTotals): RevisionTotals {
  if (later.requests < earlier.requests) return { requests: later.requests, errors5xx: later.errors5xx, latencyBuckets: [...later.latencyBuckets] };
  const latencyBuckets = later.latencyBuckets.map((count, i) => Math.max(0, count - (earlier.latencyBuckets[i] ?? 0)));
  return {
    requests: later.requests - earlier.requests,
    errors5xx: Math.max(0, later.errors5xx - earlier.errors5xx),
    latencyBuckets,
  };
}

/** One analysis interval's measurement from the totals read at its end and at its start. */
export function measurementBetween(later: RevisionTotals, earlier: RevisionTotals): RevisionMeasurement {
  const d = diffTotals(later, earlier);
  return { requests: d.requests, errors5xx: d.errors5xx, p95Ms: quantileMs(d.latencyBuckets, 0.95), p99Ms: quantileMs(d.latencyBuckets, 0.99) };
}
