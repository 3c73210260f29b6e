// Wiring: config folder -> route store -> routing table -> proxy listener, plus the admin API,
// metrics and logger. The only place that knows every part. I/O.
import { Registry } from 'prom-client';
import { registerProcessMetrics } from './observability/process-metrics.js';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { ProxyServer } from './proxy/proxy-server.js';
import { parseTrustedProxies } from './proxy/trusted-proxies.js';
import { RouteStore } from './config/route-store.js';
import { TableBuilder } from './endpoints/table-builder.js';
import { OutlierDetector, type EjectionEvent } from './health/outlier-detector.js';
import { loadGatewayConfig } from './config/gateway-config.js';
import { CONSUL_DEFAULTS, DEFAULT_STATE_DIR, DOCKER_PROVIDER_DEFAULTS, GATEWAY_DEFAULTS, type GatewayConfig } from './model/gateway.js';
import { StateStore } from './deploy/state-store.js';
import { Autoscaler } from './autoscale/autoscaler.js';
import { sumTotals } from './autoscale/metric-windows.js';
import { autoscalePolicyOf } from './model/service.js';
import { poolKeyForService } from './routing/compile-table.js';
import { validateServiceSpec } from './config/service-schema.js';
import { measurementBetween } from './observability/latency-histogram.js';
import { DockerProvider } from './registry/docker/docker-provider.js';
import { ConsulProvider } from './registry/consul/consul-provider.js';
import { ConsulRegistrar } from './registry/consul/consul-registrar.js';
import type { Endpoint } from './model/endpoint.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { EndpointProvider, ProviderStatus } from './registry/provider.js';
import { createAdminServer, listenAdmin } from './admin/admin-server.js';
import type { AdminService, EndpointView, ProviderView, ServiceView } from './admin/admin-service.js';
import { isPickable } from './model/endpoint.js';
import { canConnectOrigin as canConnect } from './health/tcp-check.js';
import { ServiceStore } from './config/service-store.js';
import type { ServiceSpec } from './model/service.js';
import { EventLog } from './observability/event-log.js';
import { EndpointSet } from './endpoints/endpoint-set.js';
import { ServiceManager, type RuntimeType } from './deploy/service-manager.js';
import { HealthProber } from './health/health-prober.js';
import type { RuntimeDriver } from './runtime/runtime-driver.js';
import { ProcessDriver } from './runtime/process/process-driver.js';
import { DockerDriver } from './runtime/docker/docker-driver.js';
import { MultiHostDriver } from './runtime/multi-host/multi-host-driver.js';
import { HostsAdminService } from './hosts/hosts-admin.js';
import { ConsulLeadership } from './hosts/consul-leadership.js';

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
  /** Providers enabled by CLI flags, merged over dockmaster.yaml. */
  readonly providerFlags?: { readonly docker?: boolean; readonly consulAddress?: string | undefined };
  /** Tests inject drivers (a fake, or a Docker driver with a test label). */
  readonly drivers?: ReadonlyMap<RuntimeType, RuntimeDriver>;
  /** dockmaster.yaml as `serve` loaded it before building the drivers (its hosts decide the
   * Docker driver); start() loads it when absent. */
  readonly gateway?: GatewayConfig | undefined;
  /** Deployment state folder (--state-dir); else dockmaster.yaml's stateDir; else
   * `.dockmaster/state` in the config folder. Relative paths are relative to the config folder. */
  readonly stateDir?: string | undefined;
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** CLI flags turn providers on without a dockmaster.yaml (the file's settings win where both). */
function withProviderFlags(config: GatewayConfig, flags: AppOptions['providerFlags']): GatewayConfig {
  if (flags === undefined) return config;
  const docker = config.providers.docker ?? (flags.docker ? DOCKER_PROVIDER_DEFAULTS : undefined);
  const consul =
    config.providers.consul ?? (flags.consulAddress !== undefined ? { ...CONSUL_DEFAULTS, address: flags.consulAddress, register: { ...CONSUL_DEFAULTS.register } } : undefined);
  return { ...config, providers: { docker, consul } };
}

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
  /** Sets the replica count of services with an `autoscale` policy. */
  readonly autoscaler: Autoscaler;
  /** Rollout state and revision history per service; its folder is settled in start(). */
  readonly stateStore: StateStore;
  private readonly prober = new HealthProber();
  private admin: FastifyInstance | undefined;
  readonly table: TableBuilder;
  readonly outliers: OutlierDetector;
  /** dockmaster.yaml, loaded at start (defaults until then). */
  gateway: GatewayConfig = GATEWAY_DEFAULTS;
  private readonly providers: EndpointProvider[] = [];
  /** Registers the replicas this instance runs into Consul, when configured. */
  private registrar: ConsulRegistrar | undefined;
  /** Managed endpoint ids registered in Consul now. */
  private readonly registered = new Set<string>();
  /** This gateway instance, as its Consul registrations name it (its own are not read back). */
  readonly instanceId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly providerStatus = new Map<string, ProviderStatus>();
  private ready = false;
  private readonly options: AppOptions;
  /** Serialises applying service sets: each waits for the previous one. */
  private applying: Promise<void> = Promise.resolve();
  /** The hosts of dockmaster.yaml, when it lists some (the Docker runtime spans them). */
  private readonly hostsAdmin: HostsAdminService | undefined;
  /** Several instances: which services this one drives (consul.leadership in dockmaster.yaml). */
  private leadership: ConsulLeadership | undefined;
  /** Services this instance competes for, so removed ones are released. */
  private readonly contested = new Set<string>();

  constructor(options: AppOptions) {
    this.options = options;
    this.logger = options.logger ?? createLogger();
    registerProcessMetrics(this.registry);
    this.metrics = createMetrics(this.registry);
    this.outliers = new OutlierDetector({
      config: this.gateway.passiveHealth,
      onChange: (event) => this.onEjection(event),
      check: (origin) => canConnect(origin, 1_000),
    });
    this.proxy = new ProxyServer({
      logger: this.logger,
      metrics: this.metrics,
      trustedProxies: parseTrustedProxies(options.trustedProxies ?? []),
      accessLog: options.accessLog ?? false,
      outliers: this.outliers,
      onHold: (service) => this.autoscaler.wake(service),
    });
    this.table = new TableBuilder({
      metrics: this.metrics,
      publish: (table) => {
        this.proxy.setTable(table);
        this.outliers.retain(new Map([...table.pools].map(([key, p]) => [key, new Set(p.endpoints.map((e) => e.id))])));
      },
      ejected: () => this.outliers.ejected(),
      slowStartMs: () => this.gateway.slowStartMs,
      panicThresholdPercent: () => this.gateway.panicThresholdPercent,
      onPanic: (pool, panic) => {
        this.logger.warn({ pool, panic }, panic ? 'pool in panic mode: too few healthy endpoints, routing to all' : 'pool left panic mode');
        this.events.record({ type: 'routing.panic', message: `${pool} ${panic ? 'entered' : 'left'} panic mode`, data: { pool, panic } });
      },
    });
    this.endpoints = new EndpointSet((merged, provider) => this.table.setEndpoints(merged, provider === 'managed'));
    const drivers = options.drivers ?? App.createDrivers(options.runtimes ?? ['process'], this.logger);
    this.stateStore = new StateStore(this.stateDirFor(options.stateDir ?? DEFAULT_STATE_DIR), this.logger);
    this.manager = new ServiceManager({
      drivers,
      prober: this.prober,
      logger: this.logger,
      metrics: this.metrics,
      events: this.events,
      inFlight: (id) => this.proxy.inFlight(id),
      retireOrigin: (origin) => this.proxy.pools.retire(origin),
      onSnapshot: (snapshot) => {
        this.endpoints.publish('managed', snapshot);
        this.syncRegistrations(snapshot);
      },
      onTraffic: (traffic) => this.table.setTraffic(traffic),
      meter: (service, revision) => {
        const start = this.proxy.revisionTotals(service, revision);
        return () => measurementBetween(this.proxy.revisionTotals(service, revision), start);
      },
      stateStore: this.stateStore,
      configDir: options.configDir,
      leads: (service) => this.leadership === undefined || this.leadership.isLeader(service),
    });
    const docker = drivers.get('docker');
    if (docker instanceof MultiHostDriver) {
      this.hostsAdmin = new HostsAdminService({ driver: docker, manager: this.manager, events: this.events, logger: this.logger });
      docker.onHostEvent((event) => {
        this.events.record({ type: event.type, service: event.service, message: event.message, data: { host: event.host, ...event.data } });
        // Capacity came back: replicas that found no host are tried again at once.
        if (event.type === 'host.up' || event.type === 'host.back') this.manager.hostsChanged();
      });
    }
    this.autoscaler = new Autoscaler({
      logger: this.logger,
      metrics: this.metrics,
      events: this.events,
      totals: (service) => sumTotals([...this.metrics.revisions.forService(service).keys()].map((revision) => this.proxy.revisionTotals(service, revision))),
      inFlight: (service) => {
        let n = 0;
        for (const e of this.proxy.currentTable().pools.get(poolKeyForService(service))?.endpoints ?? []) n += this.proxy.inFlight(e.id);
        return n;
      },
      held: (service) => this.proxy.heldRequests(service),
      target: (service) => this.manager.controller(service),
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
        this.table.setRoutes(specs);
        for (const provider of this.providers) provider.setWantedServices?.(new Set(specs.flatMap((r) => (r.service ? [r.service] : []))));
      },
    });
  }

  private onEjection(event: EjectionEvent): void {
    if (event.ejected) {
      this.metrics.endpointEjectionsTotal.inc({ pool: event.poolKey });
      this.logger.warn({ endpoint: event.endpointId, pool: event.poolKey, ejections: event.ejections, forMs: event.untilMs - Date.now() }, 'endpoint ejected by passive health');
    } else {
      this.logger.info({ endpoint: event.endpointId, pool: event.poolKey }, 'endpoint returned after ejection');
    }
    this.events.record({
      type: event.ejected ? 'endpoint.ejected' : 'endpoint.returned',
      message: `${event.endpointId} ${event.ejected ? `ejected (${event.ejections}x)` : 'returned'}`,
      data: { endpoint: event.endpointId, pool: event.poolKey, ejections: event.ejections, untilMs: event.untilMs },
    });
    // At once: ejections are rare (capped per pool) and every request until then may fail.
    this.table.build();
  }

  /** Starts a registry provider: its snapshots merge into the endpoint set under its name. */
  private async startProvider(provider: EndpointProvider): Promise<void> {
    this.providers.push(provider);
    const name = provider.name;
    await provider.start({
      publish: (snapshot) => this.endpoints.publish(name, snapshot),
      status: (status) => {
        const previous = this.providerStatus.get(name);
        this.providerStatus.set(name, status);
        this.metrics.registryProviderUp.set({ provider: name }, status.up ? 1 : 0);
        this.metrics.registrySkippedEntries.set({ provider: name }, status.skipped.length);
        if (status.lastSyncMs !== undefined) this.metrics.registryLastSyncTimestampSeconds.set({ provider: name }, status.lastSyncMs / 1000);
        if (previous?.up !== status.up) {
          if (status.up) this.logger.info({ provider: name }, 'endpoint provider up');
          else this.logger.warn({ provider: name, err: status.lastError }, 'endpoint provider down: serving its last good endpoints');
          this.events.record({ type: status.up ? 'provider.up' : 'provider.stale', message: `${name} ${status.up ? 'up' : `stale: ${status.lastError ?? ''}`}`, data: { provider: name } });
        }
      },
    });
  }

  /**
   * Keeps Consul's view of this instance's replicas in step with the managed snapshot: a
   * replica is registered once it takes traffic and deregistered as soon as it starts leaving.
   */
  private syncRegistrations(snapshot: ReadonlyMap<string, readonly Endpoint[]>): void {
    const registrar = this.registrar;
    if (registrar === undefined) return;
    const serving = new Map<string, Endpoint>();
    for (const endpoints of snapshot.values()) for (const e of endpoints) if (e.healthy && !e.draining) serving.set(e.id, e);
    for (const [id, e] of serving) {
      if (this.registered.has(id)) continue;
      this.registered.add(id);
      const [service = '', replicaId = ''] = id.split('/');
      const health = this.services.get(service)?.health;
      void registrar.register({ service, replicaId, revision: e.revision ?? '', origin: e.origin, healthPath: health?.path ?? '/', healthTimeoutMs: health?.timeoutMs });
    }
    for (const id of [...this.registered]) {
      if (serving.has(id)) continue;
      this.registered.delete(id);
      const [service = '', replicaId = ''] = id.split('/');
      // A service another instance drives now keeps its registrations: they are that
      // instance's replicas (it adopted them), not gone.
      if (this.leadership !== undefined && !this.leadership.isLeader(service)) continue;
      void registrar.deregister(service, replicaId);
    }
  }

  /** Services that are managed here or that any provider reports endpoints for. */
  private serviceNames(): string[] {
    const names = new Set(this.manager.list().map((s) => s.name));
    for (const name of this.endpoints.current().keys()) names.add(name);
    return [...names].sort();
  }

  private serviceView(name: string): ServiceView {
    const managed = this.manager.status(name);
    const pool = this.proxy.currentTable().pools.get(`service:${name}`);
    const raw = this.endpoints.current().get(name) ?? [];
    const ejected = this.outliers.ejected().get(`service:${name}`) ?? new Set<string>();
    const endpoints: EndpointView[] = (pool?.endpoints ?? raw).map((e) => ({
      id: e.id,
      origin: e.origin,
      source: e.source,
      revision: e.revision,
      weight: e.weight,
      pickable: isPickable(e),
      healthy: e.healthy,
      draining: e.draining,
      ejected: ejected.has(e.id),
      inFlight: this.proxy.inFlight(e.id),
    }));
    const sources = new Set(raw.map((e) => e.source));
    const providers: ProviderView[] = [...this.providerStatus.values()]
      .filter((p) => sources.has(p.provider) || !p.up)
      .map((p) => ({ provider: p.provider, up: p.up, stale: !p.up, lastSyncMs: p.lastSyncMs, lastError: p.lastError }));
    const document = this.services.written(name);
    return { ...managed, name, ...(document === undefined ? {} : { document }), endpoints, providers };
  }


  private stateDirFor(dir: string): string {
    return isAbsolute(dir) ? dir : resolve(this.options.configDir, dir);
  }

  /** A PUT that would start a rollout while another runs (409 unless it says supersede). */
  private conflict(name: string, body: unknown): string | undefined {
    const checked = validateServiceSpec(body, 'body');
    if (!checked.ok || checked.value.name !== name) return undefined;
    const controller = this.manager.status(name);
    if (controller === undefined) return undefined;
    return this.manager.conflictWith({ ...checked.value, deploy: undefined, autoscale: undefined });
  }

  /** The process driver, and with `docker` the Docker one: over the hosts of dockmaster.yaml
   * when it lists some, else on the local daemon. */
  static createDrivers(runtimes: readonly RuntimeType[], logger: Logger, gateway: GatewayConfig = GATEWAY_DEFAULTS): Map<RuntimeType, RuntimeDriver> {
    const drivers = new Map<RuntimeType, RuntimeDriver>([['process', new ProcessDriver({ logger })]]);
    if (runtimes.includes('docker')) {
      drivers.set(
        'docker',
        gateway.hosts.length === 0
          ? new DockerDriver({ logger })
          : new MultiHostDriver({ hosts: gateway.hosts, logger, hostCheckIntervalMs: gateway.hostCheckIntervalMs, hostDownAfterMs: gateway.hostDownAfterMs }),
      );
    }
    return drivers;
  }

  private applyServices(specs: readonly ServiceSpec[]): void {
    this.applying = this.applying
      .then(async () => {
        this.contestServices(specs);
        await this.manager.apply(specs);
        const policies = new Map(specs.flatMap((spec) => {
          const policy = autoscalePolicyOf(spec);
          return policy === undefined ? [] : [[spec.name, policy] as const];
        }));
        // Requests for an autoscaled service with no ready replica wait for one (scale from zero).
        this.table.setHolds(new Map([...policies].map(([name, policy]) => [name, policy.hold])));
        this.autoscaler.apply(policies);
      })
      .catch((error: unknown) => this.logger.error({ err: (error as Error).message }, 'applying services failed'));
  }

  /** With leadership on: compete for every service of the set, give back the removed ones. */
  private contestServices(specs: readonly ServiceSpec[]): void {
    const leadership = this.leadership;
    if (leadership === undefined) return;
    const names = new Set(specs.map((s) => s.name));
    for (const name of names) {
      if (!this.contested.has(name)) leadership.lead(name);
      this.contested.add(name);
    }
    for (const name of [...this.contested]) {
      if (names.has(name)) continue;
      this.contested.delete(name);
      void leadership.release(name);
    }
  }

  /** Creates the leadership of consul.leadership; role changes re-apply the service set. */
  private startLeadership(consul: NonNullable<GatewayConfig['providers']['consul']>): void {
    const settings = consul.leadership;
    const leadership = new ConsulLeadership(
      {
        address: consul.address,
        token: consul.token,
        datacenter: consul.datacenter,
        instance: { instanceId: this.instanceId, adminAddress: `${this.options.admin.host}:${this.options.admin.port}` },
        keyPrefix: settings.keyPrefix,
        sessionTtlMs: settings.sessionTtlMs,
        lockDelayMs: settings.lockDelayMs,
      },
      { logger: this.logger },
    );
    leadership.onChange((service, role, holder) => {
      const message =
        role === 'leader'
          ? `this instance (${this.instanceId}) drives ${service}`
          : `${service}: ${role}${holder === undefined ? '' : `, driven by ${holder.instanceId} (${holder.adminAddress})`}`;
      this.logger.info({ service, role, holder: holder?.instanceId }, 'leadership changed');
      this.events.record({ type: role === 'leader' ? 'service.leader' : 'service.follower', service, message, data: { role, holder: holder?.instanceId } });
      this.applying = this.applying
        .then(() => this.manager.leadershipChanged())
        .catch((error: unknown) => this.logger.error({ err: (error as Error).message }, 'applying a leadership change failed'));
    });
    this.leadership = leadership;
  }

  /** Loads the config (a bad one throws ConfigError and nothing starts), then listens. */
  async start(): Promise<{ proxy: AddressInfo; admin: AddressInfo }> {
    this.gateway = withProviderFlags(this.options.gateway ?? (await loadGatewayConfig(this.options.configDir)), this.options.providerFlags);
    if (this.options.stateDir === undefined && this.gateway.stateDir !== undefined) this.stateStore.useDir(this.stateDirFor(this.gateway.stateDir));
    this.outliers.setConfig(this.gateway.passiveHealth);
    const consulConfig = this.gateway.providers.consul;
    if (consulConfig?.leadership.enabled === true) this.startLeadership(consulConfig);
    await this.routes.load();
    await this.services.load();
    this.table.build();
    const service: AdminService = {
      routes: this.routes,
      services: {
        specs: this.services,
        list: () => this.serviceNames().map((name) => this.serviceView(name)),
        status: (name) => (this.serviceNames().includes(name) ? this.serviceView(name) : undefined),
        rollout: (name, command) => this.manager.command(name, command),
        rollback: (name, toRevision) => this.manager.rollback(name, toRevision),
        revisions: (name) => this.manager.revisions(name),
        conflict: (name, body) => this.conflict(name, body),
      },
      ...(this.hostsAdmin === undefined ? {} : { hosts: this.hostsAdmin }),
      events: this.events,
      registry: this.registry,
      isReady: () => this.ready,
    };
    this.admin = createAdminServer(service, { token: this.options.token, logger: this.logger });
    const admin = await listenAdmin(this.admin, this.options.admin.host, this.options.admin.port);
    const proxy = await this.proxy.listen(this.options.listen.host, this.options.listen.port);
    const docker = this.gateway.providers.docker;
    if (docker !== undefined) await this.startProvider(new DockerProvider({ logger: this.logger, config: docker }));
    const consul = this.gateway.providers.consul;
    if (consul !== undefined) {
      const provider = new ConsulProvider(consul, { logger: this.logger, instanceId: this.instanceId });
      provider.setWantedServices(new Set(this.routes.list().flatMap((r) => (r.service ? [r.service] : []))));
      await this.startProvider(provider);
      if (consul.register.enabled) this.registrar = new ConsulRegistrar(consul, { logger: this.logger, instanceId: this.instanceId });
    }
    this.routes.watch();
    this.services.watch();
    this.ready = true;
    this.logger.info(
      { proxy: `${proxy.address}:${proxy.port}`, admin: `${admin.address}:${admin.port}`, routes: this.routes.list().length, services: this.services.list().length },
      'dockmaster started',
    );
    return { proxy, admin };
  }

  /** Drains and stops: readiness off, in-flight requests finish (bounded), listeners close. */
  async stop(drainTimeoutMs = this.options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS): Promise<boolean> {
    this.ready = false;
    this.logger.info({ drainTimeoutMs }, 'draining');
    if (this.registrar !== undefined) {
      // Leaving: other instances stop routing to this one's replicas before they stop.
      const registrar = this.registrar;
      this.registrar = undefined;
      await Promise.all(
        [...this.registered].map((id) => {
          const [service = '', replicaId = ''] = id.split('/');
          // With leadership, Docker replicas outlive this instance and the next leader adopts
          // them: their registrations stay, so the other instances keep routing to them.
          if (this.leadership !== undefined && this.services.get(service)?.runtime.type === 'docker') return Promise.resolve();
          return registrar.deregister(service, replicaId);
        }),
      );
      this.registered.clear();
      await registrar.close();
    }
    await this.routes.close();
    await this.services.close();
    const drained = await this.proxy.shutdown(drainTimeoutMs);
    await this.applying;
    await this.manager.close();
    // Stopped driving: give the locks back so another instance takes over at once.
    await this.leadership?.close();
    await this.prober.close();
    await Promise.all(this.providers.map((p) => p.close()));
    this.autoscaler.close();
    this.hostsAdmin?.close();
    this.outliers.close();
    this.table.close();
    await this.admin?.close();
    this.logger.info({ drained }, 'stopped');
    return drained;
  }
}
