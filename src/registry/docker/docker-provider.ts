// DockerProvider: containers dockmaster did not start, labelled `<prefix>.service=NAME`, as endpoints
// of NAME. Does I/O (Docker API): lists on start, on every /events (re)connect, on relevant events
// (coalesced) and each minute; publishes whole snapshots, keeps the last good one on errors.
import Dockerode from 'dockerode';
import type { DockerProviderConfig } from '../../model/gateway.js';
import type { Logger } from '../../observability/logger.js';
import { DockerEventFollower, errorText } from '../../runtime/docker/docker-events.js';
import type { EndpointProvider, ProviderSink, ProviderStatus } from '../provider.js';
import { decideResync, isResyncEvent, resyncEventFilters } from './resync-events.js';
import { dockerConnectionFor } from './docker-host.js';
import { dockerLabelKeys, translateContainers, type ContainerInspect, type SkippedContainer } from './translate-containers.js';

export interface DockerProviderOptions {
  readonly logger: Logger;
  /** Default: a client for `config.host` (else DOCKER_HOST or the local socket). Tests inject one
   * for a private socket. Never pins an API version. */
  readonly docker?: Dockerode;
  readonly config: DockerProviderConfig;
  /** Wall clock for `lastSyncMs`. Coalescing uses the monotonic clock its timers run on. */
  readonly nowMs?: () => number;
  /** Jitter of the reconnect backoff. */
  readonly random?: () => number;
  /** Events coalesce: event-driven lists start at most once per this (the first at once). Default 100 ms. */
  readonly minResyncIntervalMs?: number;
  /** Reconnect backoff doubles from initial to max, scaled by 0.5..1. Default 200 ms .. 5 s. */
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  /** Upper bound for one list with its inspects; a list that takes longer counts as failed. Default 10 s. */
  readonly listTimeoutMs?: number;
  /** Lists again this often while connected, even without events: a safety net should a daemon
   * drop or filter an event differently. Default 60 s; 0 turns it off. */
  readonly resyncEveryMs?: number;
}

/** Inspects in flight at once during one list. */
const INSPECT_CONCURRENCY = 8;

interface DockerApiError {
  readonly statusCode?: number;
}

export class DockerProvider implements EndpointProvider {
  readonly name = 'docker' as const;
  private readonly docker: Dockerode;
  private readonly logger: Logger;
  private readonly labelPrefix: string;
  private readonly nowMs: () => number;
  private readonly minResyncIntervalMs: number;
  private readonly listTimeoutMs: number;
  private readonly resyncEveryMs: number;
  private readonly follower: DockerEventFollower;

  private sink: ProviderSink | undefined;
  private readonly firstAttempt: Promise<void>;
  private settleFirstAttempt: () => void = () => undefined;
  /** Lists run one at a time, in order: a newer list always lands after an older one. */
  private listTail: Promise<void> = Promise.resolve();
  private resyncPending = false;
  private resyncRunning = false;
  private lastResyncStartMs: number | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private periodicTimer: NodeJS.Timeout | undefined;
  /** True between a successful connect (stream open, listed) and the next disconnect. */
  private connected = false;
  private lastSyncMs: number | undefined;
  private skipped: readonly SkippedContainer[] = [];
  /** Aborts a list in flight at close(). */
  private readonly closing = new AbortController();
  private closed = false;

  constructor(options: DockerProviderOptions) {
    const connection = dockerConnectionFor(options.config.host);
    this.docker = options.docker ?? (connection === undefined ? new Dockerode() : new Dockerode(connection));
    this.logger = options.logger.child({ provider: 'docker' });
    this.labelPrefix = options.config.labelPrefix;
    this.nowMs = options.nowMs ?? Date.now;
    this.minResyncIntervalMs = options.minResyncIntervalMs ?? 100;
    this.listTimeoutMs = options.listTimeoutMs ?? 10_000;
    this.resyncEveryMs = options.resyncEveryMs ?? 60_000;
    this.firstAttempt = new Promise<void>((resolve) => {
      this.settleFirstAttempt = resolve;
    });
    // Level-triggered: no `since` replay; every (re)connect lists everything again.
    this.follower = new DockerEventFollower({
      docker: this.docker,
      logger: this.logger,
      filters: resyncEventFilters(this.labelPrefix),
      onEvent: (event) => {
        if (isResyncEvent(event, this.labelPrefix)) this.requestResync();
      },
      onConnected: async (reconnected) => {
        await this.listSerially();
        this.connected = true;
        if (reconnected) this.logger.info('docker event stream reconnected; re-listed');
        this.settleFirstAttempt();
      },
      onDisconnected: (error) => {
        this.connected = false;
        this.reportDown(error === undefined ? 'docker event stream ended' : errorText(error));
        this.settleFirstAttempt();
      },
      reconnectInitialMs: options.reconnectInitialMs ?? 200,
      reconnectMaxMs: options.reconnectMaxMs ?? 5_000,
      random: options.random ?? Math.random,
    });
  }

