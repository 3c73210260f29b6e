// Header hygiene through the real ProxyServer and real upstreams on 127.0.0.1: hop-by-hop
// headers in both directions, X-Forwarded-* against spoofing, X-Request-Id. Requests that an HTTP
// client would refuse to send (Connection, Keep-Alive, Upgrade, ...) are hand-written bytes.
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { request } from 'undici';
import { startProxy, route, type ProxyHarness } from '../../helpers/proxy-harness.js';
import { startUpstream, type RunningUpstream } from '../../helpers/upstream.js';
import { rawRequest } from '../../helpers/raw-http.js';
import { eventually } from '../../helpers/eventually.js';
import { parseTrustedProxies } from '../../../src/proxy/trusted-proxies.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Ids the proxy makes: a random per-process prefix and a counter (src/proxy/request-id.ts). */
const UUID = /^[0-9a-f]{12}-[0-9a-z]+$/;

async function upstream(handler?: Parameters<typeof startUpstream>[0]): Promise<RunningUpstream> {
  const u = await startUpstream(handler ?? ((_req, res) => res.end('ok')));
  cleanups.push(() => u.close());
  return u;
}

async function proxyFor(...args: Parameters<typeof startProxy>): Promise<ProxyHarness> {
  const p = await startProxy(...args);
  cleanups.push(() => p.close());
  return p;
}

function http11(lines: readonly string[], body = ''): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Every value of one header as the peer sent it (raw, not joined), by case-insensitive name. */
function rawValues(rawHeaders: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if ((rawHeaders[i] as string).toLowerCase() === name) out.push(rawHeaders[i + 1] as string);
  return out;
}

/** Header names (lower case) and values of a raw HTTP/1.1 response, in order. */
function responseHead(text: string): { status: number; headers: string[] } {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.push(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]), headers };
}

async function onlyRequest(u: RunningUpstream): Promise<IncomingMessage> {
  return await eventually(() => {
    expect(u.seen).toHaveLength(1);
    return u.seen[0] as IncomingMessage;
  });
}

