// Tunnels Upgrade requests (WebSocket and others) to the chosen endpoint: the request head is
// rewritten with the same header hygiene, then bytes are piped both ways. An upgrade to a pool
// that holds and has no endpoint waits in its queue like a plain request. I/O.
import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { HeldRequest, ProxyServer, Resolved } from './proxy-server.js';
import { pickEndpoint } from '../balancing/revision-split.js';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

export interface UpgradeTunnels {
  /** Client sockets of open tunnels, closed at the shutdown deadline. */
  readonly open: Set<Socket>;
}

function refuse(socket: Socket, code: ErrorCode, status: number, requestId: string | undefined): void {
  const body = JSON.stringify({ error: { code, message: ERROR_CODES[code].message, requestId } });
  // As for plain requests: no endpoint is a passing state, worth retrying shortly.
  const retryAfter = code === 'DM_ERR_PROXY_NO_ENDPOINT' ? 'retry-after: 1\r\n' : '';
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 400 ? 'Bad Request' : status === 504 ? 'Gateway Timeout' : status === 503 ? 'Service Unavailable' : 'Bad Gateway'}\r\n` +
      `connection: close\r\n${retryAfter}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // Read (and drop) whatever the client still sends, so that its close is seen and the socket
  // is freed: Node hands an upgrade's socket over not reading.
  socket.resume();
}

/** Bytes a held upgrade's client may send before its 101 answer (a WebSocket client sends none). */
const MAX_HELD_UPGRADE_BYTES = 64 * 1024;

/**
 * An upgrade waiting for its pool to get an endpoint. Node hands over the socket not reading,
 * so it is read while held, to notice a client that leaves (its end or close); any bytes it
 * sends before the 101 answer are kept, bounded, and go upstream after `head` on release.
 */
class HeldUpgrade implements HeldRequest {
  holdDeadlineMs = 0;
  private holding = false;
  private readonly proxy: ProxyServer;
  private readonly req: IncomingMessage;
  private readonly socket: Socket;
  private readonly head: Buffer;
  private readonly early: Buffer[] = [];
  private earlyBytes = 0;
  private readonly resolved: Resolved;

  constructor(proxy: ProxyServer, req: IncomingMessage, socket: Socket, head: Buffer, resolved: Resolved) {
    this.proxy = proxy;
    this.req = req;
    this.socket = socket;
    this.head = head;
    this.resolved = resolved;
  }

  /** True when held; false when it must be refused as before. */
  offer(): boolean {
    // Set first: onHold may swap in a table that releases this upgrade at once.
    this.holding = true;
    if (!this.proxy.holdRequest(this, this.resolved)) {
      this.holding = false;
      return false;
    }
    if (this.holding) {
      this.socket.on('data', this.onData);
      this.socket.once('end', this.onGone);
      this.socket.once('close', this.onGone);
      this.socket.resume();
    }
    return true;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.early.push(chunk);
    this.earlyBytes += chunk.length;
    if (this.earlyBytes > MAX_HELD_UPGRADE_BYTES) this.socket.destroy();
  };

  private readonly onGone = (): void => {
    if (!this.holding) return;
    this.holding = false;
    this.detach();
    this.socket.destroy();
    this.proxy.dropHeld(this, this.resolved.route.poolKey);
  };

  release(): void {
    if (!this.take()) return;
    const head = this.early.length === 0 ? this.head : Buffer.concat([this.head, ...this.early]);
    handleUpgrade(this.proxy, this.req, this.socket, head, this.resolved.prepared.requestId);
  }

  expire(): void {
    if (!this.take()) return;
    this.proxy.deps.metrics.upgradesTotal.inc({ route: this.resolved.route.name, service: this.resolved.route.service ?? '', result: 'no_endpoint' });
    refuse(this.socket, 'DM_ERR_PROXY_NO_ENDPOINT', 503, this.resolved.prepared.requestId);
  }

  refuseShutdown(): void {
    if (!this.take()) return;
    refuse(this.socket, 'DM_ERR_PROXY_SHUTTING_DOWN', 503, this.resolved.prepared.requestId);
  }

