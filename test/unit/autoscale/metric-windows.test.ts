import { describe, expect, it } from 'vitest';
import { MetricWindows, sumTotals } from '../../../src/autoscale/metric-windows.js';
import { emptyLatencyBuckets, latencyBucketIndex, type RevisionTotals } from '../../../src/observability/latency-histogram.js';

/** Cumulative totals after `seconds` of 100 requests per second at `latencyMs`. */
function totalsAfter(seconds: number, latencyMs = 20, perSecond = 100): RevisionTotals {
  const buckets = emptyLatencyBuckets();
  buckets[latencyBucketIndex(latencyMs)] = seconds * perSecond;
  return { requests: seconds * perSecond, errors5xx: 0, latencyBuckets: buckets };
}

describe('MetricWindows (the worked example of its doc comment)', () => {
  it('measures rate, p95 and concurrency over the last window of 1 s snapshots', () => {
    const w = new MetricWindows(60_000);
    for (let t = 0; t <= 10; t++) w.record(t * 1000, totalsAfter(t), 3);
    const m = w.window(6_000);
    expect(m).toMatchObject({ windowMs: 6_000, requests: 600, requestsPerSecond: 100, concurrency: 3 });
    expect(m.p95Ms).toBeGreaterThanOrEqual(20);
    expect(m.p95Ms).toBeLessThan(20 * 1.15);
  });

  it('covers the history there is before a full window exists, and says how long it is', () => {
    const w = new MetricWindows(60_000);
    w.record(0, totalsAfter(0), 0);
    w.record(2_000, totalsAfter(2), 1);
    expect(w.window(6_000)).toMatchObject({ windowMs: 2_000, requests: 200, requestsPerSecond: 100, concurrency: 1 });
  });

  it('answers no requests and no p95 without history or without traffic', () => {
    const w = new MetricWindows(60_000);
    expect(w.window(6_000)).toEqual({ windowMs: 0, requests: 0, requestsPerSecond: 0, p95Ms: undefined, concurrency: 0 });
    w.record(0, totalsAfter(5), 0);
    w.record(1_000, totalsAfter(5), 0);
    expect(w.window(6_000)).toMatchObject({ requests: 0, requestsPerSecond: 0, p95Ms: undefined });
  });

  it('drops snapshots older than the longest window but keeps one to start it', () => {
    const w = new MetricWindows(5_000);
    for (let t = 0; t <= 100; t++) w.record(t * 1000, totalsAfter(t), 0);
    expect(w.window(5_000)).toMatchObject({ windowMs: 5_000, requests: 500 });
    expect(w.window(60_000).windowMs).toBeLessThanOrEqual(6_000);
  });

  it('sums the totals of several revisions bucket by bucket', () => {
    const sum = sumTotals([totalsAfter(1, 20), totalsAfter(2, 20)]);
    expect(sum.requests).toBe(300);
    expect(sum.latencyBuckets[latencyBucketIndex(20)]).toBe(300);
    expect(sumTotals([])).toEqual({ requests: 0, errors5xx: 0, latencyBuckets: [] });
  });
});
