// The bounded first-in first-out queue of requests held for one pool while it has no pickable
// endpoint (scale to zero), and the cold start it belongs to. Pure: the proxy passes the clock
// and does the answering; no timers, no sockets.

/** What the queue needs of a held request: when its hold ends. */
export interface HoldEntry {
  /** Clock reading (the proxy's monotonic milliseconds) past which the hold times out. */
  readonly holdDeadlineMs: number;
}

/**
 * Entries in arrival order. Size is bounded by the pool's `maxQueue` (100 by default), so the
 * linear removal of a client that went away and the sweep for expired holds stay cheap.
 *
 * A cold start begins with the first request held while none is running and ends when the pool
 * gets an endpoint (`endColdStart`), even if every held request timed out or left meanwhile: it
 * measures the time from the first unmet demand to a ready replica, not one request's wait.
 *
 * Worked example, maxQueue 2, holdTimeoutMs 1000: push a at 0 (cold start begins at 0), push b
 * at 10, push c at 20 is refused (overflow); takeExpired(1005) gives [a], takeExpired(1010)
 * gives [b]; endColdStart(1500) gives 1500 and the next push begins a new cold start.
 */
export class HoldQueue<T extends HoldEntry> {
  private entries: T[] = [];
  private coldStartAtMs: number | undefined;

  get size(): number {
    return this.entries.length;
  }

  /** True while a cold start is running (from its first hold to endColdStart). */
  get coldStarting(): boolean {
    return this.coldStartAtMs !== undefined;
  }

  /** Appends `entry` unless `maxQueue` entries are held already; false means overflow. */
  push(entry: T, maxQueue: number, nowMs: number): boolean {
    if (this.entries.length >= maxQueue) return false;
    this.entries.push(entry);
    this.coldStartAtMs ??= nowMs;
    return true;
  }

  /** Takes `entry` out (a client that went away); false when it was not held. */
  remove(entry: T): boolean {
    const i = this.entries.indexOf(entry);
    if (i === -1) return false;
    this.entries.splice(i, 1);
    return true;
  }

  /** Takes out every entry whose deadline is reached, in arrival order; the rest keep theirs. */
  takeExpired(nowMs: number): T[] {
    const expired: T[] = [];
    const kept: T[] = [];
    for (const entry of this.entries) (entry.holdDeadlineMs <= nowMs ? expired : kept).push(entry);
    if (expired.length > 0) this.entries = kept;
    return expired;
  }

  /** Takes out every entry, in arrival order. */
  takeAll(): T[] {
    const all = this.entries;
    this.entries = [];
    return all;
  }

  /** Ends the running cold start: its duration in ms, or undefined when none was running. */
  endColdStart(nowMs: number): number | undefined {
    const startedAtMs = this.coldStartAtMs;
    this.coldStartAtMs = undefined;
    return startedAtMs === undefined ? undefined : Math.max(0, nowMs - startedAtMs);
  }
}
