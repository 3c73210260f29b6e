// The check an ejected endpoint must pass before it returns: a TCP connection to its origin
// opens within the timeout. I/O (one socket).
import { canConnectTo } from '../runtime/ports.js';

export async function canConnectOrigin(origin: string, timeoutMs: number): Promise<boolean> {
  const url = new URL(origin);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return canConnectTo(url.hostname.replace(/^\[|\]$/g, ''), port, timeoutMs);
}
