import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startProxy, route, metricValue, type ProxyHarness } from '../../helpers/proxy-harness.js';
import { startUpstream, startBlackhole, closedPortOrigin, type RunningUpstream } from '../../helpers/upstream.js';
import { eventually } from '../../helpers/eventually.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function upstream(...args: Parameters<typeof startUpstream>): Promise<RunningUpstream> {
  const u = await startUpstream(...args);
  cleanups.push(() => u.close());
  return u;
}

async function proxyFor(...args: Parameters<typeof startProxy>): Promise<ProxyHarness> {
  const p = await startProxy(...args);
  cleanups.push(() => p.close());
  return p;
}

function named(name: string): Parameters<typeof startUpstream>[0] {
  return (_req, res) => res.end(name);
}

describe('forwarding', () => {
  it('spreads requests evenly over 3 upstreams with round-robin', async () => {
    const ups = [await upstream(named('a')), await upstream(named('b')), await upstream(named('c'))];
    const p = await proxyFor([route('r', ups.map((u) => u.origin))]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const res = await request(`${p.url}/x`);
      const body = await res.body.text();
      expect(res.statusCode).toBe(200);
      counts.set(body, (counts.get(body) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ a: 100, b: 100, c: 100 });
  });

  it('answers 404 with a short JSON body when no route matches', async () => {
    const u = await upstream();
    const p = await proxyFor([route('api', [u.origin], { match: { pathPrefix: '/api' } })]);
    const res = await request(`${p.url}/other`);
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/json');
    expect(await res.body.json()).toMatchObject({ error: { code: 'DM_ERR_ROUTE_NOT_FOUND' } });
    expect(u.seen).toHaveLength(0);
  });

  it('strips the route prefix when asked and keeps the query string', async () => {
    const u = await upstream();
    const p = await proxyFor([route('api', [u.origin], { match: { pathPrefix: '/api' }, stripPrefix: true })]);
    const res = await request(`${p.url}/api/users?id=7`);
    expect(((await res.body.json()) as { path: string }).path).toBe('/users?id=7');
  });

  it('streams request and response bodies both ways', async () => {
    const u = await upstream((req, res) => req.pipe(res));
    const p = await proxyFor([route('r', [u.origin])]);
    const payload = Buffer.alloc(3 * 1024 * 1024, 'x');
    const res = await request(`${p.url}/echo`, { method: 'POST', body: payload });
    const back = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(200);
    expect(back.length).toBe(payload.length);
  });

  it('retries a closed upstream on another endpoint so clients see no error', async () => {
    const good = await upstream(named('good'));
    const dead = await closedPortOrigin();
    const p = await proxyFor([route('r', [dead, good.origin])]);
    for (let i = 0; i < 50; i++) {
      const res = await request(`${p.url}/`, { method: i % 2 === 0 ? 'GET' : 'POST', body: i % 2 === 0 ? null : 'data' });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('good');
    }
    expect(await metricValue(p.registry, 'dockmaster_proxy_retries_total', { reason: 'connect' })).toBeGreaterThanOrEqual(25);
    expect(await metricValue(p.registry, 'dockmaster_proxy_upstream_errors_total', { kind: 'refused' })).toBeGreaterThanOrEqual(25);
  });

  it('answers 502 when every endpoint refuses, logging each failed attempt with its endpoint', async () => {
    const origins = [await closedPortOrigin(), await closedPortOrigin()];
    const p = await proxyFor([route('r', origins)]);
    const res = await request(`${p.url}/`);
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toMatchObject({ error: { code: 'DM_ERR_PROXY_UPSTREAM_REFUSED' } });
    const failures = p.logs.filter((l) => l['msg'] === 'upstream attempt failed');
    expect(failures.map((l) => l['endpoint']).sort()).toEqual([...origins].sort());
    expect(failures.every((l) => l['kind'] === 'refused')).toBe(true);
  });

  it('answers 504 within the route timeout for a blackhole upstream and closes its socket', async () => {
    const hole = await startBlackhole();
    cleanups.push(() => hole.close());
    const p = await proxyFor([route('r', [hole.origin], { timeoutMs: 300, retries: 0 })]);
    const started = Date.now();
    const res = await request(`${p.url}/`);
    const elapsed = Date.now() - started;
    expect(res.statusCode).toBe(504);
    expect(await res.body.json()).toMatchObject({ error: { code: 'DM_ERR_PROXY_UPSTREAM_TIMEOUT' } });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
    expect(await metricValue(p.registry, 'dockmaster_proxy_upstream_errors_total', { kind: 'timeout' })).toBe(1);
    // The socket that carried the request is destroyed (undici may open a fresh idle one).
    await eventually(() => expect(hole.openWithRequest()).toBe(0), { timeoutMs: 2000 });
  });

  it('truncates the response when the backend resets mid-body, never sending a complete short 200', async () => {
    const u = await upstream((_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000, 'a'));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await request(`${p.url}/`);
    expect(res.statusCode).toBe(200);
    await expect(res.body.arrayBuffer()).rejects.toThrow();
  });

  it('truncates a chunked response when the backend resets mid-body', async () => {
    const u = await upstream((_req, res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(1000, 'a'));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await request(`${p.url}/`);
    await expect(res.body.arrayBuffer()).rejects.toThrow();
  });

  it('aborts the upstream request at once when the client goes away', async () => {
    let upstreamClosed = false;
    const u = await upstream((req, res) => {
      res.writeHead(200);
      res.write('start');
      req.socket.once('close', () => {
        upstreamClosed = true;
      });
    });
    const p = await proxyFor([route('r', [u.origin])]);
    const controller = new AbortController();
    const res = await request(`${p.url}/slow`, { signal: controller.signal });
    expect(res.statusCode).toBe(200);
    controller.abort();
    await res.body.text().catch(() => undefined);
    await eventually(() => expect(upstreamClosed).toBe(true), { timeoutMs: 3000 });
    await eventually(() => expect(p.proxy.requestsInFlight).toBe(0));
    expect(p.proxy.inFlight(u.origin)).toBe(0);
  });

  it('answers 503 with Retry-After for a service route without endpoints', async () => {
    const p = await proxyFor([{ kind: 'Route', name: 'svc', match: { pathPrefix: '/' }, service: 'nothing' }]);
    const res = await request(`${p.url}/`);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(await res.body.json()).toMatchObject({ error: { code: 'DM_ERR_PROXY_NO_ENDPOINT' } });
  });

  it('never picks draining or unhealthy endpoints', async () => {
    const ok = await upstream(named('ok'));
    const draining = await upstream(named('draining'));
    const sick = await upstream(named('sick'));
    const endpoint = (origin: string, extra = {}) => ({ id: origin, origin, weight: 1, source: 'managed' as const, healthy: true, draining: false, ...extra });
    const services = new Map([['svc', [endpoint(ok.origin), endpoint(draining.origin, { draining: true }), endpoint(sick.origin, { healthy: false })]]]);
    const p = await proxyFor([{ kind: 'Route', name: 'svc', match: { pathPrefix: '/' }, service: 'svc' }], { services });
    for (let i = 0; i < 30; i++) expect(await (await request(`${p.url}/`)).body.text()).toBe('ok');
  });

  it('counts requests by route and status class', async () => {
    const u = await upstream((_req, res) => {
      res.statusCode = 201;
      res.end();
    });
    const p = await proxyFor([route('r', [u.origin])]);
    for (let i = 0; i < 5; i++) await (await request(`${p.url}/`)).body.dump();
    expect(await metricValue(p.registry, 'dockmaster_proxy_requests_total', { route: 'r', status_class: '2xx', method: 'GET' })).toBe(5);
  });

  it('swaps the routing table atomically: each request sees the old or the new table whole', async () => {
    const a = await upstream(named('a'));
    const b = await upstream(named('b'));
    const p = await proxyFor([route('r', [a.origin])]);
    const seen: string[] = [];
    const load = (async () => {
      for (let i = 0; i < 200; i++) seen.push(await (await request(`${p.url}/`)).body.text());
    })();
    await eventually(() => expect(seen.length).toBeGreaterThan(20));
    p.setRoutes([route('r', [b.origin])]);
    await load;
    const firstB = seen.indexOf('b');
    expect(firstB).toBeGreaterThan(0);
    expect(seen.slice(firstB).every((s) => s === 'b')).toBe(true);
    expect(seen.slice(0, firstB).every((s) => s === 'a')).toBe(true);
  });
});
