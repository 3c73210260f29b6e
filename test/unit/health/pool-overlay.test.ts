// overlayPool (src/health/pool-overlay.ts): ejections, panic mode and slow start laid over a
// compiled pool; the worked examples of its doc comment are the first cases. While any endpoint
// ramps, every weight in the pool is first multiplied by SLOW_START_STEPS (10). Pure.
import { describe, expect, it } from 'vitest';
import { SLOW_START_STEPS, overlayPool, type OverlayInput } from '../../../src/health/pool-overlay.js';
import { isPickable, type Endpoint } from '../../../src/model/endpoint.js';

function ep(id: string, extra: Partial<Endpoint> = {}): Endpoint {
  return Object.freeze({ id, origin: `http://127.0.0.1:${3000 + id.charCodeAt(0)}`, weight: 1, source: 'static', healthy: true, draining: false, ...extra });
}

const NOW_MS = 100_000;

function input(extra: Partial<OverlayInput> = {}): OverlayInput {
  return { ejected: new Set(), healthySinceMs: new Map(), nowMs: NOW_MS, slowStartMs: 0, panicThresholdPercent: 50, ...extra };
}

const pickable = (endpoints: readonly Endpoint[]): string[] => endpoints.filter(isPickable).map((e) => e.id);

describe('overlayPool: the worked examples', () => {
  it('4 endpoints, 1 ejected, threshold 50%: no panic, the ejected one is unhealthy', () => {
    const result = overlayPool([ep('a'), ep('b'), ep('c'), ep('d')], input({ ejected: new Set(['b']) }));
    expect(result.panic).toBe(false);
    expect(result.endpoints.map((e) => [e.id, e.healthy])).toEqual([['a', true], ['b', false], ['c', true], ['d', true]]);
  });

  it('4 endpoints, 3 unhealthy, threshold 50%: panic, all 4 pickable', () => {
    const result = overlayPool([ep('a'), ep('b', { healthy: false }), ep('c', { healthy: false }), ep('d', { healthy: false })], input());
    expect(result.panic).toBe(true);
    expect(pickable(result.endpoints)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('slowStartMs 10000, healthy since 2500 ms ago, weight 10: 3 tenths of the scaled weight (10 x 10 x 0.3 = 30), next change at the next step', () => {
    const result = overlayPool([ep('a', { weight: 10 })], input({ slowStartMs: 10_000, healthySinceMs: new Map([['a', NOW_MS - 2_500]]) }));
    expect(result.endpoints[0]?.weight).toBe(30);
    expect(result.nextChangeAtMs).toBe(NOW_MS - 2_500 + 3_000);
  });

  it('weights 1 and 1, one healthy since 2.5 s of a 10 s window: 10 and 3', () => {
    const result = overlayPool([ep('a'), ep('b')], input({ slowStartMs: 10_000, healthySinceMs: new Map([['a', Number.NEGATIVE_INFINITY], ['b', NOW_MS - 2_500]]) }));
    expect(result.endpoints.map((e) => e.weight)).toEqual([10, 3]);
    expect(result.nextChangeAtMs).toBe(NOW_MS + 500);
  });
});

describe('overlayPool: ejections', () => {
  it('marks every ejected endpoint unhealthy and leaves the input untouched', () => {
    const endpoints = [ep('a'), ep('b'), ep('c'), ep('d')];
    const result = overlayPool(endpoints, input({ ejected: new Set(['a', 'c']) }));
    expect(pickable(result.endpoints)).toEqual(['b', 'd']);
    expect(endpoints.every((e) => e.healthy)).toBe(true);
  });

  it('ignores ejected ids that are not in the pool', () => {
    const endpoints = [ep('a'), ep('b')];
    expect(overlayPool(endpoints, input({ ejected: new Set(['zzz']) })).endpoints).toBe(endpoints);
  });

  it('an ejected endpoint that was unhealthy anyway changes nothing', () => {
    const endpoints = [ep('a'), ep('b'), ep('c', { healthy: false })];
    expect(overlayPool(endpoints, input({ ejected: new Set(['c']), panicThresholdPercent: 10 })).endpoints).toBe(endpoints);
  });

  it('ejections that leave too few healthy endpoints put the pool in panic, ejected ones included', () => {
    const result = overlayPool([ep('a'), ep('b')], input({ ejected: new Set(['a']), panicThresholdPercent: 60 }));
    expect(result.panic).toBe(true);
    expect(pickable(result.endpoints)).toEqual(['a', 'b']);
  });
});

describe('overlayPool: panic mode', () => {
  const cases: Array<{ name: string; endpoints: Endpoint[]; threshold: number; panic: boolean; pickable: string[] }> = [
    {
      name: 'exactly the threshold healthy (2 of 4 at 50%) is not panic',
      endpoints: [ep('a'), ep('b'), ep('c', { healthy: false }), ep('d', { healthy: false })],
      threshold: 50,
      panic: false,
      pickable: ['a', 'b'],
    },
    {
      name: 'one below the threshold (1 of 3 at 50%) is panic and routes to all 3',
      endpoints: [ep('a'), ep('b', { healthy: false }), ep('c', { healthy: false })],
      threshold: 50,
      panic: true,
      pickable: ['a', 'b', 'c'],
    },
    {
      name: 'no healthy endpoint at all is panic and routes to every one',
      endpoints: [ep('a', { healthy: false }), ep('b', { healthy: false })],
      threshold: 50,
      panic: true,
      pickable: ['a', 'b'],
    },
    {
      name: 'draining endpoints stay out of panic routing and out of the share',
      endpoints: [ep('a'), ep('b', { healthy: false }), ep('c', { healthy: false }), ep('d', { healthy: false, draining: true })],
      threshold: 50,
      panic: true,
      pickable: ['a', 'b', 'c'],
    },
    {
      name: 'a healthy draining endpoint does not count toward the healthy share',
      endpoints: [ep('a'), ep('b', { healthy: false }), ep('c', { draining: true }), ep('d', { draining: true })],
      threshold: 60,
      panic: true,
      pickable: ['a', 'b'],
    },
    {
      name: 'a threshold of 0 never panics, even with nothing healthy',
      endpoints: [ep('a', { healthy: false }), ep('b', { healthy: false })],
      threshold: 0,
      panic: false,
      pickable: [],
    },
    {
      name: 'a pool that is all draining is not in panic',
      endpoints: [ep('a', { draining: true }), ep('b', { draining: true, healthy: false })],
      threshold: 50,
      panic: false,
      pickable: [],
    },
    {
      name: 'a threshold of 100 panics as soon as one endpoint is unhealthy',
      endpoints: [ep('a'), ep('b'), ep('c', { healthy: false })],
      threshold: 100,
      panic: true,
      pickable: ['a', 'b', 'c'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = overlayPool(c.endpoints, input({ panicThresholdPercent: c.threshold }));
      expect(result.panic).toBe(c.panic);
      expect(pickable(result.endpoints)).toEqual(c.pickable);
    });
  }

  it('an empty pool is not in panic and is returned as it is', () => {
    const endpoints: Endpoint[] = [];
    const result = overlayPool(endpoints, input());
    expect(result).toEqual({ endpoints, panic: false });
    expect(result.endpoints).toBe(endpoints);
  });
});

describe('overlayPool: slow start', () => {
  const SLOW_MS = 10_000;
  // Alone in its pool, a ramping endpoint's weight is scaled by 10 first: weight w ramps over
  // w x 10 x (10%, 20%, ... 100%), then falls back to w (the same share) at the end.
  const cases: Array<{ name: string; weight: number; sinceAgoMs: number; expected: number; nextInMs: number | undefined }> = [
    { name: 'just healthy with weight 10 gets the 10% floor of 10 x 10: weight 10', weight: 10, sinceAgoMs: 0, expected: 10, nextInMs: 1_000 },
    { name: 'just healthy with weight 100 gets weight 100 (10% of 1000)', weight: 100, sinceAgoMs: 0, expected: 100, nextInMs: 1_000 },
    { name: 'one millisecond before the first step it still has weight 10 of 100', weight: 10, sinceAgoMs: 999, expected: 10, nextInMs: 1 },
    { name: 'at the first step it gets weight 20 of 100', weight: 10, sinceAgoMs: 1_000, expected: 20, nextInMs: 1_000 },
    { name: 'half way it gets weight 60 of 100 (rounded up to the next step)', weight: 10, sinceAgoMs: 5_000, expected: 60, nextInMs: 1_000 },
    { name: 'in the last step it has its full scaled weight, one more rebuild due at the end', weight: 10, sinceAgoMs: 9_500, expected: 100, nextInMs: 500 },
    { name: 'at the end of the window it is no longer slow-starting and nothing is scaled', weight: 10, sinceAgoMs: 10_000, expected: 10, nextInMs: undefined },
    { name: 'weight 3 at a quarter of the way gets 3 tenths of 30: weight 9', weight: 3, sinceAgoMs: 2_500, expected: 9, nextInMs: 500 },
    { name: 'weight 1 just healthy gets 10% of 10: weight 1', weight: 1, sinceAgoMs: 0, expected: 1, nextInMs: 1_000 },
    { name: 'weight 1 at a quarter of the way gets weight 3', weight: 1, sinceAgoMs: 2_500, expected: 3, nextInMs: 500 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = overlayPool([ep('a', { weight: c.weight })], input({ slowStartMs: SLOW_MS, healthySinceMs: new Map([['a', NOW_MS - c.sinceAgoMs]]) }));
      expect(result.endpoints[0]?.weight).toBe(c.expected);
      expect(result.nextChangeAtMs === undefined ? undefined : result.nextChangeAtMs - NOW_MS).toBe(c.nextInMs);
    });
  }

  it('the weight ramps in 10 steps from 10% to full over the window', () => {
    const weights: number[] = [];
    for (let ago = 0; ago < SLOW_MS; ago += 1_000) {
      const result = overlayPool([ep('a', { weight: 100 })], input({ slowStartMs: SLOW_MS, healthySinceMs: new Map([['a', NOW_MS - ago]]) }));
      weights.push(result.endpoints[0]?.weight ?? -1);
    }
    expect(weights).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000]);
  });

  it('the next change is the earliest among slow-starting endpoints', () => {
    const result = overlayPool([ep('a', { weight: 10 }), ep('b', { weight: 10 }), ep('c', { weight: 10 })], input({
      slowStartMs: SLOW_MS,
      healthySinceMs: new Map([['a', NOW_MS - 2_200], ['b', NOW_MS - 7_900]]),
    }));
    // c is warm: scaled to 100 along with the ramping ones.
    expect(result.endpoints.map((e) => e.weight)).toEqual([30, 80, 100]);
    expect(result.nextChangeAtMs).toBe(NOW_MS + 100);
  });

  it('leaves endpoints alone that have no healthy-since time, or when slow start is off', () => {
    const endpoints = [ep('a', { weight: 10 }), ep('b', { weight: 10 })];
    const since = new Map([['b', NOW_MS]]);
    expect(overlayPool(endpoints, input({ slowStartMs: SLOW_MS })).endpoints).toBe(endpoints);
    const off = overlayPool(endpoints, input({ slowStartMs: 0, healthySinceMs: since }));
    expect(off.endpoints).toBe(endpoints);
    expect(off.nextChangeAtMs).toBeUndefined();
  });

  it('does not ramp unhealthy, ejected or weight-0 endpoints', () => {
    const since = new Map([['a', NOW_MS], ['b', NOW_MS], ['c', NOW_MS], ['d', NOW_MS]]);
    const result = overlayPool(
      [ep('a', { weight: 10, healthy: false }), ep('b', { weight: 10 }), ep('c', { weight: 0 }), ep('d', { weight: 10 })],
      input({ slowStartMs: SLOW_MS, healthySinceMs: since, ejected: new Set(['b']), panicThresholdPercent: 0 }),
    );
    // d ramps (10% of 10 x 10); the others do not ramp but are scaled with the pool (0 stays 0).
    expect(result.endpoints.map((e) => e.weight)).toEqual([100, 100, 0, 10]);
    expect(result.endpoints.map((e) => e.healthy)).toEqual([false, false, true, true]);
    expect(result.nextChangeAtMs).toBe(NOW_MS + 1_000);
  });
});