describe('hop-by-hop headers, client to upstream', () => {
  it('drops Connection and every header it names, Keep-Alive, Proxy-Connection, TE, Trailer and a stray Upgrade', async () => {
    const u = await upstream();
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await rawRequest(
      p.port,
      http11([
        'GET /hop HTTP/1.1',
        'Host: app.example',
        'Connection: close, X-Hop-A',
        'Connection: x-hop-b',
        'X-Hop-A: a',
        'X-Hop-B: b',
        'Keep-Alive: timeout=99, max=7',
        'Proxy-Connection: keep-alive',
        'Proxy-Authorization: Basic Zm9vOmJhcg==',
        'TE: gzip, deflate',
        'Trailer: X-Checksum',
        'Upgrade: websocket',
        'X-End-To-End: kept',
      ]),
    );
    expect(res.status, res.text).toBe(200);
    const seen = await onlyRequest(u);
    for (const name of ['x-hop-a', 'x-hop-b', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'transfer-encoding']) {
      expect(rawValues(seen.rawHeaders, name), name).toEqual([]);
    }
    // The upstream hop has its own Connection (the pool's keep-alive), never the client's tokens.
    for (const value of rawValues(seen.rawHeaders, 'connection')) expect(value.toLowerCase()).toBe('keep-alive');
    expect(seen.headers['x-end-to-end']).toBe('kept');
    expect(seen.headers.host).toBe('app.example');
  });

  it.each([
    ['trailers', 'trailers'],
    ['trailers, deflate;q=0.5', 'trailers'],
    ['gzip', undefined],
  ])('passes TE: %s on as %s', async (te, expected) => {
    const u = await upstream();
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await rawRequest(p.port, http11(['GET /te HTTP/1.1', 'Host: app.example', 'Connection: close', `TE: ${te}`]));
    expect(res.status, res.text).toBe(200);
    const seen = await onlyRequest(u);
    expect(rawValues(seen.rawHeaders, 'te')).toEqual(expected === undefined ? [] : [expected]);
  });

  it('treats Upgrade without Connection: upgrade as a plain request and drops the Upgrade header', async () => {
    const u = await upstream();
    const upgrades: string[] = [];
    u.server.on('test-upgrade', (req: IncomingMessage) => upgrades.push(req.url ?? ''));
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await rawRequest(p.port, http11(['GET /plain HTTP/1.1', 'Host: app.example', 'Connection: close', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA']));
    expect(res.status, res.text).toBe(200);
    expect(res.text).toMatch(/\r\n\r\nok$/);
    const seen = await onlyRequest(u);
    expect(rawValues(seen.rawHeaders, 'upgrade')).toEqual([]);
    expect(upgrades).toEqual([]);
  });
});

describe('hop-by-hop headers, upstream to client', () => {
  const upstreamHeaders: OutgoingHttpHeaders = {
    connection: 'keep-alive, X-Upstream-Hop',
    'x-upstream-hop': 'secret',
    'keep-alive': 'timeout=77, max=9',
    'proxy-connection': 'keep-alive',
    'proxy-authenticate': 'Basic realm="inner"',
    trailer: 'X-Checksum',
    upgrade: 'h2c',
    'x-end-to-end': 'kept',
    'content-type': 'text/plain',
  };
  const handler: Parameters<typeof startUpstream>[0] = (_req, res) => {
    res.writeHead(200, upstreamHeaders);
    res.write('hello ');
    res.addTrailers({ 'x-checksum': 'abc' });
    res.end('world');
  };

  it('drops the upstream Connection and what it names, Keep-Alive, Proxy-*, Trailer and Upgrade (raw view)', async () => {
    const u = await upstream(handler);
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await rawRequest(p.port, http11(['GET /down HTTP/1.1', 'Host: app.example', 'Connection: close']));
    const { status, headers } = responseHead(res.text);
    expect(status, res.text).toBe(200);
    const names = headers.filter((_, i) => i % 2 === 0);
    for (const name of ['x-upstream-hop', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'trailer', 'upgrade']) {
      expect(names, name).not.toContain(name);
    }
    // What is left of Connection is the listener's own, for this client hop.
    expect(rawValues(headers, 'connection')).toEqual(['close']);
    expect(rawValues(headers, 'x-end-to-end')).toEqual(['kept']);
    expect(res.text).toContain('hello ');
    expect(res.text).toContain('world');
  });

  it('never passes the upstream Keep-Alive parameters to a keep-alive client', async () => {
    const u = await upstream(handler);
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await request(`${p.url}/down`);
    expect(await res.body.text()).toBe('hello world');
    expect(res.headers['x-upstream-hop']).toBeUndefined();
    expect(res.headers['upgrade']).toBeUndefined();
    expect(res.headers['trailer']).toBeUndefined();
    expect(String(res.headers['keep-alive'] ?? '')).not.toContain('77');
    expect(String(res.headers['connection'] ?? '').toLowerCase()).not.toContain('x-upstream-hop');
  });
});

describe('X-Forwarded-* against spoofing', () => {
  const spoofed = [
    'X-Forwarded-For: 6.6.6.6',
    'X-Forwarded-For: 7.7.7.7, 8.8.8.8',
    'X-Forwarded-Proto: https',
    'X-Forwarded-Host: evil.example',
  ];

  async function forwardedSeen(options: Parameters<typeof startProxy>[1], extraLines: readonly string[]): Promise<IncomingMessage> {
    const u = await upstream();
    const p = await proxyFor([route('r', [u.origin])], options);
    const res = await rawRequest(p.port, http11(['GET /xff HTTP/1.1', 'Host: app.example', 'Connection: close', ...extraLines]));
    expect(res.status, res.text).toBe(200);
    return await onlyRequest(u);
  }

  it('replaces a client X-Forwarded-For with the peer address when the peer is not trusted', async () => {
    const seen = await forwardedSeen({}, spoofed);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-for')).toEqual(['127.0.0.1']);
  });

  it('replaces X-Forwarded-Proto and X-Forwarded-Host with what the listener saw when the peer is not trusted', async () => {
    const seen = await forwardedSeen({}, spoofed);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-proto')).toEqual(['http']);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-host')).toEqual(['app.example']);
  });

  it('replaces X-Forwarded-* when the trusted list names other addresses only', async () => {
    const seen = await forwardedSeen({ trustedProxies: parseTrustedProxies(['10.0.0.0/8', '::1']) }, spoofed);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-proto')).toEqual(['http']);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-host')).toEqual(['app.example']);
  });

  it('appends the peer address to every client X-Forwarded-For, in order, when the peer is trusted', async () => {
    const seen = await forwardedSeen({ trustedProxies: parseTrustedProxies(['127.0.0.1']) }, spoofed);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-for')).toEqual(['6.6.6.6, 7.7.7.7, 8.8.8.8, 127.0.0.1']);
  });

  it('keeps the client X-Forwarded-Proto and X-Forwarded-Host when the peer is trusted', async () => {
    const seen = await forwardedSeen({ trustedProxies: parseTrustedProxies(['127.0.0.0/8']) }, spoofed);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-proto')).toEqual(['https']);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-host')).toEqual(['evil.example']);
  });

  it('sets X-Forwarded-For, -Proto and -Host from the connection when a trusted peer sends none', async () => {
    const seen = await forwardedSeen({ trustedProxies: parseTrustedProxies(['127.0.0.1']) }, []);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-proto')).toEqual(['http']);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-host')).toEqual(['app.example']);
  });

  it('does not let a client drop the proxy X-Forwarded-For by naming it in Connection', async () => {
    const seen = await forwardedSeen({}, ['Connection: X-Forwarded-For, X-Request-Id', 'X-Forwarded-For: 6.6.6.6']);
    expect(rawValues(seen.rawHeaders, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(rawValues(seen.rawHeaders, 'x-request-id')).toHaveLength(1);
  });
});

