// The proxy listener: reads the current routing table once per request, matches, picks an
// endpoint, forwards through undici with retries and timeouts, and drains on shutdown. I/O.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { requestIdGenerator } from './request-id.js';
import type { Dispatcher } from 'undici';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { CompiledSplit, HoldSettings, Pool, RevisionGroup, RoutingTable } from '../model/routing-table.js';
import { EMPTY_TABLE } from '../model/routing-table.js';
import type { CompiledRoute, LoadBalancerKind } from '../model/route.js';
import { isPickable, type Endpoint } from '../model/endpoint.js';
import type { Picker } from '../balancing/picker.js';
import { createPicker } from '../balancing/create-picker.js';
import { type EndpointChoice, hasHeaderValue, pickEndpoint, RevisionSplitChooser, stickyGroup } from '../balancing/revision-split.js';
import { matchRoute, stripRoutePrefix } from '../routing/match-route.js';
import { poolKeyForService } from '../routing/compile-table.js';
import { normalizeTarget } from './normalize-path.js';
import { filterResponseHeaders, isIdempotent, prepareRequestHeaders, type PreparedRequest } from './headers.js';
import { canonicalAddress, type PeerMatcher } from './trusted-proxies.js';
import { classifyUpstreamError, type ClassifiedError } from './upstream-errors.js';
import { DEFAULT_RETRY_BUDGET, retryAllowed, shouldRetry, spendsRetryBudget, type RetryBudgetPolicy } from './retry-policy.js';
import { UpstreamPools } from './upstream-pools.js';
import { LazyBody } from './lazy-body.js';
import { sendError } from './error-response.js';
import { handleUpgrade, type UpgradeTunnels } from './upgrade.js';
import { HoldQueue, type HoldEntry } from './hold-queue.js';
import type { ErrorCode } from '../errors.js';
import type { OutlierDetector } from '../health/outlier-detector.js';
import type { RevisionCell, RevisionStats, StatsEntry } from '../observability/request-stats.js';
import type { RevisionTotals } from '../observability/latency-histogram.js';

export { measurementBetween, type RevisionTotals } from '../observability/latency-histogram.js';

export interface ProxyDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly trustedProxies?: PeerMatcher;
  readonly retryBudget?: RetryBudgetPolicy;
  /** One log line per request when true. */
  readonly accessLog?: boolean;
  readonly random?: () => number;
  readonly newRequestId?: () => string;
  /** Idle keep-alive timeout of client connections. */
  readonly clientKeepAliveMs?: number;
  /** Passive health: told about every attempt's outcome. */
  readonly outliers?: OutlierDetector;
  /** Wall clock, for how long per-revision measurements outlive their revision. */
  readonly nowMs?: () => number;
  /**
   * Scale to zero: called each time a request (or upgrade) is held for a service with no ready
   * replica, with the number now held for it (1 when a cold start begins), so that the
   * autoscaler can start a replica at once instead of at its next sync. Must not throw.
   */
  readonly onHold?: (service: string, held: number) => void;
}

/** A request or upgrade waiting in a pool's hold queue; the queue calls exactly one of these. */
export interface HeldRequest extends HoldEntry {
  /** The pool has an endpoint now (or lost its hold or route): forward through the normal
   * path against the current table, never held again. */
  release(): void;
  /** The hold timed out: 503 with Retry-After. */
  expire(): void;
  /** The gateway is shutting down: 503 at once. */
  refuseShutdown(): void;
}

/** The hold queue of one service pool, kept from its first hold until the pool gets an
 * endpoint, loses its hold or leaves the table. */
interface PoolHold {
  readonly service: string;
  readonly queue: HoldQueue<HeldRequest>;
  readonly gauge: { value: number };
}

/** Method label values; anything else counts as OTHER (a bounded label set). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'OTHER'];
const METHOD_INDEX = new Map(METHODS.map((m, i) => [m, i]));
const OTHER_METHOD_INDEX = METHODS.length - 1;
/** How often the total-deadline sweep runs: a response body that outlives its route's
 * timeoutMs is cut within this much. */
const DEADLINE_SWEEP_MS = 50;
/** A revision's measurements (and metric series) are dropped this long after the last table
 * that held it: long enough for an analysis reading around a table change, short enough that
 * the series of past revisions do not pile up. */
export const REVISION_STATS_RETENTION_MS = 10 * 60_000;
const NO_ENDPOINTS: readonly Endpoint[] = Object.freeze([]);

/** A route's metric cells: its in-flight gauge and one stats entry per method and status class. */
export interface RouteStats {
  readonly service: string;
  readonly inFlight: { value: number };
  readonly entries: Array<StatsEntry | undefined>;
  /** The per-revision cells of the route's service (undefined for static routes). */
  readonly revisions: Map<string, RevisionCell> | undefined;
}

