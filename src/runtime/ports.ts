// Loopback port helpers for the drivers: pick a free port, probe one. Does I/O (sockets).
import net from 'node:net';

const LOOPBACK = '127.0.0.1';

/** A port that was free on 127.0.0.1 a moment ago (listen on 0, then close). Another process can
 * take it before the replica binds it: callers retry a start that fails that way. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** True when something already listens on 127.0.0.1:port (binding it fails with EADDRINUSE). */
export async function isPortTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => {
      server.close(() => resolve(false));
    });
  });
}

/** One TCP connect to 127.0.0.1:port; true when accepted within timeoutMs. */
export async function canConnect(port: number, timeoutMs: number): Promise<boolean> {
  return canConnectTo(LOOPBACK, port, timeoutMs);
}

/** One TCP connect to host:port; true when accepted within timeoutMs. */
export async function canConnectTo(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function delayMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