  /** Lists, publishes and follows events; resolves after the first list or the first failure
   * (reported as `up: false`, retried with backoff). */
  async start(sink: ProviderSink): Promise<void> {
    if (!this.sink && !this.closed) {
      this.sink = sink;
      this.follower.start();
      if (this.resyncEveryMs > 0) {
        this.periodicTimer = setInterval(() => {
          if (this.connected) this.requestResync();
        }, this.resyncEveryMs);
        this.periodicTimer.unref();
      }
    }
    await this.firstAttempt;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    clearTimeout(this.resyncTimer);
    clearInterval(this.periodicTimer);
    this.resyncTimer = undefined;
    this.settleFirstAttempt();
    await this.follower.close();
    await this.listTail;
  }

  // ---- event-driven lists, coalesced ----

  private requestResync(): void {
    this.resyncPending = true;
    this.pumpResync();
  }

  private pumpResync(): void {
    if (this.closed || this.resyncTimer) return;
    const state = { pending: this.resyncPending, running: this.resyncRunning, lastStartMs: this.lastResyncStartMs };
    const decision = decideResync(state, performance.now(), this.minResyncIntervalMs);
    if (decision.kind === 'start') {
      void this.runResync();
    } else if (decision.kind === 'wait') {
      this.resyncTimer = setTimeout(() => {
        this.resyncTimer = undefined;
        this.pumpResync();
      }, decision.delayMs);
    }
  }

  private async runResync(): Promise<void> {
    this.resyncPending = false;
    this.resyncRunning = true;
    this.lastResyncStartMs = performance.now();
    try {
      await this.listSerially();
    } catch (err) {
      // The stream may still look fine while lists fail: drop it, so the follower backs off,
      // reconnects and lists again on one path.
      this.reportDown(errorText(err));
      this.follower.reconnect(err);
    } finally {
      this.resyncRunning = false;
      this.pumpResync();
    }
  }

  // ---- listing ----

  private listSerially(): Promise<void> {
    const run = this.listTail.then(() => this.listOnce());
    this.listTail = run.catch(() => undefined);
    return run;
  }

  /** One whole read: list the labelled running containers, inspect each, translate, publish.
   * Throws (publishing nothing) when any part fails, so a snapshot is never partial. */
  private async listOnce(): Promise<void> {
    if (this.closed) return;
    const keys = dockerLabelKeys(this.labelPrefix);
    const signal = AbortSignal.any([AbortSignal.timeout(this.listTimeoutMs), this.closing.signal]);
    const rows = await this.docker.listContainers({ filters: { label: [keys.service] }, abortSignal: signal });
    // dockmaster's own replicas are the managed provider's: not worth an inspect.
    const candidates = rows.filter((row) => row.Labels?.[keys.replica] === undefined);
    const inspected = await mapBounded(candidates, INSPECT_CONCURRENCY, (row) => this.inspectOrUndefined(row.Id, signal));
    if (this.closed || !this.sink) return;
    const translation = translateContainers(
      inspected.filter((info): info is ContainerInspect => info !== undefined),
      this.labelPrefix,
    );
    this.logNewSkips(translation.skipped);
    this.skipped = translation.skipped;
    this.lastSyncMs = this.nowMs();
    this.sink.publish(translation.snapshot);
    this.sink.status(this.statusNow(true, undefined));
    this.logger.debug(
      { services: translation.snapshot.size, skipped: translation.skipped.length, ignored: translation.ignored.length },
      'docker containers listed',
    );
  }

  /** A container removed between list and inspect is simply gone; anything else fails the list. */
  private async inspectOrUndefined(id: string, signal: AbortSignal): Promise<ContainerInspect | undefined> {
    try {
      return await this.docker.getContainer(id).inspect({ abortSignal: signal });
    } catch (err) {
      if ((err as DockerApiError).statusCode === 404) return undefined;
      throw err;
    }
  }

  // ---- status ----

  private reportDown(lastError: string): void {
    if (this.closed || !this.sink) return;
    this.sink.status(this.statusNow(false, lastError));
  }

  private statusNow(up: boolean, lastError: string | undefined): ProviderStatus {
    return { provider: 'docker', up, lastSyncMs: this.lastSyncMs, lastError, skipped: this.skipped };
  }

  /** One warning per bad container, when it first shows up (lists repeat often). */
  private logNewSkips(skipped: readonly SkippedContainer[]): void {
    const before = new Set(this.skipped.map((s) => s.reason));
    for (const entry of skipped) {
      if (!before.has(entry.reason)) this.logger.warn({ id: entry.id, reason: entry.reason }, 'labelled container skipped');
    }
  }
}

/** Maps with at most `limit` calls in flight; results keep the input order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  return results;
}
