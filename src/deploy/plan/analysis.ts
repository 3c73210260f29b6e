// Canary analysis verdicts from dockmaster's own per-revision measurements, one interval at a
// time: success rate (non-5xx share) and p95/p99 latency against thresholds. Pure.

/** What the proxy measured for one revision over one interval. */
export interface RevisionMeasurement {
  readonly requests: number;
  readonly errors5xx: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

export interface AnalysisSpec {
  /** Lowest acceptable non-5xx share, 0..1 (0.99 = at most 1% 5xx). */
  readonly minSuccessRate?: number | undefined;
  /** Highest acceptable latency at `latencyPercentile`. */
  readonly maxLatencyMs?: number | undefined;
  readonly latencyPercentile: 'p95' | 'p99';
  /** Fewer requests in an interval: inconclusive, the rollout waits instead of passing. */
  readonly minRequests: number;
  /** Failed intervals tolerated in total; one more fails the analysis (Argo's failureLimit). */
  readonly failureLimit: number;
}

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface IntervalResult {
  readonly verdict: Verdict;
  /** The measured numbers, for the event recorded with the verdict. */
  readonly requests: number;
  readonly errors5xx: number;
  /** undefined when there were no requests. */
  readonly successRate: number | undefined;
  readonly latencyMs: number;
  readonly reasons: readonly string[];
}

export interface AnalysisState {
  readonly intervals: number;
  readonly passes: number;
  readonly failures: number;
  readonly inconclusives: number;
}

export const NO_ANALYSIS: AnalysisState = { intervals: 0, passes: 0, failures: 0, inconclusives: 0 };

/**
 * One interval's verdict. Worked examples (the tests reuse them), spec minSuccessRate 0.99,
 * p99 <= 500 ms, minRequests 50:
 * - 1000 requests, 5 errors, p99 200 -> pass (success 0.995).
 * - 1000 requests, 200 errors, p99 200 -> fail (success 0.8 < 0.99).
 * - 1000 requests, 0 errors, p99 800 -> fail (latency 800 > 500).
 * - 1000 requests, 10 errors, p99 500 -> pass: thresholds are inclusive (0.99, 500).
 * - 49 requests, 49 errors -> inconclusive: too few requests to judge either way.
 * - 0 requests -> inconclusive, successRate undefined.
 */
export function evaluateInterval(spec: AnalysisSpec, m: RevisionMeasurement): IntervalResult {
  const successRate = m.requests > 0 ? (m.requests - m.errors5xx) / m.requests : undefined;
  const latencyMs = spec.latencyPercentile === 'p95' ? m.p95Ms : m.p99Ms;
  const measured = { requests: m.requests, errors5xx: m.errors5xx, successRate, latencyMs };
  if (m.requests < Math.max(1, spec.minRequests)) {
    return { verdict: 'inconclusive', ...measured, reasons: [`${m.requests} requests < minimum ${Math.max(1, spec.minRequests)}`] };
  }
  const reasons: string[] = [];
  if (spec.minSuccessRate !== undefined && successRate !== undefined && successRate < spec.minSuccessRate) {
    reasons.push(`success rate ${successRate} < ${spec.minSuccessRate}`);
  }
  if (spec.maxLatencyMs !== undefined && latencyMs > spec.maxLatencyMs) {
    reasons.push(`${spec.latencyPercentile} ${latencyMs} ms > ${spec.maxLatencyMs} ms`);
  }
  return { verdict: reasons.length > 0 ? 'fail' : 'pass', ...measured, reasons };
}

export interface AnalysisStep {
  readonly state: AnalysisState;
  readonly interval: IntervalResult;
  /** fail: abort the canary now. pass: this interval is good, the rollout may go on.
   * inconclusive: wait (too few requests, or a failure still within failureLimit). */
  readonly verdict: Verdict;
}

/**
 * Folds one interval into the run. Decision: failureLimit counts failed intervals in total, not
 * consecutive ones (as Argo Rollouts' failureLimit: the run fails when failures > failureLimit),
 * so a flapping canary cannot pass by alternating; inconclusive intervals count toward neither.
 * Worked examples (failureLimit 1): fail, pass, fail -> inconclusive, pass, fail (2 > 1).
 * failureLimit 0: the first failed interval fails the run.
 */
export function analyzeInterval(spec: AnalysisSpec, state: AnalysisState, m: RevisionMeasurement): AnalysisStep {
  const interval = evaluateInterval(spec, m);
  const next: AnalysisState = {
    intervals: state.intervals + 1,
    passes: state.passes + (interval.verdict === 'pass' ? 1 : 0),
    failures: state.failures + (interval.verdict === 'fail' ? 1 : 0),
    inconclusives: state.inconclusives + (interval.verdict === 'inconclusive' ? 1 : 0),
  };
  const verdict: Verdict = next.failures > spec.failureLimit ? 'fail' : interval.verdict === 'pass' ? 'pass' : 'inconclusive';
  return { state: next, interval, verdict };
}
