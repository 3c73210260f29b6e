// Builds the routing table from routes, provider snapshots and passive-health state, and swaps it
// into the proxy. Rebuilds are coalesced: the first request builds at once, later ones at most
// once per `minIntervalMs`. Timers only; the arithmetic lives in routing/ and health/.
import type { RouteSpec } from '../model/route.js';
import type { HoldSettings, RoutingTable, Pool } from '../model/routing-table.js';
import type { TrafficSplit } from '../model/traffic.js';
import type { Metrics } from '../observability/metrics.js';
import { compileTable, poolWithEndpoints } from '../routing/compile-table.js';
import { overlayPool } from '../health/pool-overlay.js';
import type { EndpointSnapshot } from './endpoint-set.js';

export interface TableBuilderDeps {
  readonly metrics: Metrics;
  readonly publish: (table: RoutingTable) => void;
  /** Endpoint ids ejected right now, by pool key. */
  readonly ejected: () => ReadonlyMap<string, ReadonlySet<string>>;
  readonly slowStartMs: () => number;
  readonly panicThresholdPercent: () => number;
  readonly onPanic?: (pool: string, panic: boolean) => void;
  readonly minIntervalMs?: number;
  readonly nowMs?: () => number;
}

export const MIN_REBUILD_INTERVAL_MS = 100;

export class TableBuilder {
  private routes: readonly RouteSpec[] = [];
  private endpoints: EndpointSnapshot = new Map();
  private traffic: ReadonlyMap<string, TrafficSplit> = new Map();
  private holds: ReadonlyMap<string, HoldSettings> = new Map();
  private version = 0;
  private lastBuildMs = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private slowStartTimer: NodeJS.Timeout | undefined;
  private readonly healthySinceMs = new Map<string, number>();
  private readonly panicking = new Set<string>();
  private readonly healthSeries = new Map<string, { pool: string; endpoint: string; source: string }>();
  private firstBuild = true;
  private readonly deps: TableBuilderDeps;
  private readonly nowMs: () => number;
  private readonly minIntervalMs: number;

  constructor(deps: TableBuilderDeps) {
    this.deps = deps;
    this.nowMs = deps.nowMs ?? Date.now;
    this.minIntervalMs = deps.minIntervalMs ?? MIN_REBUILD_INTERVAL_MS;
  }

  setRoutes(routes: readonly RouteSpec[]): void {
    this.routes = routes;
    this.request();
  }

  /**
   * `immediate` builds at once: the controller's own changes (a replica became healthy, one
   * started draining) must be in the table before it takes its next step, or a drain could
   * overtake the new replica. External providers, which may flap, are coalesced.
   */
  setEndpoints(endpoints: EndpointSnapshot, immediate = false): void {
    this.endpoints = endpoints;
    if (immediate) this.build();
    else this.request();
  }

  /**
   * The traffic splits of services in a rollout, by service name; a service not in the map
   * follows its replicas. Builds at once, like the controller's own endpoint changes: a weight
   * must be in force before the controller takes its next step. An unchanged map builds nothing.
   */
  setTraffic(traffic: ReadonlyMap<string, TrafficSplit>): void {
    const same = sameTraffic(this.traffic, traffic);
    this.traffic = traffic;
    if (!same) this.build();
  }

  /**
   * How requests wait for services with no ready replica (scale to zero), by service name; a
   * service not in the map answers 503 at once when it has none. Builds at once when the map
   * changed, so a service scaled to zero holds from its next request on; an unchanged map builds
   * nothing.
   */
  setHolds(holds: ReadonlyMap<string, HoldSettings>): void {
    const same = sameHolds(this.holds, holds);
    this.holds = holds;
    if (!same) this.build();
  }

