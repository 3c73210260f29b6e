// Bearer token checks for the admin API: token syntax and a constant-time comparison. Pure.
import { createHash, timingSafeEqual } from 'node:crypto';
import { DockmasterError } from '../errors.js';

/** Why a request was refused, for the log line (never the token itself). */
export type BearerFailure = 'missing' | 'malformed' | 'mismatch';

/** Visible ASCII only: a token must travel in a header unchanged and not hide whitespace. */
const TOKEN_SYNTAX = /^[\x21-\x7e]+$/;
const BEARER_HEADER = /^bearer +([^ ]+) *$/i;

/** Returns the token if it is usable, throws DM_ERR_ADMIN_TOKEN_INVALID otherwise. */
export function validateAdminToken(token: string, origin = 'admin token'): string {
  if (token.length === 0) {
    throw new DockmasterError('DM_ERR_ADMIN_TOKEN_INVALID', `${origin} is empty`);
  }
  if (!TOKEN_SYNTAX.test(token)) {
    throw new DockmasterError(
      'DM_ERR_ADMIN_TOKEN_INVALID',
      `${origin} may hold only visible ASCII characters (no spaces, line breaks or control characters)`,
    );
  }
  return token;
}

/**
 * Builds a checker for `Authorization` header values. Both sides are hashed with SHA-256
 * before `timingSafeEqual`, so the comparison takes the same time whatever the presented
 * token's length or content: neither the length nor a matching prefix leaks through timing.
 */
export function createBearerCheck(token: string): (authorization: string | undefined) => BearerFailure | undefined {
  const expectedDigest = sha256(validateAdminToken(token));
  return (authorization) => {
    if (authorization === undefined || authorization === '') return 'missing';
    const match = BEARER_HEADER.exec(authorization);
    const presented = match?.[1];
    if (presented === undefined) return 'malformed';
    return timingSafeEqual(sha256(presented), expectedDigest) ? undefined : 'mismatch';
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
