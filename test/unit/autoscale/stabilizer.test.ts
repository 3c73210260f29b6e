import { describe, expect, it } from 'vitest';
import { stabilizeRecommendation, type StabilizeArgs, type TimedRecommendation } from '../../../src/autoscale/stabilizer.js';

const S = 1000;
const at = (seconds: number, replicas: number): TimedRecommendation => ({ atMs: seconds * S, replicas });
function args(history: TimedRecommendation[], nowS: number, recommendation: number, currentReplicas: number, extra: Partial<StabilizeArgs> = {}): StabilizeArgs {
  return { history, recommendation, currentReplicas, nowMs: nowS * S, scaleUpWindowMs: 0, scaleDownWindowMs: 300 * S, ...extra };
}

describe('stabilizeRecommendation (the worked examples of its doc comment)', () => {
  it.each<[string, StabilizeArgs, number]>([
    ['scale-down waits for the highest recommendation in 300 s: 5 at 0 s keeps 5 at 200 s', args([at(0, 5), at(100, 3)], 200, 2, 5), 5],
    ['once the 5 has left the window, the highest left (3) wins', args([at(0, 5), at(100, 3), at(200, 2)], 301, 1, 5), 3],
    ['scale-up with a 0 window moves at once', args([], 10, 6, 2), 6],
    ['scale-up with a 60 s window goes to the lowest recommendation in it', args([at(0, 6), at(30, 4)], 40, 8, 2, { scaleUpWindowMs: 60 * S }), 4],
    ['a recommendation equal to current stays, whatever the history', args([at(0, 6)], 10, 4, 4), 4],
  ])('%s', (_name, a, expected) => {
    expect(stabilizeRecommendation(a).replicas).toBe(expected);
  });
});

describe('stabilizeRecommendation: windows and history', () => {
  it('an entry exactly one window old is outside it (atMs > now - window)', () => {
    expect(stabilizeRecommendation(args([at(0, 5)], 300, 1, 5)).replicas).toBe(1);
    expect(stabilizeRecommendation(args([at(0, 5)], 299.999, 1, 5)).replicas).toBe(5);
  });

  it('scale-down is partial when only a lower recommendation is left in the window', () => {
    // current 6: 4 at 100 s is the highest within 300 s at 350 s.
    expect(stabilizeRecommendation(args([at(10, 6), at(100, 4), at(200, 2)], 350, 1, 6)).replicas).toBe(4);
  });

  it('a dip that lasts less than the scale-down window never scales down', () => {
    let history: readonly TimedRecommendation[] = [];
    const seen: number[] = [];
    // 5 for 100 s, a 2 for 120 s, then 5 again: stays 5 throughout.
    for (let s = 0; s < 400; s++) {
      const recommendation = s >= 100 && s < 220 ? 2 : 5;
      const result = stabilizeRecommendation({ history, recommendation, currentReplicas: 5, nowMs: s * S, scaleUpWindowMs: 0, scaleDownWindowMs: 300 * S });
      history = result.history;
      seen.push(result.replicas);
    }
    expect(new Set(seen)).toEqual(new Set([5]));
  });

  it('keeps the raw recommendation and forgets entries older than the longer window', () => {
    const result = stabilizeRecommendation(args([at(0, 9), at(250, 3), at(400, 5)], 500, 2, 5, { scaleUpWindowMs: 60 * S, scaleDownWindowMs: 200 * S }));
    expect(result.history).toEqual([at(400, 5), at(500, 2)]);
  });

  it('says which window held the count', () => {
    expect(stabilizeRecommendation(args([at(0, 5)], 200, 2, 5)).reason).toBe('stabilized: current 5 held, the highest recommendation in the last 300 s (2 now)');
    expect(stabilizeRecommendation(args([at(0, 5), at(100, 3)], 301, 1, 5)).reason).toBe('stabilized: down to 3, the highest recommendation in the last 300 s (1 now)');
    expect(stabilizeRecommendation(args([at(0, 6), at(30, 4)], 40, 8, 2, { scaleUpWindowMs: 60 * S })).reason).toBe('stabilized: up to 4, the lowest recommendation in the last 60 s (8 now)');
  });
});
