import { describe, expect, it } from 'vitest';
import { recommendReplicas, type RecommendPolicy, type ReplicaCounts } from '../../../src/autoscale/recommend.js';
import type { MetricWindow } from '../../../src/model/autoscale.js';
import { steadyWindow } from './fixtures.js';

const rpsOnly: RecommendPolicy = { targetRps: 8, tolerance: 0.1 };
const latencyOnly: RecommendPolicy = { targetLatencyP95Ms: 200, tolerance: 0.1 };
const both: RecommendPolicy = { targetRps: 8, targetLatencyP95Ms: 200, tolerance: 0.1 };
const counts = (current: number, ready = current, held = 0): ReplicaCounts => ({ currentReplicas: current, readyReplicas: ready, heldRequests: held });
const stable = (rps: number, extra: Partial<MetricWindow> = {}): MetricWindow => steadyWindow(60_000, rps, extra);

describe('recommendReplicas (the worked examples of its doc comment)', () => {
  it.each<[string, RecommendPolicy, ReplicaCounts, MetricWindow, number]>([
    ['1 ready of 1 at 40 rps needs ceil(40 / 8) = 5', rpsOnly, counts(1), stable(40), 5],
    ['3 ready at 25 rps (ratio 1.04) stays at 3 inside the tolerance', rpsOnly, counts(3), stable(25), 3],
    ['3 ready at 27 rps (ratio 1.125) scales to ceil(3.375) = 4', rpsOnly, counts(3), stable(27), 4],
    ['4 ready at 12 rps (ratio 0.375) scales down to ceil(1.5) = 2', rpsOnly, counts(4), stable(12), 2],
    ['2 ready of 5 at 24 rps (ratio 1.5) keeps 5: the 3 starting replicas take the rest', rpsOnly, counts(5, 2), stable(24), 5],
    ['0 ready with 2 held requests and no rate recommends 1', rpsOnly, counts(0, 0, 2), stable(0), 1],
    ['4 ready with no requests: rps measures 0 and recommends 0', rpsOnly, counts(4), stable(0), 0],
    ['4 ready with no requests and only a p95 target: no data, current 4', latencyOnly, counts(4), stable(0), 4],
    ['4 ready with an empty window (first sync): no data, current 4', rpsOnly, counts(4), { windowMs: 0, requests: 0, requestsPerSecond: 0, p95Ms: undefined, concurrency: 0 }, 4],
    ['2 ready with p95 300 ms against 200 ms scales to ceil(2 x 1.5) = 3', latencyOnly, counts(2), stable(10, { p95Ms: 300 }), 3],
    ['both targets: 12 rps (-> 2) and p95 500 ms (-> 5), the larger wins', both, counts(2), stable(12, { p95Ms: 500 }), 5],
    ['5 ready for 3 s with p95 400 ms over 6 s (measured on 1 ready): no latency data, the rate decides', both, { ...counts(5), readyForMs: 3_000 }, steadyWindow(6_000, 40, { p95Ms: 400 }), 5],
  ])('%s', (_name, policy, c, window, expected) => {
    expect(recommendReplicas(policy, c, window).replicas).toBe(expected);
  });
});

describe('recommendReplicas: tolerance', () => {
  // 10 ready x 8 rps = 80 rps is exactly on target; 1 +- 0.1 is 72..88 rps.
  it.each<[number, number]>([
    [72, 10], [80, 10], [88, 10], // inside, bounds included (HPA: |1 - ratio| <= tolerance)
    [88.8, 12], // ratio 1.11 -> ceil(11.1)
    [71.2, 9], // ratio 0.89 -> ceil(8.9)
  ])('10 ready at %d rps recommend %d', (rps, expected) => {
    expect(recommendReplicas(rpsOnly, counts(10), stable(rps)).replicas).toBe(expected);
  });

  it('a zero tolerance moves on any difference', () => {
    expect(recommendReplicas({ targetRps: 8, tolerance: 0 }, counts(10), stable(81)).replicas).toBe(11);
  });

  it('the ratio is over ready replicas, and inside the tolerance the answer is the current count', () => {
    // 3 ready of 5 at 25 rps: 25 / 24 = 1.04 -> current 5, not 3.
    const rec = recommendReplicas(rpsOnly, counts(5, 3), stable(25));
    expect(rec.replicas).toBe(5);
    expect(rec.reason).toContain('within tolerance 0.1 -> current 5');
  });
});

