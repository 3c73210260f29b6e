// The timeline behind GET /v1/events: deploy, scale, health, routing and replica events in a
// bounded ring, with subscribers for live streams. In-memory; no I/O.

export type EventType =
  | 'replica.started'
  | 'replica.start-failed'
  | 'replica.exited'
  | 'replica.draining'
  | 'replica.stopped'
  | 'replica.adopted'
  | 'health.changed'
  | 'service.applied'
  /** service.leader: this instance drives the service now; service.follower: another does */
  | 'service.leader'
  | 'service.follower'
  | 'service.removed'
  | 'service.scaled'
  | 'endpoint.ejected'
  | 'endpoint.returned'
  | 'routing.panic'
  | 'provider.up'
  | 'provider.stale'
  | 'config.reloaded'
  | 'config.rejected'
  | 'service.revision'
  /** rollout.started, .step, .weights, .analysis, .paused, .succeeded, .aborted, ... */
  | `rollout.${string}`
  /** autoscale.scaled, autoscale.panic */
  | `autoscale.${string}`
  /** replica.lost (its host was lost), replica.pending (no host fits) */
  | 'replica.lost'
  | 'replica.pending'
  /** host.lost, host.back, host.cordoned, host.uncordoned, host.draining, host.drained, host.fenced */
  | `host.${string}`;

export interface TimelineEvent {
  /** Increasing sequence number; `?since=N` lists newer ones. */
  readonly seq: number;
  readonly atMs: number;
  readonly type: EventType;
  readonly service?: string | undefined;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>> | undefined;
}

export type NewEvent = Omit<TimelineEvent, 'seq' | 'atMs'>;

export class EventLog {
  private readonly events: TimelineEvent[] = [];
  private readonly listeners = new Set<(event: TimelineEvent) => void>();
  private seq = 0;
  private readonly capacity: number;
  private readonly nowMs: () => number;

  constructor(options: { capacity?: number; nowMs?: () => number } = {}) {
    this.capacity = options.capacity ?? 1_000;
    this.nowMs = options.nowMs ?? Date.now;
  }

  record(event: NewEvent): TimelineEvent {
    const full: TimelineEvent = { seq: ++this.seq, atMs: this.nowMs(), ...event };
    this.events.push(full);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    for (const listener of this.listeners) listener(full);
    return full;
  }

  list(filter: { service?: string | undefined; sinceSeq?: number | undefined; limit?: number | undefined } = {}): TimelineEvent[] {
    const matching = this.events.filter(
      (e) => (filter.service === undefined || e.service === filter.service) && (filter.sinceSeq === undefined || e.seq > filter.sinceSeq),
    );
    return filter.limit !== undefined ? matching.slice(-filter.limit) : matching;
  }

  /** `listener` gets every event recorded from now on, synchronously inside record(); it must
   * not throw. Returns the unsubscribe function. */
  subscribe(listener: (event: TimelineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The seq of the newest event recorded (0 before the first). It restarts with the process, so
   * a client holding a larger one saw an earlier gateway. */
  get newestSeq(): number {
    return this.seq;
  }

  /** Listeners subscribed now (live event streams among them): lets tests see that a stream
   * that ended left nothing behind. */
  get subscriberCount(): number {
    return this.listeners.size;
  }
}
