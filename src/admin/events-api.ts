// Admin API for the event timeline: GET /v1/events lists (filter by service, newer than a
// sequence number, a limit). I/O (fastify handlers).
import { Type, type Static } from '@sinclair/typebox';
import type { AdminContext } from './admin-context.js';

const EventsQuery = Type.Object(
  {
    service: Type.Optional(Type.String({ maxLength: 253 })),
    since: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
type EventsQuery = Static<typeof EventsQuery>;

export function registerEventsApi({ app, service, allow }: AdminContext): void {
  allow('/v1/events', 'GET');
  app.get<{ Querystring: EventsQuery }>('/v1/events', { schema: { querystring: EventsQuery } }, async (request) => ({
    events: service.events.list({ service: request.query.service, sinceSeq: request.query.since, limit: request.query.limit ?? 200 }),
  }));
}
