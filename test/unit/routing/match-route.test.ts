// Matching requests to routes: precedence, segment boundaries, host normalisation, headers, and
// prefix stripping. Pure.
import { describe, expect, it } from 'vitest';
import { compileTable } from '../../../src/routing/compile-table.js';
import { matchRoute, normalizeHost, pathMatchesPrefix, stripRoutePrefix } from '../../../src/routing/match-route.js';
import type { RouteSpec } from '../../../src/model/route.js';
import type { RoutingTable } from '../../../src/model/routing-table.js';

function spec(name: string, match: RouteSpec['match']): RouteSpec {
  return { kind: 'Route', name, match, service: 'svc' };
}

const table = compileTable(
  [
    spec('any-root', { pathPrefix: '/' }),
    spec('any-api', { pathPrefix: '/api' }),
    spec('any-api-v2', { pathPrefix: '/api/v2' }),
    spec('any-canary', { pathPrefix: '/api', headers: { 'x-canary': '1' } }),
    spec('any-canary-tenant', { pathPrefix: '/api', headers: { 'x-canary': '1', 'x-tenant': 'acme' } }),
    spec('any-static-dir', { pathPrefix: '/static/' }),
    spec('wild', { host: '*.example.com', pathPrefix: '/' }),
    spec('wild-deep', { host: '*.eu.example.com', pathPrefix: '/' }),
    spec('exact', { host: 'api.example.com', pathPrefix: '/' }),
    spec('exact-admin', { host: 'api.example.com', pathPrefix: '/admin' }),
    spec('exact-admin-only', { host: 'admin.example.com', pathPrefix: '/admin' }),
  ],
  new Map(),
  1,
);

type Headers = Record<string, string | string[] | undefined>;

describe('matchRoute', () => {
  const cases: Array<{ name: string; host: string | undefined; path: string; headers?: Headers; route: string | undefined }> = [
    { name: 'an exact host wins over a wildcard and any host', host: 'api.example.com', path: '/x', route: 'exact' },
    { name: 'the longest prefix wins within an exact host', host: 'api.example.com', path: '/admin/users', route: 'exact-admin' },
    { name: 'an exact host whose routes miss the path falls back to a wildcard', host: 'admin.example.com', path: '/x', route: 'wild' },
    { name: 'an exact host route matches its own host', host: 'admin.example.com', path: '/admin', route: 'exact-admin-only' },
    { name: 'a wildcard matches one label', host: 'a.example.com', path: '/', route: 'wild' },
    { name: 'a wildcard matches several labels', host: 'a.b.example.com', path: '/', route: 'wild' },
    { name: 'the longer wildcard suffix wins', host: 'x.eu.example.com', path: '/', route: 'wild-deep' },
    { name: 'a wildcard does not match its bare domain', host: 'example.com', path: '/', route: 'any-root' },
    { name: 'a wildcard does not match a host that merely ends with its text', host: 'badexample.com', path: '/', route: 'any-root' },
    { name: 'another host falls to the any-host routes', host: 'other.org', path: '/api/x', route: 'any-api' },
    { name: 'a missing host only matches any-host routes', host: undefined, path: '/', route: 'any-root' },
    { name: 'the longest path prefix wins', host: undefined, path: '/api/v2/things', route: 'any-api-v2' },
    { name: 'a prefix matches itself exactly', host: undefined, path: '/api', route: 'any-api' },
    { name: 'a prefix matches with a trailing slash', host: undefined, path: '/api/', route: 'any-api' },
    { name: 'a prefix does not match inside a segment', host: undefined, path: '/apix', route: 'any-root' },
    { name: 'a longer prefix does not match inside a segment', host: undefined, path: '/api/v22', route: 'any-api' },
    { name: 'a prefix ending in a slash matches as a plain prefix', host: undefined, path: '/static/app.js', route: 'any-static-dir' },
    { name: 'a prefix ending in a slash does not match without it', host: undefined, path: '/static', route: 'any-root' },
    { name: 'a header condition selects its route', host: undefined, path: '/api/x', headers: { 'x-canary': '1' }, route: 'any-canary' },
    { name: 'more header conditions win', host: undefined, path: '/api/x', headers: { 'x-canary': '1', 'x-tenant': 'acme' }, route: 'any-canary-tenant' },
    { name: 'a header with another value does not match', host: undefined, path: '/api/x', headers: { 'x-canary': '0' }, route: 'any-api' },
    { name: 'a repeated header matches when one value is equal', host: undefined, path: '/api/x', headers: { 'x-canary': ['0', '1'] }, route: 'any-canary' },
    { name: 'header values are compared exactly', host: undefined, path: '/api/x', headers: { 'x-canary': '1 ' }, route: 'any-api' },
    { name: 'a host with a port matches', host: 'api.example.com:8443', path: '/', route: 'exact' },
    { name: 'an upper-case host matches', host: 'API.Example.COM', path: '/', route: 'exact' },
    { name: 'a host with a trailing dot matches', host: 'api.example.com.', path: '/', route: 'exact' },
    { name: 'a host with a trailing dot and a port matches', host: 'api.example.com.:80', path: '/', route: 'exact' },
    { name: 'a wildcard host with upper case and port matches', host: 'A.Example.com:80', path: '/', route: 'wild' },
  ];

  it.each(cases)('$name', ({ host, path, headers, route }) => {
    expect(matchRoute(table, host, path, headers ?? {})?.name).toBe(route);
  });

  it('returns undefined when nothing matches', () => {
    const narrow = compileTable([spec('only', { host: 'a.example.com', pathPrefix: '/a' })], new Map(), 1);
    expect(matchRoute(narrow, 'a.example.com', '/b', {})).toBeUndefined();
    expect(matchRoute(narrow, 'b.example.com', '/a', {})).toBeUndefined();
  });

  it('matches on tables built without compileTable, in their given order', () => {
    const compiled = compileTable([spec('a', { host: 'a.example.com' }), spec('any', {})], new Map(), 1);
    const reversed: RoutingTable = { version: 2, routes: [...compiled.routes].reverse(), pools: compiled.pools };
    expect(matchRoute(reversed, 'a.example.com', '/', {})?.name).toBe('any');
  });
});

