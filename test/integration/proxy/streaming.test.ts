import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startProxy, route, metricValue } from '../../helpers/proxy-harness.js';
import { startUpstream } from '../../helpers/upstream.js';
import { eventually } from '../../helpers/eventually.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('backpressure', () => {
  it('stops reading from the upstream while a slow client does not read (bounded buffering)', async () => {
    let writtenBytes = 0;
    let stalled = false;
    const chunk = Buffer.alloc(64 * 1024, 'z');
    const totalBytes = 1024 * 1024 * 1024; // 1 GiB offered
    const u = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-length': String(totalBytes) });
      const pump = (): void => {
        while (writtenBytes < totalBytes) {
          writtenBytes += chunk.length;
          if (!res.write(chunk)) {
            stalled = true;
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    cleanups.push(() => u.close());
    const p = await startProxy([route('r', [u.origin])]);
    cleanups.push(() => p.close());

    // A client that sends the request and then reads nothing.
    const socket = connect({ host: '127.0.0.1', port: p.port });
    cleanups.push(async () => {
      socket.destroy();
    });
    socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause();
    await eventually(() => expect(stalled).toBe(true), { timeoutMs: 5000 });
    // Wait until the upstream stops making progress (socket buffers full along the way), then
    // check that the proxy holds only what those buffers allow, not the 1 GiB on offer, and
    // that nothing more flows while the client still reads nothing.
    let last = -1;
    await eventually(
      async () => {
        const before = writtenBytes;
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(writtenBytes).toBe(before);
        last = writtenBytes;
      },
      { timeoutMs: 10_000 },
    );
    const settled = last;
    expect(settled).toBeLessThan(32 * 1024 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(writtenBytes).toBe(settled);

    // Reading again resumes the flow.
    let received = 0;
    socket.on('data', (data: Buffer) => {
      received += data.length;
    });
    socket.resume();
    await eventually(() => expect(received).toBeGreaterThan(settled + 8 * 1024 * 1024), { timeoutMs: 10000 });
  });
});

describe('upgrade', () => {
  it('tunnels a WebSocket to the chosen endpoint and echoes messages both ways', async () => {
    const u = await startUpstream((_req, res) => res.end('plain'));
    cleanups.push(() => u.close());
    const wss = new WebSocketServer({ noServer: true });
    u.server.on('test-upgrade', (req, socket) => {
      wss.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => {
        ws.on('message', (data: Buffer, isBinary) => ws.send(isBinary ? data : `echo:${data.toString()}`));
      });
    });
    cleanups.push(async () => wss.close());
    const p = await startProxy([route('ws', [u.origin], { match: { pathPrefix: '/ws' } })]);
    cleanups.push(() => p.close());

    const ws = new WebSocket(`ws://127.0.0.1:${p.port}/ws/chat`, { headers: { 'X-Forwarded-For': '6.6.6.6' } });
    const messages: string[] = [];
    ws.on('message', (data: Buffer) => messages.push(data.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send('hello');
    ws.send('world');
    await eventually(() => expect(messages).toEqual(['echo:hello', 'echo:world']));
    const upgradeReq = u.seen.find((r) => r.url === '/ws/chat');
    expect(upgradeReq?.headers['upgrade']).toBe('websocket');
    expect(upgradeReq?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(await metricValue(p.registry, 'dockmaster_proxy_open_upgrades')).toBe(1);
    ws.close();
    await eventually(async () => expect(await metricValue(p.registry, 'dockmaster_proxy_open_upgrades')).toBe(0));
  });

  it('answers 502 to an upgrade whose endpoint refuses', async () => {
    const u = await startUpstream();
    const origin = u.origin;
    await u.close();
    const p = await startProxy([route('ws', [origin])]);
    cleanups.push(() => p.close());
    const ws = new WebSocket(`ws://127.0.0.1:${p.port}/`);
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.once('error', () => resolve(undefined));
    });
    expect(status).toBe(502);
  });

  it('closes open WebSockets at the shutdown deadline', async () => {
    const u = await startUpstream();
    cleanups.push(() => u.close());
    const wss = new WebSocketServer({ noServer: true });
    u.server.on('test-upgrade', (req, socket) => wss.handleUpgrade(req, socket, Buffer.alloc(0), () => undefined));
    cleanups.push(async () => wss.close());
    const p = await startProxy([route('ws', [u.origin])]);
    const ws = new WebSocket(`ws://127.0.0.1:${p.port}/`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const started = Date.now();
    const drained = await p.proxy.shutdown(300);
    expect(drained).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await closed;
  });
});
