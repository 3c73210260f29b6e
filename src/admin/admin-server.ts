// The admin HTTP API on its own fastify listener: auth, routes, JSON errors; calls only the
// AdminService. I/O: listens on a socket.
import type { AddressInfo } from 'node:net';
import fastify, { type FastifyInstance } from 'fastify';
import { ConfigError, DockmasterError, ERROR_CODES, type ErrorCode } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { AdminService } from './admin-service.js';
import { createBearerCheck } from './auth.js';
import { assertSafeAdminBind, hostFromHostHeader, isLoopbackHost } from './loopback.js';
import { notFound, pathOf, sendError } from './replies.js';
import type { AdminContext } from './admin-context.js';
import { registerRoutesApi } from './routes-api.js';
import { registerServicesApi } from './services-api.js';
import { registerEventsApi } from './events-api.js';
import { registerHostsApi } from './hosts-api.js';
import type { EventStreamLimits } from './event-stream.js';
import { registerUi, UI_PATHS } from './ui-api.js';

/** Largest request body accepted (a route is a few hundred bytes; this leaves room for bulk). */
export const ADMIN_BODY_LIMIT_BYTES = 1024 * 1024;
/** Time allowed to receive a whole request, so a slow client cannot hold a socket forever. */
export const ADMIN_REQUEST_TIMEOUT_MS = 30_000;

export interface AdminServerOptions {
  /** Bearer token; when absent the API answers only on loopback (see listenAdmin). */
  readonly token?: string | undefined;
  readonly logger: Logger;
  /** Limits of the GET /v1/events streams (defaults in event-stream.ts); tests shorten them. */
  readonly eventStreams?: Partial<EventStreamLimits> | undefined;
}

export interface AdminListenOptions extends AdminServerOptions {
  readonly host: string;
  readonly port: number;
}

/** Whether each app was built with a token, for listenAdmin's bind guard. */
const appsWithToken = new WeakMap<FastifyInstance, boolean>();

/**
 * Probes must work without credentials (orchestrators and load balancers call them), and so
 * must the status page's shell (/ui, its script and stylesheet): it holds no data, and asks for
 * the token to read the API. /metrics is NOT open: its series name routes, services and
 * revisions, which describe the topology behind the gateway; Prometheus sends the token with
 * `authorization.credentials`.
 */
const OPEN_PATHS = new Set(['/healthz', '/readyz', ...UI_PATHS]);


