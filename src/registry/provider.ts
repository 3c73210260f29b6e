// The endpoint provider interface: a source of endpoints that dockmaster did not start itself
// (Docker labels, Consul) publishes its whole view as one snapshot, and reports whether that
// view is fresh. Types only.
import type { EndpointSnapshot } from '../endpoints/endpoint-set.js';

export type ProviderName = 'managed' | 'docker' | 'consul';

export interface ProviderStatus {
  readonly provider: ProviderName;
  /** False while the source cannot be read: the last good snapshot stays in use (stale). */
  readonly up: boolean;
  /** Unix ms of the last successful read (undefined before the first). */
  readonly lastSyncMs?: number | undefined;
  readonly lastError?: string | undefined;
  /** Entries skipped from the last read (bad port, missing address, duplicate id), with why. */
  readonly skipped: readonly { readonly id: string; readonly reason: string }[];
}

export interface ProviderSink {
  /** The provider's whole current view, service -> endpoints. Never called with a partial view;
   * an error keeps the previous snapshot (last-known-good). */
  publish(snapshot: EndpointSnapshot): void;
  status(status: ProviderStatus): void;
}

export interface EndpointProvider {
  readonly name: ProviderName;
  /** Starts watching; resolves after the first attempt (successful or not): never throws for an
   * unreachable source, which is reported as a status with `up: false` and retried with backoff. */
  start(sink: ProviderSink): Promise<void>;
  /** The services that routes name, for providers that watch per service (Consul). */
  setWantedServices?(services: ReadonlySet<string>): void;
  close(): Promise<void>;
}
