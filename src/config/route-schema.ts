// Schema and validation of `kind: Route` documents (routes/*.yaml and PUT /v1/routes/:name). Pure:
// takes a parsed value, returns a RouteSpec with defaults filled in, or every problem found.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ConfigProblem } from '../errors.js';
import type { RouteSpec } from '../model/route.js';
import {
  DEFAULT_LOAD_BALANCER,
  DEFAULT_ROUTE_RETRIES,
  DEFAULT_ROUTE_TIMEOUT_MS,
  DEFAULT_STRIP_PREFIX,
} from '../routing/compile-table.js';
import { schemaProblems } from './schema-problems.js';
import { deepFreeze } from './deep-freeze.js';

const NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
const NAME_PROBLEM = 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit';
const HOST_LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_PATTERN = `^(\\*\\.)?${HOST_LABEL}(\\.${HOST_LABEL})*$`;
const HOST_PROBLEM = "must be a host name ('api.example.com') or a wildcard ('*.example.com'), without port";
/** RFC 7230 token: what an HTTP header name may be made of. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const MAX_ROUTE_TIMEOUT_MS = 3_600_000;
export const MAX_ROUTE_RETRIES = 10;
export const MAX_UPSTREAM_WEIGHT = 1000;

const Name = Type.String({ pattern: NAME_PATTERN, problem: NAME_PROBLEM });
const NAME_REGEX = new RegExp(NAME_PATTERN);

/** True for a valid route or service name (a DNS label), which is also a safe file name. */
export function isRouteName(name: string): boolean {
  return NAME_REGEX.test(name);
}

export const UpstreamSchema = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_UPSTREAM_WEIGHT })),
  },
  { additionalProperties: false },
);

export const RouteMatchSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ maxLength: 253, pattern: HOST_PATTERN, problem: HOST_PROBLEM })),
    pathPrefix: Type.Optional(Type.String({ maxLength: 1024, pattern: '^/', problem: "must start with '/'" })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 1024 }), { maxProperties: 32 })),
  },
  { additionalProperties: false },
);

/** The document shape. `service` and `upstreams` are both optional here; exactly one of them
 * must be present, which validateRouteSpec checks with a readable message. */
export const RouteSchema = Type.Object(
  {
    kind: Type.Literal('Route'),
    name: Name,
    match: RouteMatchSchema,
    service: Type.Optional(Name),
    upstreams: Type.Optional(Type.Array(UpstreamSchema, { minItems: 1, maxItems: 256, problem: 'must list at least one upstream' })),
    stripPrefix: Type.Optional(Type.Boolean({ default: DEFAULT_STRIP_PREFIX })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ROUTE_TIMEOUT_MS, default: DEFAULT_ROUTE_TIMEOUT_MS })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ROUTE_RETRIES, default: DEFAULT_ROUTE_RETRIES })),
    loadBalancer: Type.Optional(
      Type.Union([Type.Literal('round-robin'), Type.Literal('weighted'), Type.Literal('least-request')], {
        default: DEFAULT_LOAD_BALANCER,
      }),
    ),
    ejectOn5xx: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

export type RouteDocument = Static<typeof RouteSchema>;
// The schema and the model type must describe the same thing.
const _sameShape: (doc: RouteDocument) => RouteSpec = (doc) => doc;

