// The clock arithmetic of a leadership session: defaults, the checks that keep a renew able to
// land before the step-down deadline, and the duration text Consul reads. Unit: pure.
import { describe, expect, it } from 'vitest';
import { leadershipTiming, renewDueInMs, sessionDurationText, type LeadershipTiming } from '../../../src/hosts/leadership-timing.js';

function timing(input: Parameters<typeof leadershipTiming>[0]): LeadershipTiming {
  const result = leadershipTiming(input);
  if (!result.ok) throw new Error(result.problem);
  return result.timing;
}

describe('leadershipTiming', () => {
  it("fills in the doc comment's defaults: TTL 10 s, margin 2 s, Consul's 15 s lock-delay", () => {
    expect(timing({})).toEqual({
      sessionTtlMs: 10_000,
      safetyMarginMs: 2_000,
      lockDelayMs: 15_000,
      renewIntervalMs: 5_000,
      renewTimeoutMs: 1_000,
      renewRetry: { baseMs: 250, maxMs: 1_000 },
    });
  });

  it('by default, a renew that hangs until its limit and one retry that hangs too both end by the deadline', () => {
    for (const sessionTtlMs of [300, 500, 600, 1_000, 10_000, 60_000]) {
      const t = timing({ sessionTtlMs });
      const hungRenewMs = t.renewIntervalMs + t.renewTimeoutMs;
      const hungRetryMs = t.renewRetry.maxMs + t.renewTimeoutMs;
      expect(hungRenewMs + hungRetryMs, `ttl ${sessionTtlMs}`).toBeLessThanOrEqual(t.sessionTtlMs - t.safetyMarginMs);
    }
  });

  it('allows a lock-delay of 0 for tests', () => {
    expect(timing({ sessionTtlMs: 500, lockDelayMs: 0 }).lockDelayMs).toBe(0);
  });

  it.each([
    ['a margin of half the TTL or more', { sessionTtlMs: 1_000, safetyMarginMs: 500 }, /safetyMarginMs/],
    ['a margin of 0 (no fencing)', { sessionTtlMs: 1_000, safetyMarginMs: 0 }, /safetyMarginMs/],
    ['a TTL that is not a whole number', { sessionTtlMs: 1.5 }, /sessionTtlMs/],
    ['a lock-delay over 60 s', { lockDelayMs: 61_000 }, /lockDelayMs/],
    ['a negative lock-delay', { lockDelayMs: -1 }, /lockDelayMs/],
    ['a renew timeout that would end after the deadline', { sessionTtlMs: 1_000, renewTimeoutMs: 300 }, /renewTimeoutMs/],
  ])('refuses %s', (_name, input, problem) => {
    const result = leadershipTiming(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(problem);
  });
});

describe('sessionDurationText', () => {
  it.each([
    [10_000, '10s'],
    [15_000, '15s'],
    [0, '0s'],
    [500, '500ms'],
    [1_500, '1500ms'],
  ])('%i ms is %s', (ms, text) => {
    expect(sessionDurationText(ms)).toBe(text);
  });
});

describe('renewDueInMs', () => {
  it('counts from the send time of the last confirmed renew, never below 0', () => {
    expect(renewDueInMs(1_000, 5_000, 2_000)).toBe(4_000);
    expect(renewDueInMs(1_000, 5_000, 7_000)).toBe(0);
  });
});
