// A token bucket with an explicit clock: `burst` requests go out at once, then at most
// `ratePerSecond`. Consul's blocking-query docs recommend one so that a churning index degrades
// into polling at a bounded rate instead of a busy loop. Pure.

export interface TokenBucketLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface TokenBucket {
  readonly tokens: number;
  readonly updatedAtMs: number;
}

export type TakeResult =
  | { readonly ok: true; readonly bucket: TokenBucket }
  /** No token: try again in `waitMs` (the bucket is returned refilled up to now). */
  | { readonly ok: false; readonly waitMs: number; readonly bucket: TokenBucket };

export function fullBucket(limits: TokenBucketLimits, nowMs: number): TokenBucket {
  return { tokens: Math.max(1, limits.burst), updatedAtMs: nowMs };
}

function refill(bucket: TokenBucket, limits: TokenBucketLimits, nowMs: number): TokenBucket {
  // A clock that steps back adds nothing rather than removing tokens.
  const elapsedMs = Math.max(0, nowMs - bucket.updatedAtMs);
  const tokens = Math.min(Math.max(1, limits.burst), bucket.tokens + (elapsedMs * limits.ratePerSecond) / 1000);
  return { tokens, updatedAtMs: Math.max(nowMs, bucket.updatedAtMs) };
}

/**
 * Takes one token if there is one. Example with rate 5/s, burst 2, starting full at t=0:
 * take at 0 (ok, 1 left), take at 0 (ok, 0 left), take at 0 (wait 200 ms), take at 200 (ok).
 */
export function takeToken(bucket: TokenBucket, limits: TokenBucketLimits, nowMs: number): TakeResult {
  const current = refill(bucket, limits, nowMs);
  if (current.tokens >= 1) return { ok: true, bucket: { ...current, tokens: current.tokens - 1 } };
  const rate = limits.ratePerSecond > 0 ? limits.ratePerSecond : Number.MIN_VALUE;
  const waitMs = Math.min(Math.ceil(((1 - current.tokens) * 1000) / rate), 3_600_000);
  return { ok: false, waitMs: Math.max(1, waitMs), bucket: current };
}
