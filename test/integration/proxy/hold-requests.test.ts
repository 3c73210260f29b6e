// Scale to zero through the real proxy on 127.0.0.1: requests for a service with no endpoint wait
// in its bounded hold queue and are forwarded, in arrival order and with their bodies, once a
// table gives it one; overflow and timeout answer 503 with Retry-After; a client that leaves is
// dropped; upgrades wait too; metrics count it all. Real upstream servers, real sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import type { Registry } from 'prom-client';
import { startProxy, metricValue, type ProxyHarness } from '../../helpers/proxy-harness.js';
import { startUpstream, type RunningUpstream } from '../../helpers/upstream.js';
import { eventually, waitFor } from '../../helpers/eventually.js';
import type { Endpoint } from '../../../src/model/endpoint.js';
import type { RouteSpec } from '../../../src/model/route.js';
import type { HoldSettings } from '../../../src/model/routing-table.js';
import { METRIC } from '../../../src/observability/metric-names.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const SERVICE = 'api';
const ROUTE: RouteSpec = { kind: 'Route', name: 'api', match: { pathPrefix: '/' }, service: SERVICE };

/** An upstream that reads the whole body and answers `seq body`; `order` lists the x-seq
 * headers in the order requests reached it. */
async function echo(): Promise<RunningUpstream & { order: string[] }> {
  const order: string[] = [];
  const u = await startUpstream((req, res) => {
    order.push(String(req.headers['x-seq']));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => res.end(`${String(req.headers['x-seq'])} ${Buffer.concat(chunks).toString()}`));
  });
  cleanups.push(() => u.close());
  return Object.assign(u, { order });
}

function endpoint(origin: string): Endpoint {
  return { id: 'r1', origin, weight: 1, source: 'managed', healthy: true, draining: false, revision: 'rev1' };
}

async function holdingProxy(hold: HoldSettings, onHold?: (service: string, held: number) => void): Promise<ProxyHarness> {
  const p = await startProxy([ROUTE], { holds: new Map([[SERVICE, hold]]), ...(onHold === undefined ? {} : { onHold }) });
  cleanups.push(() => p.close());
  return p;
}

/** The proxy's table now gives the service one endpoint. */
function addEndpoint(p: ProxyHarness, u: RunningUpstream): void {
  p.setRoutes([ROUTE], new Map([[SERVICE, [endpoint(u.origin)]]]));
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | undefined;
  readonly code: string | undefined;
  readonly atMs: number;
}

async function post(p: ProxyHarness, seq: number, body: string, signal?: AbortSignal): Promise<Answer> {
  const res = await request(`${p.url}/work`, { method: 'POST', body, headers: { 'x-seq': String(seq), 'content-type': 'text/plain' }, ...(signal === undefined ? {} : { signal }) });
  const text = await res.body.text();
  const retryAfter = res.headers['retry-after'];
  let code: string | undefined;
  if (res.statusCode >= 500) code = (JSON.parse(text) as { error: { code: string } }).error.code;
  return { status: res.statusCode, body: text, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, code, atMs: Date.now() };
}

/** Count and sum of one histogram series. */
async function histogram(registry: Registry, name: string, labels: Record<string, string>): Promise<{ count: number; sum: number }> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const values = (await metric.get()).values.filter((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val));
  const pick = (suffix: string): number => values.filter((v) => (v as { metricName?: string }).metricName === `${name}${suffix}`).reduce((n, v) => n + v.value, 0);
  return { count: pick('_count'), sum: pick('_sum') };
}

const held = (p: ProxyHarness): number => p.proxy.heldRequests(SERVICE);
const heldTotal = (p: ProxyHarness, result: string): Promise<number> => metricValue(p.registry, METRIC.proxyHeldRequestsTotal, { service: SERVICE, result });