describe('recommendReplicas: metrics', () => {
  it('concurrency is ceil(in flight / target), like rps', () => {
    expect(recommendReplicas({ targetConcurrency: 4, tolerance: 0.1 }, counts(2), stable(0, { concurrency: 18 })).replicas).toBe(5);
  });

  it('latency below target recommends fewer over the ready base, and the rate decides when it asks for more', () => {
    // p95 100 of 200 ms over 6 ready -> 3; 40 rps -> 5.
    const rec = recommendReplicas(both, counts(6), stable(40, { p95Ms: 100 }));
    expect(rec.metrics.map((m) => [m.metric, m.replicas])).toEqual([['rps', 5], ['latencyP95', 3]]);
    expect(rec.replicas).toBe(5);
    expect(rec.reason).toBe('rps wins with 5');
  });

  it('a p95 without requests abstains and the rate alone decides (scale-down on real data)', () => {
    const rec = recommendReplicas(both, counts(4), stable(0));
    expect(rec.metrics.find((m) => m.metric === 'latencyP95')?.replicas).toBeUndefined();
    expect(rec.replicas).toBe(0);
  });

  it('no metric with data holds the current count, and says why', () => {
    const rec = recommendReplicas(latencyOnly, counts(4), stable(0));
    expect(rec.replicas).toBe(4);
    expect(rec.reason).toContain('no scale-down on missing data');
  });

  it('no target configured holds the current count', () => {
    expect(recommendReplicas({ tolerance: 0.1 }, counts(3), stable(100)).replicas).toBe(3);
  });

  it('with no ready replica a latency target alone still asks for 1 when requests arrive', () => {
    const rec = recommendReplicas(latencyOnly, counts(0, 0), stable(2, { p95Ms: 150 }));
    expect(rec.replicas).toBe(1);
    expect(rec.reason).toContain('at least 1');
  });

  it('with no ready replica the rate is taken as is: 20 rps -> 3', () => {
    expect(recommendReplicas(rpsOnly, counts(0, 0), stable(20)).replicas).toBe(3);
  });

  it('a latency over target never recommends below current while replicas are starting', () => {
    // 1 ready of 5, p95 300 ms: ceil(1 x 1.5) = 2, but the metric asks for more, so 5 stays.
    expect(recommendReplicas(latencyOnly, counts(5, 1), stable(8, { p95Ms: 300 })).replicas).toBe(5);
  });

  it('a latency window that began before the ready count changed is missing data', () => {
    const window = steadyWindow(6_000, 40, { p95Ms: 400 });
    const straddling = recommendReplicas(latencyOnly, { ...counts(5), readyForMs: 5_999 }, window);
    expect(straddling.metrics[0]).toMatchObject({ replicas: undefined, demandReplicas: undefined });
    expect(straddling.metrics[0]?.reason).toBe('latencyP95: 400 ms over the last 6 s, but ready replicas changed 5999 ms ago -> no recommendation');
    expect(straddling.replicas).toBe(5);
    // Once the window holds only the new capacity it counts again: ceil(5 x 2) = 10.
    expect(recommendReplicas(latencyOnly, { ...counts(5), readyForMs: 6_000 }, window).replicas).toBe(10);
    // The rate does not depend on capacity: it counts whatever the ready count did.
    expect(recommendReplicas(rpsOnly, { ...counts(1), readyForMs: 0 }, stable(40)).replicas).toBe(5);
  });

  it('reports the unrounded demand (what panic mode compares) as the largest over the metrics', () => {
    const rec = recommendReplicas(both, counts(2), stable(12, { p95Ms: 500 }));
    expect(rec.demandReplicas).toBeCloseTo(5);
    expect(recommendReplicas(rpsOnly, counts(3), stable(25)).demandReplicas).toBeCloseTo(3.125);
  });

  it('puts the numbers in the reasons', () => {
    const rec = recommendReplicas(both, counts(1), stable(40, { p95Ms: 400 }));
    expect(rec.metrics.map((m) => m.reason)).toEqual([
      'rps: 40 rps / 8 per replica = 5 replicas, 5 x target over 1 ready -> 5',
      'latencyP95: 400 ms / target 200 ms = 2 x over 1 ready = 2 replicas -> 2',
    ]);
  });
});