describe('normalizeHost', () => {
  it.each([
    { host: 'example.com', normal: 'example.com' },
    { host: 'Example.COM', normal: 'example.com' },
    { host: 'example.com:8080', normal: 'example.com' },
    { host: 'example.com.', normal: 'example.com' },
    { host: 'example.com.:8080', normal: 'example.com' },
    { host: '127.0.0.1:80', normal: '127.0.0.1' },
    { host: '[::1]:8080', normal: '[::1]' },
    { host: '[::1]', normal: '[::1]' },
    { host: '[FE80::1]:80', normal: '[fe80::1]' },
    { host: '', normal: undefined },
    { host: ':80', normal: undefined },
    { host: undefined, normal: undefined },
  ])('the host $host becomes $normal', ({ host, normal }) => {
    expect(normalizeHost(host)).toBe(normal);
  });

  it('returns the same string when the host is already normal', () => {
    const host = 'api.example.com';
    expect(normalizeHost(host)).toBe(host);
  });
});

describe('pathMatchesPrefix', () => {
  it.each([
    { prefix: '/', path: '/', matches: true },
    { prefix: '/', path: '/anything/at/all', matches: true },
    { prefix: '/api', path: '/api', matches: true },
    { prefix: '/api', path: '/api/', matches: true },
    { prefix: '/api', path: '/api/x', matches: true },
    { prefix: '/api', path: '/apix', matches: false },
    { prefix: '/api', path: '/ap', matches: false },
    { prefix: '/api', path: '/API', matches: false },
    { prefix: '/api/', path: '/api/x', matches: true },
    { prefix: '/api/', path: '/api', matches: false },
  ])('the prefix $prefix on $path matches: $matches', ({ prefix, path, matches }) => {
    expect(pathMatchesPrefix(prefix, path)).toBe(matches);
  });
});

describe('stripRoutePrefix', () => {
  it.each([
    { prefix: '/api', path: '/api/x', stripped: '/x' },
    { prefix: '/api', path: '/api', stripped: '/' },
    { prefix: '/api', path: '/api/', stripped: '/' },
    { prefix: '/api', path: '/api/x/y/', stripped: '/x/y/' },
    { prefix: '/api/', path: '/api/x', stripped: '/x' },
    { prefix: '/api/', path: '/api/', stripped: '/' },
    { prefix: '/', path: '/x', stripped: '/x' },
    { prefix: '/api', path: '/other', stripped: '/other' },
    { prefix: '/api', path: '/apix', stripped: '/apix' },
  ])('the prefix $prefix strips $path to $stripped', ({ prefix, path, stripped }) => {
    expect(stripRoutePrefix({ pathPrefix: prefix }, path)).toBe(stripped);
  });
});