  private take(): boolean {
    if (!this.holding) return false;
    this.holding = false;
    this.detach();
    return !this.socket.destroyed;
  }

  private detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onGone);
    this.socket.off('close', this.onGone);
    // Until the tunnel pipes it, nothing may flow past without a listener.
    this.socket.pause();
  }
}

const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** Buffers the upstream's answer until its head is complete, then reports its status code. */
function awaitSwitch(upstream: Socket, onHead: (status: number, buffered: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    const buffered = Buffer.concat(chunks);
    if (buffered.indexOf('\r\n\r\n') === -1) {
      if (size > MAX_RESPONSE_HEAD_BYTES) upstream.destroy();
      return;
    }
    upstream.off('data', onData);
    upstream.pause();
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(buffered.toString('latin1', 0, 16));
    onHead(match ? Number(match[1]) : 502, buffered);
  };
  upstream.on('data', onData);
}

/** `heldRequestId`: set when a held upgrade is released; routed again, never held twice. */
export function handleUpgrade(proxy: ProxyServer, req: IncomingMessage, socket: Socket, head: Buffer, heldRequestId?: string): void {
  const released = heldRequestId !== undefined;
  if (!released) socket.on('error', () => socket.destroy());
  if (proxy.isDraining()) {
    refuse(socket, 'DM_ERR_PROXY_SHUTTING_DOWN', 503, undefined);
    return;
  }
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) {
    // An upgrade carries no body; one that claims to would desync the tunnel.
    proxy.deps.metrics.rejectedRequestsTotal.inc({ reason: 'upgrade_with_body' });
    refuse(socket, 'DM_ERR_PROXY_BAD_REQUEST', 400, undefined);
    return;
  }
  const resolution = proxy.resolve(req, true, heldRequestId);
  if (!resolution.ok) {
    proxy.deps.metrics.rejectedRequestsTotal.inc({ reason: resolution.reason });
    refuse(socket, resolution.code, ERROR_CODES[resolution.code].status, resolution.requestId);
    return;
  }
  const { route, prepared, upstreamPath } = resolution.value;
  const labels = { route: route.name, service: route.service ?? '' };
  // A split pool's revision choice (preview header, sticky cookie, weights) holds for tunnels
  // too; the 101 answer is relayed as the upstream wrote it, so no sticky cookie is added.
  const endpoint = pickEndpoint(resolution.value);
  if (endpoint === undefined) {
    if (!released && resolution.value.hold !== undefined && new HeldUpgrade(proxy, req, socket, head, resolution.value).offer()) return;
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
    // `close` makes the upstream end the connection after a refusal (anything but 101), so no
    // second request can ever ride this socket without being routed.
    let headText = `${req.method ?? 'GET'} ${upstreamPath} HTTP/1.1\r\n`;
    const h = prepared.headers;
    for (let i = 0; i < h.length; i += 2) {
      headText += h[i] === 'connection' && h[i + 1] === 'upgrade' ? 'connection: upgrade, close\r\n' : `${h[i]}: ${h[i + 1]}\r\n`;
    }
    upstream.write(`${headText}\r\n`);
    proxy.tunnels.open.add(socket);
    proxy.deps.metrics.openUpgrades.inc();
    proxy.endpointStarted(endpoint.id);
    socket.setNoDelay(true);
    upstream.setNoDelay(true);
    awaitSwitch(upstream, (status, buffered) => {
      socket.write(buffered);
      if (status === 101) {
        proxy.deps.metrics.upgradesTotal.inc({ ...labels, result: 'tunnelled' });
        if (head.length > 0) upstream.write(head);
        socket.pipe(upstream);
        upstream.pipe(socket);
      } else {
        // Refused: relay the answer only; the client's further bytes are never forwarded.
        proxy.deps.metrics.upgradesTotal.inc({ ...labels, result: 'refused' });
        upstream.pipe(socket);
        const refusalTimer = setTimeout(() => upstream.destroy(), route.timeouts.totalMs);
        refusalTimer.unref();
        upstream.once('close', () => clearTimeout(refusalTimer));
      }
    });
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
