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
import { ServiceStore } from './config/service-store.js';
import type { ServiceSpec } from './model/service.js';
import { EventLog } from './observability/event-log.js';
import { EndpointSet } from './endpoints/endpoint-set.js';
import { ServiceManager, type RuntimeType } from './deploy/service-manager.js';
import { HealthProber } from './health/health-prober.js';
import type { RuntimeDriver } from './runtime/runtime-driver.js';
import { ProcessDriver } from './runtime/process/process-driver.js';
import { DockerDriver } from './runtime/docker/docker-driver.js';

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
  /** Runtimes replicas may use: `process` always; `docker` when asked (it needs a daemon). */
  readonly runtimes?: readonly RuntimeType[];
  /** Tests inject drivers (a fake, or a Docker driver with a test label). */
  readonly drivers?: ReadonlyMap<RuntimeType, RuntimeDriver>;
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export class App {
  readonly logger: Logger;
  readonly registry = new Registry();
  readonly metrics: Metrics;
  readonly proxy: ProxyServer;
  readonly routes: RouteStore;
  readonly services: ServiceStore;
  readonly events = new EventLog();
  readonly endpoints: EndpointSet;
  readonly manager: ServiceManager;
  private readonly prober = new HealthProber();
  private admin: FastifyInstance | undefined;
  private tableVersion = 0;
  private ready = false;
  private specs: readonly RouteSpec[] = [];
  private serviceEndpoints: ReadonlyMap<string, readonly Endpoint[]> = new Map();
  private readonly options: AppOptions;
  /** Serialises applying service sets: each waits for the previous one. */
  private applying: Promise<void> = Promise.resolve();

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
    this.endpoints = new EndpointSet((merged) => {
      this.serviceEndpoints = merged;
      this.rebuildTable();
    });
    const drivers = options.drivers ?? App.createDrivers(options.runtimes ?? ['process'], this.logger);
    this.manager = new ServiceManager({
      drivers,
      prober: this.prober,
      logger: this.logger,
      metrics: this.metrics,
      events: this.events,
      inFlight: (id) => this.proxy.inFlight(id),
      retireOrigin: (origin) => this.proxy.pools.retire(origin),
      onSnapshot: (snapshot) => this.endpoints.publish('managed', snapshot),
      configDir: options.configDir,
    });
    this.services = new ServiceStore({
      dir: join(options.configDir, 'policies'),
      logger: this.logger,
      metrics: this.metrics,
      runtimes: [...drivers.keys()],
      onChange: (specs) => this.applyServices(specs),
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

  static createDrivers(runtimes: readonly RuntimeType[], logger: Logger): Map<RuntimeType, RuntimeDriver> {
    const drivers = new Map<RuntimeType, RuntimeDriver>([['process', new ProcessDriver({ logger })]]);
    if (runtimes.includes('docker')) drivers.set('docker', new DockerDriver({ logger }));
    return drivers;
  }

  private applyServices(specs: readonly ServiceSpec[]): void {
    this.applying = this.applying
      .then(() => this.manager.apply(specs))
      .catch((error: unknown) => this.logger.error({ err: (error as Error).message }, 'applying services failed'));
  }

  /** Compiles the current routes and endpoints into a new table and swaps it in. */
  private rebuildTable(): void {
    this.tableVersion++;
    this.proxy.setTable(compileTable(this.specs, this.serviceEndpoints, this.tableVersion));
  }

  /** Loads the config (a bad one throws ConfigError and nothing starts), then listens. */
  async start(): Promise<{ proxy: AddressInfo; admin: AddressInfo }> {
    await this.routes.load();
    await this.services.load();
    const service: AdminService = {
      routes: this.routes,
      services: {
        specs: this.services,
        list: () => this.manager.list(),
        status: (name) => this.manager.status(name),
      },
      events: this.events,
      registry: this.registry,
      isReady: () => this.ready,
    };
    this.admin = createAdminServer(service, { token: this.options.token, logger: this.logger });
    const admin = await listenAdmin(this.admin, this.options.admin.host, this.options.admin.port);
    const proxy = await this.proxy.listen(this.options.listen.host, this.options.listen.port);
    this.routes.watch();
    this.services.watch();
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
    await this.services.close();
    const drained = await this.proxy.shutdown(drainTimeoutMs);
    await this.applying;
    await this.manager.close();
    await this.prober.close();
    await this.admin?.close();
    this.logger.info({ drained }, 'stopped');
    return drained;
  }
}
