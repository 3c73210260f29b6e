// Admin API for services: status with replicas, apply a spec (PUT), delete, scale. I/O
// (fastify handlers); calls only the AdminService.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminContext } from './admin-context.js';
import type { Logger } from '../observability/logger.js';
import { notFound, sendError } from './replies.js';
import { NameParams } from './routes-api.js';

const ScaleBody = Type.Object({ replicas: Type.Integer({ minimum: 0, maximum: 1000 }) }, { additionalProperties: false });
type ScaleBody = Static<typeof ScaleBody>;

const PutQuery = Type.Object({ supersede: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
type PutQuery = Static<typeof PutQuery>;

const RolloutParams = Type.Object({
  name: Type.String({ maxLength: 253 }),
  command: Type.Union([Type.Literal('promote'), Type.Literal('abort'), Type.Literal('pause'), Type.Literal('resume')]),
});
type RolloutParams = Static<typeof RolloutParams>;

const RollbackBody = Type.Object({ toRevision: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-f]+$' })) }, { additionalProperties: false });
type RollbackBody = Static<typeof RollbackBody>;

function unknownService(logger: Logger, request: FastifyRequest, reply: FastifyReply, name: string): FastifyReply {
  return sendError(logger, request, reply, 'DM_ERR_SERVICE_UNKNOWN', { message: `no service named '${name}'` });
}

export function registerServicesApi({ app, service, logger, allow }: AdminContext): void {
  const { services } = service;

  allow('/v1/services', 'GET');
  app.get('/v1/services', async () => ({ services: services.list() }));

  allow('/v1/services/:name', 'GET');
  app.get<{ Params: NameParams }>('/v1/services/:name', { schema: { params: NameParams } }, async (request, reply) => {
    const { name } = request.params;
    if (name === '') return notFound(logger, request, reply);
    return services.status(name) ?? unknownService(logger, request, reply, name);
  });

  allow('/v1/services/:name', 'PUT');
  app.put<{ Params: NameParams; Querystring: PutQuery }>('/v1/services/:name', { schema: { params: NameParams, querystring: PutQuery } }, async (request, reply) => {
    const { name } = request.params;
    if (name === '') return notFound(logger, request, reply);
    if (request.body === undefined) {
      return sendError(logger, request, reply, 'DM_ERR_ADMIN_BAD_REQUEST', { message: 'a JSON service spec is required as the body' });
    }
    if (request.query.supersede !== true) {
      const conflict = services.conflict(name, request.body);
      if (conflict !== undefined) return sendError(logger, request, reply, 'DM_ERR_DEPLOY_IN_PROGRESS', { message: conflict });
    }
    const result = await services.specs.put(name, request.body);
    if (!result.ok) {
      return sendError(logger, request, reply, 'DM_ERR_CONFIG_INVALID', { message: `service '${name}' rejected`, problems: result.problems });
    }
    if (result.created) reply.code(201).header('location', `/v1/services/${encodeURIComponent(name)}`);
    return services.status(name) ?? services.specs.get(name);
  });

  allow('/v1/services/:name', 'DELETE');
  app.delete<{ Params: NameParams }>('/v1/services/:name', { schema: { params: NameParams } }, async (request, reply) => {
    const { name } = request.params;
    if (name === '') return notFound(logger, request, reply);
    if (!(await services.specs.delete(name))) return unknownService(logger, request, reply, name);
    return reply.code(204).send();
  });

  allow('/v1/services/:name/scale', 'POST');
  app.post<{ Params: NameParams; Body: ScaleBody }>(
    '/v1/services/:name/scale',
    { schema: { params: NameParams, body: ScaleBody } },
    async (request, reply) => {
      const { name } = request.params;
      if (services.specs.get(name) === undefined) return unknownService(logger, request, reply, name);
      const result = await services.specs.setReplicas(name, request.body.replicas);
      if (!result.ok) {
        return sendError(logger, request, reply, 'DM_ERR_CONFIG_INVALID', { message: `scale of '${name}' rejected`, problems: result.problems });
      }
      return services.status(name) ?? services.specs.get(name);
    },
  );

  allow('/v1/services/:name/rollout/:command', 'POST');
  app.post<{ Params: RolloutParams }>('/v1/services/:name/rollout/:command', { schema: { params: RolloutParams } }, async (request, reply) => {
    const { name, command } = request.params;
    const result = await services.rollout(name, command);
    if (!result.ok) return sendError(logger, request, reply, result.code, { message: result.message });
    return { message: result.message, rollout: result.rollout };
  });

  allow('/v1/services/:name/rollback', 'POST');
  app.post<{ Params: NameParams; Body: RollbackBody | undefined }>(
    '/v1/services/:name/rollback',
    { schema: { params: NameParams } },
    async (request, reply) => {
      const { name } = request.params;
      const body = request.body ?? {};
      if (!Value.Check(RollbackBody, body)) {
        return sendError(logger, request, reply, 'DM_ERR_ADMIN_BAD_REQUEST', { message: 'body must be {} or {"toRevision": "<hex revision or unique prefix>"}' });
      }
      const result = await services.rollback(name, body.toRevision);
      if (!result.ok) return sendError(logger, request, reply, result.code, { message: result.message });
      return { message: result.message, rollout: result.rollout };
    },
  );

  allow('/v1/services/:name/revisions', 'GET');
  app.get<{ Params: NameParams }>('/v1/services/:name/revisions', { schema: { params: NameParams } }, async (request, reply) => {
    const { name } = request.params;
    const revisions = services.revisions(name);
    if (revisions === undefined) return unknownService(logger, request, reply, name);
    return { service: name, revisions };
  });
}
