// The Consul HTTP API double itself over real sockets: the documented behaviour the provider relies
// on (blocking queries, X-Consul-Index, ?passing, agent endpoints, ACL token) and its faults, so the
// double cannot drift from what it claims. Integration: HTTP on 127.0.0.1.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsulDouble } from '../../../helpers/consul-double.js';
import { startUpstream } from '../../../helpers/upstream.js';
import { eventually } from '../../../helpers/eventually.js';

let double: ConsulDouble;

beforeEach(async () => {
  double = await ConsulDouble.start({ jitter: false });
});

afterEach(async () => {
  await double.close();
});

async function get(path: string, init: RequestInit = {}): Promise<{ status: number; index: number; body: unknown; text: string; type: string }> {
  const res = await fetch(`${double.address}${path}`, { signal: AbortSignal.timeout(10_000), ...init });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, index: Number(res.headers.get('x-consul-index')), body, text, type: res.headers.get('content-type') ?? '' };
}

function put(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; index: number; body: unknown; text: string; type: string }> {
  return get(path, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
}

describe('ConsulDouble: catalog and health', () => {
  it('lists services with their tags, the consul service included', async () => {
    double.registerService({ name: 'api', id: 'api-1', port: 3001, tags: ['edge', 'version=v1'] });
    double.registerService({ name: 'api', id: 'api-2', port: 3002, tags: ['edge', 'version=v2'] });
    const res = await get('/v1/catalog/services');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ api: ['edge', 'version=v1', 'version=v2'], consul: [] });
    expect(res.index).toBeGreaterThan(0);
  });

  it('answers catalog service and health service in Consul shapes, with ?passing on every check', async () => {
    double.registerService({ name: 'api', id: 'api-1', port: 3001, address: '127.0.0.2' });
    double.registerService({ name: 'api', id: 'api-2', port: 3002, check: 'critical' });
    const catalog = await get('/v1/catalog/service/api');
    expect((catalog.body as { ServiceID: string; ServicePort: number }[]).map((s) => [s.ServiceID, s.ServicePort])).toEqual([
      ['api-1', 3001],
      ['api-2', 3002],
    ]);
    const all = (await get('/v1/health/service/api')).body as { Service: { ID: string; Address: string }; Node: { Address: string }; Checks: { CheckID: string; Status: string }[] }[];
    expect(all.map((e) => e.Service.ID)).toEqual(['api-1', 'api-2']);
    expect(all[0]?.Service.Address).toBe('127.0.0.2');
    expect(all[1]?.Service.Address).toBe('');
    expect(all[1]?.Node.Address).toBe('127.0.0.1');
    expect(all[1]?.Checks.map((c) => [c.CheckID, c.Status])).toEqual([
      ['serfHealth', 'passing'],
      ['service:api-2', 'critical'],
    ]);
    for (const q of ['?passing', '?passing=true', '?passing=1']) {
      expect(((await get(`/v1/health/service/api${q}`)).body as { Service: { ID: string } }[]).map((e) => e.Service.ID)).toEqual(['api-1']);
    }
    expect((await get('/v1/health/service/api?passing=maybe')).status).toBe(400);
    double.setNodeHealth(double.nodeName, 'critical');
    expect((await get('/v1/health/service/api?passing')).body).toEqual([]);
  });

  it('answers an unknown service with an empty list and a non-zero index', async () => {
    const res = await get('/v1/health/service/nope?passing');
    expect(res.body).toEqual([]);
    expect(res.index).toBeGreaterThan(0);
  });

  it('puts X-Consul-Index on every answer, errors included', async () => {
    for (const res of [await get('/v1/catalog/services'), await get('/v1/agent/services'), await get('/v1/nope'), await put('/v1/agent/service/deregister/none')]) {
      expect(res.index).toBeGreaterThan(0);
    }
  });

  it('refuses a bad index or wait parameter with 400', async () => {
    expect((await get('/v1/health/service/api?index=abc')).status).toBe(400);
    expect((await get('/v1/health/service/api?index=1&wait=forever')).status).toBe(400);
  });
});

