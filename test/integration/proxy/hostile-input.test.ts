// Hostile request framing and request targets against the real ProxyServer and real upstreams on
// 127.0.0.1: request smuggling, duplicate or missing Host, path traversal, absolute-form targets,
// prefix boundaries. Every request is hand-written bytes (rawRequest): HTTP clients would
// normalise or refuse them before they left.
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { startProxy, route, type ProxyHarness } from '../../helpers/proxy-harness.js';
import { startUpstream, type RunningUpstream } from '../../helpers/upstream.js';
import { rawRequest, type RawResponse } from '../../helpers/raw-http.js';
import { eventually } from '../../helpers/eventually.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly host: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

interface Recorder {
  readonly upstream: RunningUpstream;
  /** Requests whose body has been read completely, in arrival order. */
  readonly requests: Recorded[];
}

/** An upstream that reads every body and answers `name url`, recording what it saw. */
async function recorder(name: string): Promise<Recorder> {
  const requests: Recorded[] = [];
  const upstream = await startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host, headers: req.headers, body: Buffer.concat(chunks).toString('latin1') });
      res.setHeader('content-type', 'text/plain');
      res.end(`${name} ${req.url ?? ''}`);
    });
  });
  cleanups.push(() => upstream.close());
  return { upstream, requests };
}

async function proxyFor(...args: Parameters<typeof startProxy>): Promise<ProxyHarness> {
  const p = await startProxy(...args);
  cleanups.push(() => p.close());
  return p;
}

/** Hand-written request head (CRLF line ends) followed by `body` verbatim. */
function http11(lines: readonly string[], body = ''): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

function urls(upstream: RunningUpstream): string[] {
  return upstream.seen.map((req) => req.url ?? '');
}

