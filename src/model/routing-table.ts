// The immutable routing table: compiled routes in match order plus their endpoint pools. Pure.
import type { Endpoint } from './endpoint.js';
import type { CompiledRoute } from './route.js';

/** The endpoints behind one route target (a service, or a route's static upstreams). */
export interface Pool {
  readonly key: string;
  readonly endpoints: readonly Endpoint[];
}

/**
 * Published whole and swapped atomically: a request reads the current table once and uses
 * only that version, so it never sees half of an update.
 */
export interface RoutingTable {
  readonly version: number;
  /** Most specific first: exact host, then wildcard (longer suffix first), then any host; within
   * a host, longer path prefix first; then more header conditions first. */
  readonly routes: readonly CompiledRoute[];
  readonly pools: ReadonlyMap<string, Pool>;
}

export const EMPTY_TABLE: RoutingTable = { version: 0, routes: [], pools: new Map() };
