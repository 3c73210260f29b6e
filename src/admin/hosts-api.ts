// Admin API for the Docker hosts of dockmaster.yaml: list and read them (reachability, capacity,
// allocations, replicas) and cordon, uncordon or drain one. I/O (fastify handlers); calls only
// the AdminService's HostsAdmin.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminContext } from './admin-context.js';
import type { HostCommand } from './admin-service.js';
import type { Logger } from '../observability/logger.js';
import { notFound, sendError } from './replies.js';
import { NameParams } from './routes-api.js';

/** What GET /v1/hosts says when dockmaster.yaml lists no hosts. */
export const NO_HOSTS_NOTE = 'no hosts are listed in dockmaster.yaml: replicas run on this machine (the local Docker daemon or local processes)';

const HOST_COMMANDS: readonly HostCommand[] = ['cordon', 'uncordon', 'drain'];

function unknownHost(logger: Logger, request: FastifyRequest, reply: FastifyReply, name: string, configured: boolean): FastifyReply {
  const message = configured ? `no host named '${name}'` : `no host named '${name}': ${NO_HOSTS_NOTE}`;
  return sendError(logger, request, reply, 'DM_ERR_HOST_UNKNOWN', { message });
}

export function registerHostsApi({ app, service, logger, allow }: AdminContext): void {
  allow('/v1/hosts', 'GET');
  app.get('/v1/hosts', async () => {
    const hosts = service.hosts;
    return hosts === undefined ? { hosts: [], note: NO_HOSTS_NOTE } : { hosts: hosts.list() };
  });

  allow('/v1/hosts/:name', 'GET');
  app.get<{ Params: NameParams }>('/v1/hosts/:name', { schema: { params: NameParams } }, async (request, reply) => {
    const { name } = request.params;
    if (name === '') return notFound(logger, request, reply);
    const hosts = service.hosts;
    return hosts?.get(name) ?? unknownHost(logger, request, reply, name, hosts !== undefined);
  });

  for (const command of HOST_COMMANDS) {
    const url = `/v1/hosts/:name/${command}`;
    allow(url, 'POST');
    app.post<{ Params: NameParams }>(url, { schema: { params: NameParams } }, async (request, reply) => {
      const { name } = request.params;
      const hosts = service.hosts;
      if (hosts === undefined) {
        return sendError(logger, request, reply, 'DM_ERR_HOSTS_NOT_CONFIGURED', {
          message: `cannot ${command} '${name}': ${NO_HOSTS_NOTE}; list hosts under 'hosts:' to place replicas on several Docker hosts`,
        });
      }
      if (hosts.get(name) === undefined) return unknownHost(logger, request, reply, name, true);
      const result = await hosts.command(name, command);
      if (!result.ok) return sendError(logger, request, reply, result.code, { message: result.message });
      return { message: result.message, host: result.host };
    });
  }
}
