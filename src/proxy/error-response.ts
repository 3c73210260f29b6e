// Writes the proxy's own short JSON error answers (404, 400, 502, 503, 504). I/O (response).
import type { ServerResponse } from 'node:http';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

export function sendError(
  res: ServerResponse,
  code: ErrorCode,
  requestId: string | undefined,
  closeConnection: boolean,
  extraHeaders: readonly string[] = [],
  status: number = ERROR_CODES[code].status,
): void {
  const body = JSON.stringify({ error: { code, message: ERROR_CODES[code].message, requestId } });
  const headers = [
    'content-type', 'application/json; charset=utf-8',
    'content-length', String(Buffer.byteLength(body)),
    'cache-control', 'no-store',
    ...extraHeaders,
  ];
  if (requestId !== undefined) headers.push('x-request-id', requestId);
  if (closeConnection) headers.push('connection', 'close');
  res.writeHead(status, headers);
  res.end(body);
}
