// Starts a real ProxyServer on 127.0.0.1 with routes given in code, for integration tests.
import { Registry } from 'prom-client';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { ProxyServer, type ProxyDeps } from '../../src/proxy/proxy-server.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { compileTable } from '../../src/routing/compile-table.js';
import type { RouteSpec } from '../../src/model/route.js';
import type { Endpoint } from '../../src/model/endpoint.js';
import type { TrafficSplit } from '../../src/model/traffic.js';
import type { HoldSettings } from '../../src/model/routing-table.js';

export interface ProxyHarness {
  readonly proxy: ProxyServer;
  readonly url: string;
  readonly port: number;
  readonly metrics: Metrics;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Log lines written so far, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  setRoutes(routes: readonly RouteSpec[], services?: ReadonlyMap<string, readonly Endpoint[]>): void;
  /** Splits services' traffic between revisions (as TableBuilder.setTraffic does), keeping the
   * routes and service endpoints last set. */
  setTraffic(traffic: ReadonlyMap<string, TrafficSplit>): void;
  /** Holds requests of services without endpoint (as TableBuilder.setHolds does), keeping the
   * routes, service endpoints and traffic last set. */
  setHolds(holds: ReadonlyMap<string, HoldSettings>): void;
  close(drainTimeoutMs?: number): Promise<void>;
}

let version = 0;

export function route(name: string, upstreams: readonly string[], extra: Partial<RouteSpec> = {}): RouteSpec {
  return { kind: 'Route', name, match: { pathPrefix: '/' }, upstreams: upstreams.map((url) => ({ url })), ...extra };
}

export async function startProxy(
  routes: readonly RouteSpec[],
  options: Partial<Omit<ProxyDeps, 'logger' | 'metrics'>> & {
    services?: ReadonlyMap<string, readonly Endpoint[]>;
    traffic?: ReadonlyMap<string, TrafficSplit>;
    holds?: ReadonlyMap<string, HoldSettings>;
  } = {},
): Promise<ProxyHarness> {
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger({ level: 'info', destination: sink });
  const { services: initialServices, traffic: initialTraffic, holds: initialHolds, ...deps } = options;
  const proxy = new ProxyServer({ logger, metrics, ...deps });
  let current = {
    specs: routes,
    services: initialServices ?? new Map<string, readonly Endpoint[]>(),
    traffic: initialTraffic ?? new Map<string, TrafficSplit>(),
    holds: initialHolds ?? new Map<string, HoldSettings>(),
  };
  const publish = (): void => proxy.setTable(compileTable(current.specs, current.services, ++version, current.traffic, current.holds));
  const setRoutes = (specs: readonly RouteSpec[], services: ReadonlyMap<string, readonly Endpoint[]> = initialServices ?? new Map()): void => {
    current = { ...current, specs, services };
    publish();
  };
  const setTraffic = (traffic: ReadonlyMap<string, TrafficSplit>): void => {
    current = { ...current, traffic };
    publish();
  };
  const setHolds = (holds: ReadonlyMap<string, HoldSettings>): void => {
    current = { ...current, holds };
    publish();
  };
  setRoutes(routes);
  const address: AddressInfo = await proxy.listen('127.0.0.1', 0);
  let closed = false;
  return {
    proxy,
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    metrics,
    registry,
    logger,
    logs,
    setRoutes,
    setTraffic,
    setHolds,
    close: async (drainTimeoutMs = 1000) => {
      if (closed) return;
      closed = true;
      await proxy.shutdown(drainTimeoutMs);
    },
  };
}

/** Reads one counter/gauge sample (sum over label sets matching `labels`). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const data = await metric.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val))
    .filter((v) => !('metricName' in v) || v.metricName === name || v.metricName === undefined)
    .reduce((sum, v) => sum + v.value, 0);
}