describe('holding requests for a service with no endpoint (scale to zero)', () => {
  it('holds 20 POSTs to an empty pool and answers every one 200, in arrival order with its body, once an endpoint comes 300 ms later', async () => {
    const upstream = await echo();
    const holds: Array<[string, number]> = [];
    const p = await holdingProxy({ maxQueue: 50, holdTimeoutMs: 10_000 }, (service, n) => holds.push([service, n]));
    // Bodies larger than a socket buffer: they must wait unread and arrive whole.
    const bodies = Array.from({ length: 20 }, (_, i) => `body-${i}-${'x'.repeat(i * 5_000)}`);
    const answers: Array<Promise<Answer>> = [];
    const firstAtMs = Date.now();
    for (const [i, body] of bodies.entries()) {
      answers.push(post(p, i, body));
      // One at a time into the queue, so that the arrival order is known.
      await waitFor(() => held(p) === i + 1, `request ${i} held`);
    }
    expect(holds).toEqual(Array.from({ length: 20 }, (_, i) => [SERVICE, i + 1]));
    expect(await metricValue(p.registry, METRIC.proxyHeldRequests, { service: SERVICE })).toBe(20);
    // Held requests are not in flight: nothing was sent anywhere yet.
    expect(await metricValue(p.registry, METRIC.proxyInFlightRequests, { route: 'api' })).toBe(0);
    expect(p.proxy.requestsInFlight).toBe(0);
    expect(upstream.seen).toHaveLength(0);

    // The scenario: the replica is ready 300 ms after the first request.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstAtMs + 300 - Date.now())));
    const readyAtMs = Date.now();
    addEndpoint(p, upstream);
    const results = await Promise.all(answers);

    expect(results.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(results.map((a) => a.body)).toEqual(bodies.map((body, i) => `${i} ${body}`));
    for (const a of results) expect(a.atMs).toBeGreaterThanOrEqual(readyAtMs);
    expect(upstream.order).toEqual(bodies.map((_, i) => String(i)));

    expect(held(p)).toBe(0);
    expect(await metricValue(p.registry, METRIC.proxyHeldRequests, { service: SERVICE })).toBe(0);
    expect(await heldTotal(p, 'served')).toBe(20);
    const coldStart = await histogram(p.registry, METRIC.autoscaleColdStartSeconds, { service: SERVICE });
    expect(coldStart.count).toBe(1);
    expect(coldStart.sum).toBeGreaterThanOrEqual(0.29);
    expect(coldStart.sum).toBeLessThan(5);
    // The route's requests count the hold (the client waited); nothing is held any more.
    expect(await metricValue(p.registry, METRIC.proxyRequestsTotal, { route: 'api', status_class: '2xx' })).toBe(20);
    // The revision's latency leaves the hold out (the replica did not make anyone wait): the
    // route's durations exceed it by the holds, the first of which alone lasted 300 ms.
    expect(p.proxy.revisionTotals(SERVICE, 'rev1').requests).toBe(20);
    const routeDurations = await histogram(p.registry, METRIC.proxyRequestDurationSeconds, { route: 'api' });
    const revisionDurations = await histogram(p.registry, METRIC.revisionRequestDurationSeconds, { service: SERVICE, revision: 'rev1' });
    expect(routeDurations.count).toBe(20);
    expect(routeDurations.sum - revisionDurations.sum).toBeGreaterThanOrEqual(0.29);

    // With an endpoint, requests are never held.
    expect((await post(p, 99, 'later')).body).toBe('99 later');
    expect(holds).toHaveLength(20);
  });

  it('answers 503 with Retry-After at once beyond maxQueue, counted as overflow, and still serves the held ones', async () => {
    const upstream = await echo();
    const p = await holdingProxy({ maxQueue: 2, holdTimeoutMs: 10_000 });
    const first = post(p, 0, 'a');
    const second = post(p, 1, 'b');
    await waitFor(() => held(p) === 2, 'two held');
    const startedMs = Date.now();
    const third = await post(p, 2, 'c');
    expect(third).toMatchObject({ status: 503, retryAfter: '1', code: 'DM_ERR_PROXY_NO_ENDPOINT' });
    expect(third.atMs - startedMs).toBeLessThan(1_000);
    expect(held(p)).toBe(2);
    expect(await heldTotal(p, 'overflow')).toBe(1);

    addEndpoint(p, upstream);
    expect((await Promise.all([first, second])).map((a) => `${a.status} ${a.body}`)).toEqual(['200 0 a', '200 1 b']);
    expect(await heldTotal(p, 'served')).toBe(2);
    expect(upstream.order).toEqual(['0', '1']);
  });

  it('answers 503 with Retry-After when holdTimeoutMs passes, counted as timeout, and sends nothing upstream', async () => {
    const upstream = await echo();
    const p = await holdingProxy({ maxQueue: 10, holdTimeoutMs: 300 });
    const startedMs = Date.now();
    const answer = await post(p, 0, 'too late');
    expect(answer).toMatchObject({ status: 503, retryAfter: '1', code: 'DM_ERR_PROXY_NO_ENDPOINT' });
    expect(answer.atMs - startedMs).toBeGreaterThanOrEqual(290);
    expect(answer.atMs - startedMs).toBeLessThan(2_000);
    expect(held(p)).toBe(0);
    expect(await heldTotal(p, 'timeout')).toBe(1);
    expect(await metricValue(p.registry, METRIC.proxyHeldRequests, { service: SERVICE })).toBe(0);
    expect(await metricValue(p.registry, METRIC.proxyRequestsTotal, { route: 'api', status_class: '5xx' })).toBe(1);

    // The cold start began with that request; it ends when the endpoint comes, held or not.
    addEndpoint(p, upstream);
    expect(upstream.seen).toHaveLength(0);
    expect((await histogram(p.registry, METRIC.autoscaleColdStartSeconds, { service: SERVICE })).count).toBe(1);
    expect(await heldTotal(p, 'served')).toBe(0);
  });

  it('drops a held request whose client goes away: no upstream request for it, the others still served', async () => {
    const upstream = await echo();
    const p = await holdingProxy({ maxQueue: 10, holdTimeoutMs: 10_000 });
    const controller = new AbortController();
    const gone = post(p, 0, 'gone', controller.signal).catch((error: unknown) => error);
    await waitFor(() => held(p) === 1, 'first held');
    const stays = post(p, 1, 'stays');
    await waitFor(() => held(p) === 2, 'second held');
    controller.abort();
    expect(await gone).toBeInstanceOf(Error);
    await waitFor(() => held(p) === 1, 'the aborted request dropped');
    expect(await heldTotal(p, 'client_gone')).toBe(1);

    addEndpoint(p, upstream);
    expect((await stays).body).toBe('1 stays');
    expect(upstream.order).toEqual(['1']);
    expect(await heldTotal(p, 'served')).toBe(1);
  });

  it('answers 503 at once, as before, for a service without hold settings', async () => {
    const p = await startProxy([ROUTE]);
    cleanups.push(() => p.close());
    const answer = await post(p, 0, 'x');
    expect(answer).toMatchObject({ status: 503, retryAfter: '1', code: 'DM_ERR_PROXY_NO_ENDPOINT' });
    expect(held(p)).toBe(0);
  });

  it('holds from the moment hold settings arrive, and releases the queue (cancelled) when they go', async () => {
    const p = await startProxy([ROUTE]);
    cleanups.push(() => p.close());
    p.setHolds(new Map([[SERVICE, { maxQueue: 5, holdTimeoutMs: 10_000 }]]));
    const answer = post(p, 0, 'x');
    await waitFor(() => held(p) === 1, 'held');
    p.setHolds(new Map());
    expect(await answer).toMatchObject({ status: 503, code: 'DM_ERR_PROXY_NO_ENDPOINT' });
    expect(await heldTotal(p, 'cancelled')).toBe(1);
    expect((await histogram(p.registry, METRIC.autoscaleColdStartSeconds, { service: SERVICE })).count).toBe(0);
  });

  it('answers held requests 503 when the gateway shuts down', async () => {
    const p = await holdingProxy({ maxQueue: 5, holdTimeoutMs: 10_000 });
    const answer = post(p, 0, 'x');
    await waitFor(() => held(p) === 1, 'held');
    const closing = p.close(2_000);
    expect(await answer).toMatchObject({ status: 503, code: 'DM_ERR_PROXY_SHUTTING_DOWN' });
    await closing;
    expect(await heldTotal(p, 'cancelled')).toBe(1);
  });

  it('holds a WebSocket upgrade the same way and tunnels it once an endpoint comes', async () => {
    const upstream = await echo();
    const wss = new WebSocketServer({ noServer: true });
    cleanups.push(async () => wss.close());
    upstream.server.on('test-upgrade', (req, socket) => {
      wss.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => ws.send('hello'));
    });
    const holds: number[] = [];
    const p = await holdingProxy({ maxQueue: 5, holdTimeoutMs: 10_000 }, (_service, n) => holds.push(n));
    const ws = new WebSocket(`ws://127.0.0.1:${p.port}/socket`);
    cleanups.push(async () => ws.close());
    const message = new Promise<string>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(data.toString()));
      ws.once('error', reject);
    });
    await waitFor(() => held(p) === 1, 'upgrade held');
    expect(holds).toEqual([1]);
    addEndpoint(p, upstream);
    expect(await message).toBe('hello');
    expect(await heldTotal(p, 'served')).toBe(1);
    ws.close();
    await eventually(async () => expect(await metricValue(p.registry, METRIC.proxyOpenUpgrades)).toBe(0));
  });

  it('drops a held upgrade whose client goes away', async () => {
    const upstream = await echo();
    const p = await holdingProxy({ maxQueue: 5, holdTimeoutMs: 10_000 });
    const ws = new WebSocket(`ws://127.0.0.1:${p.port}/socket`);
    ws.once('error', () => undefined);
    await waitFor(() => held(p) === 1, 'upgrade held');
    ws.terminate();
    await waitFor(() => held(p) === 0, 'upgrade dropped');
    expect(await heldTotal(p, 'client_gone')).toBe(1);
    addEndpoint(p, upstream);
    expect(upstream.seen).toHaveLength(0);
  });

  it('answers a held upgrade 503 with Retry-After when its hold times out', async () => {
    const p = await holdingProxy({ maxQueue: 5, holdTimeoutMs: 200 });
    const ws = new WebSocket(`ws://127.0.0.1:${p.port}/socket`);
    const status = await new Promise<number>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        expect(res.headers['retry-after']).toBe('1');
        resolve(res.statusCode ?? 0);
        res.resume();
      });
      ws.once('open', () => reject(new Error('opened')));
      ws.once('error', () => undefined);
    });
    expect(status).toBe(503);
    expect(await heldTotal(p, 'timeout')).toBe(1);
    expect(held(p)).toBe(0);
  });
});
