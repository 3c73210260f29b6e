// Admin API for the event timeline: GET /v1/events lists (filter by service, newer than a
// sequence number, a limit), or with `Accept: text/event-stream` streams the same list followed
// by live events as server-sent events. I/O (fastify handlers).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminContext } from './admin-context.js';
import { EventStreams, type EventStreamFilter, type EventStreamLimits } from './event-stream.js';
import { sendError } from './replies.js';
import { acceptsEventStream, parseLastEventId } from './sse-format.js';
import type { Logger } from '../observability/logger.js';

const EventsQuery = Type.Object(
  {
    service: Type.Optional(Type.String({ maxLength: 253 })),
    since: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
type EventsQuery = Static<typeof EventsQuery>;

/** Events listed when the request names no limit. */
export const DEFAULT_EVENTS_LIMIT = 200;

/**
 * What a stream starts with. Resuming (a `Last-Event-ID` header, which wins, or `since`): every
 * retained event after that one, so a reconnecting client misses nothing the log still holds
 * (`limit` caps it only when given). Otherwise the newest `limit` events, as the list answers.
 * A position past `newestSeq` was handed out by an earlier gateway process (seqs restart with
 * it): the stream then starts as if no position were given, instead of skipping every event
 * until the new process catches up.
 */
export function streamFilter(query: EventsQuery, lastEventId: number | undefined, newestSeq: number): EventStreamFilter {
  const position = lastEventId ?? query.since;
  const sinceSeq = position !== undefined && position <= newestSeq ? position : undefined;
  return { service: query.service, sinceSeq, limit: query.limit ?? (sinceSeq === undefined ? DEFAULT_EVENTS_LIMIT : undefined) };
}

export function registerEventsApi({ app, service, logger, allow }: AdminContext, limits: Partial<EventStreamLimits> = {}): EventStreams {
  const streams = new EventStreams({ events: service.events, logger, limits });
  // preClose runs before the server stops accepting and waits for its connections: a stream
  // left open would hold `close` (and SIGTERM of `dockmaster serve`) forever.
  app.addHook('preClose', async () => streams.closeAll());

  allow('/v1/events', 'GET');
  app.get<{ Querystring: EventsQuery }>('/v1/events', { schema: { querystring: EventsQuery } }, async (request, reply) => {
    if (request.method === 'GET' && acceptsEventStream(request.headers.accept)) return openStream(request, reply);
    return {
      events: service.events.list({ service: request.query.service, sinceSeq: request.query.since, limit: request.query.limit ?? DEFAULT_EVENTS_LIMIT }),
    };
  });

  function openStream(request: FastifyRequest<{ Querystring: EventsQuery }>, reply: FastifyReply): FastifyReply {
    const lastEventId = parseLastEventId(request.headers['last-event-id']);
    if (!lastEventId.ok) return sendError(logger, request, reply, 'DM_ERR_ADMIN_BAD_REQUEST', { message: lastEventId.message });
    const refusal = streams.refusal();
    if (refusal === 'closing') return sendError(logger, request, reply, 'DM_ERR_ADMIN_NOT_READY');
    if (refusal === 'full') return replyTooManyStreams(logger, request, reply, streams.limits);
    // From here the handler owns the raw response; fastify sends nothing more.
    reply.hijack();
    streams.start(reply.raw, streamFilter(request.query, lastEventId.seq, service.events.newestSeq), reply.getHeaders());
    return reply;
  }

  return streams;
}

/** 503 with Retry-After: the stream cap is reached. */
function replyTooManyStreams(logger: Logger, request: FastifyRequest, reply: FastifyReply, limits: EventStreamLimits): FastifyReply {
  const message = `${limits.maxStreams} event streams are open, the most the admin API serves at once; close one or retry later`;
  reply.header('retry-after', String(Math.ceil(limits.retryMs / 1000)));
  return sendError(logger, request, reply, 'DM_ERR_ADMIN_TOO_MANY_STREAMS', { message });
}
