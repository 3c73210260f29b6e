// Exponential backoff with equal jitter, random injected. Unit: pure.
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_BACKOFF } from '../../../../src/registry/consul/backoff.js';

describe('backoffDelayMs', () => {
  it.each([
    ['the first retry, random 0: half the base', 1, 0, 125],
    ['the first retry, random almost 1: almost the base', 1, 0.999, 250],
    ['the third retry, random 0.5: three quarters of 1000', 3, 0.5, 750],
    ['doubling stops at the max', 20, 0, 15_000],
    ['at the max with random almost 1', 20, 0.999, 29_985],
    ['attempt 0 counts as the first', 0, 0, 125],
    ['a huge attempt count does not overflow', 10_000, 0.5, 22_500],
  ])('%s', (_name, attempt, random, delay) => {
    expect(backoffDelayMs(attempt, DEFAULT_BACKOFF, () => random)).toBe(delay);
  });

  it('never comes sooner than half the capped delay, so an outage gives a bounded request rate', () => {
    let previousFloor = 0;
    for (let attempt = 1; attempt <= 12; attempt++) {
      const floor = backoffDelayMs(attempt, { baseMs: 100, maxMs: 10_000 }, () => 0);
      expect(floor).toBeGreaterThanOrEqual(previousFloor);
      previousFloor = floor;
    }
    expect(previousFloor).toBe(5_000);
  });
});
