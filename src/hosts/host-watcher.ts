// Watches Docker hosts: pings each one every check interval (with a timeout no longer than the
// interval), takes any answer or event as a sign of life, and reports when a host turns suspect,
// lost, up or back. Shell (timers, pings); the decisions are decideHostHealth's (host-health.ts).
import type { Logger } from '../observability/logger.js';
import type { HostHealthState } from '../model/host-view.js';
import { decideHostHealth } from './host-health.js';

export const HOST_WATCH_DEFAULTS = {
  checkIntervalMs: 1_000,
  hostDownAfterMs: 5_000,
} as const;

export interface WatchedHost {
  readonly name: string;
  /** Resolves when the host answers; aborted through `signal` at the ping timeout. */
  readonly ping: (signal: AbortSignal) => Promise<unknown>;
}

/**
 * host.suspect: up -> suspect (silent for two intervals); nothing moves yet.
 * host.up: suspect -> up (a blip, or the first answer after watching began).
 * host.lost: -> lost (silent for hostDownAfterMs).
 * host.back: lost -> up.
 */
export interface HostChange {
  readonly kind: 'host.suspect' | 'host.up' | 'host.lost' | 'host.back';
  readonly host: string;
  readonly from: HostHealthState;
  readonly to: HostHealthState;
  readonly atMs: number;
  /** How long the host had been silent when it changed (0 for up and back). */
  readonly silentMs: number;
}

export interface HostWatcherOptions {
  readonly hosts: readonly WatchedHost[];
  readonly logger: Logger;
  /** Default 1000 ms. Also the ping timeout. */
  readonly checkIntervalMs?: number;
  /** Default 5000 ms. */
  readonly hostDownAfterMs?: number;
  readonly nowMs?: () => number;
}

export interface HostHealthSnapshot {
  readonly state: HostHealthState;
  /** When the host entered its state. */
  readonly sinceMs: number;
  readonly lastSeenMs: number | undefined;
  /** Why the last ping failed; undefined after an answer. */
  readonly lastError: string | undefined;
}

interface Watch {
  readonly host: WatchedHost;
  state: HostHealthState;
  sinceMs: number;
  lastSeenMs: number | undefined;
  lastPingAtMs: number | undefined;
  lastError: string | undefined;
  pinging: AbortController | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class HostWatcher {
  private readonly watches = new Map<string, Watch>();
  private readonly listeners = new Set<(change: HostChange) => void>();
  private readonly logger: Logger;
  readonly checkIntervalMs: number;
  readonly hostDownAfterMs: number;
  private readonly nowMs: () => number;
  private watchingSinceMs = 0;
  private started = false;
  private closed = false;

  constructor(options: HostWatcherOptions) {
    this.logger = options.logger.child({ component: 'host-watcher' });
    this.checkIntervalMs = options.checkIntervalMs ?? HOST_WATCH_DEFAULTS.checkIntervalMs;
    this.hostDownAfterMs = options.hostDownAfterMs ?? HOST_WATCH_DEFAULTS.hostDownAfterMs;
    if (!(this.checkIntervalMs > 0) || !(this.hostDownAfterMs > 0)) {
      throw new RangeError(`host watcher: checkIntervalMs and hostDownAfterMs must be > 0, got ${this.checkIntervalMs} and ${this.hostDownAfterMs}`);
    }
    this.nowMs = options.nowMs ?? Date.now;
    for (const host of options.hosts) {
      this.watches.set(host.name, { host, state: 'suspect', sinceMs: 0, lastSeenMs: undefined, lastPingAtMs: undefined, lastError: undefined, pinging: undefined, timer: undefined });
    }
  }

  /** Subscribes; returns the unsubscribe function. Listeners run synchronously; a throw is logged. */
  on(listener: (change: HostChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Starts pinging (once). Until a host answers it is suspect; lost after hostDownAfterMs. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.watchingSinceMs = this.nowMs();
    for (const watch of this.watches.values()) {
      watch.sinceMs = this.watchingSinceMs;
      this.check(watch);
    }
  }

  /** The host answered something (an API call, an event): counts like an answered ping. */
  signOfLife(host: string, atMs: number = this.nowMs()): void {
    const watch = this.watches.get(host);
    if (watch === undefined || this.closed) return;
    if (watch.lastSeenMs === undefined || atMs > watch.lastSeenMs) watch.lastSeenMs = atMs;
    if (this.started) this.check(watch);
  }

  snapshot(host: string): HostHealthSnapshot | undefined {
    const watch = this.watches.get(host);
    return watch === undefined ? undefined : { state: watch.state, sinceMs: watch.sinceMs, lastSeenMs: watch.lastSeenMs, lastError: watch.lastError };
  }

  close(): void {
    this.closed = true;
    for (const watch of this.watches.values()) {
      clearTimeout(watch.timer);
      watch.pinging?.abort();
    }
    this.listeners.clear();
  }

  /** Decides the host's state now, reports a change, pings when due and sets the next check. */
  private check(watch: Watch): void {
    if (this.closed) return;
    const nowMs = this.nowMs();
    const decision = decideHostHealth({
      nowMs,
      lastSeenMs: watch.lastSeenMs,
      watchingSinceMs: this.watchingSinceMs,
      lastPingAtMs: watch.lastPingAtMs,
      checkIntervalMs: this.checkIntervalMs,
      hostDownAfterMs: this.hostDownAfterMs,
    });
    if (decision.state !== watch.state) this.change(watch, decision.state, nowMs, decision.silentMs);
    if (decision.pingDue && watch.pinging === undefined) this.ping(watch, nowMs);
    clearTimeout(watch.timer);
    watch.timer = setTimeout(() => this.check(watch), Math.max(0, decision.nextCheckAtMs - nowMs));
    watch.timer.unref();
  }

  private change(watch: Watch, to: HostHealthState, atMs: number, silentMs: number): void {
    const from = watch.state;
    watch.state = to;
    watch.sinceMs = atMs;
    const kind = to === 'lost' ? 'host.lost' : to === 'suspect' ? 'host.suspect' : from === 'lost' ? 'host.back' : 'host.up';
    const change: HostChange = { kind, host: watch.host.name, from, to, atMs, silentMs: to === 'up' ? 0 : silentMs };
    const log = to === 'lost' ? this.logger.error.bind(this.logger) : to === 'suspect' ? this.logger.warn.bind(this.logger) : this.logger.info.bind(this.logger);
    log({ host: change.host, from, to, silentMs: change.silentMs }, `docker host ${change.host} is ${to}`);
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.logger.error({ err, host: change.host }, 'host change listener threw');
      }
    }
  }

  /** One ping, aborted at the check interval; an answer is a sign of life. */
  private ping(watch: Watch, atMs: number): void {
    const abort = new AbortController();
    watch.pinging = abort;
    watch.lastPingAtMs = atMs;
    const timer = setTimeout(() => abort.abort(), this.checkIntervalMs);
    timer.unref();
    const timedOut = new Promise<string>((resolve) => abort.signal.addEventListener('abort', () => resolve(`ping timed out after ${this.checkIntervalMs} ms`), { once: true }));
    const answered = watch.host.ping(abort.signal).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    void Promise.race([answered, timedOut]).then((error) => {
      clearTimeout(timer);
      if (watch.pinging === abort) watch.pinging = undefined;
      abort.abort();
      watch.lastError = error;
      if (error === undefined) this.signOfLife(watch.host.name);
    });
  }
}
