// The Consul endpoint provider: a blocking watch of `health.service?passing` per wanted or tagged
// service (tagged ones found by a blocking catalog watch), publishing the whole snapshot on each
// change and keeping each service's last good view while Consul fails. I/O shell.
import type { Logger } from '../../observability/logger.js';
import type { Endpoint } from '../../model/endpoint.js';
import type { ConsulProviderConfig } from '../../model/gateway.js';
import type { EndpointSnapshot } from '../../endpoints/endpoint-set.js';
import { sameSnapshot } from '../../endpoints/endpoint-set.js';
import type { EndpointProvider, ProviderSink, ProviderStatus } from '../provider.js';
import { ConsulApi, type BlockingAnswer } from './consul-client.js';
import { BlockingWatch } from './blocking-watch.js';
import { DEFAULT_BACKOFF, type BackoffLimits } from './backoff.js';
import { translateHealth, type SkippedEntry } from './translate-health.js';
import { servicesWithTag } from './translate-catalog.js';

export interface ConsulProviderDeps {
  readonly logger: Logger;
  readonly nowMs?: () => number;
  readonly random?: () => number;
  /** Retry delays after errors; default 250 ms doubling to 30 s, with jitter. */
  readonly backoff?: BackoffLimits;
  /** Added to `waitMs` plus Consul's jitter (wait / 16) for the client-side request timeout, so
   * that a hanging connection fails instead of stalling a watch. Default 5000 ms. */
  readonly timeoutMarginMs?: number;
  /** Status updates that only move lastSyncMs are sent at most this often. Default 1000 ms. */
  readonly statusRefreshMs?: number;
  /** This instance's id as its ConsulRegistrar registers it: those instances are left out (the
   * managed provider has them already). */
  readonly instanceId?: string | undefined;
}

interface WatchState {
  readonly watch: BlockingWatch;
  failing: boolean;
  lastError: string | undefined;
  lastSuccessMs: number | undefined;
}

interface ServiceView {
  readonly endpoints: readonly Endpoint[];
  readonly skipped: readonly SkippedEntry[];
}

const CATALOG = '\u0000catalog';

function checkHealthShape(body: unknown): string | undefined {
  return Array.isArray(body) && body.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e)) ? undefined : 'health answer is not an array of objects';
}

function checkCatalogShape(body: unknown): string | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? undefined : 'catalog services answer is not an object';
}

export class ConsulProvider implements EndpointProvider {
  readonly name = 'consul' as const;
  private readonly config: ConsulProviderConfig;
  private readonly deps: ConsulProviderDeps;
  private readonly api: ConsulApi;
  private readonly nowMs: () => number;
  private readonly random: () => number;
  private sink: ProviderSink | undefined;
  private closed = false;
  private wanted: ReadonlySet<string> = new Set();
  private tagged: ReadonlySet<string> = new Set();
  /** Watches by service name, plus the catalog watch under CATALOG. */
  private readonly watches = new Map<string, WatchState>();
  /** Last good view of each watched service. */
  private readonly views = new Map<string, ServiceView>();
  private published: EndpointSnapshot | undefined;
  private lastStatus: ProviderStatus | undefined;
  private lastStatusAtMs = 0;

  constructor(config: ConsulProviderConfig, deps: ConsulProviderDeps) {
    this.config = config;
    this.deps = deps;
    this.nowMs = deps.nowMs ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.api = new ConsulApi({ address: config.address, token: config.token, datacenter: config.datacenter });
  }

  async start(sink: ProviderSink): Promise<void> {
    this.sink = sink;
    if (this.config.tag !== undefined && this.config.tag !== '') this.startCatalogWatch(this.config.tag);
    this.reconcileWatches();
    await Promise.all([...this.watches.values()].map((w) => w.watch.firstAttempt));
    // Services added by the catalog's first answer get their first attempt too.
    await Promise.all([...this.watches.values()].map((w) => w.watch.firstAttempt));
    if (this.lastStatus === undefined) this.emitStatus(true);
  }

  setWantedServices(services: ReadonlySet<string>): void {
    this.wanted = new Set(services);
    if (this.sink !== undefined) this.reconcileWatches();
  }

