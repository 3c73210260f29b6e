// Integration tests of the admin API on a real 127.0.0.1 listener with a fake route store.
// I/O: sockets on loopback.
import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdminServer, listenAdmin, ADMIN_BODY_LIMIT_BYTES } from '../../../src/admin/admin-server.js';
import { capturedLogger, fakeService, jsonBody, route, send, type FakeService } from './admin-fixtures.js';

const TOKEN = 'correct-horse-battery-staple-0123456789';

async function start(token?: string): Promise<{
  app: FastifyInstance;
  port: number;
  service: FakeService;
  log: ReturnType<typeof capturedLogger>;
}> {
  const service = fakeService();
  const log = capturedLogger();
  const app = createAdminServer(service, { token, logger: log.logger });
  const address = await listenAdmin(app, '127.0.0.1', 0);
  return { app, port: address.port, service, log };
}

describe('admin API with a token', () => {
  let ctx: Awaited<ReturnType<typeof start>>;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    ctx = await start(TOKEN);
    const counter = new Counter({ name: 'dockmaster_test_admin_total', help: 'test counter', registers: [ctx.service.registry] });
    counter.inc(3);
  });
  afterAll(async () => ctx.app.close());

  const refused: Array<{ name: string; headers: Record<string, string> }> = [
    { name: 'no Authorization header', headers: {} },
    { name: 'a wrong token of the same length', headers: { authorization: `Bearer ${'x'.repeat(TOKEN.length)}` } },
    { name: 'a wrong token of another length', headers: { authorization: 'Bearer short' } },
    { name: 'the right token with a suffix', headers: { authorization: `Bearer ${TOKEN}x` } },
    { name: 'the right token as a prefix', headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` } },
    { name: 'another scheme', headers: { authorization: `Basic ${TOKEN}` } },
    { name: 'the bare token without a scheme', headers: { authorization: TOKEN } },
    { name: 'an empty Bearer', headers: { authorization: 'Bearer ' } },
  ];

  for (const { name, headers } of refused) {
    it(`answers 401 with a JSON code and WWW-Authenticate for ${name}`, async () => {
      const answer = await send(ctx.port, 'GET', '/v1/routes', { headers });
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.json).toEqual({ error: { code: 'DM_ERR_ADMIN_UNAUTHORIZED', message: expect.any(String) } });
    });
  }

  it('accepts the right token, with the scheme in any case', async () => {
    expect((await send(ctx.port, 'GET', '/v1/routes', { headers: auth })).status).toBe(200);
    const lower = await send(ctx.port, 'GET', '/v1/routes', { headers: { authorization: `bearer ${TOKEN}` } });
    expect(lower.status).toBe(200);
  });

  it('serves /healthz and /readyz without a token', async () => {
    const health = await send(ctx.port, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    expect((await send(ctx.port, 'GET', '/readyz')).status).toBe(200);
    expect((await send(ctx.port, 'HEAD', '/healthz')).status).toBe(200);
  });

  it('needs the token for /metrics, because series name routes', async () => {
    expect((await send(ctx.port, 'GET', '/metrics')).status).toBe(401);
    const metrics = await send(ctx.port, 'GET', '/metrics', { headers: auth });
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toBe(ctx.service.registry.contentType);
    expect(metrics.text).toContain('# TYPE dockmaster_test_admin_total counter');
    expect(metrics.text).toContain('dockmaster_test_admin_total 3');
  });

  it('checks the token before answering 404 or 405, so paths are not revealed', async () => {
    expect((await send(ctx.port, 'GET', '/nope')).status).toBe(401);
    expect((await send(ctx.port, 'POST', '/v1/routes')).status).toBe(401);
    expect((await send(ctx.port, 'POST', '/healthz')).status).toBe(401);
    expect((await send(ctx.port, 'POST', '/v1/routes', { headers: auth })).status).toBe(405);
  });

  it('refuses a PUT without the token and leaves the routes alone', async () => {
    const answer = await send(ctx.port, 'PUT', '/v1/routes/web', jsonBody(route('web')));
    expect(answer.status).toBe(401);
    expect(ctx.service.routes.mutations).toBe(0);
  });

  it('does not check the Host header when a token guards the API', async () => {
    const answer = await send(ctx.port, 'GET', '/v1/routes', { headers: { ...auth, host: 'admin.example.com' } });
    expect(answer.status).toBe(200);
  });

  it('never writes the token or the Authorization header to the log, and logs each refusal once', async () => {
    const before = ctx.log.lines.length;
    await send(ctx.port, 'GET', '/v1/routes', { headers: { authorization: 'Bearer wrong-token-value' } });
    const added = ctx.log.lines.slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ code: 'DM_ERR_ADMIN_UNAUTHORIZED', status: 401, reason: 'mismatch', path: '/v1/routes' });
    const everything = ctx.log.raw.join('');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain('wrong-token-value');
    expect(everything.toLowerCase()).not.toContain('authorization');
  });
});

describe('admin API without a token, on loopback', () => {
  let ctx: Awaited<ReturnType<typeof start>>;

  beforeAll(async () => {
    ctx = await start();
  });
  afterAll(async () => ctx.app.close());
  beforeEach(() => {
    ctx.service.routes.routes.clear();
    ctx.service.ready = true;
  });

  it('answers /readyz 200 while ready and 503 with a code when not', async () => {
    expect((await send(ctx.port, 'GET', '/readyz')).json).toEqual({ status: 'ready' });
    ctx.service.ready = false;
    const notReady = await send(ctx.port, 'GET', '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.json).toMatchObject({ status: 'not-ready', error: { code: 'DM_ERR_ADMIN_NOT_READY' } });
    ctx.service.ready = true;
    expect((await send(ctx.port, 'GET', '/readyz')).status).toBe(200);
  });

  it('creates, replaces, reads, lists and deletes a route', async () => {
    expect((await send(ctx.port, 'GET', '/v1/routes')).json).toEqual({ routes: [] });

    const created = await send(ctx.port, 'PUT', '/v1/routes/web', jsonBody(route('web')));
    expect(created.status).toBe(201);
    expect(created.headers['location']).toBe('/v1/routes/web');
    expect(created.json).toEqual(route('web'));

    const replaced = await send(ctx.port, 'PUT', '/v1/routes/web', jsonBody(route('web', '/v2')));
    expect(replaced.status).toBe(200);
    expect(replaced.json).toEqual(route('web', '/v2'));

    const read = await send(ctx.port, 'GET', '/v1/routes/web');
    expect(read.status).toBe(200);
    expect(read.json).toEqual(route('web', '/v2'));
    expect((await send(ctx.port, 'GET', '/v1/routes')).json).toEqual({ routes: [route('web', '/v2')] });

    const deleted = await send(ctx.port, 'DELETE', '/v1/routes/web');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');

    const again = await send(ctx.port, 'DELETE', '/v1/routes/web');
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe('DM_ERR_ROUTE_UNKNOWN');
    const gone = await send(ctx.port, 'GET', '/v1/routes/web');
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: { code: 'DM_ERR_ROUTE_UNKNOWN', message: "no route named 'web'" } });
  });

  it('answers 400 with every problem (file, path, message) and changes nothing', async () => {
    const answer = await send(ctx.port, 'PUT', '/v1/routes/web', jsonBody({ kind: 'Rute', name: 'other' }));
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      error: {
        code: 'DM_ERR_CONFIG_INVALID',
        message: expect.any(String),
        problems: [
          { file: 'api:/v1/routes/web', path: '/kind', message: "must be 'Route'" },
          { file: 'api:/v1/routes/web', path: '/name', message: "must equal the name in the URL ('web')" },
          { file: 'api:/v1/routes/web', path: '/match', message: 'is required' },
        ],
      },
    });
    expect(ctx.service.routes.routes.size).toBe(0);
  });

  const badBodies: Array<{ name: string; headers: Record<string, string>; body?: string | Buffer; status: number; code: string }> = [
    { name: 'malformed JSON', headers: { 'content-type': 'application/json' }, body: '{"kind":', status: 400, code: 'DM_ERR_ADMIN_BAD_REQUEST' },
    { name: 'an empty JSON body', headers: { 'content-type': 'application/json' }, body: '', status: 400, code: 'DM_ERR_ADMIN_BAD_REQUEST' },
    { name: 'no body at all', headers: {}, status: 400, code: 'DM_ERR_ADMIN_BAD_REQUEST' },
    { name: 'a text/plain body', headers: { 'content-type': 'text/plain' }, body: 'kind: Route', status: 415, code: 'DM_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE' },
    {
      name: 'a body over 1 MiB',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'Route', name: 'web', pad: 'x'.repeat(ADMIN_BODY_LIMIT_BYTES) }),
      status: 413,
      code: 'DM_ERR_ADMIN_BODY_TOO_LARGE',
    },
    {
      name: 'a __proto__ key',
      headers: { 'content-type': 'application/json' },
      body: '{"kind":"Route","name":"web","match":{},"__proto__":{"x":1}}',
      status: 400,
      code: 'DM_ERR_ADMIN_BAD_REQUEST',
    },
  ];

  for (const { name, headers, body, status, code } of badBodies) {
    it(`answers ${status} ${code} to a PUT with ${name}`, async () => {
      const answer = await send(ctx.port, 'PUT', '/v1/routes/web', body === undefined ? { headers } : { headers, body });
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.json.error.code).toBe(code);
      expect(ctx.service.routes.routes.size).toBe(0);
    });
  }

  const wrongMethods: Array<{ method: string; path: string; allow: string }> = [
    { method: 'POST', path: '/v1/routes', allow: 'GET, HEAD' },
    { method: 'DELETE', path: '/v1/routes', allow: 'GET, HEAD' },
    { method: 'PATCH', path: '/v1/routes/web', allow: 'GET, HEAD, PUT, DELETE' },
    { method: 'POST', path: '/v1/routes/web', allow: 'GET, HEAD, PUT, DELETE' },
    { method: 'DELETE', path: '/healthz', allow: 'GET, HEAD' },
    { method: 'PUT', path: '/metrics', allow: 'GET, HEAD' },
    { method: 'OPTIONS', path: '/v1/routes', allow: 'GET, HEAD' },
    { method: 'PROPFIND', path: '/readyz', allow: 'GET, HEAD' },
  ];

  for (const { method, path, allow } of wrongMethods) {
    it(`answers ${method} ${path} with 405 and Allow: ${allow}`, async () => {
      const answer = await send(ctx.port, method, path);
      expect(answer.status).toBe(405);
      expect(answer.headers['allow']).toBe(allow);
      expect(answer.json.error.code).toBe('DM_ERR_ADMIN_METHOD_NOT_ALLOWED');
    });
  }

  it('answers an unknown path with a JSON 404', async () => {
    const mutations = ctx.service.routes.mutations;
    for (const path of ['/nope', '/v1/routes/', '/v1/routes/a/b', '/v1']) {
      const answer = await send(ctx.port, 'GET', path);
      expect(answer.status, path).toBe(404);
      expect(answer.json.error.code, path).toBe('DM_ERR_ADMIN_NOT_FOUND');
    }
    expect((await send(ctx.port, 'DELETE', '/v1/routes/')).status).toBe(404);
    expect((await send(ctx.port, 'PUT', '/v1/routes/', jsonBody(route('web')))).status).toBe(404);
    expect(ctx.service.routes.mutations).toBe(mutations);
  });

  it('never changes anything on GET or HEAD', async () => {
    await send(ctx.port, 'PUT', '/v1/routes/web', jsonBody(route('web')));
    const mutations = ctx.service.routes.mutations;
    for (const path of ['/v1/routes', '/v1/routes/web', '/v1/routes/other', '/healthz', '/readyz', '/metrics']) {
      await send(ctx.port, 'GET', path);
      await send(ctx.port, 'HEAD', path);
    }
    expect(ctx.service.routes.mutations).toBe(mutations);
    expect(ctx.service.routes.get('web')).toEqual(route('web'));
  });

  it('refuses a non-loopback Host header (DNS rebinding) but keeps probes open', async () => {
    const rebound = await send(ctx.port, 'PUT', '/v1/routes/web', {
      ...jsonBody(route('web')),
      headers: { 'content-type': 'application/json', host: 'evil.example:9090' },
    });
    expect(rebound.status).toBe(403);
    expect(rebound.json.error.code).toBe('DM_ERR_ADMIN_HOST_FORBIDDEN');
    expect(ctx.service.routes.routes.size).toBe(0);
    expect((await send(ctx.port, 'GET', '/healthz', { headers: { host: 'evil.example' } })).status).toBe(200);
    for (const host of ['localhost:9090', '127.0.0.1', '[::1]:9090']) {
      expect((await send(ctx.port, 'GET', '/v1/routes', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('answers a thrown store failure with a 500 code and logs it with the error, once', async () => {
    const original = ctx.service.routes.put.bind(ctx.service.routes);
    ctx.service.routes.put = async () => {
      throw new Error('disk on fire');
    };
    try {
      const before = ctx.log.lines.length;
      const answer = await send(ctx.port, 'PUT', '/v1/routes/web', jsonBody(route('web')));
      expect(answer.status).toBe(500);
      expect(answer.json).toEqual({ error: { code: 'DM_ERR_ADMIN_INTERNAL', message: 'admin request failed' } });
      const added = ctx.log.lines.slice(before);
      expect(added).toHaveLength(1);
      expect(added[0]).toMatchObject({ level: 50, code: 'DM_ERR_ADMIN_INTERNAL', err: { message: 'disk on fire' } });
    } finally {
      ctx.service.routes.put = original;
    }
  });

  it('logs one audit line per change that went through', async () => {
    const before = ctx.log.lines.length;
    await send(ctx.port, 'PUT', '/v1/routes/web', jsonBody(route('web')));
    await send(ctx.port, 'DELETE', '/v1/routes/web');
    const added = ctx.log.lines.slice(before);
    expect(added.map((line) => [line['msg'], line['method'], line['status']])).toEqual([
      ['admin change', 'PUT', 201],
      ['admin change', 'DELETE', 204],
    ]);
  });

  it('sets no-store on every answer', async () => {
    for (const path of ['/healthz', '/v1/routes', '/nope']) {
      expect((await send(ctx.port, 'GET', path)).headers['cache-control'], path).toBe('no-store');
    }
  });
});
