// The one place upstream failures map to a kind, a client status and an error code. Pure.
import type { ErrorCode } from '../errors.js';

export type UpstreamErrorKind = 'refused' | 'reset' | 'timeout' | 'other';

export interface ClassifiedError {
  readonly kind: UpstreamErrorKind;
  /** True when the failure happened before anything was sent upstream (safe to retry). */
  readonly beforeSend: boolean;
  readonly status: 502 | 504;
  readonly code: ErrorCode;
}

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);
const RESETS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT', 'DM_TOTAL_TIMEOUT']);

/** Maps an undici / socket error to what the proxy does with it: refused or reset -> 502,
 * timeout -> 504, anything else -> 502. A connect timeout counts as a timeout that happened
 * before anything was sent. */
export function classifyUpstreamError(error: unknown): ClassifiedError {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error).code) : '';
  if (CONNECT_FAILURES.has(code)) {
    return { kind: 'refused', beforeSend: true, status: 502, code: 'DM_ERR_PROXY_UPSTREAM_REFUSED' };
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { kind: 'timeout', beforeSend: true, status: 504, code: 'DM_ERR_PROXY_UPSTREAM_TIMEOUT' };
  }
  if (RESETS.has(code)) return { kind: 'reset', beforeSend: false, status: 502, code: 'DM_ERR_PROXY_UPSTREAM_RESET' };
  if (TIMEOUTS.has(code)) return { kind: 'timeout', beforeSend: false, status: 504, code: 'DM_ERR_PROXY_UPSTREAM_TIMEOUT' };
  return { kind: 'other', beforeSend: false, status: 502, code: 'DM_ERR_PROXY_UPSTREAM_ERROR' };
}
