// Plain endpoint types shared by every layer. Pure: no I/O.

/** Where an endpoint came from. Later providers (docker, consul) add to this. */
export type EndpointSource = 'static' | 'managed' | 'docker' | 'consul';

/**
 * One upstream address a request can be forwarded to. Immutable once published in a table;
 * health and drain state are decided by the layers that build the table, not by the proxy.
 */
export interface Endpoint {
  /** Stable identity across table versions (replica id, or the URL for static upstreams). */
  readonly id: string;
  /** Origin only: `http://127.0.0.1:3001` (no path). */
  readonly origin: string;
  /** Relative weight for the weighted picker; 0 takes no new traffic. Default 1. */
  readonly weight: number;
  /** Template revision (managed replicas) or version tag (registries); undefined for static. */
  readonly revision?: string | undefined;
  readonly source: EndpointSource;
  /** False while failing health checks or ejected: never picked (unless the pool panics). */
  readonly healthy: boolean;
  /** True while leaving: never picked, its keep-alive connections are closed after use. */
  readonly draining: boolean;
}

/** True when the picker may choose this endpoint for a new request. */
export function isPickable(endpoint: Endpoint): boolean {
  return endpoint.healthy && !endpoint.draining && endpoint.weight > 0;
}
