// Route types: what a validated route file says, and the compiled form the proxy matches on. Pure.

export type LoadBalancerKind = 'round-robin' | 'weighted' | 'least-request';

export interface UpstreamSpec {
  readonly url: string;
  readonly weight?: number | undefined;
}

/** A route as written in routes/*.yaml or PUT /v1/routes/:name, after schema validation. */
export interface RouteSpec {
  readonly kind: 'Route';
  readonly name: string;
  readonly match: {
    readonly host?: string | undefined;
    readonly pathPrefix?: string | undefined;
    readonly headers?: Readonly<Record<string, string>> | undefined;
  };
  readonly service?: string | undefined;
  readonly upstreams?: readonly UpstreamSpec[] | undefined;
  readonly stripPrefix?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
  readonly retries?: number | undefined;
  readonly loadBalancer?: LoadBalancerKind | undefined;
  /** Count 5xx answers as failures for passive health (connect errors, resets and timeouts
   * always count). */
  readonly ejectOn5xx?: boolean | undefined;
}

/** How a route's host pattern matches: exact name, `*.suffix` wildcard, or any host. */
export type HostMatch =
  | { readonly kind: 'any' }
  | { readonly kind: 'exact'; readonly host: string }
  | { readonly kind: 'wildcard'; readonly suffix: string };

/** Per-route timeouts, all in milliseconds. */
export interface RouteTimeouts {
  readonly connectMs: number;
  readonly responseHeadersMs: number;
  readonly bodyIdleMs: number;
  /** Whole request, from arrival to the last response byte. */
  readonly totalMs: number;
}

/** A route ready for matching: normalised, defaults filled in, pointing at a pool by key. */
export interface CompiledRoute {
  readonly name: string;
  readonly host: HostMatch;
  /** Always starts with `/`; `/` matches everything. */
  readonly pathPrefix: string;
  /** Lower-case header names to exact values; all must match. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Key into RoutingTable.pools: `service:NAME` or `route:NAME` for static upstreams. */
  readonly poolKey: string;
  readonly service?: string | undefined;
  readonly stripPrefix: boolean;
  readonly timeouts: RouteTimeouts;
  /** Extra attempts after the first, on other endpoints where possible. */
  readonly retries: number;
  readonly loadBalancer: LoadBalancerKind;
  readonly ejectOn5xx: boolean;
}
