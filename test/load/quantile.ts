// Quantiles and summary statistics of latency samples, computed as k6 computes a Trend's
// `p(N)` and `med` (linear interpolation between the two nearest ranks), so the Node runner's
// threshold checks mean what the k6 scripts' mean. Pure.

/** Numbers sorted ascending (a copy). */
export function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/**
 * The `q` quantile (0..1) of ascending `sorted` values; NaN for no values.
 * Example (the tests reuse it): [10, 20, 30, 40] -> q 0.5: 25, q 0.95: 38.5, q 1: 40.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (sorted.length === 1) return sorted[0] ?? Number.NaN;
  const rank = Math.min(1, Math.max(0, q)) * (sorted.length - 1);
  const below = sorted[Math.floor(rank)] ?? Number.NaN;
  const above = sorted[Math.ceil(rank)] ?? Number.NaN;
  return below + (above - below) * (rank - Math.floor(rank));
}

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly avg: number;
  readonly med: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
}

/** count, min, max, avg, med and p90/p95/p99 of ascending `sorted` values (NaN when empty). */
export function summarize(sorted: readonly number[]): Summary {
  const count = sorted.length;
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count,
    min: count === 0 ? Number.NaN : (sorted[0] ?? Number.NaN),
    max: count === 0 ? Number.NaN : (sorted[count - 1] ?? Number.NaN),
    avg: count === 0 ? Number.NaN : sum / count,
    med: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
  };
}
