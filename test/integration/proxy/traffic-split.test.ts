// Traffic split between revisions through the real proxy on 127.0.0.1: canary weights, the
// blue-green preview header, the sticky canary cookie, fallback to another revision, per-revision
// measurements and WebSocket upgrades. Real upstream servers, real sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { startProxy, metricValue, type ProxyHarness } from '../../helpers/proxy-harness.js';
import { startUpstream, closedPortOrigin, type RunningUpstream } from '../../helpers/upstream.js';
import { eventually } from '../../helpers/eventually.js';
import type { Endpoint } from '../../../src/model/endpoint.js';
import type { RouteSpec } from '../../../src/model/route.js';
import { stickyCookieName, type TrafficSplit } from '../../../src/model/traffic.js';
import { measurementBetween } from '../../../src/proxy/proxy-server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const SERVICE = 'api';
const COOKIE = stickyCookieName(SERVICE);

/** An upstream that answers its own name (and `status`). */
async function named(name: string, status = 200): Promise<RunningUpstream> {
  const u = await startUpstream((_req, res) => {
    res.statusCode = status;
    res.end(name);
  });
  cleanups.push(() => u.close());
  return u;
}

function endpoint(id: string, origin: string, revision: string): Endpoint {
  return { id, origin, weight: 1, source: 'managed', healthy: true, draining: false, revision };
}

function serviceRoute(extra: Partial<RouteSpec> = {}): RouteSpec {
  return { kind: 'Route', name: 'api', match: { pathPrefix: '/' }, service: SERVICE, ...extra };
}

async function proxyFor(endpoints: readonly Endpoint[], traffic: TrafficSplit, route = serviceRoute()): Promise<ProxyHarness> {
  const p = await startProxy([route], { services: new Map([[SERVICE, endpoints]]), traffic: new Map([[SERVICE, traffic]]) });
  cleanups.push(() => p.close());
  return p;
}

function weights(percents: Record<string, number>): TrafficSplit['weights'] {
  return Object.entries(percents).map(([revision, percent]) => ({ revision, percent }));
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly setCookie: string | undefined;
}

async function get(p: ProxyHarness, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await request(`${p.url}/`, { headers });
  const body = await res.body.text();
  const cookie = res.headers['set-cookie'];
  return { status: res.statusCode, body, setCookie: Array.isArray(cookie) ? cookie.join('\n') : cookie };
}

/** `count` requests, `concurrency` at a time; answers in completion order. */
async function getMany(p: ProxyHarness, count: number, concurrency = 8, headers: Record<string, string> = {}): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        answers.push(await get(p, headers));
      }
    }),
  );
  return answers;
}

function tally(answers: readonly Answer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) out[`${a.status} ${a.body}`] = (out[`${a.status} ${a.body}`] ?? 0) + 1;
  return out;
}

