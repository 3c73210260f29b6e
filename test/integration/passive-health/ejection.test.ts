// Passive health on the request path, real sockets on 127.0.0.1: consecutive resets eject an
// endpoint, it gets no requests while ejected and returns after the time if a TCP connect to it
// succeeds (else it is ejected again, for longer); an upstream shared by two routes is judged per
// pool; 5xx eject only on routes with ejectOn5xx; panic routes to every endpoint of a pool with
// too few healthy ones.
import { afterEach, describe, expect, it } from 'vitest';
import { route } from '../../helpers/proxy-harness.js';
import { startBlackhole, startUpstream, type RunningUpstream } from '../../helpers/upstream.js';
import { eventually, waitFor } from '../../helpers/eventually.js';
import { PASSIVE, sendSequential, startGuardedProxy, startResetter, type GuardedProxy } from './guarded-proxy.js';
import { METRIC } from '../../../src/observability/metric-names.js';
import { metricValue } from '../../helpers/proxy-harness.js';
import type { Endpoint } from '../../../src/model/endpoint.js';

/** Ejections that outlast the test, where the test is not about the return. */
const LONG = { ...PASSIVE, baseEjectionMs: 10_000, maxEjectionMs: 20_000 };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function good(name: string): Promise<RunningUpstream> {
  const u = await startUpstream((_req, res) => res.end(name));
  cleanups.push(() => u.close());
  return u;
}

async function failing(status: number): Promise<RunningUpstream> {
  const u = await startUpstream((_req, res) => {
    res.statusCode = status;
    res.end('broken');
  });
  cleanups.push(() => u.close());
  return u;
}

/** How many endpoints of a pool the detector has ejected right now. */
function ejectedIn(g: GuardedProxy, poolKey: string): number {
  return g.outliers.ejected().get(poolKey)?.size ?? 0;
}

async function guarded(...args: Parameters<typeof startGuardedProxy>): Promise<GuardedProxy> {
  const g = await startGuardedProxy(...args);
  cleanups.push(() => g.close());
  return g;
}

