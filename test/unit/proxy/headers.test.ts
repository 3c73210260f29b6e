import { describe, expect, it } from 'vitest';
import { filterResponseHeaders, isIdempotent, prepareRequestHeaders } from '../../../src/proxy/headers.js';

const ctx = { peerAddress: '127.0.0.9', peerTrusted: false, proto: 'http', upgrade: false, newRequestId: () => 'generated-id' };

function toMap(flat: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (let i = 0; i < flat.length; i += 2) {
    const key = (flat[i] as string).toLowerCase();
    map.set(key, [...(map.get(key) ?? []), flat[i + 1] as string]);
  }
  return map;
}

describe('prepareRequestHeaders', () => {
  it('drops hop-by-hop headers and every header that Connection names', () => {
    const raw = [
      'Host', 'a.example.com',
      'Connection', 'keep-alive, X-Secret',
      'Keep-Alive', 'timeout=5',
      'Proxy-Connection', 'keep-alive',
      'TE', 'gzip',
      'Trailer', 'X-Checksum',
      'Upgrade', 'websocket',
      'Transfer-Encoding', 'chunked',
      'X-Secret', 'hop',
      'Accept', '*/*',
    ];
    const headers = toMap(prepareRequestHeaders(raw, ctx).headers);
    for (const name of ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding', 'x-secret']) {
      expect(headers.has(name), name).toBe(false);
    }
    expect(headers.get('accept')).toEqual(['*/*']);
    expect(headers.get('host')).toEqual(['a.example.com']);
  });

  it('keeps TE only as trailers', () => {
    const headers = toMap(prepareRequestHeaders(['Host', 'h', 'TE', 'trailers, deflate'], ctx).headers);
    expect(headers.get('te')).toEqual(['trailers']);
  });

  it('keeps Upgrade and Connection: upgrade on upgrade requests only', () => {
    const raw = ['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'];
    const up = toMap(prepareRequestHeaders(raw, { ...ctx, upgrade: true }).headers);
    expect(up.get('upgrade')).toEqual(['websocket']);
    expect(up.get('connection')).toEqual(['upgrade']);
    expect(up.get('sec-websocket-key')).toEqual(['k']);
    const plain = toMap(prepareRequestHeaders(raw, ctx).headers);
    expect(plain.has('upgrade')).toBe(false);
  });

  it('replaces a spoofed X-Forwarded-For from an untrusted peer', () => {
    const raw = ['Host', 'h', 'X-Forwarded-For', '6.6.6.6', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil'];
    const headers = toMap(prepareRequestHeaders(raw, ctx).headers);
    expect(headers.get('x-forwarded-for')).toEqual(['127.0.0.9']);
    expect(headers.get('x-forwarded-proto')).toEqual(['http']);
    expect(headers.get('x-forwarded-host')).toEqual(['h']);
  });

  it('appends to X-Forwarded-For from a trusted peer, joining repeated headers', () => {
    const raw = ['Host', 'h', 'X-Forwarded-For', '1.1.1.1', 'X-Forwarded-For', '2.2.2.2', 'X-Forwarded-Proto', 'https'];
    const headers = toMap(prepareRequestHeaders(raw, { ...ctx, peerTrusted: true }).headers);
    expect(headers.get('x-forwarded-for')).toEqual(['1.1.1.1, 2.2.2.2, 127.0.0.9']);
    expect(headers.get('x-forwarded-proto')).toEqual(['https']);
  });

  it.each([
    ['abc-123_DEF.4:5', 'abc-123_DEF.4:5'],
    ['has space', 'generated-id'],
    ['x'.repeat(129), 'generated-id'],
    ['<script>', 'generated-id'],
  ])('keeps a valid client request id and replaces an invalid one (%s)', (sent, expected) => {
    const prepared = prepareRequestHeaders(['Host', 'h', 'X-Request-Id', sent], ctx);
    expect(prepared.requestId).toBe(expected);
    expect(toMap(prepared.headers).get('x-request-id')).toEqual([expected]);
  });

  it('counts Host headers so a duplicate can be refused', () => {
    expect(prepareRequestHeaders(['Host', 'a', 'host', 'b'], ctx).hostCount).toBe(2);
  });

  it('drops Forwarded and similar client claims from untrusted peers only', () => {
    const raw = ['Host', 'h', 'Forwarded', 'for=6.6.6.6', 'X-Real-IP', '6.6.6.6', 'X-Forwarded-Port', '443'];
    const untrusted = toMap(prepareRequestHeaders(raw, ctx).headers);
    expect([...untrusted.keys()].filter((k) => ['forwarded', 'x-real-ip', 'x-forwarded-port'].includes(k))).toEqual([]);
    const trusted = toMap(prepareRequestHeaders(raw, { ...ctx, peerTrusted: true }).headers);
    expect(trusted.get('forwarded')).toEqual(['for=6.6.6.6']);
  });

  it('uses the authority of an absolute-form target as Host and X-Forwarded-Host', () => {
    const headers = toMap(prepareRequestHeaders(['Host', 'api.example'], { ...ctx, authority: 'admin.example' }).headers);
    expect(headers.get('host')).toEqual(['admin.example']);
    expect(headers.get('x-forwarded-host')).toEqual(['admin.example']);
  });

  it('drops Expect, which the listener already answered', () => {
    expect(toMap(prepareRequestHeaders(['Host', 'h', 'Expect', '100-continue'], ctx).headers).has('expect')).toBe(false);
  });
});

describe('filterResponseHeaders', () => {
  it('drops hop-by-hop response headers and those Connection names', () => {
    const raw = ['Content-Type', 'text/plain', 'Connection', 'close, X-Internal', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'X-Internal', '1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Trailer', 'X-Sum'].map(
      (s) => Buffer.from(s),
    );
    expect(filterResponseHeaders(raw)).toEqual(['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });

  it("drops the upstream's X-Request-Id: the listener adds the request's own, exactly once", () => {
    expect(filterResponseHeaders(['X-Request-Id', 'echo', 'A', 'b'].map((s) => Buffer.from(s)))).toEqual(['A', 'b']);
  });
});

describe('isIdempotent', () => {
  it.each([
    ['GET', true],
    ['HEAD', true],
    ['PUT', true],
    ['DELETE', true],
    ['OPTIONS', true],
    ['POST', false],
    ['PATCH', false],
  ])('%s is idempotent: %s', (method, expected) => {
    expect(isIdempotent(method)).toBe(expected);
  });
});
