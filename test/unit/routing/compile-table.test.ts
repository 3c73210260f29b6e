// Compiling route specs into a table: order, pools, splits, hold settings, defaults and timeouts. Pure.
import { describe, expect, it } from 'vitest';
import {
  compileHold,
  compileSplit,
  compileTable,
  DEFAULT_ROUTE_TIMEOUT_MS,
  MAX_BODY_IDLE_TIMEOUT_MS,
  MAX_CONNECT_TIMEOUT_MS,
  poolWithEndpoints,
  regroupSplit,
  routeTimeouts,
  stickySetCookie,
} from '../../../src/routing/compile-table.js';
import type { Endpoint } from '../../../src/model/endpoint.js';
import type { RouteSpec } from '../../../src/model/route.js';
import { stickyCookieName, type TrafficSplit } from '../../../src/model/traffic.js';

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

describe('compileTable with traffic splits', () => {
  const rev = (id: string, revision: string | undefined, extra: Partial<Endpoint> = {}): Endpoint => ({
    id,
    origin: `http://127.0.0.1:${4000 + id.charCodeAt(0) + id.length}`,
    weight: 1,
    source: 'managed',
    healthy: true,
    draining: false,
    revision,
    ...extra,
  });
  const s1 = rev('s1', 'stable');
  const s2 = rev('s2', 'stable');
  const c1 = rev('c1', 'canary');
  const endpoints = new Map([['svc', [s1, c1, s2]]]);
  const canary: TrafficSplit = { weights: [{ revision: 'stable', percent: 80 }, { revision: 'canary', percent: 20 }] };

  it('groups a split service pool by revision, in the order of the weights, and keeps the whole pool', () => {
    const pool = compileTable([spec('a', {})], endpoints, 1, new Map([['svc', canary]])).pools.get('service:svc');
    expect(pool?.endpoints).toEqual([s1, c1, s2]);
    expect(pool?.split?.groups.map((g) => [g.revision, g.percent, g.endpoints.map((e) => e.id)])).toEqual([
      ['stable', 80, ['s1', 's2']],
      ['canary', 20, ['c1']],
    ]);
    expect(pool?.split?.preview).toBeUndefined();
    expect(pool?.split?.stickyCookie).toBeUndefined();
    expect(pool?.split?.groups[0]?.setCookie).toBeUndefined();
  });

  it('puts the very endpoint objects of the pool into the groups', () => {
    const pool = compileTable([spec('a', {})], endpoints, 1, new Map([['svc', canary]])).pools.get('service:svc');
    expect(pool?.split?.groups[0]?.endpoints[0]).toBe(pool?.endpoints[0]);
  });

  it('gives pools of services without a split, and static pools, no split at all', () => {
    const table = compileTable(
      [spec('a', {}), spec('other', { pathPrefix: '/o' }, { service: 'other' }), spec('st', { pathPrefix: '/s' }, { service: undefined, upstreams: [{ url: 'http://127.0.0.1:1' }] })],
      new Map([...endpoints, ['other', [rev('o1', 'x')]]]),
      1,
      new Map([['svc', canary]]),
    );
    expect(table.pools.get('service:other')).not.toHaveProperty('split');
    expect(table.pools.get('route:st')).not.toHaveProperty('split');
    expect(table.pools.get('service:svc')?.split).toBeDefined();
  });

  it('compiles the blue-green preview (header lower-cased) onto the preview revision\'s group', () => {
    const split = compileSplit(
      { weights: [{ revision: 'blue', percent: 100 }, { revision: 'green', percent: 0 }], preview: { header: 'X-Preview', value: 'Yes', revision: 'green' } },
      [rev('b1', 'blue'), rev('g1', 'green')],
    );
    expect(split.preview).toMatchObject({ header: 'x-preview', value: 'Yes' });
    expect(split.preview?.group).toBe(split.groups[1]);
    expect(split.preview?.group.endpoints.map((e) => e.id)).toEqual(['g1']);
  });

  it('gives a preview revision without a weight its own group at 0%', () => {
    const split = compileSplit({ weights: [{ revision: 'blue', percent: 100 }], preview: { header: 'x-preview', value: '1', revision: 'green' } }, [rev('b1', 'blue'), rev('g1', 'green')]);
    expect(split.groups.map((g) => [g.revision, g.percent])).toEqual([
      ['blue', 100],
      ['green', 0],
    ]);
    expect(split.preview?.group.endpoints.map((e) => e.id)).toEqual(['g1']);
  });

  it('precomputes the sticky cookie of each group', () => {
    const split = compileSplit({ ...canary, stickyCookie: stickyCookieName('svc') }, [s1, c1]);
    expect(split.stickyCookie).toBe('dm-rev-svc');
    expect(split.groups.map((g) => g.setCookie)).toEqual([
      'dm-rev-svc=stable; Path=/; HttpOnly; SameSite=Lax',
      'dm-rev-svc=canary; Path=/; HttpOnly; SameSite=Lax',
    ]);
    expect(split.groups.map((g) => g.cookieValue)).toEqual(['stable', 'canary']);
  });

  it('encodes a revision a cookie cannot carry', () => {
    expect(stickySetCookie('c', 'v1; evil=1')).toBe('c=v1%3B%20evil%3D1; Path=/; HttpOnly; SameSite=Lax');
  });

  it('leaves endpoints of revisions the split does not name in the pool only, and clamps bad percents to 0', () => {
    const split = compileSplit({ weights: [{ revision: 'stable', percent: -5 }, { revision: 'canary', percent: Number.NaN }, { revision: 'stable', percent: 50 }] }, [s1, c1, rev('x1', 'third'), rev('n1', undefined)]);
    expect(split.groups.map((g) => [g.revision, g.percent, g.endpoints.length])).toEqual([
      ['stable', 0, 1],
      ['canary', 0, 1],
    ]);
  });

  it('regroups a split over new endpoint objects, keeping percents, preview and cookie', () => {
    const split = compileSplit({ ...canary, stickyCookie: 'k', preview: { header: 'x-p', value: '1', revision: 'canary' } }, [s1, c1]);
    const ejected = { ...c1, healthy: false };
    const again = regroupSplit(split, [s1, ejected]);
    expect(again.groups.map((g) => [g.revision, g.percent, g.setCookie])).toEqual(split.groups.map((g) => [g.revision, g.percent, g.setCookie]));
    expect(again.groups[1]?.endpoints[0]).toBe(ejected);
    expect(again.preview?.group).toBe(again.groups[1]);
    expect(again.stickyCookie).toBe('k');
  });
});