  /** Asks for a rebuild: now if none ran within the interval, else once at its end. */
  request(): void {
    if (this.timer !== undefined) return;
    const waitMs = this.lastBuildMs + this.minIntervalMs - this.nowMs();
    if (waitMs <= 0) {
      this.build();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.build();
    }, waitMs);
    this.timer.unref();
  }

  /** Builds synchronously (start-up and tests). */
  build(): RoutingTable {
    clearTimeout(this.timer);
    this.timer = undefined;
    const nowMs = this.nowMs();
    this.lastBuildMs = nowMs;
    const compiled = compileTable(this.routes, this.endpoints, ++this.version, this.traffic, this.holds);
    this.trackHealthySince(compiled, nowMs);
    const ejectedByPool = this.deps.ejected();
    const noneEjected: ReadonlySet<string> = new Set();
    const slowStartMs = this.deps.slowStartMs();
    const panicThresholdPercent = this.deps.panicThresholdPercent();
    let nextChangeAtMs: number | undefined;
    const pools = new Map<string, Pool>();
    for (const [key, pool] of compiled.pools) {
      const ejected = ejectedByPool.get(key) ?? noneEjected;
      const result = overlayPool(pool.endpoints, { ejected, healthySinceMs: this.healthySinceMs, nowMs, slowStartMs, panicThresholdPercent });
      // A split's groups must hold the overlaid endpoints (ejected, ramping, panicking) too.
      pools.set(key, result.endpoints === pool.endpoints ? pool : poolWithEndpoints(pool, result.endpoints));
      if (result.nextChangeAtMs !== undefined) nextChangeAtMs = Math.min(nextChangeAtMs ?? Infinity, result.nextChangeAtMs);
      this.notePanic(key, result.panic);
      let ejectedHere = 0;
      for (const e of pool.endpoints) if (ejected.has(e.id)) ejectedHere++;
      this.deps.metrics.endpointsEjected.set({ pool: key }, ejectedHere);
    }
    this.forgetGonePools(pools);
    const table: RoutingTable = { version: compiled.version, routes: compiled.routes, pools };
    this.recordHealth(table);
    this.deps.metrics.routingTableRebuildsTotal.inc();
    this.deps.publish(table);
    this.scheduleSlowStart(nextChangeAtMs, nowMs);
    return table;
  }

  /** Endpoints present in the first table count as warm; later ones start their ramp when first
   * seen healthy. */
  private trackHealthySince(table: RoutingTable, nowMs: number): void {
    const seen = new Set<string>();
    for (const pool of table.pools.values()) {
      for (const e of pool.endpoints) {
        if (!e.healthy || e.draining) continue;
        seen.add(e.id);
        if (!this.healthySinceMs.has(e.id)) this.healthySinceMs.set(e.id, this.firstBuild ? Number.NEGATIVE_INFINITY : nowMs);
      }
    }
    for (const id of this.healthySinceMs.keys()) if (!seen.has(id)) this.healthySinceMs.delete(id);
    this.firstBuild = false;
  }

  private readonly knownPools = new Set<string>();

  /** A pool that left the table takes its panic and ejection series with it. */
  private forgetGonePools(pools: ReadonlyMap<string, Pool>): void {
    for (const pool of this.knownPools) {
      if (pools.has(pool)) continue;
      this.knownPools.delete(pool);
      this.panicking.delete(pool);
      this.deps.metrics.poolPanic.remove({ pool });
      this.deps.metrics.endpointsEjected.remove({ pool });
    }
    for (const pool of pools.keys()) this.knownPools.add(pool);
  }

  private notePanic(pool: string, panic: boolean): void {
    if (panic === this.panicking.has(pool)) return;
    if (panic) {
      this.panicking.add(pool);
      this.deps.metrics.poolPanicTotal.inc({ pool });
    } else {
      this.panicking.delete(pool);
    }
    this.deps.metrics.poolPanic.set({ pool }, panic ? 1 : 0);
    this.deps.onPanic?.(pool, panic);
  }

  private recordHealth(table: RoutingTable): void {
    const { endpointHealthy } = this.deps.metrics;
    const current = new Set<string>();
    for (const [pool, { endpoints }] of table.pools) {
      for (const e of endpoints) {
        const key = `${pool}\0${e.id}`;
        current.add(key);
        const labels = { pool, endpoint: e.id, source: e.source };
        this.healthSeries.set(key, labels);
        endpointHealthy.set(labels, e.healthy && !e.draining && e.weight > 0 ? 1 : 0);
      }
    }
    for (const [key, labels] of this.healthSeries) {
      if (!current.has(key)) {
        endpointHealthy.remove(labels);
        this.healthSeries.delete(key);
      }
    }
  }

  private scheduleSlowStart(nextChangeAtMs: number | undefined, nowMs: number): void {
    clearTimeout(this.slowStartTimer);
    this.slowStartTimer = undefined;
    if (nextChangeAtMs === undefined) return;
    this.slowStartTimer = setTimeout(() => this.request(), Math.max(0, nextChangeAtMs - nowMs));
    this.slowStartTimer.unref();
  }

  close(): void {
    clearTimeout(this.timer);
    clearTimeout(this.slowStartTimer);
  }
}

function sameTraffic(a: ReadonlyMap<string, TrafficSplit>, b: ReadonlyMap<string, TrafficSplit>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [service, split] of a) {
    const other = b.get(service);
    if (other === undefined || !sameSplit(split, other)) return false;
  }
  return true;
}

function sameSplit(a: TrafficSplit, b: TrafficSplit): boolean {
  if (a === b) return true;
  if (a.stickyCookie !== b.stickyCookie || a.weights.length !== b.weights.length) return false;
  if (a.preview?.header !== b.preview?.header || a.preview?.value !== b.preview?.value || a.preview?.revision !== b.preview?.revision) return false;
  return a.weights.every((w, i) => w.revision === b.weights[i]?.revision && w.percent === b.weights[i]?.percent);
}

function sameHolds(a: ReadonlyMap<string, HoldSettings>, b: ReadonlyMap<string, HoldSettings>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [service, hold] of a) {
    const other = b.get(service);
    if (other === undefined || other.maxQueue !== hold.maxQueue || other.holdTimeoutMs !== hold.holdTimeoutMs) return false;
  }
  return true;
}
