// Finds the route a request matches in a RoutingTable, and strips a route's prefix. Pure: runs on
// every request, so it allocates nothing beyond a normalised host string and compiles no regex.
import type { CompiledRoute, HostMatch } from '../model/route.js';
import type { RoutingTable } from '../model/routing-table.js';

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Per-table lookup: routes to try for a known exact host, and for any other host. */
interface MatchIndex {
  readonly byExactHost: ReadonlyMap<string, readonly CompiledRoute[]>;
  readonly others: readonly CompiledRoute[];
}

// Keyed by the table object: a table is immutable, so its index is built once (at compile time
// via primeMatchIndex, or lazily for tables built elsewhere) and dropped with the table.
const indexes = new WeakMap<RoutingTable, MatchIndex>();

function buildIndex(routes: readonly CompiledRoute[]): MatchIndex {
  const others = routes.filter((r) => r.host.kind !== 'exact');
  const byExactHost = new Map<string, readonly CompiledRoute[]>();
  for (const route of routes) {
    if (route.host.kind !== 'exact' || byExactHost.has(route.host.host)) continue;
    const host = route.host.host;
    // Keep the table's order: the exact routes of this host and every non-exact route.
    byExactHost.set(host, routes.filter((r) => r.host.kind !== 'exact' || r.host.host === host));
  }
  return { byExactHost, others };
}

function indexFor(table: RoutingTable): MatchIndex {
  let index = indexes.get(table);
  if (index === undefined) {
    index = buildIndex(table.routes);
    indexes.set(table, index);
  }
  return index;
}

/** Builds the lookup index of a freshly compiled table so the first request does not pay. */
export function primeMatchIndex(table: RoutingTable): void {
  indexFor(table);
}

/**
 * Host header to the form routes are compiled to: port stripped (also after an IPv6 literal
 * `[::1]:8080`), lower case, one trailing dot dropped. Returns undefined for an empty host.
 * Returns the input itself when it is already normal, which is the common case.
 */
export function normalizeHost(host: string | undefined): string | undefined {
  if (host === undefined || host.length === 0) return undefined;
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    if (close !== -1) end = close + 1;
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) end = colon;
  }
  if (end > 0 && host.charCodeAt(end - 1) === 46 /* . */) end -= 1;
  let hasUpper = false;
  for (let i = 0; i < end; i++) {
    const c = host.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      hasUpper = true;
      break;
    }
  }
  if (end === 0) return undefined;
  const trimmed = end === host.length ? host : host.slice(0, end);
  return hasUpper ? trimmed.toLowerCase() : trimmed;
}

function hostMatches(match: HostMatch, host: string | undefined): boolean {
  switch (match.kind) {
    case 'any':
      return true;
    case 'exact':
      return host === match.host;
    case 'wildcard':
      // `.example.com` needs at least one character before it: `example.com` does not match.
      return host !== undefined && host.length > match.suffix.length && host.endsWith(match.suffix);
  }
}

/** Segment-boundary prefix: `/api` matches `/api`, `/api/`, `/api/x`, never `/apix`. A prefix
 * ending in `/` matches as a plain prefix; `/` matches every path. */
export function pathMatchesPrefix(prefix: string, path: string): boolean {
  const length = prefix.length;
  if (length <= 1) return true;
  if (!path.startsWith(prefix)) return false;
  if (path.length === length) return true;
  if (prefix.charCodeAt(length - 1) === 47 /* / */) return true;
  return path.charCodeAt(length) === 47;
}

function headersMatch(conditions: CompiledRoute['headers'], source: RequestHeaders | (() => RequestHeaders)): boolean {
  if (conditions.length === 0) return true;
  const headers = typeof source === 'function' ? source() : source;
  for (let i = 0; i < conditions.length; i++) {
    const condition = conditions[i] as readonly [string, string];
    const actual = headers[condition[0]];
    if (typeof actual === 'string') {
      if (actual !== condition[1]) return false;
    } else if (actual === undefined || !actual.includes(condition[1])) {
      return false;
    }
  }
  return true;
}

/**
 * The first route of the table (most specific first) whose host, path prefix and header
 * conditions all match. `path` is the normalised path without query string; header names are
 * lower case, as node:http gives them. `headers` may be a function, called only when a route
 * has header conditions (node:http builds its headers object lazily: most requests never need it).
 */
export function matchRoute(
  table: RoutingTable,
  host: string | undefined,
  path: string,
  headers: RequestHeaders | (() => RequestHeaders),
): CompiledRoute | undefined {
  const index = indexFor(table);
  const normalHost = normalizeHost(host);
  const candidates = normalHost === undefined ? index.others : (index.byExactHost.get(normalHost) ?? index.others);
  for (let i = 0; i < candidates.length; i++) {
    const route = candidates[i] as CompiledRoute;
    if (hostMatches(route.host, normalHost) && pathMatchesPrefix(route.pathPrefix, path) && headersMatch(route.headers, headers)) {
      return route;
    }
  }
  return undefined;
}

/**
 * The path the upstream sees when the route strips its prefix: `/api/x` with prefix `/api` is
 * `/x`, `/api` is `/`. A path the prefix does not cover is returned unchanged.
 */
export function stripRoutePrefix(route: Pick<CompiledRoute, 'pathPrefix'>, path: string): string {
  const prefix = route.pathPrefix;
  const keep = prefix.endsWith('/') ? prefix.length - 1 : prefix.length;
  if (keep === 0 || !pathMatchesPrefix(prefix, path)) return path;
  const rest = path.slice(keep);
  return rest === '' ? '/' : rest;
}
