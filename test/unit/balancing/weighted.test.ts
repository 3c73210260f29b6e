// Unit tests of the smooth weighted round-robin picker. Pure: no sockets.
import { describe, expect, it } from 'vitest';
import { WeightedPicker } from '../../../src/balancing/weighted.js';
import type { Endpoint } from '../../../src/model/endpoint.js';
import { countPicks, endpoint } from './fixtures.js';

function pool(weights: Record<string, number>): Endpoint[] {
  return Object.entries(weights).map(([id, weight]) => endpoint(id, { weight }));
}

function sequence(picker: WeightedPicker, endpoints: readonly Endpoint[], picks: number): string[] {
  return Array.from({ length: picks }, () => picker.pick(endpoints)?.id ?? '(none)');
}

describe('WeightedPicker', () => {
  it('gives weights 5,1,1 the nginx interleaving a a b a c a a, then repeats it', () => {
    const picker = new WeightedPicker();
    const endpoints = pool({ a: 5, b: 1, c: 1 });
    const expected = ['a', 'a', 'b', 'a', 'c', 'a', 'a'];
    expect(sequence(picker, endpoints, 14)).toEqual([...expected, ...expected]);
  });

  const cases: Array<{ name: string; weights: Record<string, number> }> = [
    { name: 'weights 5,1,1', weights: { a: 5, b: 1, c: 1 } },
    { name: 'weights 3,2,1', weights: { a: 3, b: 2, c: 1 } },
    { name: 'equal weights', weights: { a: 1, b: 1, c: 1 } },
    { name: 'weights 10,1', weights: { a: 10, b: 1 } },
    { name: 'weights 7,3,0 (weight 0 takes nothing)', weights: { a: 7, b: 3, z: 0 } },
    { name: 'fractional weights 0.5,1.5', weights: { a: 0.5, b: 1.5 } },
  ];

  for (const { name, weights } of cases) {
    it(`is exactly proportional over whole rounds with ${name}`, () => {
      const picker = new WeightedPicker();
      const endpoints = pool(weights);
      const totalWeight = Object.values(weights).reduce((sum, w) => sum + w, 0);
      const rounds = 100;
      const counts = countPicks(() => picker.pick(endpoints), Math.round(totalWeight * rounds));
      for (const [id, weight] of Object.entries(weights)) {
        expect(counts.get(id) ?? 0, id).toBe(weight * rounds);
      }
    });

    it(`is smooth with ${name}: every prefix is within one pick of its share`, () => {
      const picker = new WeightedPicker();
      const endpoints = pool(weights);
      const totalWeight = Object.values(weights).reduce((sum, w) => sum + w, 0);
      const seen = new Map<string, number>();
      for (let pickCount = 1; pickCount <= 500; pickCount++) {
        const id = picker.pick(endpoints)?.id ?? '(none)';
        seen.set(id, (seen.get(id) ?? 0) + 1);
        for (const [endpointId, weight] of Object.entries(weights)) {
          const share = (pickCount * weight) / totalWeight;
          expect(Math.abs((seen.get(endpointId) ?? 0) - share)).toBeLessThan(1);
        }
      }
    });
  }

  it('carries its state over a new pool array with the same ids', () => {
    const continuous = new WeightedPicker();
    const replaced = new WeightedPicker();
    const first = pool({ a: 5, b: 1, c: 1 });
    const expected = sequence(continuous, first, 20);
    const got = [...sequence(replaced, first, 9), ...sequence(replaced, pool({ a: 5, b: 1, c: 1 }), 11)];
    expect(got).toEqual(expected);
  });

  it('shares traffic by the new weights after an endpoint joins', () => {
    const picker = new WeightedPicker();
    sequence(picker, pool({ a: 1, b: 1 }), 5);
    const grown = pool({ a: 1, b: 1, c: 2 });
    const counts = countPicks(() => picker.pick(grown), 400);
    expect(Object.fromEntries(counts)).toEqual({ a: 100, b: 100, c: 200 });
  });

  it('stays proportional when endpoints leave and come back', () => {
    const picker = new WeightedPicker();
    const full = pool({ a: 5, b: 1, c: 1 });
    sequence(picker, full, 3);
    sequence(picker, pool({ a: 5, c: 1 }), 6);
    const counts = countPicks(() => picker.pick(full), 700);
    expect(Math.abs((counts.get('a') ?? 0) - 500)).toBeLessThanOrEqual(1);
    expect(Math.abs((counts.get('b') ?? 0) - 100)).toBeLessThanOrEqual(1);
    expect(Math.abs((counts.get('c') ?? 0) - 100)).toBeLessThanOrEqual(1);
  });

  it('forgets the state of ids that left the pool, so churn does not grow memory', () => {
    const picker = new WeightedPicker();
    for (let generation = 0; generation < 1000; generation++) {
      picker.pick([endpoint(`old-${generation}`), endpoint('stable')]);
    }
    const states = (picker as unknown as { states: Map<string, unknown> }).states;
    expect([...states.keys()].sort()).toEqual(['old-999', 'stable']);
  });

  it('leaves excluded endpoints out of the round and keeps the others proportional', () => {
    const picker = new WeightedPicker();
    const endpoints = pool({ a: 3, b: 1, c: 1 });
    const counts = countPicks(() => picker.pick(endpoints, new Set(['a'])), 100);
    expect(Object.fromEntries(counts)).toEqual({ b: 50, c: 50 });
  });
});
