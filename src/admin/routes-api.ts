// Admin API for routes: list, read, apply (PUT) and delete. I/O (fastify handlers).
import { Type, type Static } from '@sinclair/typebox';
import type { AdminContext } from './admin-context.js';
import { notFound, sendError, unknownRoute } from './replies.js';

// No minLength: `/v1/routes/` reaches these handlers with an empty name, which should be a
// 404 like any other unknown path rather than a schema 400.
export const NameParams = Type.Object({ name: Type.String({ maxLength: 253 }) });
export type NameParams = Static<typeof NameParams>;

export function registerRoutesApi({ app, service, logger, allow }: AdminContext): void {
  allow('/v1/routes', 'GET');
  app.get('/v1/routes', async () => ({ routes: service.routes.list() }));

  allow('/v1/routes/:name', 'GET');
  app.get<{ Params: NameParams }>('/v1/routes/:name', { schema: { params: NameParams } }, async (request, reply) => {
    if (request.params.name === '') return notFound(logger, request, reply);
    const route = service.routes.get(request.params.name);
    if (route === undefined) return unknownRoute(logger, request, reply, request.params.name);
    return route;
  });

  allow('/v1/routes/:name', 'PUT');
  app.put<{ Params: NameParams }>('/v1/routes/:name', { schema: { params: NameParams } }, async (request, reply) => {
    const { name } = request.params;
    if (name === '') return notFound(logger, request, reply);
    if (request.body === undefined) {
      return sendError(logger, request, reply, 'DM_ERR_ADMIN_BAD_REQUEST', { message: 'a JSON route is required as the body' });
    }
    const result = await service.routes.put(name, request.body);
    if (!result.ok) {
      return sendError(logger, request, reply, 'DM_ERR_CONFIG_INVALID', {
        message: `route '${name}' rejected`,
        problems: result.problems,
      });
    }
    const stored = service.routes.get(name);
    if (stored === undefined) {
      return sendError(logger, request, reply, 'DM_ERR_ADMIN_INTERNAL', { message: `route '${name}' was stored but cannot be read back` });
    }
    if (result.created) reply.code(201).header('location', `/v1/routes/${encodeURIComponent(name)}`);
    else reply.code(200);
    return stored;
  });

  allow('/v1/routes/:name', 'DELETE');
  app.delete<{ Params: NameParams }>('/v1/routes/:name', { schema: { params: NameParams } }, async (request, reply) => {
    if (request.params.name === '') return notFound(logger, request, reply);
    const deleted = await service.routes.delete(request.params.name);
    if (!deleted) return unknownRoute(logger, request, reply, request.params.name);
    return reply.code(204).send();
  });

}
