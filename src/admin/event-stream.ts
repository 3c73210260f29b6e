// Live server-sent event streams of the event timeline (GET /v1/events with Accept:
// text/event-stream): backlog, then live events and heartbeats, until the client leaves, falls
// too far behind, or the admin server closes. I/O (writes HTTP responses, runs timers).
import type { ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';
import type { EventLog, TimelineEvent } from '../observability/event-log.js';
import { formatSseComment, formatSseEvent, formatSseRetry } from './sse-format.js';

export interface EventStreamLimits {
  /** A comment line this often keeps idle streams open through proxies and finds dead clients. */
  readonly heartbeatMs: number;
  /** Streams open at once; one more is refused (each holds a socket and a subscription). */
  readonly maxStreams: number;
  /** Bytes written but not yet taken by the client; past this the stream is dropped, so a
   * client that stopped reading costs at most this much memory. */
  readonly maxBufferedBytes: number;
  /** The `retry:` hint: how long an EventSource waits before reconnecting. */
  readonly retryMs: number;
  /** At shutdown, how long an ended stream may flush before its socket is destroyed. */
  readonly closeFlushMs: number;
}

export const EVENT_STREAM_DEFAULTS: EventStreamLimits = {
  heartbeatMs: 15_000,
  maxStreams: 32,
  maxBufferedBytes: 1024 * 1024,
  retryMs: 3_000,
  closeFlushMs: 1_000,
};

/** Which events a stream carries: those of `service` (all when undefined); the backlog is what
 * EventLog.list answers for the same filter. */
export interface EventStreamFilter {
  readonly service?: string | undefined;
  readonly sinceSeq?: number | undefined;
  readonly limit?: number | undefined;
}

export type StreamRefusal = 'full' | 'closing';

export class EventStreams {
  private readonly open = new Set<{ end(): void }>();
  private closing = false;
  private readonly events: EventLog;
  private readonly logger: Logger;
  readonly limits: EventStreamLimits;

  constructor(deps: { readonly events: EventLog; readonly logger: Logger; readonly limits?: Partial<EventStreamLimits> | undefined }) {
    this.events = deps.events;
    this.logger = deps.logger;
    this.limits = checkLimits({ ...EVENT_STREAM_DEFAULTS, ...deps.limits });
  }

  get openCount(): number {
    return this.open.size;
  }

  /** Why a new stream would be refused now, if it would. */
  refusal(): StreamRefusal | undefined {
    if (this.closing) return 'closing';
    return this.open.size >= this.limits.maxStreams ? 'full' : undefined;
  }

  /**
   * Takes over `res` (headers not sent yet; `headers` are added to the stream's own): writes the
   * retry hint and the backlog, then every matching live event and a heartbeat comment. Call
   * refusal() first; this throws when the stream may not open.
   */
  start(res: ServerResponse, filter: EventStreamFilter, headers: Readonly<Record<string, string | number | string[] | undefined>> = {}): void {
    const refused = this.refusal();
    if (refused !== undefined) throw new Error(`event stream refused: ${refused}`);
    const { limits, logger } = this;
    // Live events are all newer than the backlog; this only guards against sending one twice.
    let lastSeq = 0;
    let gone = false;
    let flushTimer: NodeJS.Timeout | undefined;

    const frameOf = (event: TimelineEvent): string => {
      lastSeq = event.seq;
      return formatSseEvent({ id: event.seq, data: JSON.stringify(event) });
    };
    const send = (chunk: string): void => {
      if (gone || res.writableEnded || res.destroyed) return;
      // Before writing, not after: the check bounds memory at the limit plus one frame.
      if (res.writableLength > limits.maxBufferedBytes) {
        logger.warn(
          { bufferedBytes: res.writableLength, maxBufferedBytes: limits.maxBufferedBytes, service: filter.service },
          'event stream dropped: the client does not read fast enough',
        );
        res.destroy();
        return;
      }
      res.write(chunk);
    };
    const onEvent = (event: TimelineEvent): void => {
      if (event.seq <= lastSeq) return;
      if (filter.service !== undefined && event.service !== filter.service) return;
      try {
        send(frameOf(event));
      } catch (error) {
        // EventLog.record calls listeners inline: a failure here must not reach its caller.
        logger.error({ err: error }, 'event stream write failed');
        res.destroy();
      }
    };
    const stream = {
      end: (): void => {
        if (gone) return;
        res.end();
        // A client that does not read would keep the socket (and the server's close) waiting.
        flushTimer = setTimeout(() => res.destroy(), limits.closeFlushMs);
        flushTimer.unref();
      },
    };

    for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // A stream never hands its connection back: when it ends, the socket closes.
      connection: 'close',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    const backlog = this.events.list(filter);
    // Listing and subscribing in one synchronous turn: no event can fall between the two.
    const unsubscribe = this.events.subscribe(onEvent);
    const heartbeat = setInterval(() => send(formatSseComment('heartbeat')), limits.heartbeatMs);
    heartbeat.unref();
    this.open.add(stream);
    res.on('close', () => {
      gone = true;
      clearInterval(heartbeat);
      clearTimeout(flushTimer);
      unsubscribe();
      this.open.delete(stream);
      logger.debug({ service: filter.service, lastSeq, open: this.open.size }, 'event stream closed');
    });
    res.write(formatSseRetry(limits.retryMs) + backlog.map(frameOf).join(''));
    logger.debug({ service: filter.service, sinceSeq: filter.sinceSeq, backlog: backlog.length, open: this.open.size }, 'event stream opened');
  }

  /** Ends every stream and refuses new ones: the admin server is closing. */
  closeAll(): void {
    this.closing = true;
    for (const stream of [...this.open]) stream.end();
  }
}

function checkLimits(limits: EventStreamLimits): EventStreamLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw new Error(`event stream limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}
