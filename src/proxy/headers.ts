// Header hygiene in both directions: hop-by-hop removal, X-Forwarded-*, X-Request-Id. Pure.

/** Hop-by-hop headers (RFC 9110 7.6.1) plus the ones a proxy must never pass on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Lengths of the response header names filterResponseHeaders drops. */
const DROPPED_LENGTHS = new Set([...HOP_BY_HOP, 'x-request-id'].map((n) => n.length));

/** Request headers dockmaster sets itself; a client's copies are dropped or rewritten. */
const REWRITTEN = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'expect']);

/** Headers that claim facts about the client or earlier proxies (RFC 7239 `Forwarded` and common
 * variants). Frameworks trust them, so they pass only from trusted peers. */
const CLIENT_CLAIMS = new Set(['forwarded', 'x-real-ip', 'x-forwarded-port', 'x-forwarded-prefix', 'x-forwarded-server', 'x-forwarded-ssl']);

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface ForwardContext {
  /** Peer address of the client connection (canonical, no `::ffff:`). */
  readonly peerAddress: string;
  /** True when the peer may extend X-Forwarded-* (configured trusted proxy). */
  readonly peerTrusted: boolean;
  /** `http` or `https`: how the client reached this listener. */
  readonly proto: string;
  /** Keep Upgrade/Connection: upgrade (WebSocket tunnels only). */
  readonly upgrade: boolean;
  /** Makes a request id when the client sent none (or an invalid one). */
  readonly newRequestId: () => string;
  /** Authority of an absolute-form target: replaces Host (RFC 9112 3.2.2). */
  readonly authority?: string | undefined;
}

export interface PreparedRequest {
  /** Flat [name, value, name, value, ...] for the upstream. */
  readonly headers: string[];
  /** Number of Host headers seen: more than one is refused. */
  readonly hostCount: number;
  readonly host: string | undefined;
  readonly requestId: string;
  /** True when the client sent `TE: trailers`, the only TE value passed on. */
  readonly teTrailers: boolean;
  /** True when the request has a body (Transfer-Encoding, or a Content-Length other than 0). */
  readonly hasBody: boolean;
}

/** Adds the header names a Connection value lists to `into` (created on demand). The usual
 * values, `keep-alive` and `close`, name no header and allocate nothing. */
export function addConnectionTokens(value: string, into: Set<string> | undefined): Set<string> | undefined {
  const lower = value.length <= 10 ? value.toLowerCase() : '';
  if (lower === 'keep-alive' || lower === 'close' || lower === 'upgrade') return into;
  let tokens = into;
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t && !HOP_BY_HOP.has(t)) (tokens ??= new Set()).add(t);
  }
  return tokens;
}

function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).length === 10 && (raw[i] as string).toLowerCase() === 'connection') {
      tokens = addConnectionTokens(raw[i + 1] as string, tokens);
    }
  }
  return tokens;
}

/**
 * Builds the upstream request headers from Node's `rawHeaders`: drops `Connection` and every
 * header it names, the other hop-by-hop headers (`TE` survives only as `trailers`, `Upgrade`
 * only on upgrade requests), and sets X-Forwarded-For (replaced, or appended to when the peer
 * is trusted), X-Forwarded-Proto, X-Forwarded-Host and X-Request-Id (the client's if valid).
 */
export function prepareRequestHeaders(raw: readonly string[], ctx: ForwardContext): PreparedRequest {
  const named = connectionTokens(raw);
  const headers: string[] = [];
  let hostCount = 0;
  let host: string | undefined;
  let forwardedFor: string | undefined;
  let forwardedProto: string | undefined;
  let forwardedHost: string | undefined;
  let requestId: string | undefined;
  let teTrailers = false;
  let upgradeValue: string | undefined;
  let hasBody = false;

  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === 'host') {
      hostCount++;
      host = ctx.authority ?? value;
      headers.push(name, host);
      continue;
    }
    if (CLIENT_CLAIMS.has(lower) && !ctx.peerTrusted) continue;
    if (lower === 'content-length' && value !== '0') hasBody = true;
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'transfer-encoding') hasBody = true;
      if (lower === 'te' && value.split(',').some((v) => v.trim().toLowerCase() === 'trailers')) teTrailers = true;
      if (lower === 'upgrade') upgradeValue = value;
      continue;
    }
    if (named?.has(lower)) continue;
    if (REWRITTEN.has(lower)) {
      if (lower === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      else if (lower === 'x-forwarded-proto') forwardedProto ??= value;
      else if (lower === 'x-forwarded-host') forwardedHost ??= value;
      else if (lower === 'x-request-id') requestId ??= value;
      continue;
    }
    headers.push(name, value);
  }

  const peer = ctx.peerAddress;
  const xff = ctx.peerTrusted && forwardedFor ? `${forwardedFor}, ${peer}` : peer;
  headers.push('x-forwarded-for', xff);
  headers.push('x-forwarded-proto', ctx.peerTrusted && forwardedProto ? forwardedProto : ctx.proto);
  const xfh = ctx.peerTrusted && forwardedHost ? forwardedHost : host;
  if (xfh !== undefined) headers.push('x-forwarded-host', xfh);
  const id = requestId !== undefined && REQUEST_ID.test(requestId) ? requestId : ctx.newRequestId();
  headers.push('x-request-id', id);
  if (teTrailers) headers.push('te', 'trailers');
  if (ctx.upgrade && upgradeValue !== undefined) headers.push('connection', 'upgrade', 'upgrade', upgradeValue);
  return { headers, hostCount, host, requestId: id, teTrailers, hasBody };
}

/**
 * Filters upstream response headers (undici's raw Buffer pairs) for the client: drops the
 * hop-by-hop ones and those `Connection` names; framing is redone by the listener. An upstream
 * `X-Request-Id` (often an echo of ours) is dropped too: the listener adds the request's own id,
 * and the client must see exactly one.
 */
export function filterResponseHeaders(raw: readonly (Buffer | string)[]): string[] {
  // One pass converts and keeps; a Connection header (rare in responses) triggers a second pass
  // over the kept strings to drop what it names.
  const out: string[] = [];
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer | string).toString('latin1');
    // Only names as long as a dropped one need lower-casing (saves a string per header).
    const lower = DROPPED_LENGTHS.has(name.length) ? name.toLowerCase() : name;
    if (HOP_BY_HOP.has(lower) || lower === 'x-request-id') {
      if (lower === 'connection') named = addConnectionTokens((raw[i + 1] as Buffer | string).toString('latin1'), named);
      continue;
    }
    out.push(name, (raw[i + 1] as Buffer | string).toString('latin1'));
  }
  if (named === undefined) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) {
    if (!named.has((out[i] as string).toLowerCase())) kept.push(out[i] as string, out[i + 1] as string);
  }
  return kept;
}

/** Methods that may be replayed after a reset (RFC 9110 9.2.2). */
export function isIdempotent(method: string): boolean {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'PUT':
    case 'DELETE':
    case 'TRACE':
      return true;
    default:
      return false;
  }
}
