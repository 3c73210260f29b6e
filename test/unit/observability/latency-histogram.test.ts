// The fine latency histogram of per-revision measurements (src/observability/latency-histogram.ts):
// bucket bounds and index, quantiles within their error bound, and differences of totals. Pure.
import { describe, expect, it } from 'vitest';
import {
  ALIGNED_BOUNDS_MS,
  diffTotals,
  emptyLatencyBuckets,
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
  LATENCY_RATIO,
  latencyBucketIndex,
  measurementBetween,
  quantileMs,
  type RevisionTotals,
  ZERO_TOTALS,
} from '../../../src/observability/latency-histogram.js';
import { DURATION_BUCKETS_SECONDS } from '../../../src/observability/metrics.js';

function record(samplesMs: readonly number[], buckets = emptyLatencyBuckets()): number[] {
  for (const ms of samplesMs) buckets[latencyBucketIndex(ms)] = (buckets[latencyBucketIndex(ms)] ?? 0) + 1;
  return buckets;
}

/** Nearest-rank quantile of the raw samples: the ceil(q * n)-th smallest. */
function exactQuantile(samplesMs: readonly number[], q: number): number {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length - 1e-9)) - 1] as number;
}

function totals(samplesMs: readonly number[], errors5xx = 0): RevisionTotals {
  return { requests: samplesMs.length, errors5xx, latencyBuckets: record(samplesMs) };
}

describe('latency buckets', () => {
  it('run from 0.5 ms to at least 120 s, ascending, no two more than 1.15 apart', () => {
    expect(LATENCY_BOUNDS_MS[0]).toBe(0.5);
    expect(LATENCY_BOUNDS_MS.at(-1)).toBeGreaterThanOrEqual(120_000);
    for (let i = 1; i < LATENCY_BOUNDS_MS.length; i++) {
      const ratio = (LATENCY_BOUNDS_MS[i] as number) / (LATENCY_BOUNDS_MS[i - 1] as number);
      expect(ratio).toBeGreaterThan(1);
      expect(ratio).toBeLessThanOrEqual(LATENCY_RATIO * (1 + 1e-12));
    }
    expect(LATENCY_BUCKET_COUNT).toBe(LATENCY_BOUNDS_MS.length + 1);
    expect(LATENCY_BUCKET_COUNT).toBeLessThan(120);
  });

  it('hold every bound of the Prometheus duration histogram, so it sums up exactly', () => {
    for (const seconds of DURATION_BUCKETS_SECONDS) {
      expect(LATENCY_BOUNDS_MS.some((ms) => Math.abs(ms - seconds * 1000) <= 1e-9 * ms), `${seconds} s`).toBe(true);
    }
    for (const ms of ALIGNED_BOUNDS_MS) expect(LATENCY_BOUNDS_MS).toContain(ms);
  });

  it('put a sample in the bucket whose bounds hold it, upper bound included (the scan agrees)', () => {
    const scan = (ms: number): number => {
      const i = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
      return i === -1 ? LATENCY_BOUNDS_MS.length : i;
    };
    const probes = [-1, 0, 0.1, 0.5, 0.5000001, 0.57, 1, 2.5, 2.5000001, 9.999, 10, 10.0001, 99.9, 250, 1234.5, 30_000, 60_000, 60_000.1, 119_999, 126_000, 200_000, 1e9];
    for (const bound of LATENCY_BOUNDS_MS) probes.push(bound, bound * (1 - 1e-12), bound * (1 + 1e-12));
    for (let ms = 0.3; ms < 300_000; ms *= 1.0137) probes.push(ms);
    for (const ms of probes) expect(latencyBucketIndex(ms), `${ms} ms`).toBe(scan(ms));
  });

  it('puts NaN and negative samples in the first bucket', () => {
    expect(latencyBucketIndex(Number.NaN)).toBe(0);
    expect(latencyBucketIndex(-5)).toBe(0);
  });
});