describe('overlayPool: slow start scaling with weight-1 endpoints', () => {
  const SLOW_MS = 10_000;
  const rampWeights = (count: number, sinceAgoMs: number): number[] => {
    const endpoints = Array.from({ length: count }, (_, i) => ep(String.fromCharCode(97 + i)));
    const since = new Map(endpoints.map((e, i) => [e.id, i === count - 1 ? NOW_MS - sinceAgoMs : Number.NEGATIVE_INFINITY]));
    return overlayPool(endpoints, input({ slowStartMs: SLOW_MS, healthySinceMs: since })).endpoints.map((e) => e.weight);
  };

  it('scales by SLOW_START_STEPS, which is 10', () => {
    expect(SLOW_START_STEPS).toBe(10);
  });

  it('a new weight-1 endpoint beside a warm one ramps 1, 2, ... 10 against 10', () => {
    const ramp: number[][] = [];
    for (let ago = 0; ago < SLOW_MS; ago += 1_000) ramp.push(rampWeights(2, ago));
    expect(ramp).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((w) => [10, w]));
  });

  it('once the ramp is over, weights 1 and 1 are back to 1 and 1 (same shares as 10 and 10)', () => {
    const endpoints = [ep('a'), ep('b')];
    const result = overlayPool(endpoints, input({ slowStartMs: SLOW_MS, healthySinceMs: new Map([['a', Number.NEGATIVE_INFINITY], ['b', NOW_MS - SLOW_MS]]) }));
    expect(result.endpoints).toBe(endpoints);
    expect(result.nextChangeAtMs).toBeUndefined();
  });

  it('its share of traffic grows with the ramp: 1/11 at first, 3/13 a quarter of the way, 1/2 at the end', () => {
    const share = (weights: number[]): number => (weights.at(-1) ?? 0) / weights.reduce((sum, w) => sum + w, 0);
    expect(share(rampWeights(2, 0))).toBeCloseTo(1 / 11);
    expect(share(rampWeights(2, 2_500))).toBeCloseTo(3 / 13);
    expect(share(rampWeights(2, 9_999))).toBeCloseTo(1 / 2);
  });

  it('scales every warm endpoint of a larger pool, draining and unhealthy ones too, and keeps weight 0 at 0', () => {
    const endpoints = [ep('a'), ep('b', { weight: 2 }), ep('c', { draining: true }), ep('d', { healthy: false }), ep('e', { weight: 0 }), ep('f')];
    const since = new Map([['a', Number.NEGATIVE_INFINITY], ['b', Number.NEGATIVE_INFINITY], ['f', NOW_MS - 2_500]]);
    const result = overlayPool(endpoints, input({ slowStartMs: SLOW_MS, healthySinceMs: since, panicThresholdPercent: 0 }));
    expect(result.endpoints.map((e) => [e.id, e.weight])).toEqual([['a', 10], ['b', 20], ['c', 10], ['d', 10], ['e', 0], ['f', 3]]);
  });

  it('does not scale a pool whose only newly healthy endpoint is draining', () => {
    const endpoints = [ep('a'), ep('b', { draining: true })];
    const result = overlayPool(endpoints, input({ slowStartMs: SLOW_MS, healthySinceMs: new Map([['a', Number.NEGATIVE_INFINITY], ['b', NOW_MS]]) }));
    expect(result.endpoints).toBe(endpoints);
  });

  it('scales each pool on its own: a ramp in one pool leaves another pool as it is', () => {
    const since = new Map([['a', Number.NEGATIVE_INFINITY], ['b', NOW_MS], ['c', Number.NEGATIVE_INFINITY]]);
    expect(overlayPool([ep('a'), ep('b')], input({ slowStartMs: SLOW_MS, healthySinceMs: since })).endpoints.map((e) => e.weight)).toEqual([10, 1]);
    const other = [ep('c')];
    expect(overlayPool(other, input({ slowStartMs: SLOW_MS, healthySinceMs: since })).endpoints).toBe(other);
  });

  it('a panicking pool keeps the scaled weights', () => {
    const result = overlayPool([ep('a'), ep('b'), ep('c', { healthy: false }), ep('d', { healthy: false }), ep('e', { healthy: false })], input({
      slowStartMs: SLOW_MS,
      healthySinceMs: new Map([['a', Number.NEGATIVE_INFINITY], ['b', NOW_MS - 2_500]]),
      panicThresholdPercent: 50,
    }));
    expect(result.panic).toBe(true);
    expect(result.endpoints.map((e) => [e.weight, e.healthy])).toEqual([[10, true], [3, true], [10, true], [10, true], [10, true]]);
  });
});

