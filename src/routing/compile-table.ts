// Compiles validated route specs and endpoint pools into an immutable RoutingTable, most specific
// route first. Pure: no I/O, no clock.
import type { Endpoint } from '../model/endpoint.js';
import type { CompiledRoute, HostMatch, LoadBalancerKind, RouteSpec, RouteTimeouts } from '../model/route.js';
import type { CompiledSplit, HoldSettings, Pool, RevisionGroup, RoutingTable } from '../model/routing-table.js';
import type { TrafficSplit } from '../model/traffic.js';
import { primeMatchIndex } from './match-route.js';

/** Defaults for fields a route may leave out; the route schema declares the same values. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 30_000;
export const DEFAULT_ROUTE_RETRIES = 2;
export const DEFAULT_LOAD_BALANCER: LoadBalancerKind = 'round-robin';
export const DEFAULT_STRIP_PREFIX = false;
export const DEFAULT_UPSTREAM_WEIGHT = 1;
/** Connecting never needs long on a LAN; a dead address should fail over fast. */
export const MAX_CONNECT_TIMEOUT_MS = 5_000;
/** A body that stalls this long is treated as dead even when the total budget is larger. */
export const MAX_BODY_IDLE_TIMEOUT_MS = 30_000;

export function poolKeyForService(service: string): string {
  return `service:${service}`;
}

export function poolKeyForRoute(route: string): string {
  return `route:${route}`;
}

/** Derives the per-phase timeouts from a route's total budget. */
export function routeTimeouts(totalMs: number): RouteTimeouts {
  return Object.freeze({
    connectMs: Math.min(MAX_CONNECT_TIMEOUT_MS, totalMs),
    responseHeadersMs: totalMs,
    bodyIdleMs: Math.min(totalMs, MAX_BODY_IDLE_TIMEOUT_MS),
    totalMs,
  });
}

/** Lower-cases a host pattern and drops one trailing dot; `*.x` becomes a `.x` suffix match. */
export function compileHostMatch(host: string | undefined): HostMatch {
  if (host === undefined || host === '' || host === '*') return { kind: 'any' };
  let h = host.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.startsWith('*.')) return { kind: 'wildcard', suffix: h.slice(1) };
  return { kind: 'exact', host: h };
}

function hostRank(host: HostMatch): number {
  return host.kind === 'exact' ? 0 : host.kind === 'wildcard' ? 1 : 2;
}

/** Negative when `a` must be tried before `b`: the order documented on RoutingTable.routes. */
export function compareRouteSpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const rank = hostRank(a.host) - hostRank(b.host);
  if (rank !== 0) return rank;
  if (a.host.kind === 'wildcard' && b.host.kind === 'wildcard') {
    const suffix = b.host.suffix.length - a.host.suffix.length;
    if (suffix !== 0) return suffix;
  }
  const prefix = b.pathPrefix.length - a.pathPrefix.length;
  if (prefix !== 0) return prefix;
  const headers = b.headers.length - a.headers.length;
  if (headers !== 0) return headers;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function staticEndpoints(spec: RouteSpec): readonly Endpoint[] {
  const endpoints: Endpoint[] = [];
  const seen = new Set<string>();
  for (const upstream of spec.upstreams ?? []) {
    const origin = new URL(upstream.url).origin;
    // Validation refuses duplicates; a second one here would break endpoint identity, so skip it.
    if (seen.has(origin)) continue;
    seen.add(origin);
    endpoints.push(
      Object.freeze({
        id: origin,
        origin,
        weight: upstream.weight ?? DEFAULT_UPSTREAM_WEIGHT,
        source: 'static',
        healthy: true,
        draining: false,
      }),
    );
  }
  return Object.freeze(endpoints);
}

export function compileRoute(spec: RouteSpec): CompiledRoute {
  const headers = Object.entries(spec.match.headers ?? {})
    .map(([name, value]) => Object.freeze([name.toLowerCase(), value] as const))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.freeze({
    name: spec.name,
    host: Object.freeze(compileHostMatch(spec.match.host)),
    pathPrefix: spec.match.pathPrefix ?? '/',
    headers: Object.freeze(headers),
    poolKey: spec.service !== undefined ? poolKeyForService(spec.service) : poolKeyForRoute(spec.name),
    service: spec.service,
    stripPrefix: spec.stripPrefix ?? DEFAULT_STRIP_PREFIX,
    timeouts: routeTimeouts(spec.timeoutMs ?? DEFAULT_ROUTE_TIMEOUT_MS),
    retries: spec.retries ?? DEFAULT_ROUTE_RETRIES,
    loadBalancer: spec.loadBalancer ?? DEFAULT_LOAD_BALANCER,
    ejectOn5xx: spec.ejectOn5xx ?? false,
  });
}

/** The `Set-Cookie` value that pins a client to `revision` (a session cookie, whole site). */
export function stickySetCookie(cookie: string, revision: string): string {
  return `${cookie}=${stickyCookieValue(revision)}; Path=/; HttpOnly; SameSite=Lax`;
}

/** Revisions are hex hashes or version tags; anything a cookie cannot carry is %-encoded. */
export function stickyCookieValue(revision: string): string {
  return /^[A-Za-z0-9._~-]+$/.test(revision) ? revision : encodeURIComponent(revision);
}

function sharePercent(percent: number): number {
  return Number.isFinite(percent) && percent > 0 ? percent : 0;
}

function revisionGroup(revision: string, percent: number, endpoints: readonly Endpoint[], cookie: string | undefined): RevisionGroup {
  return Object.freeze({
    revision,
    percent,
    endpoints: Object.freeze(endpoints.filter((e) => e.revision === revision)),
    cookieValue: cookie === undefined ? undefined : stickyCookieValue(revision),
    setCookie: cookie === undefined ? undefined : stickySetCookie(cookie, revision),
  });
}