describe('passive health: ejection on the request path', () => {
  it('ejects an upstream that resets every connection after 3 failures, sends it nothing while ejected, and takes it back after the time', async () => {
    const [a, b, c] = [await good('a'), await good('b'), await good('c')];
    const bad = await startResetter();
    cleanups.push(() => bad.close());
    const g = await guarded([route('main', [a.origin, bad.origin, b.origin, c.origin])]);

    // Clients never see the resets: a GET reset before any response byte is retried elsewhere.
    for (let i = 0; i < 40 && g.events.length === 0; i++) {
      const [result] = await sendSequential(`${g.harness.url}/`, 1);
      expect(result?.status).toBe(200);
    }
    await waitFor(() => g.events.some((e) => e.ejected && e.endpointId === bad.origin), 'the resetting upstream to be ejected');
    expect(bad.requests()).toBeGreaterThanOrEqual(3);
    const ejection = g.events.find((e) => e.ejected);
    expect(ejection).toMatchObject({ endpointId: bad.origin, poolKey: 'route:main', ejections: 1 });
    await waitFor(() => g.isOutOfRotation(bad.origin, 'route:main'), 'the ejection to reach the routing table');

    // While the ejection lasts (500 ms), it gets nothing; each check runs only if the release
    // has not happened yet, so a slow machine shortens the window instead of failing the test.
    const seenWhileEjected = bad.requests();
    const bodies = new Set<string>();
    let checked = 0;
    while (checked < 200) {
      const [result] = await sendSequential(`${g.harness.url}/`, 1);
      if (g.events.some((e) => !e.ejected)) break;
      expect(result?.status).toBe(200);
      expect(bad.requests()).toBe(seenWhileEjected);
      bodies.add(result?.body ?? '');
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(6);
    expect(bodies).toEqual(new Set(['a', 'b', 'c']));

    // After 500 ms it returns (onChange with ejected: false), is routed to again, fails again,
    // and is ejected again for twice as long.
    await waitFor(() => g.events.some((e) => !e.ejected), 'the ejected upstream to return', { timeoutMs: 3_000 });
    const returned = g.events.find((e) => !e.ejected);
    expect((returned?.atMs ?? 0) - (ejection?.atMs ?? 0)).toBeGreaterThanOrEqual(PASSIVE.baseEjectionMs - 10);
    await eventually(async () => {
      const after = await sendSequential(`${g.harness.url}/`, 8);
      expect(after.every((r) => r.status === 200)).toBe(true);
      expect(bad.requests()).toBeGreaterThan(seenWhileEjected);
    }, { timeoutMs: 3_000 });
    await eventually(async () => {
      await sendSequential(`${g.harness.url}/`, 8);
      const second = g.events.filter((e) => e.ejected);
      expect(second.length).toBeGreaterThanOrEqual(2);
      expect(second[1]?.ejections).toBe(2);
      expect((second[1]?.untilMs ?? 0) - (second[1]?.atMs ?? 0)).toBeGreaterThan(PASSIVE.baseEjectionMs * 2 - 50);
    }, { timeoutMs: 3_000 });
  });

  it('never ejects more than half of a pool: with 3 of 4 upstreams resetting, only 2 are ejected', async () => {
    const a = await good('a');
    const resetters = [await startResetter(), await startResetter(), await startResetter()];
    for (const r of resetters) cleanups.push(() => r.close());
    const g = await guarded([route('main', [a.origin, ...resetters.map((r) => r.origin)], { retries: 3 })], { config: LONG });
    for (let i = 0; i < 60; i++) {
      const [result] = await sendSequential(`${g.harness.url}/`, 1);
      expect(result?.status).toBe(200);
      expect(ejectedIn(g, 'route:main')).toBeLessThanOrEqual(2);
    }
    expect(ejectedIn(g, 'route:main')).toBe(2);
    expect([...g.outliers.ejected().keys()]).toEqual(['route:main']);
  });

  it('counts timeouts as failures: an upstream that never answers is ejected after 3 timeouts', async () => {
    const a = await good('a');
    const hole = await startBlackhole();
    cleanups.push(() => hole.close());
    const g = await guarded([route('main', [a.origin, hole.origin], { timeoutMs: 150 })], { config: LONG });
    const first = await sendSequential(`${g.harness.url}/`, 6);
    // A timeout is never retried: those requests answer 504.
    expect(first.filter((r) => r.status === 504)).toHaveLength(3);
    await waitFor(() => g.isOutOfRotation(hole.origin, 'route:main'), 'the silent upstream to be out of rotation');
    expect(g.events[0]).toMatchObject({ endpointId: hole.origin, ejected: true, ejections: 1 });
    const during = await sendSequential(`${g.harness.url}/`, 10);
    expect(during.every((r) => r.status === 200)).toBe(true);
  });

  it('an upstream shared by two routes is judged per pool: failing on one route ejects it there only', async () => {
    // X fails /b with 500 (rb ejects on 5xx) and answers /a; Y answers both. Both routes list both.
    const x = await startUpstream((req, res) => {
      res.statusCode = req.url?.startsWith('/b') === true ? 500 : 200;
      res.end('x');
    });
    cleanups.push(() => x.close());
    const y = await good('y');
    const g = await guarded([
      route('ra', [x.origin, y.origin], { match: { pathPrefix: '/a' } }),
      route('rb', [x.origin, y.origin], { match: { pathPrefix: '/b' }, ejectOn5xx: true }),
    ], { config: LONG });
    await sendSequential(`${g.harness.url}/b`, 6);
    expect(g.isOutOfRotation(x.origin, 'route:rb')).toBe(true);
    expect(g.events.map((e) => [e.poolKey, e.endpointId, e.ejected])).toEqual([['route:rb', x.origin, true]]);
    // In ra, X is still in and still gets its share.
    expect(g.isOutOfRotation(x.origin, 'route:ra')).toBe(false);
    const seenByX = x.seen.length;
    const a = await sendSequential(`${g.harness.url}/a`, 4);
    expect(a.map((r) => r.body).sort()).toEqual(['x', 'x', 'y', 'y']);
    expect(x.seen.length).toBe(seenByX + 2);
    // ...and /b no longer reaches it.
    const b = await sendSequential(`${g.harness.url}/b`, 4);
    expect(b.map((r) => [r.status, r.body])).toEqual([[200, 'y'], [200, 'y'], [200, 'y'], [200, 'y']]);
  });

  it('an upstream shared by two routes is capped in each pool on its own: each pool keeps one of its two', async () => {
    // X resets everything; Y answers /a but fails /b with 500. Both routes list both; pools of 2
    // at 50% may each have one endpoint out.
    const x = await startResetter();
    cleanups.push(() => x.close());
    const y = await startUpstream((req, res) => {
      res.statusCode = req.url?.startsWith('/b') === true ? 500 : 200;
      res.end('y');
    });
    cleanups.push(() => y.close());
    const g = await guarded([
      route('ra', [x.origin, y.origin], { match: { pathPrefix: '/a' } }),
      route('rb', [x.origin, y.origin], { match: { pathPrefix: '/b' }, ejectOn5xx: true }),
    ], { config: LONG });
    await sendSequential(`${g.harness.url}/a`, 8);
    await waitFor(() => g.isOutOfRotation(x.origin, 'route:ra'), 'X to be ejected from ra');
    await sendSequential(`${g.harness.url}/b`, 8);
    // X's ejection from ra is no ejection in rb: there X and Y are judged afresh, and one of them
    // (whichever reached 3 failures first) is out, the other held in by rb's own cap.
    expect(ejectedIn(g, 'route:ra')).toBe(1);
    expect(ejectedIn(g, 'route:rb')).toBe(1);
    const out = ['route:ra', 'route:rb'].map((pool) => [x.origin, y.origin].filter((id) => g.isOutOfRotation(id, pool)).length);
    expect(out).toEqual([1, 1]);
    expect(g.events.filter((e) => e.ejected).map((e) => e.poolKey).sort()).toEqual(['route:ra', 'route:rb']);
    // ra keeps being served by Y.
    const a = await sendSequential(`${g.harness.url}/a`, 4);
    expect(a.map((r) => [r.status, r.body])).toEqual([[200, 'y'], [200, 'y'], [200, 'y'], [200, 'y']]);
  });

  it('an ejected upstream that refuses connections when its time is up stays out, for longer, and returns once it accepts again', async () => {
    const [a, b, c] = [await good('a'), await good('b'), await good('c')];
    const bad = await startResetter();
    const port = Number(new URL(bad.origin).port);
    let badClosed = false;
    cleanups.push(async () => {
      if (!badClosed) await bad.close();
    });
    const config = { ...PASSIVE, baseEjectionMs: 300, maxEjectionMs: 5_000 };
    const g = await guarded([route('main', [a.origin, bad.origin, b.origin, c.origin])], { config });
    await sendSequential(`${g.harness.url}/`, 16);
    expect(g.events).toHaveLength(1);
    expect(g.events[0]).toMatchObject({ endpointId: bad.origin, ejected: true, ejections: 1 });
    // Gone before its time is up: the TCP check fails, and it is ejected again at once.
    badClosed = true;
    await bad.close();
    await waitFor(() => g.events.length >= 2, 'the second ejection', { timeoutMs: 3_000 });
    expect(g.events[1]).toMatchObject({ endpointId: bad.origin, ejected: true, ejections: 2 });
    expect((g.events[1]?.atMs ?? 0) - (g.events[0]?.atMs ?? 0)).toBeGreaterThanOrEqual(config.baseEjectionMs - 10);
    expect((g.events[1]?.untilMs ?? 0) - (g.events[1]?.atMs ?? 0)).toBeGreaterThan(2 * config.baseEjectionMs - 50);
    expect(g.events.some((e) => !e.ejected)).toBe(false);
    expect(g.isOutOfRotation(bad.origin, 'route:main')).toBe(true);
    const during = await sendSequential(`${g.harness.url}/`, 9);
    expect(during.map((r) => r.status)).toEqual(Array(9).fill(200));
    // Back, healthy, on the same port: the next check passes and it returns.
    const back = await startUpstream((_req, res) => res.end('back'), port);
    cleanups.push(() => back.close());
    await waitFor(() => g.events.some((e) => !e.ejected), 'the upstream to return', { timeoutMs: 5_000 });
    expect(g.events.filter((e) => e.ejected)).toHaveLength(2);
    expect(g.events.at(-1)).toMatchObject({ endpointId: bad.origin, ejected: false, ejections: 2 });
    expect(g.isOutOfRotation(bad.origin, 'route:main')).toBe(false);
    const after = await sendSequential(`${g.harness.url}/`, 8);
    expect(new Set(after.map((r) => r.body))).toEqual(new Set(['a', 'b', 'c', 'back']));
  });

  it('rebuilds the table at once on an ejection: the request after the failure that ejects no longer reaches it', async () => {
    const [a, b, c] = [await good('a'), await good('b'), await good('c')];
    const bad = await failing(500);
    const g = await guarded([route('main', [a.origin, bad.origin, b.origin, c.origin], { ejectOn5xx: true })], { config: LONG });
    for (let i = 0; i < 40 && g.events.length === 0; i++) await sendSequential(`${g.harness.url}/`, 1);
    expect(g.events).toHaveLength(1);
    // Synchronously with the ejection, no timer in between.
    expect(g.isOutOfRotation(bad.origin, 'route:main')).toBe(true);
    expect(bad.seen).toHaveLength(3);
    const during = await sendSequential(`${g.harness.url}/`, 12);
    expect(during.every((r) => r.status === 200)).toBe(true);
    expect(bad.seen).toHaveLength(3);
  });

  it('with ejectOn5xx, an upstream answering 500 is ejected and then gets no requests', async () => {
    const [a, b, c] = [await good('a'), await good('b'), await good('c')];
    const bad = await failing(500);
    const g = await guarded([route('main', [a.origin, bad.origin, b.origin, c.origin], { ejectOn5xx: true })], { config: LONG });
    const first = await sendSequential(`${g.harness.url}/`, 16);
    // 5xx answers are passed through (not retried): the 3 that ejected it reach the client, and no
    // more, since the table is rebuilt at once on the ejection.
    expect(first.filter((r) => r.status === 500)).toHaveLength(3);
    expect(g.isOutOfRotation(bad.origin, 'route:main')).toBe(true);
    expect(g.events[0]).toMatchObject({ endpointId: bad.origin, ejected: true });
    const seen = bad.seen.length;
    const during = await sendSequential(`${g.harness.url}/`, 20);
    expect(during.every((r) => r.status === 200)).toBe(true);
    expect(bad.seen.length).toBe(seen);
  });

  it('without ejectOn5xx, an upstream answering 500 keeps its share of requests and is never ejected', async () => {
    const [a, b, c] = [await good('a'), await good('b'), await good('c')];
    const bad = await failing(500);
    const g = await guarded([route('main', [a.origin, bad.origin, b.origin, c.origin])]);
    const results = await sendSequential(`${g.harness.url}/`, 40);
    expect(results.filter((r) => r.status === 500)).toHaveLength(10);
    expect(bad.seen).toHaveLength(10);
    expect(g.events).toEqual([]);
    expect(g.outliers.ejected().size).toBe(0);
    expect(ejectedIn(g, 'route:main')).toBe(0);
  });

  it('a success between failures keeps an endpoint in: 503 every other request never ejects', async () => {
    let n = 0;
    const flaky = await startUpstream((_req, res) => {
      res.statusCode = n++ % 2 === 0 ? 503 : 200;
      res.end('flaky');
    });
    cleanups.push(() => flaky.close());
    const a = await good('a');
    const g = await guarded([route('main', [flaky.origin, a.origin], { ejectOn5xx: true })]);
    await sendSequential(`${g.harness.url}/`, 40);
    expect(flaky.seen).toHaveLength(20);
    expect(g.events).toEqual([]);
  });
});

describe('passive health: panic mode on real sockets', () => {
  const endpoint = (u: RunningUpstream, healthy: boolean): Endpoint => ({ id: u.origin, origin: u.origin, weight: 1, source: 'consul', healthy, draining: false });

  it('routes to every replica of a service whose replicas are mostly unhealthy, and says so in the metrics', async () => {
    const [a, b, c] = [await good('a'), await good('b'), await good('c')];
    const services = new Map([['api', [endpoint(a, true), endpoint(b, false), endpoint(c, false)]]]);
    const g = await guarded([{ kind: 'Route', name: 'api', match: { pathPrefix: '/' }, service: 'api' }], { services, panicThresholdPercent: 50 });
    const results = await sendSequential(`${g.harness.url}/`, 30);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect([a.seen.length, b.seen.length, c.seen.length]).toEqual([10, 10, 10]);
    expect(await metricValue(g.harness.registry, METRIC.poolPanic, { pool: 'service:api' })).toBe(1);
    expect(await metricValue(g.harness.registry, METRIC.poolPanicTotal, { pool: 'service:api' })).toBe(1);
  });

  it('below the panic threshold nothing changes: only the healthy replica gets requests', async () => {
    const [a, b, c] = [await good('a'), await good('b'), await good('c')];
    const services = new Map([['api', [endpoint(a, true), endpoint(b, false), endpoint(c, false)]]]);
    const g = await guarded([{ kind: 'Route', name: 'api', match: { pathPrefix: '/' }, service: 'api' }], { services, panicThresholdPercent: 30 });
    const results = await sendSequential(`${g.harness.url}/`, 30);
    expect(results.every((r) => r.status === 200 && r.body === 'a')).toBe(true);
    expect([b.seen.length, c.seen.length]).toEqual([0, 0]);
    expect(await metricValue(g.harness.registry, METRIC.poolPanic, { pool: 'service:api' })).toBe(0);
  });

  it('leaves panic once enough replicas are healthy again', async () => {
    const [a, b, c] = [await good('a'), await good('b'), await good('c')];
    const route_ = { kind: 'Route' as const, name: 'api', match: { pathPrefix: '/' }, service: 'api' };
    const g = await guarded([route_], { services: new Map([['api', [endpoint(a, true), endpoint(b, false), endpoint(c, false)]]]), panicThresholdPercent: 50 });
    g.builder.setEndpoints(new Map([['api', [endpoint(a, true), endpoint(b, true), endpoint(c, false)]]]), true);
    const results = await sendSequential(`${g.harness.url}/`, 20);
    expect(new Set(results.map((r) => r.body))).toEqual(new Set(['a', 'b']));
    expect(c.seen).toHaveLength(0);
    expect(await metricValue(g.harness.registry, METRIC.poolPanic, { pool: 'service:api' })).toBe(0);
  });
});