/** Builds the admin API; it does not listen. Throws DM_ERR_ADMIN_TOKEN_INVALID on a bad token. */
export function createAdminServer(service: AdminService, opts: AdminServerOptions): FastifyInstance {
  const { logger } = opts;
  const checkBearer = opts.token === undefined ? undefined : createBearerCheck(opts.token);

  const app = fastify({
    logger: false,
    bodyLimit: ADMIN_BODY_LIMIT_BYTES,
    requestTimeout: ADMIN_REQUEST_TIMEOUT_MS,
    // While closing, answer normally: readiness already says 503, and fastify's own 503 body
    // would not carry a dockmaster error code.
    return503OnClosing: false,
    frameworkErrors: (error, request, reply) => {
      sendError(logger, request, reply, 'DM_ERR_ADMIN_BAD_REQUEST', { message: error.message });
    },
    clientErrorHandler: (error, socket) => {
      logger.warn({ errCode: (error as NodeJS.ErrnoException).code }, 'admin client error');
      if (socket.writable && !socket.destroyed) {
        const body = JSON.stringify({ error: { code: 'DM_ERR_ADMIN_BAD_REQUEST', message: 'malformed HTTP request' } });
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      }
      socket.destroy();
    },
  });
  appsWithToken.set(app, checkBearer !== undefined);
  // JSON only. fastify also parses text/plain by default; a browser may send text/plain
  // cross-site without a CORS preflight, so refusing it (415) closes that door too.
  app.removeContentTypeParser('text/plain');

  /** Methods registered per URL template, for the 405 answer's Allow header. */
  const allowedMethods = new Map<string, Set<string>>();
  const allow = (url: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE'): void => {
    const methods = allowedMethods.get(url) ?? new Set<string>();
    methods.add(method);
    // fastify answers HEAD on every GET route (exposeHeadRoutes).
    if (method === 'GET') methods.add('HEAD');
    allowedMethods.set(url, methods);
  };

  app.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    const routeUrl = request.routeOptions.url;
    const isOpen = (request.method === 'GET' || request.method === 'HEAD') && routeUrl !== undefined && OPEN_PATHS.has(routeUrl);
    // An async hook continues by returning nothing; returning the reply means "answered".
    if (isOpen) return;
    if (checkBearer !== undefined) {
      const failure = checkBearer(request.headers.authorization);
      if (failure !== undefined) {
        reply.header('www-authenticate', 'Bearer');
        return sendError(logger, request, reply, 'DM_ERR_ADMIN_UNAUTHORIZED', { logFields: { reason: failure } });
      }
      return;
    }
    // No token: the listener is on loopback, but a browser page can still reach it through DNS
    // rebinding (evil.example resolving to 127.0.0.1). Such requests carry the attacker's
    // name in Host, so only loopback names are served.
    const hostHeader = request.headers.host;
    if (hostHeader !== undefined && !isLoopbackHost(hostFromHostHeader(hostHeader))) {
      return sendError(logger, request, reply, 'DM_ERR_ADMIN_HOST_FORBIDDEN');
    }
    return;
  });

  // Audit line for every mutation that went through; failures are logged by sendError.
  app.addHook('onResponse', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || reply.statusCode >= 400) return;
    logger.info({ method: request.method, path: pathOf(request.url), status: reply.statusCode }, 'admin change');
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ConfigError) {
      return sendError(logger, request, reply, 'DM_ERR_CONFIG_INVALID', { message: error.message, problems: error.problems });
    }
    // Codes with a non-HTTP status (the CLI's exit code 2) fall through to the 500 below.
    if (error instanceof DockmasterError && error.status >= 400 && error.status <= 599) {
      return sendError(logger, request, reply, error.code, { message: error.message, err: error });
    }
    const status = typeof (error as { statusCode?: unknown }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : 500;
    const message = error instanceof Error ? error.message : String(error);
    if (status === 413) return sendError(logger, request, reply, 'DM_ERR_ADMIN_BODY_TOO_LARGE');
    if (status === 415) return sendError(logger, request, reply, 'DM_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE');
    // fastify's 4xx messages (bad JSON, failed schema) are safe and useful to show.
    if (status >= 400 && status < 500) return sendError(logger, request, reply, 'DM_ERR_ADMIN_BAD_REQUEST', { message });
    // Internal messages stay in the log.
    return sendError(logger, request, reply, 'DM_ERR_ADMIN_INTERNAL', { err: error });
  });

  app.setNotFoundHandler((request, reply) => {
    const template = matchTemplate(pathOf(request.url), allowedMethods.keys());
    if (template === undefined) return notFound(logger, request, reply);
    const methods = [...(allowedMethods.get(template) ?? [])].join(', ');
    reply.header('allow', methods);
    return sendError(logger, request, reply, 'DM_ERR_ADMIN_METHOD_NOT_ALLOWED', {
      message: `${request.method} is not allowed on ${template}; allowed: ${methods}`,
    });
  });

  allow('/healthz', 'GET');
  app.get('/healthz', async () => ({ status: 'ok' }));

  allow('/readyz', 'GET');
  app.get('/readyz', async (_request, reply) => {
    if (service.isReady()) return { status: 'ready' };
    // Not an error to log: it is the expected answer while starting and draining.
    const code: ErrorCode = 'DM_ERR_ADMIN_NOT_READY';
    return reply.code(ERROR_CODES[code].status).send({ status: 'not-ready', error: { code, message: ERROR_CODES[code].message } });
  });

  allow('/metrics', 'GET');
  app.get('/metrics', async (_request, reply) => {
    const text = await service.registry.metrics();
    return reply.header('content-type', service.registry.contentType).send(text);
  });

  const ctx: AdminContext = { app, service, logger, allow };
  registerRoutesApi(ctx);
  registerServicesApi(ctx);
  registerHostsApi(ctx);
  registerEventsApi(ctx, opts.eventStreams);
  registerUi(ctx);

  return app;
}

/**
 * Listens on host:port and returns the bound address. Refuses (DM_ERR_ADMIN_UNSAFE_BIND, before
 * opening any socket) a non-loopback host when the app was built without a token.
 */
export async function listenAdmin(app: FastifyInstance, host: string, port: number): Promise<AddressInfo> {
  // An app not built by createAdminServer counts as tokenless: the safe default.
  assertSafeAdminBind(host, appsWithToken.get(app) ?? false);
  await app.listen({ host, port });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    throw new DockmasterError('DM_ERR_ADMIN_INTERNAL', `admin listener has no TCP address: ${String(address)}`);
  }
  return address;
}

/** createAdminServer + listenAdmin; the bind guard runs first, and a failed listen closes the app. */
export async function startAdminServer(
  service: AdminService,
  opts: AdminListenOptions,
): Promise<{ app: FastifyInstance; address: AddressInfo }> {
  assertSafeAdminBind(opts.host, opts.token !== undefined);
  const app = createAdminServer(service, opts);
  try {
    const address = await listenAdmin(app, opts.host, opts.port);
    return { app, address };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** The URL template (`/v1/routes/:name`) that `path` fits, if any; `:x` is one non-empty segment. */
function matchTemplate(path: string, templates: Iterable<string>): string | undefined {
  const segments = path.split('/');
  for (const template of templates) {
    const parts = template.split('/');
    if (parts.length !== segments.length) continue;
    const fits = parts.every((part, index) => {
      const segment = segments[index] ?? '';
      return part.startsWith(':') ? segment.length > 0 : part === segment;
    });
    if (fits) return template;
  }
  return undefined;
}