describe('overlayPool: identity', () => {
  it('returns the same array when nothing is ejected, slow-starting or in panic', () => {
    const endpoints = [ep('a'), ep('b', { healthy: false }), ep('c', { draining: true })];
    const result = overlayPool(endpoints, input({ healthySinceMs: new Map([['a', Number.NEGATIVE_INFINITY]]), slowStartMs: 10_000 }));
    expect(result.endpoints).toBe(endpoints);
    expect(result.panic).toBe(false);
    expect(result.nextChangeAtMs).toBeUndefined();
  });

  it('returns the same array when a slow-starting weight-1 endpoint keeps its weight', () => {
    const endpoints = [ep('a')];
    const result = overlayPool(endpoints, input({ slowStartMs: 10_000, healthySinceMs: new Map([['a', NOW_MS]]) }));
    expect(result.endpoints).toBe(endpoints);
  });

  it('returns a new array, with the other endpoints unchanged, when one is ejected', () => {
    const endpoints = [ep('a'), ep('b'), ep('c')];
    const result = overlayPool(endpoints, input({ ejected: new Set(['b']) }));
    expect(result.endpoints).not.toBe(endpoints);
    expect(result.endpoints[0]).toBe(endpoints[0]);
    expect(result.endpoints[2]).toBe(endpoints[2]);
  });
});