/** Routing state of a split pool, kept across tables: the revision chooser and a picker per
 * revision and policy (so one revision's rotation never moves another's). */
interface SplitPickers {
  readonly chooser: RevisionSplitChooser;
  readonly byRevision: Map<string, Map<LoadBalancerKind, Picker>>;
}

/** What routing decided for a request, shared by plain requests and upgrades; its endpoints
 * are picked with pickEndpoint. */
export interface Resolved extends EndpointChoice {
  readonly route: CompiledRoute;
  readonly upstreamPath: string;
  readonly prepared: PreparedRequest;
  /** `Set-Cookie` value pinning the client to the revision chosen by weight (sticky splits). */
  readonly setCookie: string | undefined;
  /** The pool's hold settings: a request finding no endpoint waits for one (scale to zero). */
  readonly hold: HoldSettings | undefined;
}

export type Resolution =
  | { readonly ok: true; readonly value: Resolved }
  | { readonly ok: false; readonly code: ErrorCode; readonly reason: string; readonly requestId: string | undefined };


export class ProxyServer {
  readonly server: Server;
  readonly tunnels: UpgradeTunnels = { open: new Set<Socket>() };
  readonly pools = new UpstreamPools();
  private table: RoutingTable = EMPTY_TABLE;
  /** Pickers by pool key, then by balancing policy. */
  private readonly pickers = new Map<string, Map<string, Picker>>();
  /** Revision choosers and per-revision pickers by pool key, for pools with a split only. */
  private readonly splitPickers = new Map<string, SplitPickers>();
  private readonly inFlightByEndpoint = new Map<string, number>();
  private readonly statsByRoute = new Map<string, RouteStats>();
  requestsInFlight = 0;
  retriesInFlight = 0;
  /** Requests whose total deadline the sweep checks: one shared timer instead of one per
   * request (before the response head, undici's headersTimeout enforces the deadline exactly). */
  readonly active = new Set<Forwarding>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private idleWaiters: Array<() => void> = [];
  /** Hold queues by pool key: only pools that held a request since they last had an endpoint. */
  private readonly holds = new Map<string, PoolHold>();
  /** Requests held in every queue (the deadline sweep skips the queues while 0). */
  private heldCount = 0;
  readonly deps: Required<Omit<ProxyDeps, 'trustedProxies' | 'outliers' | 'onHold'>> & {
    trustedProxies: PeerMatcher;
    outliers: OutlierDetector | undefined;
    onHold: ((service: string, held: number) => void) | undefined;
  };
  private readonly revisionStats: RevisionStats;