describe('compileTable with hold settings (scale to zero)', () => {
  const hold = { maxQueue: 100, holdTimeoutMs: 30_000 };
  const canary: TrafficSplit = { weights: [{ revision: 'r1', percent: 100 }] };

  it('gives the pool of a service named in holds its settings, empty or not', () => {
    const table = compileTable([spec('a', {}), spec('b', { pathPrefix: '/b' }, { service: 'busy' })], new Map([['busy', [managed]]]), 1, undefined, new Map([['svc', hold], ['busy', hold]]));
    expect(table.pools.get('service:svc')).toEqual({ key: 'service:svc', endpoints: [], hold });
    expect(table.pools.get('service:busy')?.hold).toEqual(hold);
  });

  it('gives services not named, static pools and tables built without holds no hold property at all', () => {
    const specs = [spec('a', {}), spec('st', { pathPrefix: '/s' }, { service: undefined, upstreams: [{ url: 'http://127.0.0.1:1' }] })];
    const table = compileTable(specs, new Map(), 1, undefined, new Map([['other', hold]]));
    expect(table.pools.get('service:svc')).not.toHaveProperty('hold');
    expect(table.pools.get('route:st')).not.toHaveProperty('hold');
    expect(compileTable(specs, new Map(), 1).pools.get('service:svc')).not.toHaveProperty('hold');
  });

  it('keeps a split and a hold side by side', () => {
    const pool = compileTable([spec('a', {})], new Map([['svc', [{ ...managed, revision: 'r1' }]]]), 1, new Map([['svc', canary]]), new Map([['svc', hold]])).pools.get('service:svc');
    expect(pool?.hold).toEqual(hold);
    expect(pool?.split?.groups.map((g) => g.revision)).toEqual(['r1']);
  });

  it.each([
    { name: 'a queue of 0 holds nothing', given: { maxQueue: 0, holdTimeoutMs: 1_000 }, want: undefined },
    { name: 'a negative queue holds nothing', given: { maxQueue: -1, holdTimeoutMs: 1_000 }, want: undefined },
    { name: 'a timeout of 0 holds nothing', given: { maxQueue: 5, holdTimeoutMs: 0 }, want: undefined },
    { name: 'an infinite timeout holds nothing', given: { maxQueue: 5, holdTimeoutMs: Number.POSITIVE_INFINITY }, want: undefined },
    { name: 'a NaN queue holds nothing', given: { maxQueue: Number.NaN, holdTimeoutMs: 1_000 }, want: undefined },
    { name: 'a fractional queue is rounded down', given: { maxQueue: 2.7, holdTimeoutMs: 1_000 }, want: { maxQueue: 2, holdTimeoutMs: 1_000 } },
    { name: 'the defaults pass unchanged', given: { maxQueue: 100, holdTimeoutMs: 30_000 }, want: { maxQueue: 100, holdTimeoutMs: 30_000 } },
  ])('compileHold: $name', ({ given, want }) => {
    expect(compileHold(given)).toEqual(want);
  });

  it('poolWithEndpoints keeps the hold and regroups the split over the new endpoints', () => {
    const r1 = { ...managed, revision: 'r1' };
    const pool = compileTable([spec('a', {})], new Map([['svc', [r1]]]), 1, new Map([['svc', canary]]), new Map([['svc', hold]])).pools.get('service:svc');
    if (pool === undefined) throw new Error('no pool');
    const ejected = { ...r1, healthy: false };
    const again = poolWithEndpoints(pool, [ejected]);
    expect(again.hold).toBe(pool.hold);
    expect(again.split?.groups[0]?.endpoints[0]).toBe(ejected);
    expect(poolWithEndpoints({ key: 'route:x', endpoints: [] }, [managed])).toEqual({ key: 'route:x', endpoints: [managed] });
    expect(poolWithEndpoints({ key: 'route:x', endpoints: [] }, [managed])).not.toHaveProperty('split');
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
