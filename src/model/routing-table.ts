// The immutable routing table: compiled routes in match order plus their endpoint pools. Pure.
import type { Endpoint } from './endpoint.js';
import type { CompiledRoute } from './route.js';

/** One revision's share of a split pool, and its endpoints (a subset of the pool's). */
export interface RevisionGroup {
  readonly revision: string;
  /** Share of new requests, 0..100; 0 takes none by weight (preview and fallback still may). */
  readonly percent: number;
  /** The pool's endpoints of this revision: the very objects of `Pool.endpoints`. */
  readonly endpoints: readonly Endpoint[];
  /** When the split is sticky: the cookie value naming this revision, and the whole
   * `Set-Cookie` header value that pins a client here. */
  readonly cookieValue?: string | undefined;
  readonly setCookie?: string | undefined;
}

/** A service's traffic split between revisions (TrafficSplit), compiled against its pool. */
export interface CompiledSplit {
  /** In the order of the split's weights, then the preview revision when it has no weight. */
  readonly groups: readonly RevisionGroup[];
  /** Requests carrying `header: value` go to `group` only; `header` is lower case. */
  readonly preview?: { readonly header: string; readonly value: string; readonly group: RevisionGroup } | undefined;
  /** Name of the cookie that pins a client to a revision. */
  readonly stickyCookie?: string | undefined;
}

/**
 * How requests wait for a service that has no ready replica (scale to zero): at most `maxQueue`
 * held at once, each for at most `holdTimeoutMs`; beyond either, 503 with `Retry-After`.
 */
export interface HoldSettings {
  /** At least 1. */
  readonly maxQueue: number;
  /** Above 0. */
  readonly holdTimeoutMs: number;
}

/** The endpoints behind one route target (a service, or a route's static upstreams). */
export interface Pool {
  readonly key: string;
  /** The whole pool, every revision: status, health metrics, passive health and the fallback
   * of a split use it. */
  readonly endpoints: readonly Endpoint[];
  /** Present while the service's traffic is split between revisions (blue-green, canary). */
  readonly split?: CompiledSplit | undefined;
  /** Present when requests finding no pickable endpoint wait for one instead of failing. */
  readonly hold?: HoldSettings | undefined;
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
