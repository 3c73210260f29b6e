// Exponential backoff with jitter for retries after errors, with the random source injected.
// "Equal jitter": half the capped exponential delay is fixed, half is random, so retries spread
// out yet never come sooner than half the delay (a bounded load during an outage). Pure.

export interface BackoffLimits {
  /** The delay cap after the first failure. */
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffLimits = { baseMs: 250, maxMs: 30_000 };

/**
 * The delay before retry number `attempt` (1 after the first failure), with `random()` in [0, 1).
 * Caps for base 250 and max 30000: 250, 500, 1000, 2000, ... 30000; the delay lies in
 * [cap / 2, cap). Example: attempt 3, random 0.5 -> cap 1000 -> 750 ms.
 */
export function backoffDelayMs(attempt: number, limits: BackoffLimits, random: () => number): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const capMs = Math.min(limits.maxMs, limits.baseMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(capMs / 2 + (r * capMs) / 2);
}
