// Wiring: config folder -> route store -> routing table -> proxy listener, plus the admin API,
// metrics and logger. The only place that knows every part. I/O.
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { ProxyServer } from './proxy/proxy-server.js';
import { parseTrustedProxies } from './proxy/trusted-proxies.js';
import { RouteStore } from './config/route-store.js';
import { compileTable } from './routing/compile-table.js';
import type { RouteSpec } from './model/route.js';
import type { Endpoint } from './model/endpoint.js';
import { createAdminServer, listenAdmin } from './admin/admin-server.js';
import type { AdminService } from './admin/admin-service.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface AppOptions {
  /** Folder holding routes/ and policies/. */
  readonly configDir: string;
  readonly listen: HostPort;
  readonly admin: HostPort;
  readonly token?: string | undefined;
  /** Peers allowed to extend X-Forwarded-* (IPs or CIDRs). */
  readonly trustedProxies?: readonly string[];
  /** How long SIGTERM waits for in-flight requests. */
  readonly drainTimeoutMs?: number;
  readonly accessLog?: boolean;
  readonly logger?: Logger;
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export class App {
  readonly logger: Logger;
  readonly registry = new Registry();
  readonly metrics: Metrics;
  readonly proxy: ProxyServer;
  readonly routes: RouteStore;
  private admin: FastifyInstance | undefined;
  private tableVersion = 0;
  private ready = false;
  private specs: readonly RouteSpec[] = [];
  private serviceEndpoints: ReadonlyMap<string, readonly Endpoint[]> = new Map();
  private readonly options: AppOptions;

  constructor(options: AppOptions) {
    this.options = options;
    this.logger = options.logger ?? createLogger();
    collectDefaultMetrics({ register: this.registry, prefix: 'dockmaster_' });
    this.metrics = createMetrics(this.registry);
    this.proxy = new ProxyServer({
      logger: this.logger,
      metrics: this.metrics,
      trustedProxies: parseTrustedProxies(options.trustedProxies ?? []),
      accessLog: options.accessLog ?? false,
    });
    this.routes = new RouteStore({
      dir: join(options.configDir, 'routes'),
      logger: this.logger,
      metrics: this.metrics,
      onChange: (specs) => {
        this.specs = specs;
        this.rebuildTable();
      },
    });
  }

  /** Compiles the current routes and endpoints into a new table and swaps it in. */
  private rebuildTable(): void {
    this.tableVersion++;
    this.proxy.setTable(compileTable(this.specs, this.serviceEndpoints, this.tableVersion));
  }

  /** Loads the config (a bad one throws ConfigError and nothing starts), then listens. */
  async start(): Promise<{ proxy: AddressInfo; admin: AddressInfo }> {
    await this.routes.load();
    const service: AdminService = {
      routes: this.routes,
      registry: this.registry,
      isReady: () => this.ready,
    };
    this.admin = createAdminServer(service, { token: this.options.token, logger: this.logger });
    const admin = await listenAdmin(this.admin, this.options.admin.host, this.options.admin.port);
    const proxy = await this.proxy.listen(this.options.listen.host, this.options.listen.port);
    this.routes.watch();
    this.ready = true;
    this.logger.info(
      { proxy: `${proxy.address}:${proxy.port}`, admin: `${admin.address}:${admin.port}`, routes: this.specs.length },
      'dockmaster started',
    );
    return { proxy, admin };
  }

  /** Drains and stops: readiness off, in-flight requests finish (bounded), listeners close. */
  async stop(drainTimeoutMs = this.options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS): Promise<boolean> {
    this.ready = false;
    this.logger.info({ drainTimeoutMs }, 'draining');
    await this.routes.close();
    const drained = await this.proxy.shutdown(drainTimeoutMs);
    await this.admin?.close();
    this.logger.info({ drained }, 'stopped');
    return drained;
  }
}
