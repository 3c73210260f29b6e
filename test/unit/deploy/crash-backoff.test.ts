import { describe, expect, it } from 'vitest';
import { NO_BACKOFF, afterCrash, afterUptime, crashDelayMs } from '../../../src/deploy/plan/crash-backoff.js';

describe('crash backoff', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [6, 32_000],
    [7, 60_000],
    [50, 60_000],
  ])('after %d crashes in a row waits %d ms', (crashes, delay) => {
    expect(crashDelayMs(crashes)).toBe(delay);
  });

  it('schedules the next start from the crash time', () => {
    const once = afterCrash(NO_BACKOFF, 10_000);
    expect(once).toEqual({ consecutiveCrashes: 1, nextStartAtMs: 11_000 });
    expect(afterCrash(once, 12_000)).toEqual({ consecutiveCrashes: 2, nextStartAtMs: 14_000 });
  });

  it('resets once a replica stayed up for a minute, not before', () => {
    const crashed = afterCrash(afterCrash(NO_BACKOFF, 0), 0);
    expect(afterUptime(crashed, 59_999)).toBe(crashed);
    expect(afterUptime(crashed, 60_000)).toEqual(NO_BACKOFF);
  });
});
