// Sliding-window measurements of one service for the autoscaler, from the proxy's cumulative
// per-revision totals: the shell takes a snapshot each sync (totals summed over the service's
// revisions, plus the requests in flight then), and a window is the difference between now and
// the newest snapshot at least `windowMs` old. Pure (no clock, no I/O): the shell passes times.
import type { MetricWindow } from '../model/autoscale.js';
import { diffTotals, quantileMs, type RevisionTotals } from '../observability/latency-histogram.js';

interface Snapshot {
  readonly atMs: number;
  readonly totals: RevisionTotals;
  readonly inFlight: number;
}

/** Adds cumulative totals (the revisions of one service). */
export function sumTotals(all: Iterable<RevisionTotals>): RevisionTotals {
  let requests = 0;
  let errors5xx = 0;
  let buckets: number[] | undefined;
  for (const t of all) {
    requests += t.requests;
    errors5xx += t.errors5xx;
    if (buckets === undefined) buckets = [...t.latencyBuckets];
    else for (let i = 0; i < t.latencyBuckets.length; i++) buckets[i] = (buckets[i] ?? 0) + (t.latencyBuckets[i] ?? 0);
  }
  return { requests, errors5xx, latencyBuckets: buckets ?? [] };
}

/**
 * Worked example (the tests reuse it): snapshots every 1 s; 100 requests per second, all at 20 ms,
 * 3 in flight at each snapshot. At t = 10 s, window(6 s) = { requests 600, requestsPerSecond 100,
 * p95Ms ~20 (bucket upper bound, < 15% over), concurrency 3 }. Before 6 s of history exist, the
 * window covers what there is (its windowMs says how long).
 */
export class MetricWindows {
  private readonly snapshots: Snapshot[] = [];
  private readonly keepMs: number;

  /** `keepMs`: the longest window asked for (older snapshots are dropped). */
  constructor(keepMs: number) {
    this.keepMs = keepMs;
  }

  record(atMs: number, totals: RevisionTotals, inFlight: number): void {
    this.snapshots.push({ atMs, totals, inFlight });
    // Keep one snapshot at or beyond the longest window, so a full window can always be formed.
    while (this.snapshots.length > 2 && (this.snapshots[1] as Snapshot).atMs <= atMs - this.keepMs) this.snapshots.shift();
  }

  /** The measurements over the last `windowMs` (or the history there is), ending at the newest snapshot. */
  window(windowMs: number): MetricWindow {
    const last = this.snapshots[this.snapshots.length - 1];
    if (last === undefined) return { windowMs: 0, requests: 0, requestsPerSecond: 0, p95Ms: undefined, concurrency: 0 };
    let start = this.snapshots[0] as Snapshot;
    for (let i = this.snapshots.length - 1; i >= 0; i--) {
      const s = this.snapshots[i] as Snapshot;
      start = s;
      if (s.atMs <= last.atMs - windowMs) break;
    }
    const spanMs = last.atMs - start.atMs;
    const delta = diffTotals(last.totals, start.totals);
    const inWindow = this.snapshots.filter((s) => s.atMs > start.atMs || s === last);
    const concurrency = inWindow.reduce((sum, s) => sum + s.inFlight, 0) / inWindow.length;
    return {
      windowMs: spanMs,
      requests: delta.requests,
      requestsPerSecond: spanMs > 0 ? (delta.requests * 1000) / spanMs : 0,
      p95Ms: delta.requests > 0 ? quantileMs(delta.latencyBuckets, 0.95) : undefined,
      concurrency,
    };
  }
}