export type RouteValidation =
  | { readonly ok: true; readonly value: RouteSpec }
  | { readonly ok: false; readonly problems: ConfigProblem[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a path prefix is not in the normal form the proxy matches on, or undefined if it is. */
export function pathPrefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith('/')) return "must start with '/'";
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c > 0x7e) return 'must not contain spaces, control or non-ASCII characters (percent-encode them)';
  }
  if (/[?#\\]/.test(prefix)) return "must be a path only: no '?', '#' or '\\'";
  if (prefix.split('/').some((s) => s === '.' || s === '..')) return "must not contain '.' or '..' segments";
  if (prefix.includes('//')) return "must not contain empty segments ('//')";
  const escapes = prefix.match(/%(..)?/g) ?? [];
  for (const escape of escapes) {
    const hex = escape.slice(1);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return "has a malformed percent-escape ('%' must be followed by two hex digits)";
    const byte = Number.parseInt(hex, 16);
    if (byte === 0x2e || byte === 0x2f || byte === 0x5c || byte === 0) {
      return "must not contain encoded '.', '/', '\\' or NUL (%2E, %2F, %5C, %00)";
    }
    if (/[0-9A-Za-z\-_~]/.test(String.fromCharCode(byte))) {
      return `must write '${String.fromCharCode(byte)}' itself instead of ${escape}: the proxy matches on decoded paths`;
    }
    if (hex !== hex.toUpperCase()) return `must use upper-case hex in percent-escapes (${escape.toUpperCase()})`;
  }
  return undefined;
}

/** Why an upstream URL is unusable, or undefined when it is `http://host:port` (optionally `/`). */
export function upstreamUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be a URL like 'http://127.0.0.1:3000'";
  }
  if (url.protocol !== 'http:') return "must use http:// (TLS to upstreams is not supported)";
  if (url.hostname === '') return 'must name a host';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || /[?#]/.test(raw)) {
    return "must not have a path, query or fragment (other than a final '/')";
  }
  // `new URL` hides a default port (`:80` becomes ''), so look at what was written.
  if (!/:\d+\/?$/.test(raw)) return "must give the port explicitly ('http://host:port')";
  if (url.port === '0') return 'must use a port from 1 to 65535';
  return undefined;
}

function semanticProblems(value: Record<string, unknown>, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const hasService = value['service'] !== undefined;
  const hasUpstreams = value['upstreams'] !== undefined;
  if (hasService && hasUpstreams) {
    problems.push({ file, path: '', message: "has both 'service' and 'upstreams': a route needs exactly one of them" });
  } else if (!hasService && !hasUpstreams) {
    problems.push({ file, path: '', message: "needs either 'service' (a service name) or 'upstreams' (a list of URLs)" });
  }

  const match = value['match'];
  if (isRecord(match)) {
    const prefix = match['pathPrefix'];
    if (typeof prefix === 'string' && prefix.startsWith('/')) {
      const problem = pathPrefixProblem(prefix);
      if (problem !== undefined) problems.push({ file, path: '/match/pathPrefix', message: problem });
    }
    const headers = match['headers'];
    if (isRecord(headers)) {
      const seen = new Map<string, string>();
      for (const [name, headerValue] of Object.entries(headers)) {
        const path = `/match/headers/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (!HEADER_NAME.test(name)) {
          problems.push({ file, path, message: `header name '${name}' is not a valid HTTP header name` });
          continue;
        }
        const lower = name.toLowerCase();
        const earlier = seen.get(lower);
        if (earlier !== undefined) {
          problems.push({ file, path, message: `header '${name}' is also given as '${earlier}' (names are case-insensitive)` });
        }
        seen.set(lower, name);
        if (typeof headerValue === 'string' && /[\0\r\n]/.test(headerValue)) {
          problems.push({ file, path, message: 'must not contain CR, LF or NUL' });
        }
      }
    }
  }

  const upstreams = value['upstreams'];
  if (Array.isArray(upstreams)) {
    const origins = new Map<string, number>();
    upstreams.forEach((upstream: unknown, i) => {
      if (!isRecord(upstream) || typeof upstream['url'] !== 'string') return;
      const path = `/upstreams/${i}/url`;
      const problem = upstreamUrlProblem(upstream['url']);
      if (problem !== undefined) {
        problems.push({ file, path, message: problem });
        return;
      }
      const origin = new URL(upstream['url']).origin;
      const first = origins.get(origin);
      if (first !== undefined) {
        problems.push({ file, path, message: `repeats upstream ${origin} (already /upstreams/${first})` });
      } else {
        origins.set(origin, i);
      }
    });
  }
  return problems;
}


/**
 * Validates one route document. Every problem names `file` and the JSON path of the bad field;
 * all of them are reported, not just the first. On success the value is a frozen copy with the
 * defaults filled in (stripPrefix, timeoutMs, retries, loadBalancer).
 */
export function validateRouteSpec(value: unknown, file: string): RouteValidation {
  const problems = schemaProblems(RouteSchema, value, file);
  if (isRecord(value)) problems.push(...semanticProblems(value, file));
  if (problems.length > 0) return { ok: false, problems };
  const withDefaults = Value.Default(RouteSchema, Value.Clone(value)) as RouteDocument;
  return { ok: true, value: deepFreeze(withDefaults) };
}
