// Unit tests of the round-robin picker. Pure: no sockets.
import { describe, expect, it } from 'vitest';
import { RoundRobinPicker } from '../../../src/balancing/round-robin.js';
import { countPicks, endpoint } from './fixtures.js';

describe('RoundRobinPicker', () => {
  it('rotates through three endpoints in order', () => {
    const picker = new RoundRobinPicker();
    const pool = [endpoint('a'), endpoint('b'), endpoint('c')];
    const sequence = Array.from({ length: 7 }, () => picker.pick(pool)?.id);
    expect(sequence).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('spreads 300 picks over three endpoints exactly evenly', () => {
    const picker = new RoundRobinPicker();
    const pool = [endpoint('a'), endpoint('b'), endpoint('c')];
    const counts = countPicks(() => picker.pick(pool), 300);
    expect(Object.fromEntries(counts)).toEqual({ a: 100, b: 100, c: 100 });
  });

  it('ignores weights (that is the weighted picker job)', () => {
    const picker = new RoundRobinPicker();
    const pool = [endpoint('a', { weight: 10 }), endpoint('b', { weight: 1 })];
    const counts = countPicks(() => picker.pick(pool), 100);
    expect(Object.fromEntries(counts)).toEqual({ a: 50, b: 50 });
  });

  it('skips excluded endpoints and continues the rotation after the one chosen', () => {
    const picker = new RoundRobinPicker();
    const pool = [endpoint('a'), endpoint('b'), endpoint('c')];
    expect(picker.pick(pool)?.id).toBe('a');
    expect(picker.pick(pool, new Set(['b']))?.id).toBe('c');
    expect(picker.pick(pool)?.id).toBe('a');
  });

  it('keeps rotating when the pool shrinks under the cursor', () => {
    const picker = new RoundRobinPicker();
    const big = [endpoint('a'), endpoint('b'), endpoint('c'), endpoint('d')];
    picker.pick(big);
    picker.pick(big);
    picker.pick(big);
    const small = [endpoint('a'), endpoint('b')];
    const counts = countPicks(() => picker.pick(small), 10);
    expect(Object.fromEntries(counts)).toEqual({ a: 5, b: 5 });
  });
});
