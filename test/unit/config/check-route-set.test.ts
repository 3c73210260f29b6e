// Whole-set checks: duplicate names and identical matches, naming both routes and files. Pure.
import { describe, expect, it } from 'vitest';
import { checkRouteSet, type RouteSource } from '../../../src/config/check-route-set.js';
import type { RouteSpec } from '../../../src/model/route.js';

function route(name: string, match: RouteSpec['match'], file = `${name}.yaml`): RouteSource {
  return { file, spec: { kind: 'Route', name, match, service: 'svc' } };
}

describe('checkRouteSet', () => {
  it('accepts routes that differ in host, prefix or headers', () => {
    expect(
      checkRouteSet([
        route('a', { host: 'a.example.com', pathPrefix: '/' }),
        route('b', { host: '*.example.com', pathPrefix: '/' }),
        route('c', { pathPrefix: '/' }),
        route('d', { pathPrefix: '/api' }),
        route('e', { pathPrefix: '/api', headers: { 'x-canary': '1' } }),
        route('f', { pathPrefix: '/api', headers: { 'x-canary': '2' } }),
      ]),
    ).toEqual([]);
  });

  it('reports a duplicate name on the later route, naming both files', () => {
    expect(checkRouteSet([route('a', { pathPrefix: '/a' }, 'one.yaml'), route('a', { pathPrefix: '/b' }, 'two.yaml')])).toEqual([
      { file: 'two.yaml', path: '/name', message: "route name 'a' is already used in one.yaml" },
    ]);
  });

  it('reports a duplicate name within one file as earlier in this file', () => {
    const problems = checkRouteSet([route('a', { pathPrefix: '/a' }, 'one.yaml'), route('a', { pathPrefix: '/b' }, 'one.yaml')]);
    expect(problems[0]?.message).toBe("route name 'a' is already used earlier in this file");
  });

  const overlaps: Array<{ name: string; first: RouteSpec['match']; second: RouteSpec['match'] }> = [
    { name: 'the same host and prefix overlap', first: { host: 'a.example.com', pathPrefix: '/x' }, second: { host: 'a.example.com', pathPrefix: '/x' } },
    { name: 'a trailing slash does not make a prefix different', first: { pathPrefix: '/api' }, second: { pathPrefix: '/api/' } },
    { name: 'host patterns compare case-insensitively', first: { host: 'A.example.com' }, second: { host: 'a.example.com' } },
    { name: 'no path prefix is the same as "/"', first: {}, second: { pathPrefix: '/' } },
    {
      name: 'header sets compare regardless of order and name case',
      first: { headers: { 'X-A': '1', 'x-b': '2' } },
      second: { headers: { 'x-b': '2', 'x-a': '1' } },
    },
  ];

  it.each(overlaps)('$name', ({ first, second }) => {
    const problems = checkRouteSet([route('first', first, 'one.yaml'), route('second', second, 'two.yaml')]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'two.yaml', path: '/match' });
    expect(problems[0]?.message).toMatch(/^route 'second' has the same match as route 'first' in one\.yaml \(.*\): one of them would never be used$/);
  });
});