/** Reverse of `eventually`: the assertion must keep holding for the whole window. */
async function holdsFor(assertion: () => void, windowMs = 200, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + windowMs;
  for (;;) {
    assertion();
    if (Date.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The hostile request was answered 400 and its connection closed (or just closed, no answer). */
function expectRefused(res: RawResponse): void {
  expect(res.closed, `connection left open after: ${res.text}`).toBe(true);
  if (res.status !== undefined) expect(res.status, res.text).toBe(400);
}

/**
 * Proves nothing of a hostile request reached the upstreams: a normal follow-up on a fresh
 * connection goes through, and for a while afterwards the follow-up is all they have seen.
 */
async function expectOnlyFollowUp(p: ProxyHarness, followUpTo: RunningUpstream, others: readonly RunningUpstream[] = []): Promise<void> {
  const res = await rawRequest(p.port, http11(['GET /follow-up HTTP/1.1', 'Host: follow.example', 'Connection: close']));
  expect(res.status, res.text).toBe(200);
  await holdsFor(() => {
    expect(urls(followUpTo)).toEqual(['/follow-up']);
    for (const other of others) expect(urls(other)).toEqual([]);
  });
}

describe('request smuggling: nothing ambiguous is forwarded', () => {
  const POST = ['POST /api/submit HTTP/1.1', 'Host: app.example'];
  const SMUGGLED = http11(['GET /smuggled HTTP/1.1', 'Host: app.example']);

  it.each([
    ['Content-Length and Transfer-Encoding: chunked together (CL.TE)', http11([...POST, 'Content-Length: 6', 'Transfer-Encoding: chunked'], `0\r\n\r\n${SMUGGLED}`)],
    ['Transfer-Encoding: chunked before Content-Length (TE.CL)', http11([...POST, 'Transfer-Encoding: chunked', 'Content-Length: 4'], `2c\r\n${SMUGGLED}\r\n0\r\n\r\n`)],
    ['two identical Content-Length headers', http11([...POST, 'Content-Length: 5', 'Content-Length: 5'], 'hello')],
    ['two different Content-Length headers', http11([...POST, 'Content-Length: 5', 'Content-Length: 48'], `hello${SMUGGLED}`)],
    ['a Content-Length list', http11([...POST, 'Content-Length: 5, 5'], 'hello')],
    ['a signed Content-Length', http11([...POST, 'Content-Length: +5'], 'hello')],
    ['Transfer-Encoding: xchunked', http11([...POST, 'Transfer-Encoding: xchunked'], `5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`)],
    ['Transfer-Encoding: xchunked with a Content-Length', http11([...POST, 'Transfer-Encoding: xchunked', 'Content-Length: 5'], 'hello')],
    ['Transfer-Encoding: chunked, identity (chunked not last)', http11([...POST, 'Transfer-Encoding: chunked, identity'], `0\r\n\r\n${SMUGGLED}`)],
    ['two Transfer-Encoding headers, chunked then identity', http11([...POST, 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], `0\r\n\r\n${SMUGGLED}`)],
    ['Transfer-Encoding: chunked, chunked', http11([...POST, 'Transfer-Encoding: chunked, chunked'], `0\r\n\r\n${SMUGGLED}`)],
    ['whitespace before the colon ("Transfer-Encoding : chunked")', http11([...POST, 'Transfer-Encoding : chunked', 'Content-Length: 5'], 'hello')],
    ['a vertical tab before chunked', http11([...POST, 'Transfer-Encoding:\x0bchunked', 'Content-Length: 5'], 'hello')],
    ['a form feed after chunked', http11([...POST, 'Transfer-Encoding: chunked\x0c', 'Content-Length: 5'], 'hello')],
    ['an obs-fold line continuation of Transfer-Encoding', http11([...POST, 'Transfer-Encoding:', ' chunked', 'Content-Length: 5'], 'hello')],
    ['valid optional whitespace around chunked plus a Content-Length', http11([...POST, 'Transfer-Encoding: \t chunked \t', 'Content-Length: 5'], 'hello')],
    ['bare LF line ends in the chunked body', http11([...POST, 'Transfer-Encoding: chunked'], `5\nhello\n0\n\n${SMUGGLED}`)],
    ['bare LF line ends in the head', `POST /api/submit HTTP/1.1\nHost: app.example\nContent-Length: 5\n\nhello`],
    ['a second request hidden after a zero-length chunk with a Content-Length', http11([...POST, 'Content-Length: 0', 'Transfer-Encoding: chunked'], `0\r\n\r\n${SMUGGLED}`)],
  ])('refuses %s with 400 and forwards nothing', async (_name, bytes) => {
    const u = await recorder('app');
    const p = await proxyFor([route('app', [u.upstream.origin])]);
    expectRefused(await rawRequest(p.port, bytes));
    await expectOnlyFollowUp(p, u.upstream);
  });

  it('forwards a well-framed body that contains a request as one request with that body, never as two', async () => {
    const u = await recorder('app');
    const p = await proxyFor([route('app', [u.upstream.origin])]);
    const res = await rawRequest(p.port, http11([...POST, `Content-Length: ${SMUGGLED.length}`, 'Connection: close'], SMUGGLED));
    expect(res.status, res.text).toBe(200);
    await expectOnlyFollowUpAfter(p, u, [{ url: '/api/submit', body: SMUGGLED }]);
  });

  it('forwards a chunked body that contains a request as one request with the decoded body', async () => {
    const u = await recorder('app');
    const p = await proxyFor([route('app', [u.upstream.origin])]);
    const chunked = `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;
    const res = await rawRequest(p.port, http11([...POST, 'Transfer-Encoding: chunked', 'Connection: close'], chunked));
    expect(res.status, res.text).toBe(200);
    await expectOnlyFollowUpAfter(p, u, [{ url: '/api/submit', body: SMUGGLED }]);
  });

  it('reads valid optional whitespace around a lone chunked as chunked, so the upstream gets exactly the decoded body', async () => {
    // RFC 9110 5.6.3: SP/HTAB around a field value is OWS, not an obfuscation; rejecting it would
    // be wrong. What matters is that the proxy and the upstream agree on where the body ends.
    const u = await recorder('app');
    const p = await proxyFor([route('app', [u.upstream.origin])]);
    const res = await rawRequest(p.port, http11([...POST, 'Transfer-Encoding: \t chunked  ', 'Connection: close'], '5\r\nhello\r\n0\r\n\r\n'));
    expect(res.status, res.text).toBe(200);
    await expectOnlyFollowUpAfter(p, u, [{ url: '/api/submit', body: 'hello' }]);
  });

  it('never routes a request pipelined after one that said Connection: close', async () => {
    const u = await recorder('app');
    const p = await proxyFor([route('app', [u.upstream.origin])]);
    const res = await rawRequest(p.port, http11([...POST, 'Transfer-Encoding: chunked', 'Connection: close'], `5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`));
    expect(res.closed).toBe(true);
    expect(res.text.match(/^HTTP\/1\.1 /gm)?.length ?? 0).toBeLessThanOrEqual(1);
    const follow = await rawRequest(p.port, http11(['GET /follow-up HTTP/1.1', 'Host: follow.example', 'Connection: close']));
    expect(follow.status, follow.text).toBe(200);
    // Node refuses the bytes after `Connection: close` (HPE_CLOSED_CONNECTION); the first request
    // may or may not have been forwarded before that, the hidden one never is.
    await holdsFor(() => expect(urls(u.upstream).filter((url) => url !== '/api/submit')).toEqual(['/follow-up']));
  });

  it('closes the connection after refusing a request before routing, so a request hidden in its body is never parsed', async () => {
    const a = await recorder('a');
    const p = await proxyFor([route('app', [a.upstream.origin])]);
    const hidden = http11(['GET /smuggled HTTP/1.1', 'Host: app.example', 'Connection: close']);
    const res = await rawRequest(p.port, http11(['POST /api/%2e%2e%2fadmin HTTP/1.1', 'Host: app.example', `Content-Length: ${hidden.length}`], hidden));
    expectRefused(res);
    expect(res.status).toBe(400);
    await expectOnlyFollowUp(p, a.upstream);
  });

  it('never routes the body of a request that matched no route as a request of its own', async () => {
    const a = await recorder('a');
    const p = await proxyFor([route('api', [a.upstream.origin], { match: { pathPrefix: '/api' } })]);
    const hidden = http11(['GET /api/smuggled HTTP/1.1', 'Host: app.example']);
    const res = await rawRequest(p.port, http11(['POST /nowhere HTTP/1.1', 'Host: app.example', 'Connection: close', `Content-Length: ${hidden.length}`], hidden));
    expect(res.status, res.text).toBe(404);
    expect(res.text.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
    await holdsFor(() => expect(urls(a.upstream)).toEqual([]));
  });

  it('does not tunnel a second request to the upstream when the upstream refuses an Upgrade (no 101)', async () => {
    // WebSocket smuggling: the upstream answers the Upgrade with a plain response and keeps the
    // connection; if the proxy pipes the client's bytes anyway, the next request on that
    // connection reaches the upstream unrouted (here: /admin on the /api upstream).
    const api = await recorder('api');
    api.upstream.server.removeAllListeners('upgrade'); // a plain HTTP server: Upgrade is ignored
    const admin = await recorder('admin');
    const p = await proxyFor([
      route('api', [api.upstream.origin], { match: { pathPrefix: '/api' } }),
      route('admin', [admin.upstream.origin], { match: { pathPrefix: '/admin' } }),
    ]);
    const socket = connect({ host: '127.0.0.1', port: p.port });
    cleanups.push(async () => {
      socket.destroy();
    });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.write(
      http11([
        'GET /api/socket HTTP/1.1',
        'Host: app.example',
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ]),
    );
    await eventually(() => expect(received.includes('\r\n\r\n') || socket.destroyed).toBe(true));
    expect(received).not.toMatch(/^HTTP\/1\.1 101/);
    if (!socket.destroyed) socket.write(http11(['GET /admin/secret HTTP/1.1', 'Host: app.example', 'Connection: close']));
    // The upgrade itself may be forwarded or refused; the tunnelled request must never arrive.
    await holdsFor(() => {
      expect(urls(api.upstream).filter((url) => url !== '/api/socket')).toEqual([]);
      expect(urls(admin.upstream)).toEqual([]);
    }, 300);
  });
});

/** Waits until `u` has read exactly `expected`, then checks nothing else arrives. */
async function expectOnlyFollowUpAfter(p: ProxyHarness, u: Recorder, expected: ReadonlyArray<{ url: string; body: string }>): Promise<void> {
  await eventually(() => expect(u.requests.map((r) => ({ url: r.url, body: r.body }))).toEqual(expected), { timeoutMs: 2000 });
  const res = await rawRequest(p.port, http11(['GET /follow-up HTTP/1.1', 'Host: follow.example', 'Connection: close']));
  expect(res.status, res.text).toBe(200);
  await holdsFor(() => expect(urls(u.upstream)).toEqual([...expected.map((e) => e.url), '/follow-up']));
}

describe('Host header', () => {
  it.each([
    ['two Host headers with different values', ['Host: app.example', 'Host: admin.example']],
    ['two Host headers with the same value', ['Host: app.example', 'Host: app.example']],
    ['two Host headers differing in case of the name', ['Host: app.example', 'host: admin.example']],
  ])('refuses %s with 400 and forwards nothing', async (_name, hosts) => {
    const u = await recorder('app');
    const p = await proxyFor([route('app', [u.upstream.origin])]);
    const res = await rawRequest(p.port, http11(['GET /x HTTP/1.1', ...hosts]));
    expectRefused(res);
    expect(res.status).toBe(400);
    expect(res.text).toContain('DM_ERR_PROXY_BAD_REQUEST');
    await expectOnlyFollowUp(p, u.upstream);
  });

  it('refuses two Host headers on a host-routed request: neither host route sees it', async () => {
    const app = await recorder('app');
    const admin = await recorder('admin');
    const fallback = await recorder('fallback');
    const p = await proxyFor([
      route('app', [app.upstream.origin], { match: { host: 'app.example', pathPrefix: '/' } }),
      route('admin', [admin.upstream.origin], { match: { host: 'admin.example', pathPrefix: '/' } }),
      route('fallback', [fallback.upstream.origin]),
    ]);
    const res = await rawRequest(p.port, http11(['GET /x HTTP/1.1', 'Host: app.example', 'Host: admin.example']));
    expect(res.status, res.text).toBe(400);
    await expectOnlyFollowUp(p, fallback.upstream, [app.upstream, admin.upstream]);
  });

  it('refuses two Host headers on an Upgrade request with 400 and opens no tunnel', async () => {
    const u = await recorder('app');
    const p = await proxyFor([route('app', [u.upstream.origin])]);
    const res = await rawRequest(
      p.port,
      http11(['GET /socket HTTP/1.1', 'Host: app.example', 'Host: admin.example', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']),
    );
    expectRefused(res);
    expect(res.status).toBe(400);
    await expectOnlyFollowUp(p, u.upstream);
  });

  it('refuses an HTTP/1.1 request without Host with 400 and forwards nothing', async () => {
    const u = await recorder('app');
    const p = await proxyFor([route('app', [u.upstream.origin])]);
    const res = await rawRequest(p.port, http11(['GET /x HTTP/1.1', 'Connection: close']));
    expect(res.status, res.text).toBe(400);
    await expectOnlyFollowUp(p, u.upstream);
  });
});

describe('path traversal: no request reaches a route it does not match', () => {
  type Outcome = { readonly status: 400 | 404 } | { readonly upstream: 'api' | 'admin'; readonly path: string };

  // Expected outcomes are written out by hand (not computed with the proxy's normaliser): the
  // upstream that receives a request is the one whose prefix matches the normalised path, and
  // it sees exactly that normalised path.
  const cases: ReadonlyArray<readonly [string, Outcome]> = [
    ['/api/../admin', { upstream: 'admin', path: '/admin' }],
    ['/api/%2e%2e/admin', { upstream: 'admin', path: '/admin' }],
    ['/api/%2E%2E/admin', { upstream: 'admin', path: '/admin' }],
    ['/api/.%2e/admin', { upstream: 'admin', path: '/admin' }],
    ['/api/%2e./admin/x', { upstream: 'admin', path: '/admin/x' }],
    ['//admin', { upstream: 'admin', path: '/admin' }],
    ['//api//x', { upstream: 'api', path: '/api/x' }],
    ['/%61dmin', { upstream: 'admin', path: '/admin' }],
    ['/%41dmin', { status: 404 }],
    ['/%61pi/x', { upstream: 'api', path: '/api/x' }],
    ['/admin/../api/x', { upstream: 'api', path: '/api/x' }],
    ['/api/./x', { upstream: 'api', path: '/api/x' }],
    ['/api/%2e/x', { upstream: 'api', path: '/api/x' }],
    ['/api/%2e%2e/admin?next=/../api', { upstream: 'admin', path: '/admin?next=/../api' }],
    ['/api/..%2fadmin', { status: 400 }],
    ['/api/..%2Fadmin', { status: 400 }],
    ['/api%2f..%2fadmin', { status: 400 }],
    ['/api/%2e%2e%2fadmin', { status: 400 }],
    ['/api/%2e%2e%5cadmin', { status: 400 }],
    ['/api/../../admin', { status: 400 }],
    ['/..', { status: 400 }],
    ['/%2e%2e/admin', { status: 400 }],
    ['/api/%00/../admin', { status: 400 }],
    ['/admin%00.json', { status: 400 }],
    ['/api/x%00', { status: 400 }],
    ['/api\\..\\admin', { status: 400 }],
    ['/api/..\\admin', { status: 400 }],
    ['/api/%zz/admin', { status: 400 }],
    ['/api%2e%2e/admin', { status: 404 }],
  ];

  it.each(cases)('%s is refused or reaches only the route of its normalised path', async (target, outcome) => {
    const api = await recorder('api');
    const admin = await recorder('admin');
    const p = await proxyFor([
      route('api', [api.upstream.origin], { match: { pathPrefix: '/api' } }),
      route('admin', [admin.upstream.origin], { match: { pathPrefix: '/admin' } }),
    ]);
    const res = await rawRequest(p.port, http11([`GET ${target} HTTP/1.1`, 'Host: app.example', 'Connection: close']));
    if ('status' in outcome) {
      expect(res.status, res.text).toBe(outcome.status);
      await holdsFor(() => {
        expect(urls(api.upstream)).toEqual([]);
        expect(urls(admin.upstream)).toEqual([]);
      }, 100);
      return;
    }
    expect(res.status, res.text).toBe(200);
    const [hit, miss] = outcome.upstream === 'api' ? [api, admin] : [admin, api];
    expect(res.text).toContain(`${outcome.upstream} ${outcome.path}`);
    await holdsFor(() => {
      expect(urls(hit.upstream)).toEqual([outcome.path]);
      expect(urls(miss.upstream)).toEqual([]);
    }, 100);
  });

  it('refuses a raw NUL byte in the request line (Node parser) and forwards nothing', async () => {
    const api = await recorder('api');
    const p = await proxyFor([route('api', [api.upstream.origin], { match: { pathPrefix: '/api' } })]);
    expectRefused(await rawRequest(p.port, http11(['GET /api/x\0/../../admin HTTP/1.1', 'Host: app.example'])));
    await holdsFor(() => expect(urls(api.upstream)).toEqual([]), 100);
  });
});

describe('absolute-form request targets', () => {
  async function hostRoutes(): Promise<{ p: ProxyHarness; api: Recorder; admin: Recorder }> {
    const api = await recorder('api');
    const admin = await recorder('admin');
    const p = await proxyFor([
      route('api', [api.upstream.origin], { match: { host: 'api.example', pathPrefix: '/' } }),
      route('admin', [admin.upstream.origin], { match: { host: 'admin.example', pathPrefix: '/' } }),
    ]);
    return { p, api, admin };
  }

  it('routes GET http://other.example/x by the authority of the target, not by the Host header', async () => {
    const { p, api, admin } = await hostRoutes();
    const res = await rawRequest(p.port, http11(['GET http://admin.example/x HTTP/1.1', 'Host: api.example', 'Connection: close']));
    expect(res.status, res.text).toBe(200);
    expect(res.text).toContain('admin /x');
    await holdsFor(() => {
      expect(urls(admin.upstream)).toEqual(['/x']);
      expect(urls(api.upstream)).toEqual([]);
    }, 100);
    // The upstream sees origin-form and the host it was routed by.
    expect(admin.requests[0]?.host).toBe('admin.example');
  });

  it('tells the upstream the host it was routed by in X-Forwarded-Host too, not the ignored Host header', async () => {
    const { p, admin } = await hostRoutes();
    const res = await rawRequest(p.port, http11(['GET http://admin.example/x HTTP/1.1', 'Host: api.example', 'Connection: close']));
    expect(res.status, res.text).toBe(200);
    await eventually(() => expect(admin.requests).toHaveLength(1));
    expect(admin.requests[0]?.headers['x-forwarded-host']).toBe('admin.example');
  });

  it('normalises the path of an absolute-form target before matching', async () => {
    const api = await recorder('api');
    const admin = await recorder('admin');
    const p = await proxyFor([
      route('api', [api.upstream.origin], { match: { pathPrefix: '/api' } }),
      route('admin', [admin.upstream.origin], { match: { pathPrefix: '/admin' } }),
    ]);
    const res = await rawRequest(p.port, http11(['GET http://app.example/api/%2e%2e/admin HTTP/1.1', 'Host: app.example', 'Connection: close']));
    expect(res.status, res.text).toBe(200);
    await holdsFor(() => {
      expect(urls(admin.upstream)).toEqual(['/admin']);
      expect(urls(api.upstream)).toEqual([]);
    }, 100);
  });

  it.each([
    ['userinfo in the authority', 'GET http://api.example@admin.example/x HTTP/1.1'],
    ['an empty authority', 'GET http:///x HTTP/1.1'],
  ])('refuses %s with 400', async (_name, line) => {
    const { p, api, admin } = await hostRoutes();
    const res = await rawRequest(p.port, http11([line, 'Host: api.example', 'Connection: close']));
    expect(res.status, res.text).toBe(400);
    await holdsFor(() => {
      expect(urls(api.upstream)).toEqual([]);
      expect(urls(admin.upstream)).toEqual([]);
    }, 100);
  });
});

describe('path prefixes match on segment boundaries', () => {
  it('/apix does not match route /api (404 without a catch-all)', async () => {
    const api = await recorder('api');
    const p = await proxyFor([route('api', [api.upstream.origin], { match: { pathPrefix: '/api' } })]);
    const res = await rawRequest(p.port, http11(['GET /apix HTTP/1.1', 'Host: app.example', 'Connection: close']));
    expect(res.status, res.text).toBe(404);
    await holdsFor(() => expect(urls(api.upstream)).toEqual([]), 100);
  });

  it('/apix goes to the catch-all, while /api, /api/ and /api/x go to route /api', async () => {
    const api = await recorder('api');
    const rest = await recorder('rest');
    const p = await proxyFor([route('api', [api.upstream.origin], { match: { pathPrefix: '/api' } }), route('rest', [rest.upstream.origin])]);
    for (const path of ['/apix', '/api', '/api/', '/api/x', '/api-v2/x', '/ap']) {
      const res = await rawRequest(p.port, http11([`GET ${path} HTTP/1.1`, 'Host: app.example', 'Connection: close']));
      expect(res.status, `${path}: ${res.text}`).toBe(200);
    }
    await eventually(() => expect(urls(api.upstream)).toEqual(['/api', '/api/', '/api/x']));
    expect(urls(rest.upstream)).toEqual(['/apix', '/api-v2/x', '/ap']);
  });
});