describe('X-Request-Id', () => {
  async function echoRequestIdUpstream(): Promise<RunningUpstream> {
    return await upstream((req, res) => res.end(String(req.headers['x-request-id'])));
  }

  it('keeps a valid client X-Request-Id, sends it upstream and returns it to the client once', async () => {
    const u = await echoRequestIdUpstream();
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await rawRequest(p.port, http11(['GET /id HTTP/1.1', 'Host: app.example', 'Connection: close', 'X-Request-Id: req-42.a_b:c']));
    const { status, headers } = responseHead(res.text);
    expect(status, res.text).toBe(200);
    expect(rawValues(headers, 'x-request-id')).toEqual(['req-42.a_b:c']);
    expect(rawValues((await onlyRequest(u)).rawHeaders, 'x-request-id')).toEqual(['req-42.a_b:c']);
  });

  it.each([
    ['with a space', 'bad id'],
    ['with markup', '<script>alert(1)</script>'],
    ['longer than 128 characters', 'x'.repeat(129)],
    ['empty', ''],
    ['with a non-ASCII byte', 'caf\xe9'],
  ])('replaces an invalid X-Request-Id (%s) and returns the replacement', async (_name, bad) => {
    const u = await echoRequestIdUpstream();
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await rawRequest(p.port, Buffer.from(http11(['GET /id HTTP/1.1', 'Host: app.example', 'Connection: close', `X-Request-Id: ${bad}`]), 'latin1'));
    const { status, headers } = responseHead(res.text);
    expect(status, res.text).toBe(200);
    const returned = rawValues(headers, 'x-request-id');
    expect(returned).toHaveLength(1);
    expect(returned[0]).toMatch(UUID);
    expect(rawValues((await onlyRequest(u)).rawHeaders, 'x-request-id')).toEqual(returned);
  });

  it('makes a request id when the client sends none, the same one upstream and back', async () => {
    const u = await echoRequestIdUpstream();
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await request(`${p.url}/id`);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(UUID);
    expect(await res.body.text()).toBe(id);
  });

  it('returns the request id on the proxy own error answers (404 and 400)', async () => {
    const u = await upstream();
    const p = await proxyFor([route('api', [u.origin], { match: { pathPrefix: '/api' } })]);
    const notFound = await rawRequest(p.port, http11(['GET /nowhere HTTP/1.1', 'Host: app.example', 'Connection: close', 'X-Request-Id: lost-1']));
    expect(responseHead(notFound.text).status).toBe(404);
    expect(rawValues(responseHead(notFound.text).headers, 'x-request-id')).toEqual(['lost-1']);
    const bad = await rawRequest(p.port, http11(['GET /api/%2e%2e%2f HTTP/1.1', 'Host: app.example', 'X-Request-Id: bad-2']));
    expect(responseHead(bad.text).status).toBe(400);
    expect(rawValues(responseHead(bad.text).headers, 'x-request-id')).toEqual(['bad-2']);
    expect(u.seen).toHaveLength(0);
  });

  it('returns exactly one X-Request-Id when the upstream echoes it in its response', async () => {
    const u = await upstream((req, res) => {
      res.setHeader('x-request-id', String(req.headers['x-request-id']));
      res.end('ok');
    });
    const p = await proxyFor([route('r', [u.origin])]);
    const res = await rawRequest(p.port, http11(['GET /id HTTP/1.1', 'Host: app.example', 'Connection: close', 'X-Request-Id: echo-7']));
    expect(rawValues(responseHead(res.text).headers, 'x-request-id')).toEqual(['echo-7']);
  });
});
