// canConnectOrigin (src/health/tcp-check.ts), the check an ejected endpoint must pass to return:
// true when a TCP connection to the origin opens within the timeout, false when it is refused.
// Real sockets, 127.0.0.1 only.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { canConnectOrigin } from '../../../src/health/tcp-check.js';
import { closedPortOrigin, startBlackhole } from '../../helpers/upstream.js';

const cleanups: Array<() => Promise<void>> = [];

/** The listener sees a connection a little after the client does: poll, never sleep blindly. */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A TCP listener on 127.0.0.1 that counts connections and closes each once the peer does. */
async function listener(): Promise<{ origin: string; port: number; connections: () => number; open: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  return { origin: `http://127.0.0.1:${port}`, port, connections: () => connections, open: () => sockets.size };
}

describe('canConnectOrigin', () => {
  it('is true for a listening 127.0.0.1 port, and closes its connection', async () => {
    const l = await listener();
    expect(await canConnectOrigin(l.origin, 1_000)).toBe(true);
    await until(() => l.connections() === 1 && l.open() === 0);
    expect(l.connections()).toBe(1);
    // The probe does not leave its socket open on the upstream.
    expect(l.open()).toBe(0);
  });

  it('is false, quickly, for a closed 127.0.0.1 port', async () => {
    const origin = await closedPortOrigin();
    const startMs = performance.now();
    expect(await canConnectOrigin(origin, 5_000)).toBe(false);
    // Refused at once, not by the timeout.
    expect(performance.now() - startMs).toBeLessThan(1_000);
  });

  it('needs only the connection: an upstream that accepts and never answers passes', async () => {
    const hole = await startBlackhole();
    cleanups.push(() => hole.close());
    expect(await canConnectOrigin(hole.origin, 1_000)).toBe(true);
  });

  it('ignores the path and query of the origin', async () => {
    const l = await listener();
    expect(await canConnectOrigin(`${l.origin}/health?x=1`, 1_000)).toBe(true);
  });

  it('follows a port that closes and opens again', async () => {
    const origin = await closedPortOrigin();
    expect(await canConnectOrigin(origin, 1_000)).toBe(false);
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(Number(new URL(origin).port), '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    expect(await canConnectOrigin(origin, 1_000)).toBe(true);
  });

  it('many checks at once each get their own answer', async () => {
    const l = await listener();
    const closed = await closedPortOrigin();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => canConnectOrigin(i % 2 === 0 ? l.origin : closed, 1_000)));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i % 2 === 0));
    await until(() => l.connections() >= 10);
    expect(l.connections()).toBe(10);
  });
});
