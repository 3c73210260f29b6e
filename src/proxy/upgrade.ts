// Tunnels Upgrade requests (WebSocket and others) to the chosen endpoint: the request head is
// rewritten with the same header hygiene, then bytes are piped both ways. I/O.
import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { ProxyServer } from './proxy-server.js';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

export interface UpgradeTunnels {
  /** Client sockets of open tunnels, closed at the shutdown deadline. */
  readonly open: Set<Socket>;
}

function refuse(socket: Socket, code: ErrorCode, status: number, requestId: string | undefined): void {
  const body = JSON.stringify({ error: { code, message: ERROR_CODES[code].message, requestId } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 400 ? 'Bad Request' : status === 504 ? 'Gateway Timeout' : status === 503 ? 'Service Unavailable' : 'Bad Gateway'}\r\n` +
      `connection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function handleUpgrade(proxy: ProxyServer, req: IncomingMessage, socket: Socket, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  if (proxy.isDraining()) {
    refuse(socket, 'DM_ERR_PROXY_SHUTTING_DOWN', 503, undefined);
    return;
  }
  const resolution = proxy.resolve(req, true);
  if (!resolution.ok) {
    proxy.deps.metrics.rejectedRequestsTotal.inc({ reason: resolution.reason });
    refuse(socket, resolution.code, ERROR_CODES[resolution.code].status, resolution.requestId);
    return;
  }
  const { route, endpoints, picker, prepared, upstreamPath } = resolution.value;
  const labels = { route: route.name, service: route.service ?? '' };
  const endpoint = picker.pick(endpoints);
  if (endpoint === undefined) {
    proxy.deps.metrics.upgradesTotal.inc({ ...labels, result: 'no_endpoint' });
    refuse(socket, 'DM_ERR_PROXY_NO_ENDPOINT', 503, prepared.requestId);
    return;
  }
  const url = new URL(endpoint.origin);
  const upstream = connect({ host: url.hostname, port: Number(url.port) });
  let connected = false;
  const connectTimer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), route.timeouts.connectMs);

  upstream.once('connect', () => {
    connected = true;
    clearTimeout(connectTimer);
    let headText = `${req.method ?? 'GET'} ${upstreamPath} HTTP/1.1\r\n`;
    const h = prepared.headers;
    for (let i = 0; i < h.length; i += 2) headText += `${h[i]}: ${h[i + 1]}\r\n`;
    upstream.write(`${headText}\r\n`);
    if (head.length > 0) upstream.write(head);
    proxy.tunnels.open.add(socket);
    proxy.deps.metrics.openUpgrades.inc();
    proxy.deps.metrics.upgradesTotal.inc({ ...labels, result: 'tunnelled' });
    proxy.endpointStarted(endpoint.id);
    socket.pipe(upstream);
    upstream.pipe(socket);
    socket.setNoDelay(true);
    upstream.setNoDelay(true);
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    clearTimeout(connectTimer);
    if (!connected) {
      proxy.deps.metrics.upgradesTotal.inc({ ...labels, result: 'failed' });
      proxy.deps.metrics.upstreamErrorsTotal.inc({ ...labels, kind: error.code === 'ETIMEDOUT' ? 'timeout' : 'refused' });
      refuse(socket, error.code === 'ETIMEDOUT' ? 'DM_ERR_PROXY_UPSTREAM_TIMEOUT' : 'DM_ERR_PROXY_UPSTREAM_REFUSED', error.code === 'ETIMEDOUT' ? 504 : 502, prepared.requestId);
      return;
    }
    socket.destroy();
  });
  const close = (): void => {
    upstream.destroy();
    socket.destroy();
    if (proxy.tunnels.open.delete(socket)) {
      proxy.deps.metrics.openUpgrades.dec();
      proxy.endpointFinished(endpoint.id);
      proxy.wakeIdleWaiters();
    }
  };
  upstream.once('close', () => {
    if (connected) close();
  });
  socket.once('close', close);
}
