// Route document validation: every problem with its JSON path and a readable message. Pure.
import { describe, expect, it } from 'vitest';
import { pathPrefixProblem, upstreamUrlProblem, validateRouteSpec } from '../../../src/config/route-schema.js';

const FILE = 'routes/a.yaml';

function base(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'Route', name: 'api', match: { host: 'api.example.com', pathPrefix: '/api' }, service: 'api', ...overrides };
}

function problemsOf(value: unknown): Array<{ path: string; message: string }> {
  const result = validateRouteSpec(value, FILE);
  if (result.ok) return [];
  for (const problem of result.problems) expect(problem.file).toBe(FILE);
  return result.problems.map(({ path, message }) => ({ path, message }));
}

describe('validateRouteSpec', () => {
  it('accepts a service route and fills in the defaults', () => {
    const result = validateRouteSpec(base(), FILE);
    expect(result).toEqual({
      ok: true,
      value: {
        kind: 'Route',
        name: 'api',
        match: { host: 'api.example.com', pathPrefix: '/api' },
        service: 'api',
        stripPrefix: false,
        timeoutMs: 30000,
        retries: 2,
        loadBalancer: 'round-robin',
        ejectOn5xx: false,
      },
    });
  });

  it('accepts static upstreams with weights, wildcard hosts and header conditions', () => {
    const result = validateRouteSpec(
      base({
        service: undefined,
        match: { host: '*.example.com', pathPrefix: '/', headers: { 'X-Canary': '1' } },
        upstreams: [{ url: 'http://127.0.0.1:3001', weight: 0 }, { url: 'http://[::1]:3002/', weight: 1000 }],
        stripPrefix: true,
        timeoutMs: 3600000,
        retries: 10,
        loadBalancer: 'weighted',
      }),
      FILE,
    );
    expect(result.ok).toBe(true);
  });

  it('does not change the value it was given', () => {
    const input = base();
    validateRouteSpec(input, FILE);
    expect(input).toEqual(base());
  });

  const cases: Array<{ name: string; value: unknown; problems: Array<{ path: string; message: string }> }> = [
    {
      name: 'an unknown key at the top is named with its path',
      value: base({ foo: 1 }),
      problems: [{ path: '/foo', message: "unknown key 'foo'" }],
    },
    {
      name: 'an unknown key inside match is named with its path',
      value: base({ match: { pathPrefix: '/', methods: ['GET'] } }),
      problems: [{ path: '/match/methods', message: "unknown key 'methods'" }],
    },
    {
      name: 'an unknown key inside an upstream is named with its index',
      value: base({ service: undefined, upstreams: [{ url: 'http://127.0.0.1:1', wieght: 2 }] }),
      problems: [{ path: '/upstreams/0/wieght', message: "unknown key 'wieght'" }],
    },
    {
      name: 'a string where an integer belongs is a bad type',
      value: base({ retries: 'three' }),
      problems: [{ path: '/retries', message: 'must be an integer from 0 to 10' }],
    },
    {
      name: 'retries out of range states the range',
      value: base({ retries: 11 }),
      problems: [{ path: '/retries', message: 'must be an integer from 0 to 10' }],
    },
    {
      name: 'a fractional timeout is not an integer',
      value: base({ timeoutMs: 1.5 }),
      problems: [{ path: '/timeoutMs', message: 'must be an integer from 1 to 3600000' }],
    },
    {
      name: 'a zero timeout is out of range',
      value: base({ timeoutMs: 0 }),
      problems: [{ path: '/timeoutMs', message: 'must be an integer from 1 to 3600000' }],
    },
    {
      name: 'stripPrefix must be a boolean',
      value: base({ stripPrefix: 'yes' }),
      problems: [{ path: '/stripPrefix', message: 'must be true or false' }],
    },
    {
      name: 'an unknown load balancer lists the allowed ones',
      value: base({ loadBalancer: 'random' }),
      problems: [{ path: '/loadBalancer', message: "must be one of 'round-robin', 'weighted', 'least-request'" }],
    },
    {
      name: 'both service and upstreams is refused',
      value: base({ upstreams: [{ url: 'http://127.0.0.1:3000' }] }),
      problems: [{ path: '', message: "has both 'service' and 'upstreams': a route needs exactly one of them" }],
    },
    {
      name: 'neither service nor upstreams is refused',
      value: base({ service: undefined }),
      problems: [{ path: '', message: "needs either 'service' (a service name) or 'upstreams' (a list of URLs)" }],
    },
    {
      name: 'an empty upstream list is refused',
      value: base({ service: undefined, upstreams: [] }),
      problems: [{ path: '/upstreams', message: 'must list at least one upstream' }],
    },
    {
      name: 'an upper-case name is not a DNS label',
      value: base({ name: 'Api' }),
      problems: [
        { path: '/name', message: 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit' },
      ],
    },
    {
      name: 'a 64 character name is too long',
      value: base({ name: 'a'.repeat(64) }),
      problems: [
        { path: '/name', message: 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit' },
      ],
    },
    {
      name: 'a missing name and match are each required',
      value: { kind: 'Route', service: 'api' },
      problems: [
        { path: '/name', message: 'is required' },
        { path: '/match', message: 'is required' },
      ],
    },
    {
      name: 'a wrong kind is named',
      value: base({ kind: 'Service' }),
      problems: [{ path: '/kind', message: "must be 'Route'" }],
    },
    {
      name: 'a host with a port is refused',
      value: base({ match: { host: 'api.example.com:8080' } }),
      problems: [{ path: '/match/host', message: "must be a host name ('api.example.com') or a wildcard ('*.example.com'), without port" }],
    },
    {
      name: 'a wildcard in the middle of a host is refused',
      value: base({ match: { host: 'api.*.com' } }),
      problems: [{ path: '/match/host', message: "must be a host name ('api.example.com') or a wildcard ('*.example.com'), without port" }],
    },
    {
      name: 'a path prefix without a leading slash is refused',
      value: base({ match: { pathPrefix: 'api' } }),
      problems: [{ path: '/match/pathPrefix', message: "must start with '/'" }],
    },
    {
      name: 'a dot-dot segment in the path prefix is refused',
      value: base({ match: { pathPrefix: '/api/../admin' } }),
      problems: [{ path: '/match/pathPrefix', message: "must not contain '.' or '..' segments" }],
    },
    {
      name: 'an encoded dot-dot in the path prefix is refused',
      value: base({ match: { pathPrefix: '/api/%2e%2e/admin' } }),
      problems: [{ path: '/match/pathPrefix', message: "must not contain encoded '.', '/', '\\' or NUL (%2E, %2F, %5C, %00)" }],
    },
    {
      name: 'a header value that is not a string is a bad type',
      value: base({ match: { headers: { 'x-canary': 1 } } }),
      problems: [{ path: '/match/headers/x-canary', message: 'must be a string' }],
    },
    {
      name: 'a header name with a space is refused',
      value: base({ match: { headers: { 'x canary': '1' } } }),
      problems: [{ path: '/match/headers/x canary', message: "header name 'x canary' is not a valid HTTP header name" }],
    },
    {
      name: 'an https upstream is refused',
      value: base({ service: undefined, upstreams: [{ url: 'https://127.0.0.1:3000' }] }),
      problems: [{ path: '/upstreams/0/url', message: 'must use http:// (TLS to upstreams is not supported)' }],
    },
    {
      name: 'an upstream weight above 1000 is out of range',
      value: base({ service: undefined, upstreams: [{ url: 'http://127.0.0.1:3000', weight: 1001 }] }),
      problems: [{ path: '/upstreams/0/weight', message: 'must be an integer from 0 to 1000' }],
    },
    {
      name: 'the same upstream twice is refused',
      value: base({ service: undefined, upstreams: [{ url: 'http://127.0.0.1:3000' }, { url: 'http://127.0.0.1:3000/' }] }),
      problems: [{ path: '/upstreams/1/url', message: 'repeats upstream http://127.0.0.1:3000 (already /upstreams/0)' }],
    },
    {
      name: 'a document that is not a mapping is one problem at the root',
      value: ['kind', 'Route'],
      problems: [{ path: '', message: 'must be a mapping of keys to values' }],
    },
  ];

  it.each(cases)('$name', ({ value, problems }) => {
    expect(problemsOf(value)).toEqual(problems);
  });

  it('reports every problem of a document, not just the first', () => {
    const problems = problemsOf(
      base({ name: 'Bad_Name', retries: -1, extra: true, match: { pathPrefix: '/a/./b', bogus: 1 }, loadBalancer: 'x' }),
    );
    expect(problems.map((p) => p.path).sort()).toEqual(['/extra', '/loadBalancer', '/match/bogus', '/match/pathPrefix', '/name', '/retries']);
  });
});

describe('pathPrefixProblem', () => {
  it.each([
    { prefix: '/', problem: undefined },
    { prefix: '/api', problem: undefined },
    { prefix: '/api/', problem: undefined },
    { prefix: '/caf%C3%A9', problem: undefined },
    { prefix: '/a//b', problem: "must not contain empty segments ('//')" },
    { prefix: '/a/.', problem: "must not contain '.' or '..' segments" },
    { prefix: '/a%2Fb', problem: "must not contain encoded '.', '/', '\\' or NUL (%2E, %2F, %5C, %00)" },
    { prefix: '/a%5cb', problem: "must not contain encoded '.', '/', '\\' or NUL (%2E, %2F, %5C, %00)" },
    { prefix: '/a%00', problem: "must not contain encoded '.', '/', '\\' or NUL (%2E, %2F, %5C, %00)" },
    { prefix: '/a%zz', problem: "has a malformed percent-escape ('%' must be followed by two hex digits)" },
    { prefix: '/%61dmin', problem: "must write 'a' itself instead of %61: the proxy matches on decoded paths" },
    { prefix: '/caf%c3%a9', problem: 'must use upper-case hex in percent-escapes (%C3)' },
    { prefix: '/a b', problem: 'must not contain spaces, control or non-ASCII characters (percent-encode them)' },
    { prefix: '/a?b=1', problem: "must be a path only: no '?', '#' or '\\'" },
    { prefix: '/a\\b', problem: "must be a path only: no '?', '#' or '\\'" },
  ])('the path prefix $prefix gives $problem', ({ prefix, problem }) => {
    expect(pathPrefixProblem(prefix)).toBe(problem);
  });
});

describe('upstreamUrlProblem', () => {
  it.each([
    { url: 'http://127.0.0.1:3000', problem: undefined },
    { url: 'http://backend.internal:80/', problem: undefined },
    { url: 'http://[::1]:8080', problem: undefined },
    { url: 'http://127.0.0.1', problem: "must give the port explicitly ('http://host:port')" },
    { url: 'http://127.0.0.1:3000/api', problem: "must not have a path, query or fragment (other than a final '/')" },
    { url: 'http://127.0.0.1:3000/?x=1', problem: "must not have a path, query or fragment (other than a final '/')" },
    { url: 'http://user:pw@127.0.0.1:3000', problem: 'must not carry credentials' },
    { url: 'http://127.0.0.1:0', problem: 'must use a port from 1 to 65535' },
    { url: 'http://127.0.0.1:70000', problem: "must be a URL like 'http://127.0.0.1:3000'" },
    { url: 'not a url', problem: "must be a URL like 'http://127.0.0.1:3000'" },
  ])('the upstream $url gives $problem', ({ url, problem }) => {
    expect(upstreamUrlProblem(url)).toBe(problem);
  });
});
