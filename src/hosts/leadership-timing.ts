// The clock arithmetic of a leadership session: defaults, the checks that keep a renew able to
// land before the step-down deadline, the renew cadence and retry delays, and the duration text
// Consul reads. Pure.
import type { BackoffLimits } from '../registry/consul/backoff.js';

/** Consul's own lower bound for session TTLs is 10 s (`session_ttl_min`). */
export const DEFAULT_SESSION_TTL_MS = 10_000;
/** Consul's default lock-delay. */
export const DEFAULT_LOCK_DELAY_MS = 15_000;
/** Consul cuts a longer lock-delay to this. */
export const MAX_LOCK_DELAY_MS = 60_000;
/** Consul's SessionTTLMax. */
const MAX_SESSION_TTL_MS = 24 * 3_600_000;

export interface LeadershipTimingInput {
  readonly sessionTtlMs?: number | undefined;
  /** Default: a fifth of the TTL. */
  readonly safetyMarginMs?: number | undefined;
  /** 0 turns lock-delay off (tests); Consul's default is 15 s. */
  readonly lockDelayMs?: number | undefined;
  /** Limit per renew request. Default: a tenth of the TTL. */
  readonly renewTimeoutMs?: number | undefined;
}

export interface LeadershipTiming {
  readonly sessionTtlMs: number;
  readonly safetyMarginMs: number;
  readonly lockDelayMs: number;
  /** Renew every TTL / 2, as Consul's lock helpers do. */
  readonly renewIntervalMs: number;
  readonly renewTimeoutMs: number;
  /** Retries of a failed renew: short enough that a retry fits before the deadline. */
  readonly renewRetry: BackoffLimits;
}

export type TimingResult = { readonly ok: true; readonly timing: LeadershipTiming } | { readonly ok: false; readonly problem: string };

function wholeMs(value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : value;
}

/**
 * Fills in defaults and checks that the numbers leave a leader time to act. With the defaults
 * (TTL 10 s): margin 2000, renew every 5000 with a 1000 ms limit, retries 250..1000 ms apart:
 * a renew sent at 5 s that hangs until its limit, then a retry that hangs too, both end by the
 * deadline at 8 s (fast failures, a refused connection or a 503, leave room for many retries).
 * The rule: renewIntervalMs + renewTimeoutMs must end before ttl - margin, and margin < ttl / 2.
 */
export function leadershipTiming(input: LeadershipTimingInput): TimingResult {
  const sessionTtlMs = wholeMs(input.sessionTtlMs, DEFAULT_SESSION_TTL_MS);
  if (!Number.isInteger(sessionTtlMs) || sessionTtlMs < 10 || sessionTtlMs > MAX_SESSION_TTL_MS) return { ok: false, problem: `sessionTtlMs must be a whole number from 10 to ${MAX_SESSION_TTL_MS}` };
  const safetyMarginMs = wholeMs(input.safetyMarginMs, Math.round(sessionTtlMs / 5));
  if (!Number.isInteger(safetyMarginMs) || safetyMarginMs <= 0 || safetyMarginMs * 2 >= sessionTtlMs) return { ok: false, problem: 'safetyMarginMs must be a whole number above 0 and below half the session TTL' };
  const lockDelayMs = wholeMs(input.lockDelayMs, DEFAULT_LOCK_DELAY_MS);
  if (!Number.isInteger(lockDelayMs) || lockDelayMs < 0 || lockDelayMs > MAX_LOCK_DELAY_MS) return { ok: false, problem: `lockDelayMs must be a whole number from 0 to ${MAX_LOCK_DELAY_MS}` };
  const renewIntervalMs = Math.floor(sessionTtlMs / 2);
  const renewTimeoutMs = wholeMs(input.renewTimeoutMs, Math.max(1, Math.floor(sessionTtlMs / 10)));
  if (!Number.isInteger(renewTimeoutMs) || renewTimeoutMs <= 0 || renewIntervalMs + renewTimeoutMs >= sessionTtlMs - safetyMarginMs) {
    return { ok: false, problem: 'renewTimeoutMs must be a whole number above 0, and a renew sent at TTL / 2 must time out before the TTL minus the safety margin' };
  }
  const renewRetry = { baseMs: Math.max(1, Math.floor(sessionTtlMs / 40)), maxMs: Math.max(1, Math.floor(sessionTtlMs / 10)) };
  return { ok: true, timing: { sessionTtlMs, safetyMarginMs, lockDelayMs, renewIntervalMs, renewTimeoutMs, renewRetry } };
}

/** A Go duration Consul's session endpoint reads: whole seconds as `10s`, else `500ms`. */
export function sessionDurationText(ms: number): string {
  const rounded = Math.max(0, Math.round(ms));
  return rounded % 1000 === 0 ? `${rounded / 1000}s` : `${rounded}ms`;
}

/** The wait before the next renew, counted from when the last one was sent. */
export function renewDueInMs(confirmedAtMs: number, renewIntervalMs: number, nowMs: number): number {
  return Math.max(0, confirmedAtMs + renewIntervalMs - nowMs);
}
