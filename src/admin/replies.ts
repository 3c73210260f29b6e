// The admin API's answers: one JSON error shape with a stable code, one log line per error.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ConfigProblem, type ErrorCode } from '../errors.js';
import type { Logger } from '../observability/logger.js';

export interface SendErrorOptions {
  readonly message?: string;
  readonly problems?: readonly ConfigProblem[];
  /** Logged (with stack) for server errors only; never sent to the client. */
  readonly err?: unknown;
  readonly logFields?: Record<string, unknown>;
}

/** Every error answer goes through here: one JSON shape, one log line, no headers logged. */
export function sendError(logger: Logger, request: FastifyRequest, reply: FastifyReply, code: ErrorCode, options: SendErrorOptions = {}): FastifyReply {
  const status = ERROR_CODES[code].status;
  const message = options.message ?? ERROR_CODES[code].message;
  const fields: Record<string, unknown> = {
    method: request.method,
    path: pathOf(request.url),
    status,
    code,
    ...options.logFields,
  };
  if (status >= 500) {
    if (options.err !== undefined) fields['err'] = options.err;
    logger.error(fields, message);
  } else {
    logger.warn(fields, message);
  }
  const error = options.problems === undefined ? { code, message } : { code, message, problems: options.problems };
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send({ error });
}

export function notFound(logger: Logger, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(logger, request, reply, 'DM_ERR_ADMIN_NOT_FOUND', { message: `nothing at ${pathOf(request.url)}` });
}

export function unknownRoute(logger: Logger, request: FastifyRequest, reply: FastifyReply, name: string): FastifyReply {
  return sendError(logger, request, reply, 'DM_ERR_ROUTE_UNKNOWN', { message: `no route named '${name}'` });
}

/** The path without its query string (queries are not logged: they may carry anything). */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

