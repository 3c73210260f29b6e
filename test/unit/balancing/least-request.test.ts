// Unit tests of the least-request (power of two choices) picker. Pure: no sockets.
import { describe, expect, it } from 'vitest';
import { LeastRequestPicker } from '../../../src/balancing/least-request.js';
import { countPicks, deps, endpoint, fixedLoad } from './fixtures.js';

describe('LeastRequestPicker', () => {
  it('prefers the less loaded of two endpoints every time', () => {
    const picker = new LeastRequestPicker(deps({ a: 5, b: 0 }));
    const counts = countPicks(() => picker.pick([endpoint('a'), endpoint('b')]), 200);
    expect(Object.fromEntries(counts)).toEqual({ b: 200 });
  });

  it('never picks the most loaded of three, and picks the least loaded whenever it is sampled', () => {
    const picker = new LeastRequestPicker(deps({ a: 10, b: 0, c: 5 }, 42));
    const counts = countPicks(() => picker.pick([endpoint('a'), endpoint('b'), endpoint('c')]), 3000);
    expect(counts.get('a')).toBeUndefined();
    // b wins the pairs (a,b) and (b,c): two thirds of uniform pairs; c wins only (a,c).
    expect(counts.get('b')).toBeGreaterThan(1800);
    expect(counts.get('c')).toBeGreaterThan(800);
  });

  it('divides in-flight plus one by weight, so a heavier endpoint may carry more load', () => {
    // a: (3 + 1) / 2 = 2, b: (2 + 1) / 1 = 3 -> a, although a has more requests in flight.
    const picker = new LeastRequestPicker(deps({ a: 3, b: 2 }));
    const counts = countPicks(() => picker.pick([endpoint('a', { weight: 2 }), endpoint('b')]), 50);
    expect(Object.fromEntries(counts)).toEqual({ a: 50 });
  });

  it('breaks ties at random, about evenly', () => {
    const picker = new LeastRequestPicker(deps({}, 7));
    const counts = countPicks(() => picker.pick([endpoint('a'), endpoint('b')]), 2000);
    expect(counts.get('a')).toBeGreaterThan(850);
    expect(counts.get('b')).toBeGreaterThan(850);
  });

  it('spreads evenly over equal loads with many endpoints', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const picker = new LeastRequestPicker(deps({}, 3));
    const counts = countPicks(() => picker.pick(ids.map((id) => endpoint(id))), 8000);
    for (const id of ids) expect(counts.get(id)).toBeGreaterThan(850);
  });

  it('scans when few candidates remain: the one left among many unpickable is always found', () => {
    const endpoints = [
      endpoint('a', { healthy: false }),
      endpoint('b', { draining: true }),
      endpoint('c', { weight: 0 }),
      endpoint('d'),
      endpoint('e'),
    ];
    const picker = new LeastRequestPicker(deps({}, 11));
    const counts = countPicks(() => picker.pick(endpoints, new Set(['e'])), 200);
    expect(Object.fromEntries(counts)).toEqual({ d: 200 });
  });

  it('compares the two remaining candidates after an exclusion', () => {
    const endpoints = [endpoint('a'), endpoint('b'), endpoint('c')];
    const picker = new LeastRequestPicker(deps({ a: 0, b: 4, c: 2 }, 5));
    const counts = countPicks(() => picker.pick(endpoints, new Set(['a'])), 200);
    expect(Object.fromEntries(counts)).toEqual({ c: 200 });
  });

  it('samples two distinct candidates by rank when the fast path misses', () => {
    // Half the pool is unpickable, so random indices often land on it; the three candidates
    // must still be compared pairwise and the most loaded never win.
    const endpoints = [
      endpoint('x1', { healthy: false }),
      endpoint('a'),
      endpoint('x2', { draining: true }),
      endpoint('b'),
      endpoint('x3', { weight: 0 }),
      endpoint('c'),
    ];
    const picker = new LeastRequestPicker(deps({ a: 9, b: 1, c: 5 }, 13));
    const counts = countPicks(() => picker.pick(endpoints), 3000);
    expect(counts.get('a')).toBeUndefined();
    expect(counts.get('b')).toBeGreaterThan(1800);
    expect(counts.get('c')).toBeGreaterThan(800);
  });

  it('survives an injected random that returns values at the edges', () => {
    const edges = [0, 0.999999999, 1, 0, 1, 1];
    let call = 0;
    const picker = new LeastRequestPicker({
      load: fixedLoad({}),
      random: () => edges[call++ % edges.length] ?? 0,
    });
    const endpoints = [endpoint('a'), endpoint('b'), endpoint('c')];
    for (let i = 0; i < 30; i++) expect(picker.pick(endpoints)).toBeDefined();
  });
});
