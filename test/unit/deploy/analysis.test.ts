import { describe, expect, it } from 'vitest';
import { NO_ANALYSIS, analyzeInterval, evaluateInterval, type AnalysisSpec, type AnalysisState, type RevisionMeasurement, type Verdict } from '../../../src/deploy/plan/analysis.js';

const spec: AnalysisSpec = { minSuccessRate: 0.99, maxLatencyMs: 500, latencyPercentile: 'p99', minRequests: 50, failureLimit: 1 };
const m = (requests: number, errors5xx: number, p99Ms = 200, p95Ms = 100): RevisionMeasurement => ({ requests, errors5xx, p95Ms, p99Ms });
const good = m(1000, 0);
const bad = m(1000, 200);

describe('evaluateInterval (the worked examples of its doc comment)', () => {
  it.each<[string, RevisionMeasurement, Verdict, number | undefined]>([
    ['passes 1000 requests with 5 errors at p99 200 ms', m(1000, 5), 'pass', 0.995],
    ['fails 1000 requests with 200 errors', m(1000, 200), 'fail', 0.8],
    ['fails 1000 requests at p99 800 ms', m(1000, 0, 800), 'fail', 1],
    ['passes exactly on both thresholds', m(1000, 10, 500), 'pass', 0.99],
    ['is inconclusive with 49 requests even if all failed', m(49, 49), 'inconclusive', 0],
    ['is inconclusive with no requests', m(0, 0), 'inconclusive', undefined],
  ])('%s', (_name, measurement, verdict, successRate) => {
    const result = evaluateInterval(spec, measurement);
    expect(result.verdict).toBe(verdict);
    expect(result.successRate).toBe(successRate);
    expect(result).toMatchObject({ requests: measurement.requests, errors5xx: measurement.errors5xx, latencyMs: measurement.p99Ms });
  });

  it('says why it failed, with the numbers', () => {
    expect(evaluateInterval(spec, m(1000, 200, 800)).reasons).toEqual(['success rate 0.8 < 0.99', 'p99 800 ms > 500 ms']);
  });

  it('judges p95 when asked to', () => {
    const p95: AnalysisSpec = { ...spec, latencyPercentile: 'p95', maxLatencyMs: 150 };
    expect(evaluateInterval(p95, m(1000, 0, 900, 100))).toMatchObject({ verdict: 'pass', latencyMs: 100 });
    expect(evaluateInterval(p95, m(1000, 0, 100, 151))).toMatchObject({ verdict: 'fail', latencyMs: 151 });
  });

  it('checks only the thresholds that are set', () => {
    expect(evaluateInterval({ latencyPercentile: 'p99', minRequests: 1, failureLimit: 0 }, m(10, 10, 9_999)).verdict).toBe('pass');
  });
});

describe('analyzeInterval (failureLimit counts failed intervals in total)', () => {
  function run(limit: number, measurements: RevisionMeasurement[]): Verdict[] {
    let state: AnalysisState = NO_ANALYSIS;
    return measurements.map((x) => {
      const step = analyzeInterval({ ...spec, failureLimit: limit }, state, x);
      state = step.state;
      return step.verdict;
    });
  }

  it('with failureLimit 1: fail, pass, fail -> inconclusive, pass, fail', () => {
    expect(run(1, [bad, good, bad])).toEqual(['inconclusive', 'pass', 'fail']);
  });

  it('with failureLimit 0: the first failed interval fails the run', () => {
    expect(run(0, [good, bad])).toEqual(['pass', 'fail']);
  });

  it('too few requests never pass and never fail: the rollout waits', () => {
    expect(run(0, [m(3, 3), m(0, 0), good])).toEqual(['inconclusive', 'inconclusive', 'pass']);
  });

  it('keeps the counts and the measured interval', () => {
    const step = analyzeInterval(spec, { intervals: 2, passes: 1, failures: 0, inconclusives: 1 }, bad);
    expect(step.state).toEqual({ intervals: 3, passes: 1, failures: 1, inconclusives: 1 });
    expect(step.interval).toMatchObject({ verdict: 'fail', requests: 1000, errors5xx: 200, successRate: 0.8 });
  });
});
