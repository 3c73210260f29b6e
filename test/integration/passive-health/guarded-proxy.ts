// Test rig for passive health on real sockets: a harness proxy whose OutlierDetector rebuilds its
// routing table through a TableBuilder at once on every ejection and return, and lets an ejected
// endpoint back only when a TCP connect to it succeeds (the way src/app.ts wires them), plus a
// misbehaving upstream that resets every connection. 127.0.0.1 only.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { request } from 'undici';
import { startProxy, type ProxyHarness } from '../../helpers/proxy-harness.js';
import { OutlierDetector, type EjectionEvent } from '../../../src/health/outlier-detector.js';
import { TableBuilder } from '../../../src/endpoints/table-builder.js';
import { canConnectOrigin } from '../../../src/health/tcp-check.js';
import type { PassiveHealthConfig } from '../../../src/model/gateway.js';
import type { RouteSpec } from '../../../src/model/route.js';
import type { EndpointSnapshot } from '../../../src/endpoints/endpoint-set.js';

export const PASSIVE: PassiveHealthConfig = { consecutiveFailures: 3, baseEjectionMs: 500, maxEjectionMs: 5_000, maxEjectionPercent: 50 };

export interface GuardedProxy {
  readonly harness: ProxyHarness;
  readonly outliers: OutlierDetector;
  readonly builder: TableBuilder;
  /** Ejections and returns in order, with the wall-clock time each was reported. */
  readonly events: Array<EjectionEvent & { atMs: number }>;
  /** True when the table in use has this endpoint unpickable (ejected and swapped in). */
  isOutOfRotation(endpointId: string, poolKey: string): boolean;
  close(): Promise<void>;
}

export interface GuardedOptions {
  readonly config?: PassiveHealthConfig;
  readonly panicThresholdPercent?: number;
  readonly services?: EndpointSnapshot;
  /** The return check; default a TCP connect with a 1 s timeout, as in the app. */
  readonly check?: (origin: string) => Promise<boolean>;
}

export async function startGuardedProxy(routes: readonly RouteSpec[], options: GuardedOptions = {}): Promise<GuardedProxy> {
  const events: Array<EjectionEvent & { atMs: number }> = [];
  // The detector exists before the builder that its onChange drives.
  const late: { builder?: TableBuilder } = {};
  const outliers = new OutlierDetector({
    config: options.config ?? PASSIVE,
    onChange: (event) => {
      events.push({ ...event, atMs: Date.now() });
      late.builder?.build();
    },
    check: options.check ?? ((origin) => canConnectOrigin(origin, 1_000)),
  });
  const harness = await startProxy(routes, { outliers });
  const built = new TableBuilder({
    metrics: harness.metrics,
    publish: (table) => {
      harness.proxy.setTable(table);
      outliers.retain(new Map([...table.pools].map(([key, p]) => [key, new Set(p.endpoints.map((e) => e.id))])));
    },
    ejected: () => outliers.ejected(),
    slowStartMs: () => 0,
    panicThresholdPercent: () => options.panicThresholdPercent ?? 0,
  });
  late.builder = built;
  if (options.services !== undefined) built.setEndpoints(options.services, true);
  built.setRoutes(routes);
  built.build();
  return {
    harness,
    outliers,
    builder: built,
    events,
    isOutOfRotation: (endpointId, poolKey) => {
      const endpoint = harness.proxy.currentTable().pools.get(poolKey)?.endpoints.find((e) => e.id === endpointId);
      return endpoint !== undefined && !endpoint.healthy;
    },
    close: async () => {
      built.close();
      outliers.close();
      await harness.close();
    },
  };
}

/** Accepts connections and resets each one (TCP RST) as soon as request bytes arrive. */
export async function startResetter(): Promise<{ origin: string; requests: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', () => {
      requests++;
      socket.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sends `count` GETs one after another; returns their status codes and bodies. */
export async function sendSequential(url: string, count: number): Promise<Array<{ status: number; body: string }>> {
  const out: Array<{ status: number; body: string }> = [];
  for (let i = 0; i < count; i++) {
    const response = await request(url);
    out.push({ status: response.statusCode, body: await response.body.text() });
  }
  return out;
}