  constructor(deps: ProxyDeps) {
    this.deps = {
      logger: deps.logger,
      metrics: deps.metrics,
      trustedProxies: deps.trustedProxies ?? (() => false),
      retryBudget: deps.retryBudget ?? DEFAULT_RETRY_BUDGET,
      accessLog: deps.accessLog ?? false,
      random: deps.random ?? Math.random,
      newRequestId: deps.newRequestId ?? requestIdGenerator(),
      clientKeepAliveMs: deps.clientKeepAliveMs ?? 5_000,
      outliers: deps.outliers,
      nowMs: deps.nowMs ?? Date.now,
      onHold: deps.onHold,
    };
    this.revisionStats = this.deps.metrics.revisions;
    this.server = createServer({ keepAliveTimeout: this.deps.clientKeepAliveMs, requestTimeout: 0 }, (req, res) => {
      this.handle(req, res);
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      handleUpgrade(this, req, socket, head);
    });
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      this.deps.metrics.rejectedRequestsTotal.inc({ reason: 'bad_request' });
      if (socket.writable && !socket.destroyed) {
        const body = JSON.stringify({ error: { code: 'DM_ERR_PROXY_BAD_REQUEST', message: error.code ?? 'bad request' } });
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      }
      socket.destroy();
    });
  }

  /**
   * Swaps the routing table atomically; requests already running keep the one they read. Held
   * requests of a pool that has a pickable endpoint in the new table are released, in arrival
   * order, and routed afresh against it.
   */
  setTable(table: RoutingTable): void {
    this.table = table;
    // Pickers live per pool and policy across tables, so a weighted or round-robin sequence
    // continues through endpoint changes; pools that are gone lose theirs.
    for (const poolKey of this.pickers.keys()) if (!table.pools.has(poolKey)) this.pickers.delete(poolKey);
    this.retainSplitPickers(table);
    this.sweepRevisionStats(table);
    this.deps.metrics.routingTableVersion.set(table.version);
    this.deps.metrics.routingRoutes.set(table.routes.length);
    const origins = new Set<string>();
    for (const pool of table.pools.values()) for (const e of pool.endpoints) origins.add(e.origin);
    this.pools.retainOnly(origins);
    if (this.holds.size > 0) this.settleHolds(table);
  }

  currentTable(): RoutingTable {
    return this.table;
  }

  /** A pool whose split ended loses its chooser; a revision that left the split, its pickers. */
  private retainSplitPickers(table: RoutingTable): void {
    for (const [poolKey, state] of this.splitPickers) {
      const split = table.pools.get(poolKey)?.split;
      if (split === undefined) {
        this.splitPickers.delete(poolKey);
        continue;
      }
      for (const revision of state.byRevision.keys()) {
        if (!split.groups.some((g) => g.revision === revision)) state.byRevision.delete(revision);
      }
    }
  }

  private sweepRevisionStats(table: RoutingTable): void {
    const present = new Map<string, Set<string>>();
    for (const route of table.routes) {
      if (route.service === undefined) continue;
      const pool = table.pools.get(route.poolKey);
      if (pool === undefined) continue;
      let revisions = present.get(route.service);
      if (revisions === undefined) {
        revisions = new Set();
        present.set(route.service, revisions);
      }
      for (const e of pool.endpoints) if (e.revision !== undefined) revisions.add(e.revision);
      for (const g of pool.split?.groups ?? []) revisions.add(g.revision);
    }
    this.revisionStats.sweep(present, this.deps.nowMs(), REVISION_STATS_RETENTION_MS);
  }

  /**
   * What the proxy measured for one revision of a service since it started (a copy; zeros for
   * a revision never measured): requests, 5xx answers and a fine latency histogram. Two
   * readings give one interval's measurement through measurementBetween.
   */
  revisionTotals(service: string, revision: string): RevisionTotals {
    return this.revisionStats.totals(service, revision);
  }

  /** Requests in flight to one endpoint (for least-request and draining). */
  inFlight(endpointId: string): number {
    return this.inFlightByEndpoint.get(endpointId) ?? 0;
  }

  isDraining(): boolean {
    return this.draining;
  }

  private sweepDeadlines(): void {
    if (this.heldCount > 0) this.expireHolds(performance.now());
    if (this.active.size === 0) return;
    const nowMs = performance.now();
    for (const forwarding of this.active) forwarding.checkDeadline(nowMs);
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    this.sweepTimer ??= setInterval(() => this.sweepDeadlines(), DEADLINE_SWEEP_MS);
    this.sweepTimer.unref();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /**
   * Resolves the route, endpoints and upstream path of a request, or why it is refused.
   * `requestId`: the id a held request already has, kept when it is resolved again on release.
   */
  resolve(req: IncomingMessage, upgrade: boolean, requestId?: string): Resolution {
    const table = this.table;
    const peer = canonicalAddress(req.socket.remoteAddress ?? '');
    const target = normalizeTarget(req.url ?? '/');
    const prepared = prepareRequestHeaders(req.rawHeaders, {
      peerAddress: peer,
      peerTrusted: this.deps.trustedProxies(peer),
      proto: 'http',
      upgrade,
      newRequestId: requestId === undefined ? this.deps.newRequestId : () => requestId,
      authority: target.ok ? target.authority : undefined,
    });
    if (prepared.hostCount > 1) {
      return { ok: false, code: 'DM_ERR_PROXY_BAD_REQUEST', reason: 'duplicate_host', requestId: prepared.requestId };
    }
    if (!target.ok) return { ok: false, code: 'DM_ERR_PROXY_BAD_REQUEST', reason: 'bad_path', requestId: prepared.requestId };
    const host = prepared.host;
    const route = matchRoute(table, host, target.path, () => req.headers);
    if (route === undefined) return { ok: false, code: 'DM_ERR_ROUTE_NOT_FOUND', reason: 'not_found', requestId: prepared.requestId };
    let byPolicy = this.pickers.get(route.poolKey);
    if (byPolicy === undefined) {
      byPolicy = new Map();
      this.pickers.set(route.poolKey, byPolicy);
    }
    let picker = byPolicy.get(route.loadBalancer);
    if (picker === undefined) {
      picker = createPicker(route.loadBalancer, { load: this, random: this.deps.random });
      byPolicy.set(route.loadBalancer, picker);
    }
    const path = route.stripPrefix ? stripRoutePrefix(route, target.path) : target.path;
    const pool = table.pools.get(route.poolKey);
    if (pool?.split !== undefined) return this.resolveSplit(req, route, pool, pool.split, picker, path + target.query, prepared);
    return {
      ok: true,
      value: {
        route,
        endpoints: pool?.endpoints ?? NO_ENDPOINTS,
        picker,
        upstreamPath: path + target.query,
        prepared,
        group: undefined,
        groupPicker: undefined,
        groupOnly: false,
        setCookie: undefined,
        hold: pool?.hold,
      },
    };
  }

  /**
   * A split pool: a preview request goes to the preview revision only; a client whose sticky
   * cookie names a revision still taking traffic stays on it; any other request gets a revision
   * by weight (and, when sticky, the cookie that keeps it there).
   */
  private resolveSplit(req: IncomingMessage, route: CompiledRoute, pool: Pool, split: CompiledSplit, picker: Picker, upstreamPath: string, prepared: PreparedRequest): Resolution {
    let state = this.splitPickers.get(pool.key);
    if (state === undefined) {
      state = { chooser: new RevisionSplitChooser(), byRevision: new Map() };
      this.splitPickers.set(pool.key, state);
    }
    const raw = req.rawHeaders;
    let group: RevisionGroup | undefined;
    let groupOnly = false;
    let setCookie: string | undefined;
    const preview = split.preview;
    if (preview !== undefined && hasHeaderValue(raw, preview.header, preview.value)) {
      group = preview.group;
      groupOnly = true;
    } else {
      group = stickyGroup(raw, split);
      if (group === undefined) {
        group = split.groups[state.chooser.choose(split.groups)];
        setCookie = group?.setCookie;
      }
    }
    return {
      ok: true,
      value: {
        route,
        endpoints: pool.endpoints,
        picker,
        upstreamPath,
        prepared,
        group: group?.endpoints,
        groupPicker: group === undefined ? undefined : this.revisionPicker(state, group.revision, route.loadBalancer),
        groupOnly,
        setCookie,
        hold: pool.hold,
      },
    };
  }

  private revisionPicker(state: SplitPickers, revision: string, kind: LoadBalancerKind): Picker {
    let byKind = state.byRevision.get(revision);
    if (byKind === undefined) {
      byKind = new Map();
      state.byRevision.set(revision, byKind);
    }
    let picker = byKind.get(kind);
    if (picker === undefined) {
      picker = createPicker(kind, { load: this, random: this.deps.random });
      byKind.set(kind, picker);
    }
    return picker;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const resolution = this.resolve(req, false);
    if (!resolution.ok) {
      this.deps.metrics.rejectedRequestsTotal.inc({ reason: resolution.reason });
      // A refused request may have a body we will not read: close rather than desync.
      const close = this.draining || resolution.code === 'DM_ERR_PROXY_BAD_REQUEST';
      sendError(res, resolution.code, resolution.requestId, close);
      return;
    }
    new Forwarding(this, req, res, resolution.value).start();
  }

  // --- bookkeeping used by Forwarding -------------------------------------------------------

  endpointStarted(id: string): void {
    this.inFlightByEndpoint.set(id, (this.inFlightByEndpoint.get(id) ?? 0) + 1);
  }

  endpointFinished(id: string): void {
    const n = (this.inFlightByEndpoint.get(id) ?? 1) - 1;
    if (n <= 0) this.inFlightByEndpoint.delete(id);
    else this.inFlightByEndpoint.set(id, n);
  }

  /** Per-route metric cells, created once per route and reused by every request. */
  routeStats(route: CompiledRoute): RouteStats {
    let stats = this.statsByRoute.get(route.name);
    if (stats === undefined || stats.service !== (route.service ?? '')) {
      const service = route.service ?? '';
      stats = {
        service,
        inFlight: this.deps.metrics.inFlightRequests.cell({ route: route.name, service }),
        entries: [],
        revisions: route.service === undefined ? undefined : this.revisionStats.forService(route.service),
      };
      this.statsByRoute.set(route.name, stats);
    }
    return stats;
  }

  requestStarted(stats: RouteStats): void {
    this.requestsInFlight++;
    stats.inFlight.value++;
  }

  /**
   * `revision`: of the endpoint that answered or was tried last (undefined when none was).
   * `heldSeconds`: time the request waited for a replica; the route's histogram counts it (the
   * client waited), the revision's measurements do not (the replica did not).
   */
  requestFinished(route: CompiledRoute, stats: RouteStats, method: string, status: number, seconds: number, revision: string | undefined, heldSeconds: number): void {
    this.requestsInFlight--;
    stats.inFlight.value--;
    const methodIndex = METHOD_INDEX.get(method) ?? OTHER_METHOD_INDEX;
    const classIndex = Math.min(5, Math.max(1, Math.floor(status / 100)));
    const slot = methodIndex * 6 + classIndex;
    let entry = stats.entries[slot];
    if (entry === undefined) {
      entry = this.deps.metrics.requests.entry({
        route: route.name,
        service: stats.service,
        method: METHODS[methodIndex] ?? 'OTHER',
        status_class: `${classIndex}xx`,
      });
      stats.entries[slot] = entry;
    }
    entry.observe(seconds);
    if (revision !== undefined && stats.revisions !== undefined) {
      (stats.revisions.get(revision) ?? this.revisionStats.cell(stats.service, revision)).observe(status, (seconds - heldSeconds) * 1000);
    }
    if (this.requestsInFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Graceful shutdown: stop accepting, answer in-flight responses with `Connection: close`,
   * close idle keep-alive sockets, wait for in-flight requests up to `drainTimeoutMs`, then
   * close what is left (WebSocket tunnels included). Resolves true when everything drained.
   */
  async shutdown(drainTimeoutMs: number): Promise<boolean> {
    this.draining = true;
    // No replica is coming for a held request now: answer them before waiting for the rest.
    this.refuseHeld();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // Sockets that turn idle later are closed as their response ends (Connection: close).
    const drained = await new Promise<boolean>((resolve) => {
      if (this.requestsInFlight === 0 && this.tunnels.open.size === 0) {
        resolve(true);
        return;
      }
      const timer = setTimeout(() => resolve(false), drainTimeoutMs);
      timer.unref();
      const check = (): void => {
        if (this.requestsInFlight === 0 && this.tunnels.open.size === 0) {
          clearTimeout(timer);
          resolve(true);
        } else {
          this.idleWaiters.push(check);
        }
      };
      this.idleWaiters.push(check);
      for (const socket of this.tunnels.open) socket.once('close', () => this.wakeIdleWaiters());
    });
    for (const socket of this.tunnels.open) socket.destroy();
    this.server.closeAllConnections();
    clearInterval(this.sweepTimer);
    await closed;
    await this.pools.destroy();
    return drained;
  }

  wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // --- scale to zero: requests held while a pool has no endpoint -----------------------------

  /** Requests (and upgrades) held right now for a service, waiting for a ready replica. */
  heldRequests(service: string): number {
    return this.holds.get(poolKeyForService(service))?.queue.size ?? 0;
  }

  /**
   * Offers a request that found no endpoint to its pool's hold queue (`resolved.hold` is set);
   * sets `entry.holdDeadlineMs`. True when held. False when it must be answered 503 as before:
   * the queue is full (counted as overflow), the gateway is draining, or the pool does have a
   * pickable endpoint that this request may not use (a preview of a revision without one), for
   * which no new table would release it.
   */
  holdRequest(entry: HeldRequest & { holdDeadlineMs: number }, resolved: Resolved): boolean {
    const { route, hold } = resolved;
    if (hold === undefined || route.service === undefined || this.draining || resolved.endpoints.some(isPickable)) return false;
    const service = route.service;
    let state = this.holds.get(route.poolKey);
    if (state === undefined) {
      state = { service, queue: new HoldQueue(), gauge: this.deps.metrics.heldRequests.cell({ service }) };
      this.holds.set(route.poolKey, state);
    }
    const nowMs = performance.now();
    entry.holdDeadlineMs = nowMs + hold.holdTimeoutMs;
    if (!state.queue.push(entry, hold.maxQueue, nowMs)) {
      this.deps.metrics.heldRequestsTotal.inc({ service, result: 'overflow' });
      return false;
    }
    this.heldCount++;
    const held = state.queue.size;
    state.gauge.value = held;
    const onHold = this.deps.onHold;
    if (onHold !== undefined) {
      try {
        onHold(service, held);
      } catch (error) {
        this.deps.logger.error({ service, err: (error as Error).message }, 'onHold callback failed');
      }
    }
    return true;
  }

  /** A held client went away: out of the queue, no upstream request. */
  dropHeld(entry: HeldRequest, poolKey: string): void {
    const state = this.holds.get(poolKey);
    if (state === undefined || !state.queue.remove(entry)) return;
    this.heldCount--;
    state.gauge.value = state.queue.size;
    this.deps.metrics.heldRequestsTotal.inc({ service: state.service, result: 'client_gone' });
  }

  /** Called by the deadline sweep while anything is held: answers the holds that timed out. */
  private expireHolds(nowMs: number): void {
    for (const state of this.holds.values()) {
      if (state.queue.size === 0) continue;
      const expired = state.queue.takeExpired(nowMs);
      if (expired.length === 0) continue;
      this.heldCount -= expired.length;
      state.gauge.value = state.queue.size;
      this.deps.metrics.heldRequestsTotal.inc({ service: state.service, result: 'timeout' }, expired.length);
      for (const entry of expired) entry.expire();
    }
  }

  /**
   * After a table swap: a pool with a pickable endpoint ends its cold start and releases its
   * queue in arrival order (served); a pool that left the table or lost its hold releases its
   * queue too, to be answered as the normal path answers it now (404, 503; cancelled). A pool
   * still without endpoint keeps holding.
   */
  private settleHolds(table: RoutingTable): void {
    for (const [poolKey, state] of [...this.holds]) {
      const pool = table.pools.get(poolKey);
      const ready = pool !== undefined && pool.endpoints.some(isPickable);
      if (!ready && pool?.hold !== undefined) continue;
      this.holds.delete(poolKey);
      const { service, queue } = state;
      const coldStartMs = ready ? queue.endColdStart(performance.now()) : undefined;
      if (coldStartMs !== undefined) this.deps.metrics.coldStartSeconds.observe({ service }, coldStartMs / 1000);
      const released = queue.takeAll();
      state.gauge.value = 0;
      if (released.length === 0) continue;
      this.heldCount -= released.length;
      this.deps.metrics.heldRequestsTotal.inc({ service, result: ready ? 'served' : 'cancelled' }, released.length);
      for (const entry of released) entry.release();
    }
  }

  /** Shutdown: every held request is answered 503 at once, and no cold start is measured. */
  private refuseHeld(): void {
    const states = [...this.holds.values()];
    this.holds.clear();
    for (const { service, queue, gauge } of states) {
      const refused = queue.takeAll();
      gauge.value = 0;
      this.heldCount -= refused.length;
      if (refused.length > 0) this.deps.metrics.heldRequestsTotal.inc({ service, result: 'cancelled' }, refused.length);
      for (const entry of refused) entry.refuseShutdown();
    }
  }
}

const kForwarding = Symbol('forwarding');
type ResponseWithForwarding = ServerResponse & { [kForwarding]?: Forwarding };

/** Shared listeners (no closure per request): `this` is the response that emitted. */
function onResponseClose(this: ServerResponse): void {
  (this as ResponseWithForwarding)[kForwarding]?.onClientClose();
}

function onResponseDrain(this: ServerResponse): void {
  (this as ResponseWithForwarding)[kForwarding]?.resumeUpstream?.();
}

/**
 * One client request through its attempts; also the undici handler of the current attempt. A
 * request whose pool has no endpoint and holds (scale to zero) waits in the pool's queue first:
 * it is not in flight then (neither in the in-flight gauge nor in the shutdown drain), its body
 * stays unread, and its route's total timeout starts when it is released.
 */
class Forwarding implements Dispatcher.DispatchHandler, HeldRequest {
  private readonly proxy: ProxyServer;
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;
  /** Replaced once, when a held request is routed again on release. */
  private resolved: Resolved;
  private stats: RouteStats;
  /** Arrival: the request's duration counts from here, hold included. */
  private readonly startMs = performance.now();
  /** Endpoints tried so far: created on the first retry (most requests never need it). */
  private tried: Set<string> | undefined;
  private attempts = 0;
  private readonly idempotent: boolean;
  private readonly hasBody: boolean;
  private endpoint: Endpoint | undefined;
  /** Revision of the last endpoint tried: its measurements get this request. */
  private revision: string | undefined;
  private body: LazyBody | undefined;
  private abortAttempt: ((error: Error) => void) | undefined;
  private deadlineMs: number;
  /** While true the request sits in its pool's hold queue. */
  private holding = false;
  holdDeadlineMs = 0;
  private heldMs = 0;
  private responseStarted = false;
  private done = false;
  private timedOut = false;
  private isRetry = false;
  private lastError: ClassifiedError | undefined;

  constructor(proxy: ProxyServer, req: IncomingMessage, res: ServerResponse, resolved: Resolved) {
    this.proxy = proxy;
    this.req = req;
    this.res = res;
    this.resolved = resolved;
    this.stats = proxy.routeStats(resolved.route);
    this.idempotent = isIdempotent(req.method ?? 'GET');
    this.hasBody = resolved.prepared.hasBody;
    this.deadlineMs = this.startMs + resolved.route.timeouts.totalMs;
  }

  start(): void {
    (this.res as ResponseWithForwarding)[kForwarding] = this;
    // `on`, not `once`: the response lives for this request only, and `once` wraps the listener.
    this.res.on('close', onResponseClose);
    const endpoint = pickEndpoint(this.resolved);
    if (endpoint === undefined && this.resolved.hold !== undefined) {
      // Set first: onHold may swap in a table that releases this request at once.
      this.holding = true;
      if (this.proxy.holdRequest(this, this.resolved)) return;
      this.holding = false;
    }
    this.begin(endpoint);
  }

  private begin(endpoint: Endpoint | undefined): void {
    this.proxy.requestStarted(this.stats);
    this.proxy.active.add(this);
    this.attempt(endpoint);
  }

  private attempt(endpoint: Endpoint | undefined): void {
    const { route, prepared, upstreamPath } = this.resolved;
    this.attempts++;
    if (endpoint === undefined) {
      if (this.lastError !== undefined) this.fail(this.lastError);
      else this.finishWithError('DM_ERR_PROXY_NO_ENDPOINT', 503);
      return;
    }
    this.endpoint = endpoint;
    this.revision = endpoint.revision;
    this.proxy.endpointStarted(endpoint.id);
    this.body = this.hasBody ? new LazyBody(this.req) : undefined;
    const dispatcher = this.proxy.pools.get(endpoint.origin, route.timeouts.connectMs);
    dispatcher.dispatch(
      {
        origin: endpoint.origin,
        path: upstreamPath,
        method: (this.req.method ?? 'GET'),
        headers: prepared.headers,
        body: this.body ?? null,
        // The head must come within what is left of the route's total time.
        headersTimeout: Math.max(1, Math.min(route.timeouts.responseHeadersMs, Math.ceil(this.deadlineMs - performance.now()))),
        bodyTimeout: route.timeouts.bodyIdleMs,
        // A draining endpoint's connection is not reused after this request.
        reset: endpoint.draining,
      },
      this,
    );
  }

  // --- undici handler ---------------------------------------------------------------------

  onConnect(abort: (error?: Error) => void): void {
    if (this.done) {
      abort(new Error('client went away'));
      return;
    }
    this.abortAttempt = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.done) return false;
    const headers = filterResponseHeaders(rawHeaders);
    headers.push('x-request-id', this.resolved.prepared.requestId);
    if (this.resolved.setCookie !== undefined) headers.push('set-cookie', this.resolved.setCookie);
    if (this.proxy.isDraining()) headers.push('connection', 'close');
    this.responseStarted = true;
    const outliers = this.proxy.deps.outliers;
    if (outliers !== undefined && this.endpoint !== undefined) {
      if (statusCode >= 500 && this.resolved.route.ejectOn5xx) outliers.failure(this.resolved.route.poolKey, this.endpoint.id, this.endpoint.origin, this.resolved.endpoints.length);
      else outliers.success(this.resolved.route.poolKey, this.endpoint.id);
    }
    this.res.writeHead(statusCode, statusText || undefined, headers);
    this.resumeUpstream = resume;
    return true;
  }

  resumeUpstream: (() => void) | undefined;

  onData(chunk: Buffer): boolean {
    if (this.done) return false;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', onResponseDrain);
    return false;
  }

  onComplete(): void {
    this.endAttempt();
    if (this.done) return;
    this.res.end();
    this.finish(this.res.statusCode);
  }

  onError(error: Error): void {
    const failedEndpoint = this.endpoint;
    this.endAttempt();
    if (this.done) return; // the client went away: says nothing about the endpoint
    const classified = this.timedOut ? classifyUpstreamError({ code: 'DM_TOTAL_TIMEOUT' }) : classifyUpstreamError(error);
    const { route } = this.resolved;
    if (failedEndpoint !== undefined) {
      this.proxy.deps.outliers?.failure(route.poolKey, failedEndpoint.id, failedEndpoint.origin, this.resolved.endpoints.length);
      // A retry goes elsewhere; only a failed request pays for remembering where it went.
      (this.tried ??= new Set()).add(failedEndpoint.id);
    }
    const service = route.service ?? '';
    this.proxy.deps.metrics.upstreamErrorsTotal.inc({ route: route.name, service, kind: classified.kind });
    this.proxy.deps.logger.warn(
      { route: route.name, endpoint: failedEndpoint?.origin, kind: classified.kind, code: (error as NodeJS.ErrnoException).code, requestId: this.resolved.prepared.requestId, err: error.message },
      'upstream attempt failed',
    );
    this.lastError = classified;
    if (!this.timedOut && this.attempts <= route.retries) {
      const verdict = shouldRetry({
        error: classified,
        responseStarted: this.responseStarted,
        bodyConsumed: this.body?.consumed ?? false,
        idempotent: this.idempotent,
      });
      if (verdict.retry) {
        if (!spendsRetryBudget(verdict) || retryAllowed(this.proxy.requestsInFlight, this.proxy.retriesInFlight, this.proxy.deps.retryBudget)) {
          this.proxy.deps.metrics.retriesTotal.inc({ route: route.name, service, reason: verdict.reason });
          if (!this.isRetry) {
            this.isRetry = true;
            this.proxy.retriesInFlight++;
          }
          this.attempt(pickEndpoint(this.resolved, this.tried));
          return;
        }
        this.proxy.deps.metrics.retryBudgetExhaustedTotal.inc({ route: route.name, service });
      }
    }
    this.fail(classified);
  }

  // --- endings ------------------------------------------------------------------------------

  private endAttempt(): void {
    this.abortAttempt = undefined;
    if (this.endpoint !== undefined) {
      this.proxy.endpointFinished(this.endpoint.id);
      this.endpoint = undefined;
    }
    if (this.body !== undefined && !this.body.destroyed) this.body.destroy();
    this.body = undefined;
  }

  private fail(error: ClassifiedError): void {
    if (this.responseStarted) {
      // Bytes already went out: the client must see a truncated response, never a short 200.
      this.finish(this.res.statusCode);
      this.res.destroy();
      return;
    }
    this.finishWithError(error.code, error.status);
  }

  private finishWithError(code: ErrorCode, status: number): void {
    sendError(this.res, code, this.resolved.prepared.requestId, this.mustClose(), code === 'DM_ERR_PROXY_NO_ENDPOINT' ? ['retry-after', '1'] : [], status);
    this.finish(status);
  }

  /** The request body may be unread: close the connection rather than desync it. */
  private mustClose(): boolean {
    return this.proxy.isDraining() || (this.hasBody && !this.req.readableEnded);
  }

  // --- held (HeldRequest, called by the proxy's hold queue) -----------------------------------

  release(): void {
    if (!this.holding) return;
    this.holding = false;
    const nowMs = performance.now();
    this.heldMs = nowMs - this.startMs;
    if (this.req.socket.destroyed) {
      // The client left in the same turn (its close event is still on its way): nothing upstream.
      this.proxy.requestStarted(this.stats);
      this.finish(499);
      return;
    }
    // Routed afresh: the new table's endpoints, picker and split; the request keeps its id.
    const resolution = this.proxy.resolve(this.req, false, this.resolved.prepared.requestId);
    if (!resolution.ok) {
      // The route went away while the request waited: answered as a new request would be.
      this.done = true;
      this.proxy.deps.metrics.rejectedRequestsTotal.inc({ reason: resolution.reason });
      sendError(this.res, resolution.code, resolution.requestId, this.mustClose());
      return;
    }
    this.resolved = resolution.value;
    this.stats = this.proxy.routeStats(resolution.value.route);
    this.deadlineMs = nowMs + resolution.value.route.timeouts.totalMs;
    this.begin(pickEndpoint(this.resolved));
  }

  expire(): void {
    this.endHold('DM_ERR_PROXY_NO_ENDPOINT');
  }

  refuseShutdown(): void {
    this.endHold('DM_ERR_PROXY_SHUTTING_DOWN');
  }

  /** A hold that ends without an upstream request is still a request of its route: counted. */
  private endHold(code: ErrorCode): void {
    if (!this.holding) return;
    this.holding = false;
    this.heldMs = performance.now() - this.startMs;
    this.proxy.requestStarted(this.stats);
    this.finishWithError(code, 503);
  }

  private finish(status: number): void {
    if (this.done) return;
    this.done = true;
    this.proxy.active.delete(this);
    if (this.isRetry) this.proxy.retriesInFlight--;
    const { route } = this.resolved;
    const method = this.req.method ?? 'GET';
    const seconds = (performance.now() - this.startMs) / 1000;
    this.proxy.requestFinished(route, this.stats, method, status, seconds, this.revision, this.heldMs / 1000);
    if (this.proxy.deps.accessLog) {
      this.proxy.deps.logger.info(
        { route: route.name, method, path: this.resolved.upstreamPath, status, durationMs: Math.round(seconds * 1000), requestId: this.resolved.prepared.requestId },
        'access',
      );
    }
  }

  /** Called by the proxy's deadline sweep. */
  checkDeadline(nowMs: number): void {
    if (nowMs >= this.deadlineMs) this.onTotalTimeout();
  }

  private onTotalTimeout(): void {
    if (this.done) return;
    this.timedOut = true;
    if (this.abortAttempt !== undefined) {
      this.abortAttempt(Object.assign(new Error('route timeout'), { code: 'DM_TOTAL_TIMEOUT' }));
    } else {
      this.fail(classifyUpstreamError({ code: 'DM_TOTAL_TIMEOUT' }));
    }
  }

  onClientClose(): void {
    if (this.done) return;
    if (this.holding) {
      this.holding = false;
      this.heldMs = performance.now() - this.startMs;
      this.proxy.dropHeld(this, this.resolved.route.poolKey);
      this.proxy.requestStarted(this.stats);
      this.finish(499);
      return;
    }
    // The client went away before the response ended: abort upstream at once.
    const abort = this.abortAttempt;
    this.finish(499);
    abort?.(new Error('client aborted'));
  }
}