describe('traffic split', () => {
  it('sends exactly 20% of 2000 requests to a 20% canary, each revision round-robin within itself', async () => {
    const [s1, s2, c1] = [await named('s1'), await named('s2'), await named('c1')];
    const p = await proxyFor(
      [endpoint('s1', s1.origin, 'stable'), endpoint('c1', c1.origin, 'canary'), endpoint('s2', s2.origin, 'stable')],
      { weights: weights({ stable: 80, canary: 20 }) },
    );
    const counts = tally(await getMany(p, 2000));
    const canaryShare = (counts['200 c1'] ?? 0) / 2000;
    expect(Math.abs(canaryShare - 0.2)).toBeLessThanOrEqual(0.03);
    // The choice is deterministic: exactly 400, and the stable revision's two replicas alternate.
    expect(counts).toEqual({ '200 c1': 400, '200 s1': 800, '200 s2': 800 });
  });

  it('follows a weight change at the next request, and sends nothing to a revision at 0%', async () => {
    const [s1, c1] = [await named('s1'), await named('c1')];
    const p = await proxyFor([endpoint('s1', s1.origin, 'stable'), endpoint('c1', c1.origin, 'canary')], { weights: weights({ stable: 100, canary: 0 }) });
    expect(tally(await getMany(p, 50))).toEqual({ '200 s1': 50 });
    p.setTraffic(new Map([[SERVICE, { weights: weights({ stable: 50, canary: 50 }) }]]));
    expect(tally(await getMany(p, 100))).toEqual({ '200 s1': 50, '200 c1': 50 });
    p.setTraffic(new Map([[SERVICE, { weights: weights({ stable: 0, canary: 100 }) }]]));
    expect(tally(await getMany(p, 50))).toEqual({ '200 c1': 50 });
  });

  it('sends requests with the preview header only to the preview revision, the others to the active one', async () => {
    const [blue, green] = [await named('blue'), await named('green')];
    const p = await proxyFor([endpoint('b1', blue.origin, 'blue'), endpoint('g1', green.origin, 'green')], {
      weights: weights({ blue: 100, green: 0 }),
      preview: { header: 'X-Dockmaster-Preview', value: 'green-please', revision: 'green' },
    });
    expect(tally(await getMany(p, 100, 8, { 'x-dockmaster-preview': 'green-please' }))).toEqual({ '200 green': 100 });
    expect(tally(await getMany(p, 100))).toEqual({ '200 blue': 100 });
    // Any other value of the header is no preview.
    expect(tally(await getMany(p, 20, 4, { 'x-dockmaster-preview': 'nope' }))).toEqual({ '200 blue': 20 });
  });

  it('answers a preview request 503 when the preview revision has no endpoint, never falling back', async () => {
    const blue = await named('blue');
    const p = await proxyFor([endpoint('b1', blue.origin, 'blue')], {
      weights: weights({ blue: 100 }),
      preview: { header: 'x-preview', value: '1', revision: 'green' },
    });
    const res = await request(`${p.url}/`, { headers: { 'x-preview': '1' } });
    expect(res.statusCode).toBe(503);
    expect(await res.body.json()).toMatchObject({ error: { code: 'DM_ERR_PROXY_NO_ENDPOINT' } });
    expect(blue.seen).toHaveLength(0);
    expect((await get(p)).body).toBe('blue');
  });

  it('pins a client with the sticky cookie, and replaces a cookie whose revision went to 0%', async () => {
    const [s1, c1] = [await named('s1'), await named('c1')];
    const p = await proxyFor([endpoint('s1', s1.origin, 'stable'), endpoint('c1', c1.origin, 'canary')], {
      weights: weights({ stable: 50, canary: 50 }),
      stickyCookie: COOKIE,
    });
    // New clients are spread by weight and each told where it went.
    const first = await getMany(p, 20, 1);
    for (const a of first) {
      const revision = a.body === 'c1' ? 'canary' : 'stable';
      expect(a.setCookie).toBe(`${COOKIE}=${revision}; Path=/; HttpOnly; SameSite=Lax`);
    }
    expect(tally(first)).toEqual({ '200 s1': 10, '200 c1': 10 });
    // A client holding the cookie stays, among other cookies, and is not told again.
    const pinned = await getMany(p, 30, 4, { cookie: `theme=dark; ${COOKIE}=canary; lang=en` });
    expect(tally(pinned)).toEqual({ '200 c1': 30 });
    expect(pinned.every((a) => a.setCookie === undefined)).toBe(true);
    // Abort: the canary is at 0%; its cookie is ignored and replaced.
    p.setTraffic(new Map([[SERVICE, { weights: weights({ stable: 100, canary: 0 }), stickyCookie: COOKIE }]]));
    const after = await get(p, { cookie: `${COOKIE}=canary` });
    expect(after.body).toBe('s1');
    expect(after.setCookie).toBe(`${COOKIE}=stable; Path=/; HttpOnly; SameSite=Lax`);
  });

  it('falls back to the other revision when the chosen one\'s endpoint refuses: no request fails', async () => {
    const s1 = await named('s1');
    const dead = await closedPortOrigin();
    const p = await proxyFor([endpoint('s1', s1.origin, 'stable'), endpoint('c1', dead, 'canary')], { weights: weights({ stable: 80, canary: 20 }) });
    // Two at a time: the retries stay within the retry budget's minimum of 3 in flight.
    const answers = await getMany(p, 100, 2);
    for (let i = 0; i < 20; i++) {
      const res = await request(`${p.url}/`, { method: 'POST', body: 'data' });
      answers.push({ status: res.statusCode, body: await res.body.text(), setCookie: undefined });
    }
    expect(tally(answers)).toEqual({ '200 s1': 120 });
    expect(await metricValue(p.registry, 'dockmaster_proxy_upstream_errors_total', { kind: 'refused' })).toBeGreaterThan(0);
  });

  it('falls back when the chosen revision has no endpoint at all', async () => {
    const s1 = await named('s1');
    const p = await proxyFor([endpoint('s1', s1.origin, 'stable')], { weights: weights({ stable: 50, canary: 50 }) });
    expect(tally(await getMany(p, 40))).toEqual({ '200 s1': 40 });
  });

  it('measures each revision on its own: requests, 5xx (its own and dockmaster\'s 502) and latency', async () => {
    const s1 = await named('s1');
    const c1 = await named('c1', 500);
    const dead = await closedPortOrigin();
    const p = await proxyFor(
      [endpoint('s1', s1.origin, 'stable'), endpoint('c1', c1.origin, 'canary'), endpoint('d1', dead, 'broken')],
      { weights: weights({ stable: 70, canary: 20, broken: 10 }) },
      serviceRoute({ retries: 0 }),
    );
    const zero = p.proxy.revisionTotals(SERVICE, 'canary');
    expect(zero).toMatchObject({ requests: 0, errors5xx: 0 });
    const counts = tally(await getMany(p, 500));
    expect(counts['200 s1']).toBe(350);
    expect(counts['500 c1']).toBe(100);
    // The dead revision's requests fail with dockmaster's own 502 (retries 0).
    expect(Object.entries(counts).filter(([k]) => k.startsWith('502 ')).reduce((n, [, v]) => n + v, 0)).toBe(50);

    const stable = p.proxy.revisionTotals(SERVICE, 'stable');
    const canary = p.proxy.revisionTotals(SERVICE, 'canary');
    const broken = p.proxy.revisionTotals(SERVICE, 'broken');
    expect([stable.requests, stable.errors5xx]).toEqual([350, 0]);
    expect([canary.requests, canary.errors5xx]).toEqual([100, 100]);
    expect([broken.requests, broken.errors5xx]).toEqual([50, 50]);
    expect(canary.latencyBuckets.reduce((a, b) => a + b, 0)).toBe(100);
    expect(p.proxy.revisionTotals(SERVICE, 'never')).toMatchObject({ requests: 0, errors5xx: 0 });

    const m = measurementBetween(canary, zero);
    expect(m.requests).toBe(100);
    expect(m.errors5xx).toBe(100);
    expect(m.p95Ms).toBeGreaterThan(0);
    expect(m.p99Ms).toBeGreaterThanOrEqual(m.p95Ms);
    expect(m.p99Ms).toBeLessThan(5_000);

    expect(await metricValue(p.registry, 'dockmaster_revision_requests_total', { service: SERVICE, revision: 'canary', status_class: '5xx' })).toBe(100);
    expect(await metricValue(p.registry, 'dockmaster_revision_requests_total', { service: SERVICE, revision: 'stable', status_class: '5xx' })).toBe(0);
    expect(await metricValue(p.registry, 'dockmaster_revision_requests_total', { service: SERVICE, revision: 'stable', status_class: '2xx' })).toBe(350);
    const text = await p.registry.metrics();
    expect(text).toContain(`dockmaster_revision_request_duration_seconds_count{service="${SERVICE}",revision="canary"} 100`);
  });

  it('measures revisions of a service without a split too (a rolling update)', async () => {
    const [a, b] = [await named('a'), await named('b')];
    const p = await startProxy([serviceRoute()], { services: new Map([[SERVICE, [endpoint('a', a.origin, 'r1'), endpoint('b', b.origin, 'r2')]]]) });
    cleanups.push(() => p.close());
    await getMany(p, 40);
    expect(p.proxy.revisionTotals(SERVICE, 'r1').requests).toBe(20);
    expect(p.proxy.revisionTotals(SERVICE, 'r2').requests).toBe(20);
  });

  it('tunnels WebSocket upgrades through a split pool by the same rules (preview header)', async () => {
    const upstreams = [await named('blue'), await named('green')];
    const wss = new WebSocketServer({ noServer: true });
    cleanups.push(async () => wss.close());
    for (const [i, u] of upstreams.entries()) {
      u.server.on('test-upgrade', (req, socket) => {
        wss.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => ws.send(i === 0 ? 'blue' : 'green'));
      });
    }
    const [blue, green] = upstreams as [RunningUpstream, RunningUpstream];
    const p = await proxyFor([endpoint('b1', blue.origin, 'blue'), endpoint('g1', green.origin, 'green')], {
      weights: weights({ blue: 100, green: 0 }),
      preview: { header: 'x-preview', value: '1', revision: 'green' },
    });
    const greeting = async (headers: Record<string, string>): Promise<string> => {
      const ws = new WebSocket(`ws://127.0.0.1:${p.port}/socket`, { headers });
      const message = await new Promise<string>((resolve, reject) => {
        ws.once('message', (data: Buffer) => resolve(data.toString()));
        ws.once('error', reject);
      });
      ws.close();
      return message;
    };
    expect(await greeting({ 'x-preview': '1' })).toBe('green');
    expect(await greeting({})).toBe('blue');
    await eventually(async () => expect(await metricValue(p.registry, 'dockmaster_proxy_open_upgrades')).toBe(0));
  });
});