describe('quantileMs', () => {
  it('answers the upper bound of the bucket holding the nearest-rank sample', () => {
    // 90 samples at 10 ms, 10 at 200 ms: p50 is the bound 10 itself; p95 and p99 the bucket of 200.
    const samples = [...Array<number>(90).fill(10), ...Array<number>(10).fill(200)];
    const buckets = record(samples);
    expect(quantileMs(buckets, 0.5)).toBe(10);
    expect(quantileMs(buckets, 0.9)).toBe(10);
    const p95 = quantileMs(buckets, 0.95);
    expect(p95).toBeGreaterThanOrEqual(200);
    expect(p95).toBeLessThan(200 * LATENCY_RATIO);
    expect(quantileMs(buckets, 0.99)).toBe(p95);
  });

  it('takes rank ceil(q * n) without floating-point drift (p95 of 100 samples is the 95th)', () => {
    const samples = [...Array<number>(95).fill(1), ...Array<number>(5).fill(1000)];
    expect(quantileMs(record(samples), 0.95)).toBe(1);
    expect(quantileMs(record(samples), 0.96)).toBe(1000);
  });

  it('stays within its error bound: v <= answer < 1.15 v for samples from 0.5 ms to 120 s', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let run = 0; run < 20; run++) {
      // Log-uniform samples over the whole range, skewed differently each run.
      const samples = Array.from({ length: 500 + run * 50 }, () => 0.5 * Math.pow(240_000, Math.pow(random(), 1 + run / 5)));
      const buckets = record(samples);
      for (const q of [0.5, 0.9, 0.95, 0.99, 0.999, 1]) {
        const v = exactQuantile(samples, q);
        const answer = quantileMs(buckets, q);
        expect(answer, `run ${run} q ${q}`).toBeGreaterThanOrEqual(v);
        expect(answer, `run ${run} q ${q}`).toBeLessThan(v * LATENCY_RATIO);
      }
    }
  });

  it('answers 0.5 below 0.5 ms, the last bound above it, and 0 without samples', () => {
    expect(quantileMs(record([0.01, 0.2]), 0.99)).toBe(0.5);
    expect(quantileMs(record([500_000]), 0.5)).toBe(LATENCY_BOUNDS_MS.at(-1));
    expect(quantileMs(emptyLatencyBuckets(), 0.95)).toBe(0);
  });
});

describe('diffTotals and measurementBetween', () => {
  it('subtract the earlier reading from the later one, bucket by bucket', () => {
    const earlier = totals([5, 5, 100], 1);
    const later = totals([5, 5, 100, 20, 20, 20, 20], 3);
    const d = diffTotals(later, earlier);
    expect(d.requests).toBe(4);
    expect(d.errors5xx).toBe(2);
    expect(d.latencyBuckets).toEqual(record([20, 20, 20, 20]));
    expect(later.latencyBuckets).toEqual(record([5, 5, 100, 20, 20, 20, 20]));
  });

  it('give the interval\'s own p95 and p99, unaffected by what came before', () => {
    const earlier = totals(Array<number>(1000).fill(2000), 0);
    const later = totals([...Array<number>(1000).fill(2000), ...Array<number>(100).fill(10)], 0);
    expect(measurementBetween(later, earlier)).toEqual({ requests: 100, errors5xx: 0, p95Ms: 10, p99Ms: 10 });
  });

  it('take the later reading alone after a reset (fewer requests than before)', () => {
    const earlier = totals([1, 2, 3, 4, 5], 2);
    const later = totals([50], 1);
    expect(diffTotals(later, earlier)).toEqual(later);
  });

  it('measure nothing between two equal readings, and nothing from zero to zero', () => {
    const t = totals([1, 2, 3]);
    expect(measurementBetween(t, t)).toEqual({ requests: 0, errors5xx: 0, p95Ms: 0, p99Ms: 0 });
    expect(measurementBetween(ZERO_TOTALS, ZERO_TOTALS)).toEqual({ requests: 0, errors5xx: 0, p95Ms: 0, p99Ms: 0 });
  });
});
