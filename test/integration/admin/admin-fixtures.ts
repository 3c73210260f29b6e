// Test helpers for the admin API: an in-memory RoutesAdmin fake, a raw HTTP client, log capture.
// I/O: opens client sockets to 127.0.0.1.
import { request as httpRequest } from 'node:http';
import { EventLog } from '../../../src/observability/event-log.js';
import type { ServicesAdmin, AdminService, PutResult, RoutesAdmin } from '../../../src/admin/admin-service.js';
import type { ConfigProblem } from '../../../src/errors.js';
import type { RouteSpec } from '../../../src/model/route.js';
import { createLogger, type Logger } from '../../../src/observability/logger.js';
import { Registry } from 'prom-client';

/** Keeps routes in a Map; "validation" is a few checks, enough to produce problems. */
export class FakeRoutes implements RoutesAdmin {
  readonly routes = new Map<string, RouteSpec>();
  mutations = 0;

  list(): readonly RouteSpec[] {
    return [...this.routes.values()];
  }

  get(name: string): RouteSpec | undefined {
    return this.routes.get(name);
  }

  async put(name: string, body: unknown): Promise<PutResult> {
    const file = `api:/v1/routes/${name}`;
    const problems: ConfigProblem[] = [];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { ok: false, problems: [{ file, path: '', message: 'must be an object' }] };
    }
    const spec = body as Record<string, unknown>;
    if (spec['kind'] !== 'Route') problems.push({ file, path: '/kind', message: "must be 'Route'" });
    if (spec['name'] !== name) problems.push({ file, path: '/name', message: `must equal the name in the URL ('${name}')` });
    if (typeof spec['match'] !== 'object' || spec['match'] === null) problems.push({ file, path: '/match', message: 'is required' });
    if (problems.length > 0) return { ok: false, problems };
    const created = !this.routes.has(name);
    this.routes.set(name, body as RouteSpec);
    this.mutations++;
    return { ok: true, created };
  }

  async delete(name: string): Promise<boolean> {
    const existed = this.routes.delete(name);
    if (existed) this.mutations++;
    return existed;
  }
}

export interface FakeService extends AdminService {
  readonly routes: FakeRoutes;
  ready: boolean;
}

/** Services with no entries: the route-focused admin tests do not touch them. */
const noServices: ServicesAdmin = {
  specs: {
    get: () => undefined,
    put: async () => ({ ok: false, problems: [{ file: 'api', path: '', message: 'no services in this fixture' }] }),
    delete: async () => false,
    setReplicas: async () => ({ ok: false, problems: [{ file: 'api', path: '', message: 'no services in this fixture' }] }),
  },
  list: () => [],
  status: () => undefined,
  rollout: async (name) => ({ ok: false, code: 'DM_ERR_SERVICE_UNKNOWN', message: `no service named '${name}' is managed here` }),
  rollback: async (name) => ({ ok: false, code: 'DM_ERR_SERVICE_UNKNOWN', message: `no service named '${name}' is managed here` }),
  revisions: () => undefined,
  conflict: () => undefined,
};

export function fakeService(): FakeService {
  const registry = new Registry();
  const service = {
    routes: new FakeRoutes(),
    services: noServices,
    events: new EventLog(),
    registry,
    ready: true,
    isReady: () => service.ready,
  };
  return service;
}

/** A pino logger (with the real redaction setup) whose lines are kept as parsed objects. */
export function capturedLogger(): { logger: Logger; lines: Array<Record<string, unknown>>; raw: string[] } {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, raw };
}

export interface AdminJson {
  readonly error: { readonly code: string; readonly message: string; readonly problems?: unknown };
  readonly [key: string]: unknown;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body parsed as JSON, typed as the admin API's error envelope for convenient
   * assertions; at run time it is whatever was sent (undefined when not JSON). */
  readonly json: AdminJson;
}

/** One request over a fresh connection; node:http allows any method and a custom Host. */
export function send(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers: { connection: 'close', ...options.headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: AdminJson;
          try {
            json = (text === '' ? undefined : JSON.parse(text)) as AdminJson;
          } catch {
            json = undefined as unknown as AdminJson;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function jsonBody(value: unknown): { headers: Record<string, string>; body: string } {
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

export function route(name: string, pathPrefix = `/${name}`): RouteSpec {
  return { kind: 'Route', name, match: { pathPrefix }, upstreams: [{ url: 'http://127.0.0.1:3001' }] };
}
