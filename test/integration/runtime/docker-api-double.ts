// A Docker Engine API double for the reconnect tests: the few endpoints the driver's watcher uses
// (GET /events, /containers/json, /containers/{id}/json) on a unix socket, with controls to push
// events in arbitrary chunks, go away like a restarting daemon, and come back. Test code; I/O.
// It is a double, not Docker: only the behaviour the driver relies on is imitated.
import http from 'node:http';
import { rmSync } from 'node:fs';
import type { ContainerInspectLike, ContainerSummaryLike } from '../../../src/runtime/docker/observe-container.js';

export interface DoubleContainer {
  readonly summary: ContainerSummaryLike & { readonly Names: string[] };
  readonly inspect: ContainerInspectLike;
}

/** A labelled container as both list row and inspect result. */
export function doubleContainer(
  id: string,
  labels: Readonly<Record<string, string>>,
  state: 'running' | 'exited',
  options: { exitCode?: number; health?: string } = {},
): DoubleContainer {
  const status = state === 'running' ? `Up 2 seconds${options.health ? ` (${options.health})` : ''}` : `Exited (${options.exitCode ?? 0}) 1 second ago`;
  return {
    summary: { Id: id, Names: [`/${id}`], State: state, Status: status, Labels: labels, Ports: [] },
    inspect: {
      Id: id,
      State: {
        Status: state,
        Pid: 0,
        ExitCode: options.exitCode ?? 0,
        StartedAt: '2026-01-02T03:04:05.678Z',
        Health: options.health ? { Status: options.health } : null,
      },
      Config: { Labels: labels },
      NetworkSettings: { Ports: {} },
    },
  };
}

export class DockerApiDouble {
  readonly containers = new Map<string, DoubleContainer>();
  /** Query strings of every GET /events, in order. */
  readonly eventRequests: URLSearchParams[] = [];
  listRequests = 0;
  private server: http.Server | undefined;
  private readonly streams = new Set<http.ServerResponse>();

  constructor(readonly socketPath: string) {}

  async listen(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    const server = http.createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.socketPath, resolve));
  }

  /** Like a daemon going down: open event streams end, new connections fail (socket removed). */
  async goAway(): Promise<void> {
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    rmSync(this.socketPath, { force: true });
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Writes raw text to every open /events stream (tests split objects across writes with it). */
  write(text: string): void {
    for (const stream of this.streams) stream.write(text);
  }

  /** A Docker-shaped container event for a known container's labels. */
  static event(id: string, labels: Readonly<Record<string, string>>, action: string, timeNano: number, extra: Record<string, string> = {}): string {
    return JSON.stringify({
      status: action,
      id,
      from: 'dockmaster-demo:latest',
      Type: 'container',
      Action: action,
      Actor: { ID: id, Attributes: { ...labels, ...extra, name: id } },
      scope: 'local',
      time: Math.floor(timeNano / 1e9),
      timeNano,
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://double');
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/events') {
      this.eventRequests.push(url.searchParams);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/containers/json') {
      this.listRequests += 1;
      json(200, [...this.containers.values()].map((c) => c.summary));
      return;
    }
    const inspect = /^\/containers\/([^/]+)\/json$/.exec(url.pathname);
    if (req.method === 'GET' && inspect) {
      const container = this.containers.get(decodeURIComponent(inspect[1] ?? ''));
      if (container) json(200, container.inspect);
      else json(404, { message: 'No such container' });
      return;
    }
    json(404, { message: `double does not implement ${req.method} ${url.pathname}` });
  }
}
