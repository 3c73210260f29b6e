// The token bucket that keeps a churning Consul index from becoming a busy loop. Unit: pure.
import { describe, expect, it } from 'vitest';
import { fullBucket, takeToken, type TokenBucket, type TokenBucketLimits } from '../../../../src/registry/consul/token-bucket.js';

/** Takes at each time in turn; returns 'ok' or the wait asked for. */
function run(limits: TokenBucketLimits, times: readonly number[]): (string | number)[] {
  let bucket: TokenBucket = fullBucket(limits, times[0] ?? 0);
  return times.map((t) => {
    const r = takeToken(bucket, limits, t);
    bucket = r.bucket;
    return r.ok ? 'ok' : r.waitMs;
  });
}

describe('token bucket', () => {
  it.each([
    ['the doc example: rate 5/s, burst 2', { ratePerSecond: 5, burst: 2 }, [0, 0, 0, 200], ['ok', 'ok', 200, 'ok']],
    ['a burst goes out at once, then one per 1/rate', { ratePerSecond: 5, burst: 3 }, [0, 0, 0, 0, 100, 200, 400], ['ok', 'ok', 'ok', 200, 100, 'ok', 'ok']],
    ['tokens refill up to the burst, never beyond', { ratePerSecond: 10, burst: 2 }, [0, 10_000, 10_000, 10_000], ['ok', 'ok', 'ok', 100]],
    ['a slow rate asks for long waits', { ratePerSecond: 0.5, burst: 1 }, [0, 0, 1_000], ['ok', 2_000, 1_000]],
    ['a clock that steps back adds no tokens', { ratePerSecond: 1, burst: 1 }, [5_000, 4_000, 4_500], ['ok', 1_000, 1_000]],
    ['a burst below 1 still lets one request through', { ratePerSecond: 1, burst: 0 }, [0, 0], ['ok', 1_000]],
  ])('%s', (_name, limits, times, expected) => {
    expect(run(limits, times)).toEqual(expected);
  });

  it('bounds the number of requests over a window to burst + rate x seconds', () => {
    const limits = { ratePerSecond: 5, burst: 10 };
    let bucket = fullBucket(limits, 0);
    let sent = 0;
    // A caller that retries every millisecond for 3 s (a churning index answering at once).
    for (let t = 0; t < 3_000; t++) {
      const r = takeToken(bucket, limits, t);
      bucket = r.bucket;
      if (r.ok) sent++;
    }
    expect(sent).toBeLessThanOrEqual(10 + 5 * 3);
    expect(sent).toBeGreaterThanOrEqual(10 + 5 * 3 - 1);
  });
});
