import { describe, expect, it } from 'vitest';
import { classifyUpstreamError } from '../../../src/proxy/upstream-errors.js';
import { DEFAULT_RETRY_BUDGET, retryAllowed, shouldRetry, spendsRetryBudget } from '../../../src/proxy/retry-policy.js';

describe('classifyUpstreamError', () => {
  it.each([
    ['ECONNREFUSED', 'refused', 502, true],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout', 504, true],
    ['ECONNRESET', 'reset', 502, false],
    ['UND_ERR_SOCKET', 'reset', 502, false],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout', 504, false],
    ['UND_ERR_BODY_TIMEOUT', 'timeout', 504, false],
    ['SOMETHING_ELSE', 'other', 502, false],
  ])('maps %s to %s / %d', (code, kind, status, beforeSend) => {
    expect(classifyUpstreamError({ code })).toMatchObject({ kind, status, beforeSend });
  });
});

describe('shouldRetry', () => {
  const refused = classifyUpstreamError({ code: 'ECONNREFUSED' });
  const reset = classifyUpstreamError({ code: 'ECONNRESET' });
  const timeout = classifyUpstreamError({ code: 'UND_ERR_HEADERS_TIMEOUT' });
  const base = { responseStarted: false, bodyConsumed: false, idempotent: true };
  it.each([
    ['a refused connect for GET', { ...base, error: refused }, true],
    ['a refused connect for POST (nothing was sent)', { ...base, error: refused, idempotent: false }, true],
    ['a reset for GET before the response', { ...base, error: reset }, true],
    ['a reset for POST', { ...base, error: reset, idempotent: false }, false],
    ['a reset after response bytes went out', { ...base, error: reset, responseStarted: true }, false],
    ['a reset after the body was read', { ...base, error: reset, bodyConsumed: true }, false],
    ['a timeout', { ...base, error: timeout }, false],
  ])('%s: retry %s', (_name, outcome, expected) => {
    expect(shouldRetry(outcome).retry).toBe(expected);
  });
});

describe('retryAllowed', () => {
  it.each([
    [0, 0, true],
    [1, 2, true],
    [1, 3, false],
    [100, 19, true],
    [100, 20, false],
  ])('with %d requests and %d retries in flight: %s', (requests, retries, expected) => {
    expect(retryAllowed(requests, retries, DEFAULT_RETRY_BUDGET)).toBe(expected);
  });
});

describe('spendsRetryBudget', () => {
  it('a refused connect (nothing sent: the endpoint is gone) does not spend the budget; a reset does', () => {
    expect(spendsRetryBudget({ retry: true, reason: 'connect' })).toBe(false);
    expect(spendsRetryBudget({ retry: true, reason: 'reset' })).toBe(true);
  });
});