describe('ConsulDouble: blocking queries', () => {
  it('answers at once when the index given is older than the current one', async () => {
    double.registerService({ name: 'api', port: 3001 });
    const { index } = await get('/v1/health/service/api');
    const started = Date.now();
    const res = await get(`/v1/health/service/api?index=${index - 1}&wait=5s`);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(res.index).toBe(index);
  });

  it('holds the request until a change to that service, then answers with the new index', async () => {
    double.registerService({ name: 'api', id: 'api-1', port: 3001 });
    const { index } = await get('/v1/health/service/api');
    const pending = get(`/v1/health/service/api?index=${index}&wait=10s`);
    setTimeout(() => {
      double.registerService({ name: 'other', port: 4000 });
      double.registerService({ name: 'api', id: 'api-2', port: 3002 });
    }, 200);
    const started = Date.now();
    const res = await pending;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.index).toBeGreaterThan(index);
    expect((res.body as unknown[]).length).toBe(2);
  });

  it('answers after the wait with the same index when nothing changed', async () => {
    double.registerService({ name: 'api', port: 3001 });
    const { index } = await get('/v1/health/service/api');
    const started = Date.now();
    const res = await get(`/v1/health/service/api?index=${index}&wait=300ms`);
    const tookMs = Date.now() - started;
    expect(tookMs).toBeGreaterThanOrEqual(250);
    expect(tookMs).toBeLessThan(2_000);
    expect(res.index).toBe(index);
  });

  it('adds at most wait/16 of jitter when asked to', async () => {
    const jittery = await ConsulDouble.start({ jitter: true });
    try {
      const first = await fetch(`${jittery.address}/v1/catalog/services`);
      const index = first.headers.get('x-consul-index');
      await first.text();
      const started = Date.now();
      const res = await fetch(`${jittery.address}/v1/catalog/services?index=${index}&wait=800ms`);
      await res.text();
      expect(Date.now() - started).toBeLessThan(800 + 800 / 16 + 500);
    } finally {
      await jittery.close();
    }
  });

  it('moves the index on every write, one index for the whole double', async () => {
    const before = double.index;
    double.registerService({ name: 'a', port: 1 });
    double.registerService({ name: 'b', port: 2 });
    double.setServiceHealth('a', 'critical');
    expect(double.index).toBe(before + 3);
  });

  it('can rewind its index like a restored snapshot', async () => {
    double.registerService({ name: 'api', port: 3001 });
    const { index } = await get('/v1/health/service/api');
    double.rewindIndex(2);
    const res = await get('/v1/health/service/api');
    expect(res.index).toBeLessThan(index);
  });
});

describe('ConsulDouble: agent service endpoints', () => {
  it('registers with a check that starts critical, lists it, and deregisters it', async () => {
    const registered = await put('/v1/agent/service/register', {
      Name: 'api',
      ID: 'api-r1',
      Address: '127.0.0.1',
      Port: 3001,
      Tags: ['version=abc'],
      Check: { HTTP: 'http://127.0.0.1:3001/healthz', Interval: '1s', Timeout: '1s', DeregisterCriticalServiceAfter: '1m' },
    });
    expect(registered.status).toBe(200);
    expect(Object.keys((await get('/v1/agent/services')).body as object)).toEqual(['api-r1']);
    const [instance] = double.instances('api');
    expect(instance?.checks).toEqual([{ checkId: 'service:api-r1', status: 'critical', definition: { HTTP: 'http://127.0.0.1:3001/healthz', Interval: '1s', Timeout: '1s', DeregisterCriticalServiceAfter: '1m' } }]);
    expect((await get('/v1/health/service/api?passing')).body).toEqual([]);
    double.setCheck('service:api-r1', 'passing');
    expect(((await get('/v1/health/service/api?passing')).body as unknown[]).length).toBe(1);
    expect((await put('/v1/agent/service/deregister/api-r1')).status).toBe(200);
    expect(double.instances('api')).toEqual([]);
    const again = await put('/v1/agent/service/deregister/api-r1');
    expect(again.status).toBe(404);
    expect(again.text).toMatch(/Unknown service ID/);
  });

  it('refuses a registration without a name, or an HTTP check without an interval, with 400', async () => {
    expect((await put('/v1/agent/service/register', { Port: 1 })).status).toBe(400);
    expect((await put('/v1/agent/service/register', { Name: 'x', Check: { HTTP: 'http://127.0.0.1:1/' } })).status).toBe(400);
    expect((await put('/v1/agent/service/register', '{"Name":')).status).toBe(400);
  });

  it('answers 405 to a wrong method', async () => {
    expect((await get('/v1/agent/service/register')).status).toBe(405);
  });

  it('runs HTTP checks against loopback when asked to, like an agent', async () => {
    const checking = await ConsulDouble.start({ runHttpChecks: true });
    let healthy = true;
    const app = await startUpstream((_req, res) => {
      res.statusCode = healthy ? 200 : 503;
      res.end();
    });
    try {
      const res = await fetch(`${checking.address}/v1/agent/service/register`, {
        method: 'PUT',
        body: JSON.stringify({ Name: 'app', ID: 'app-1', Port: app.port, Check: { HTTP: `${app.origin}/healthz`, Interval: '1s' } }),
      });
      expect(res.status).toBe(200);
      await eventually(() => expect(checking.instances('app')[0]?.checks[0]?.status).toBe('passing'), { timeoutMs: 5_000 });
      healthy = false;
      await eventually(() => expect(checking.instances('app')[0]?.checks[0]?.status).toBe('critical'), { timeoutMs: 5_000 });
    } finally {
      await app.close();
      await checking.close();
    }
  });
});

