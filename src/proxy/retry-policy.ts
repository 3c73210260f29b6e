// When a failed attempt may be tried again, and the budget that keeps retries from becoming a
// storm. Pure.
import type { ClassifiedError } from './upstream-errors.js';

export interface AttemptOutcome {
  readonly error: ClassifiedError;
  /** Response bytes already went to the client: never retry. */
  readonly responseStarted: boolean;
  /** Some of the request body was read for this attempt: it cannot be replayed. */
  readonly bodyConsumed: boolean;
  readonly idempotent: boolean;
}

export type RetryVerdict = { readonly retry: true; readonly reason: 'connect' | 'reset' } | { readonly retry: false };

/**
 * A connect failure is retried for any method (nothing was sent); a reset before any response
 * byte only for idempotent methods; nothing once the response started or after a timeout.
 */
export function shouldRetry(outcome: AttemptOutcome): RetryVerdict {
  if (outcome.responseStarted || outcome.bodyConsumed) return { retry: false };
  if (outcome.error.beforeSend && outcome.error.kind === 'refused') return { retry: true, reason: 'connect' };
  if (outcome.error.kind === 'reset' && outcome.idempotent) return { retry: true, reason: 'reset' };
  return { retry: false };
}

export interface RetryBudgetPolicy {
  /** Retries in flight may be at most this share of requests in flight... */
  readonly budgetPercent: number;
  /** ...but at least this many, so a quiet proxy can still retry. */
  readonly minRetriesInFlight: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetPolicy = { budgetPercent: 20, minRetriesInFlight: 3 };

/**
 * Whether a retry of this verdict spends the budget. A refused connect sent nothing: the endpoint
 * is gone (a replica that exited, a host that died), not overloaded, so trying the next one adds
 * no load a storm is made of; without this, the burst of refusals right after a host dies (before
 * passive health ejects its endpoints) exhausts the budget and fails requests that another
 * endpoint would answer. Resets, which may come from an overloaded upstream, count.
 */
export function spendsRetryBudget(verdict: Extract<RetryVerdict, { retry: true }>): boolean {
  return verdict.reason !== 'connect';
}

/** Same rule as Envoy's retry budget: allowed while retries in flight stay under
 * max(minRetriesInFlight, budgetPercent% of requests in flight). */
export function retryAllowed(requestsInFlight: number, retriesInFlight: number, policy: RetryBudgetPolicy): boolean {
  const limit = Math.max(policy.minRetriesInFlight, (requestsInFlight * policy.budgetPercent) / 100);
  return retriesInFlight < limit;
}
