// Request ids for X-Request-Id: a random per-process prefix and a counter. Unique without a
// random draw per request, and short on the wire. In-memory.
import { randomBytes } from 'node:crypto';

export function requestIdGenerator(): () => string {
  const prefix = randomBytes(6).toString('hex');
  let counter = 0;
  return () => `${prefix}-${(++counter).toString(36)}`;
}