function groupSplit(
  shares: ReadonlyArray<{ readonly revision: string; readonly percent: number }>,
  preview: { readonly header: string; readonly value: string; readonly revision: string } | undefined,
  cookie: string | undefined,
  endpoints: readonly Endpoint[],
): CompiledSplit {
  const groups: RevisionGroup[] = [];
  for (const { revision, percent } of shares) {
    // A revision named twice keeps its first weight (validation refuses it anyway).
    if (groups.some((g) => g.revision === revision)) continue;
    groups.push(revisionGroup(revision, sharePercent(percent), endpoints, cookie));
  }
  let previewGroup: RevisionGroup | undefined;
  if (preview !== undefined) {
    previewGroup = groups.find((g) => g.revision === preview.revision);
    if (previewGroup === undefined) {
      previewGroup = revisionGroup(preview.revision, 0, endpoints, cookie);
      groups.push(previewGroup);
    }
  }
  return Object.freeze({
    groups: Object.freeze(groups),
    preview: preview === undefined || previewGroup === undefined ? undefined : Object.freeze({ header: preview.header.toLowerCase(), value: preview.value, group: previewGroup }),
    stickyCookie: cookie,
  });
}

/**
 * Groups a pool's endpoints by the revisions of a traffic split. Endpoints of revisions the split
 * does not name stay in the pool only (reachable by fallback); a preview revision without a
 * weight gets a group at 0%. Worked example: weights stable 80, canary 20 over endpoints s1, s2
 * (stable) and c1 (canary) gives groups stable 80 [s1, s2] and canary 20 [c1].
 */
export function compileSplit(traffic: TrafficSplit, endpoints: readonly Endpoint[]): CompiledSplit {
  const cookie = traffic.stickyCookie === undefined || traffic.stickyCookie === '' ? undefined : traffic.stickyCookie;
  return groupSplit(traffic.weights, traffic.preview, cookie, endpoints);
}

/** The same split over a new array of the pool's endpoints (after the health overlay), so that
 * the groups hold the very endpoint objects the pool publishes. */
export function regroupSplit(split: CompiledSplit, endpoints: readonly Endpoint[]): CompiledSplit {
  const preview = split.preview === undefined ? undefined : { header: split.preview.header, value: split.preview.value, revision: split.preview.group.revision };
  return groupSplit(split.groups, preview, split.stickyCookie, endpoints);
}

/**
 * The hold settings a pool gets, or undefined when they cannot hold anything: a queue below 1
 * or a timeout that is not above 0 (validation refuses both; a caller that skips it gets the
 * plain 503 of a pool without hold). A fractional queue size is rounded down.
 */
export function compileHold(hold: HoldSettings | undefined): HoldSettings | undefined {
  if (hold === undefined) return undefined;
  const maxQueue = Math.floor(hold.maxQueue);
  if (!(maxQueue >= 1) || !(hold.holdTimeoutMs > 0) || !Number.isFinite(hold.holdTimeoutMs)) return undefined;
  return Object.freeze({ maxQueue, holdTimeoutMs: hold.holdTimeoutMs });
}

/** A pool with other endpoints (after the health overlay), keeping its split and hold. */
export function poolWithEndpoints(pool: Pool, endpoints: readonly Endpoint[]): Pool {
  const out: { key: string; endpoints: readonly Endpoint[]; split?: CompiledSplit; hold?: HoldSettings } = { key: pool.key, endpoints };
  if (pool.split !== undefined) out.split = regroupSplit(pool.split, endpoints);
  if (pool.hold !== undefined) out.hold = pool.hold;
  return out;
}

/**
 * Builds a table from specs that already passed validation (validateRouteSpec and
 * checkRouteSet). Static upstreams become the pool `route:NAME`; a `service` route points at
 * `service:NAME`, filled from `serviceEndpoints` (an empty pool until the service has some),
 * split between revisions by `traffic` when the service has a TrafficSplit, and holding
 * requests while it has no pickable endpoint when `holds` names it (scale to zero).
 */
export function compileTable(
  specs: readonly RouteSpec[],
  serviceEndpoints: ReadonlyMap<string, readonly Endpoint[]>,
  version: number,
  traffic?: ReadonlyMap<string, TrafficSplit>,
  holds?: ReadonlyMap<string, HoldSettings>,
): RoutingTable {
  const routes = specs.map(compileRoute).sort(compareRouteSpecificity);
  const pools = new Map<string, Pool>();
  for (const spec of specs) {
    if (spec.service !== undefined) {
      const key = poolKeyForService(spec.service);
      if (!pools.has(key)) {
        const endpoints = Object.freeze([...(serviceEndpoints.get(spec.service) ?? [])]);
        const split = traffic?.get(spec.service);
        const hold = compileHold(holds?.get(spec.service));
        const pool: { key: string; endpoints: readonly Endpoint[]; split?: CompiledSplit; hold?: HoldSettings } = { key, endpoints };
        if (split !== undefined) pool.split = compileSplit(split, endpoints);
        if (hold !== undefined) pool.hold = hold;
        pools.set(key, Object.freeze(pool));
      }
    } else {
      const key = poolKeyForRoute(spec.name);
      pools.set(key, Object.freeze({ key, endpoints: staticEndpoints(spec) }));
    }
  }
  const table: RoutingTable = Object.freeze({ version, routes: Object.freeze(routes), pools });
  primeMatchIndex(table);
  return table;
}
