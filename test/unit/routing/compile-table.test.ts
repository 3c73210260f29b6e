// Compiling route specs into a table: order, pools, defaults and timeouts. Pure.
import { describe, expect, it } from 'vitest';
import {
  compileTable,
  DEFAULT_ROUTE_TIMEOUT_MS,
  MAX_BODY_IDLE_TIMEOUT_MS,
  MAX_CONNECT_TIMEOUT_MS,
  routeTimeouts,
} from '../../../src/routing/compile-table.js';
import type { Endpoint } from '../../../src/model/endpoint.js';
import type { RouteSpec } from '../../../src/model/route.js';

function spec(name: string, match: RouteSpec['match'], extra: Partial<RouteSpec> = {}): RouteSpec {
  return { kind: 'Route', name, match, service: 'svc', ...extra };
}

const managed: Endpoint = { id: 'r1', origin: 'http://127.0.0.1:4001', weight: 1, source: 'managed', healthy: true, draining: false };

describe('compileTable', () => {
  it('orders routes exact host, then longer wildcard, then any host; longer prefix; more headers; then by name', () => {
    const table = compileTable(
      [
        spec('any-root', {}),
        spec('any-api', { pathPrefix: '/api' }),
        spec('wild-short', { host: '*.com' }),
        spec('wild-long', { host: '*.example.com' }),
        spec('exact-root', { host: 'a.example.com' }),
        spec('exact-api', { host: 'a.example.com', pathPrefix: '/api' }),
        spec('any-api-canary', { pathPrefix: '/api', headers: { 'x-canary': '1' } }),
        spec('b-tie', { pathPrefix: '/x' }),
        spec('a-tie', { pathPrefix: '/y' }),
      ],
      new Map(),
      1,
    );
    expect(table.routes.map((r) => r.name)).toEqual([
      'exact-api',
      'exact-root',
      'wild-long',
      'wild-short',
      'any-api-canary',
      'any-api',
      'a-tie',
      'b-tie',
      'any-root',
    ]);
  });

  it('turns static upstreams into a route pool of static, healthy endpoints keyed by origin', () => {
    const table = compileTable(
      [spec('static', {}, { service: undefined, upstreams: [{ url: 'http://127.0.0.1:3001/', weight: 5 }, { url: 'http://LOCALHOST:3002' }] })],
      new Map(),
      7,
    );
    expect(table.version).toBe(7);
    expect(table.routes[0]?.poolKey).toBe('route:static');
    expect(table.pools.get('route:static')).toEqual({
      key: 'route:static',
      endpoints: [
        { id: 'http://127.0.0.1:3001', origin: 'http://127.0.0.1:3001', weight: 5, source: 'static', healthy: true, draining: false },
        { id: 'http://localhost:3002', origin: 'http://localhost:3002', weight: 1, source: 'static', healthy: true, draining: false },
      ],
    });
  });

  it('points service routes at the service pool, shared by routes of the same service', () => {
    const table = compileTable([spec('a', { pathPrefix: '/a' }), spec('b', { pathPrefix: '/b' })], new Map([['svc', [managed]]]), 1);
    expect(table.routes.map((r) => [r.poolKey, r.service])).toEqual([
      ['service:svc', 'svc'],
      ['service:svc', 'svc'],
    ]);
    expect([...table.pools.keys()]).toEqual(['service:svc']);
    expect(table.pools.get('service:svc')?.endpoints).toEqual([managed]);
  });

  it('gives a service without endpoints an empty pool', () => {
    const table = compileTable([spec('a', {})], new Map(), 1);
    expect(table.pools.get('service:svc')?.endpoints).toEqual([]);
  });

  it('fills in defaults and normalises host and header names', () => {
    const table = compileTable([spec('a', { host: 'API.Example.com', headers: { 'X-Canary': '1' } })], new Map(), 1);
    expect(table.routes[0]).toEqual({
      name: 'a',
      host: { kind: 'exact', host: 'api.example.com' },
      pathPrefix: '/',
      headers: [['x-canary', '1']],
      poolKey: 'service:svc',
      service: 'svc',
      stripPrefix: false,
      timeouts: routeTimeouts(DEFAULT_ROUTE_TIMEOUT_MS),
      retries: 2,
      loadBalancer: 'round-robin',
      ejectOn5xx: false,
    });
  });

  it('compiles a wildcard host to a suffix with its leading dot', () => {
    const table = compileTable([spec('a', { host: '*.Example.com' })], new Map(), 1);
    expect(table.routes[0]?.host).toEqual({ kind: 'wildcard', suffix: '.example.com' });
  });

  it('publishes a frozen table', () => {
    const table = compileTable([spec('a', {})], new Map(), 1);
    expect(Object.isFrozen(table)).toBe(true);
    expect(Object.isFrozen(table.routes)).toBe(true);
    expect(Object.isFrozen(table.routes[0])).toBe(true);
  });
});

describe('routeTimeouts', () => {
  it.each([
    { totalMs: 1_000, connectMs: 1_000, bodyIdleMs: 1_000 },
    { totalMs: 30_000, connectMs: MAX_CONNECT_TIMEOUT_MS, bodyIdleMs: 30_000 },
    { totalMs: 600_000, connectMs: MAX_CONNECT_TIMEOUT_MS, bodyIdleMs: MAX_BODY_IDLE_TIMEOUT_MS },
  ])('a total of $totalMs ms gives connect $connectMs ms and body idle $bodyIdleMs ms', ({ totalMs, connectMs, bodyIdleMs }) => {
    expect(routeTimeouts(totalMs)).toEqual({ connectMs, responseHeadersMs: totalMs, bodyIdleMs, totalMs });
  });
});