  /** Requests sent per watch (service name, or `catalog`), for tests and diagnostics. */
  requestCounts(): Map<string, number> {
    return new Map([...this.watches].map(([key, w]) => [key === CATALOG ? 'catalog' : key, w.watch.requests]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const watches = [...this.watches.values()];
    this.watches.clear();
    await Promise.all(watches.map((w) => w.watch.stop()));
    this.api.close();
  }

  private limits(): { bucket: { ratePerSecond: number; burst: number }; backoff: BackoffLimits } {
    return {
      bucket: { ratePerSecond: this.config.maxQueriesPerSecond, burst: this.config.burst },
      backoff: this.deps.backoff ?? DEFAULT_BACKOFF,
    };
  }

  private timeoutMs(): number {
    return this.config.waitMs + Math.ceil(this.config.waitMs / 16) + (this.deps.timeoutMarginMs ?? 5_000);
  }

  private startCatalogWatch(tag: string): void {
    const state = this.newWatch(CATALOG, (index, signal) => this.api.catalogServices({ index, waitMs: this.config.waitMs, timeoutMs: this.timeoutMs(), signal }), (body) => {
      const result = servicesWithTag(body, tag);
      if (!result.ok) return result.error;
      this.tagged = result.services;
      this.reconcileWatches();
      return undefined;
    }, checkCatalogShape);
    this.watches.set(CATALOG, state);
  }

  /** Starts watches for services that are now wanted or tagged, stops the others. */
  private reconcileWatches(): void {
    if (this.closed) return;
    const desired = new Set([...this.wanted, ...this.tagged]);
    let dropped = false;
    for (const [key, state] of this.watches) {
      if (key === CATALOG || desired.has(key)) continue;
      this.watches.delete(key);
      void state.watch.stop();
      dropped = this.views.delete(key) || dropped;
    }
    for (const service of desired) {
      if (this.watches.has(service)) continue;
      this.watches.set(service, this.newWatch(service, (index, signal) => this.api.healthService(service, { index, waitMs: this.config.waitMs, timeoutMs: this.timeoutMs(), signal }), (body) => this.onHealth(service, body), checkHealthShape));
    }
    if (dropped) this.publish();
    this.emitStatus();
  }

  private newWatch(key: string, query: (index: number, signal: AbortSignal) => Promise<BlockingAnswer>, onChange: (body: unknown) => string | undefined, check: (body: unknown) => string | undefined): WatchState {
    const { bucket, backoff } = this.limits();
    const label = key === CATALOG ? 'catalog' : key;
    const state: WatchState = {
      failing: false,
      lastError: undefined,
      lastSuccessMs: undefined,
      watch: new BlockingWatch({
        query,
        check,
        bucket,
        backoff,
        nowMs: this.nowMs,
        random: this.random,
        onChange: (body) => (this.isCurrent(key, state) ? onChange(body) : undefined),
        onSuccess: (nowMs) => {
          if (!this.isCurrent(key, state)) return;
          const recovered = state.failing;
          state.failing = false;
          state.lastError = undefined;
          state.lastSuccessMs = nowMs;
          if (recovered) this.deps.logger.info({ provider: 'consul', watch: label }, 'consul watch recovered');
          this.emitStatus();
        },
        onError: (error) => {
          if (!this.isCurrent(key, state)) return;
          const first = !state.failing;
          state.failing = true;
          state.lastError = `${label}: ${error}`;
          if (first) this.deps.logger.warn({ provider: 'consul', watch: label, err: error }, 'consul watch failing: keeping the last good endpoints');
          this.emitStatus();
        },
      }),
    };
    return state;
  }

  private isCurrent(key: string, state: WatchState): boolean {
    return !this.closed && this.watches.get(key) === state;
  }

  private onHealth(service: string, body: unknown): string | undefined {
    const result = translateHealth(service, body, { tagPrefix: this.config.tagPrefix, ownInstance: this.deps.instanceId });
    if (!result.ok) return result.error;
    for (const warning of result.warnings) this.deps.logger.warn({ provider: 'consul', service, endpoint: warning.id }, warning.reason);
    if (result.skipped.length > 0) this.deps.logger.warn({ provider: 'consul', service, skipped: result.skipped }, 'consul entries skipped');
    this.views.set(service, { endpoints: result.endpoints, skipped: result.skipped });
    this.publish();
    return undefined;
  }

  /** Publishes the whole view (every watched service with a good read) if it changed. */
  private publish(): void {
    if (this.sink === undefined || this.closed) return;
    const snapshot = new Map<string, readonly Endpoint[]>();
    for (const service of [...this.views.keys()].sort()) snapshot.set(service, (this.views.get(service) as ServiceView).endpoints);
    if (sameSnapshot(this.published, snapshot)) return;
    this.published = snapshot;
    try {
      this.sink.publish(snapshot);
    } catch (error) {
      this.deps.logger.error({ provider: 'consul', err: error }, 'endpoint sink failed to take a snapshot');
    }
  }

  private status(): ProviderStatus {
    let up = true;
    let lastError: string | undefined;
    let lastSyncMs: number | undefined;
    for (const state of this.watches.values()) {
      if (state.failing) {
        up = false;
        lastError ??= state.lastError;
      }
      if (state.lastSuccessMs !== undefined) lastSyncMs = Math.max(lastSyncMs ?? 0, state.lastSuccessMs);
    }
    const skipped = [...this.views.values()].flatMap((v) => v.skipped);
    return { provider: 'consul', up, lastSyncMs, lastError, skipped };
  }

  /** Sends the status when it changed; a change of lastSyncMs alone at most every statusRefreshMs. */
  private emitStatus(always = false): void {
    if (this.sink === undefined || this.closed) return;
    const status = this.status();
    const previous = this.lastStatus;
    const nowMs = this.nowMs();
    const changed =
      previous === undefined ||
      previous.up !== status.up ||
      previous.lastError !== status.lastError ||
      JSON.stringify(previous.skipped) !== JSON.stringify(status.skipped) ||
      (previous.lastSyncMs === undefined) !== (status.lastSyncMs === undefined);
    const refreshed = previous !== undefined && previous.lastSyncMs !== status.lastSyncMs && nowMs - this.lastStatusAtMs >= (this.deps.statusRefreshMs ?? 1_000);
    if (!always && !changed && !refreshed) return;
    this.lastStatus = status;
    this.lastStatusAtMs = nowMs;
    try {
      this.sink.status(status);
    } catch (error) {
      this.deps.logger.error({ provider: 'consul', err: error }, 'endpoint sink failed to take a status');
    }
  }
}