describe('ConsulDouble: ACL token', () => {
  it('refuses requests without the configured token with 403', async () => {
    const guarded = await ConsulDouble.start({ aclToken: 'secret' });
    try {
      expect((await fetch(`${guarded.address}/v1/catalog/services`)).status).toBe(403);
      expect((await fetch(`${guarded.address}/v1/catalog/services`, { headers: { 'x-consul-token': 'secret' } })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('ConsulDouble: faults', () => {
  it('serves an HTML 500 page', async () => {
    double.inject('health.service', { kind: 'html-error' }, { times: 1 });
    const res = await get('/v1/health/service/api');
    expect(res.status).toBe(500);
    expect(res.type).toMatch(/text\/html/);
    expect((await get('/v1/health/service/api')).status).toBe(200);
  });

  it('serves truncated JSON with a matching Content-Length', async () => {
    double.registerService({ name: 'api', port: 3001 });
    double.inject('health.service', { kind: 'truncated-json' }, { times: 1 });
    const res = await get('/v1/health/service/api');
    expect(res.status).toBe(200);
    expect(() => JSON.parse(res.text) as unknown).toThrow();
  });

  it('serves the wrong shape: an object for a list, a list for an object', async () => {
    double.inject('health.service', { kind: 'wrong-shape' }, { times: 1 });
    double.inject('catalog.services', { kind: 'wrong-shape' }, { times: 1 });
    expect(Array.isArray((await get('/v1/health/service/api')).body)).toBe(false);
    expect(Array.isArray((await get('/v1/catalog/services')).body)).toBe(true);
  });

  it('answers a blocking query at once with a lower or zero index', async () => {
    double.registerService({ name: 'api', port: 3001 });
    const { index } = await get('/v1/health/service/api');
    double.inject('health.service', { kind: 'index-backwards', index: 1 }, { times: 1 });
    double.inject('health.service', { kind: 'index-zero' }, { times: 1 });
    expect((await get(`/v1/health/service/api?index=${index}&wait=5s`)).index).toBe(1);
    expect((await get(`/v1/health/service/api?index=${index}&wait=5s`)).index).toBe(0);
  });

  it('churns: every read moves the index without changing the data', async () => {
    double.registerService({ name: 'api', port: 3001 });
    const first = await get('/v1/health/service/api');
    double.inject('health.service', { kind: 'churn' });
    const second = await get(`/v1/health/service/api?index=${first.index}&wait=5s`);
    expect(second.index).toBeGreaterThan(first.index);
    expect(second.body).toEqual(first.body);
  });

  it('hangs, resets and refuses connections', async () => {
    double.inject('health.service', { kind: 'hang' }, { times: 1 });
    await expect(fetch(`${double.address}/v1/health/service/api`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    double.inject('health.service', { kind: 'reset' }, { times: 1 });
    await expect(fetch(`${double.address}/v1/health/service/api`)).rejects.toThrow();
    await double.refuseConnections();
    await expect(fetch(`${double.address}/v1/health/service/api`)).rejects.toThrow();
    await double.acceptConnections();
    expect((await get('/v1/health/service/api')).status).toBe(200);
  });

  it('slows answers down', async () => {
    double.inject('catalog.services', { kind: 'slow', delayMs: 300 }, { times: 1 });
    const started = Date.now();
    expect((await get('/v1/catalog/services')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('counts requests per path, faulted ones included', async () => {
    double.inject('health.service', { kind: 'html-error' }, { times: 2 });
    for (let i = 0; i < 3; i++) await get('/v1/health/service/api');
    await get('/v1/catalog/services');
    expect(double.requestCount({ pathPrefix: '/v1/health/service/' })).toBe(3);
    expect(double.requestCounts().get('GET /v1/catalog/services')).toBe(1);
    expect(double.requestCount()).toBe(4);
  });
});
