// TableBuilder (src/endpoints/table-builder.ts): coalesced rebuilds (first at once, then at most
// one per 100 ms), immediate builds, slow-start rebuild scheduling, ejection and panic overlay,
// and the metrics it keeps; pools that leave the table take their series with them. Fake clock
// and fake timers; no sockets.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { TableBuilder, type TableBuilderDeps } from '../../../src/endpoints/table-builder.js';
import type { EndpointSnapshot } from '../../../src/endpoints/endpoint-set.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { METRIC } from '../../../src/observability/metric-names.js';
import { isPickable, type Endpoint } from '../../../src/model/endpoint.js';
import type { RouteSpec } from '../../../src/model/route.js';
import type { RoutingTable } from '../../../src/model/routing-table.js';
import type { TrafficSplit } from '../../../src/model/traffic.js';

const START_MS = 5_000_000;
const API_POOL = 'service:api';

const serviceRoute = (name: string, service: string, pathPrefix = `/${name}`): RouteSpec => ({ kind: 'Route', name, match: { pathPrefix }, service });
const staticRoute = (name: string, urls: string[]): RouteSpec => ({ kind: 'Route', name, match: { pathPrefix: `/${name}` }, upstreams: urls.map((url) => ({ url })) });

function ep(id: string, extra: Partial<Endpoint> = {}): Endpoint {
  return { id, origin: `http://127.0.0.1:${5000 + id.charCodeAt(0)}`, weight: 1, source: 'managed', healthy: true, draining: false, ...extra };
}

const api = (...endpoints: Endpoint[]): EndpointSnapshot => new Map([['api', endpoints]]);

interface Rig {
  readonly builder: TableBuilder;
  readonly registry: Registry;
  readonly tables: RoutingTable[];
  /** Ejected endpoint ids by pool key, as OutlierDetector.ejected() gives them. */
  readonly ejected: Map<string, Set<string>>;
  readonly panics: Array<[string, boolean]>;
  readonly settings: { slowStartMs: number; panicThresholdPercent: number };
}

const rigs: Rig[] = [];

function rig(extra: Partial<TableBuilderDeps> = {}, settings = { slowStartMs: 0, panicThresholdPercent: 50 }): Rig {
  const registry = new Registry();
  const tables: RoutingTable[] = [];
  const ejected = new Map<string, Set<string>>();
  const panics: Array<[string, boolean]> = [];
  const builder = new TableBuilder({
    metrics: createMetrics(registry),
    publish: (table) => tables.push(table),
    ejected: () => ejected,
    slowStartMs: () => settings.slowStartMs,
    panicThresholdPercent: () => settings.panicThresholdPercent,
    onPanic: (pool, panic) => panics.push([pool, panic]),
    nowMs: () => Date.now(),
    ...extra,
  });
  const r = { builder, registry, tables, ejected, panics, settings };
  rigs.push(r);
  return r;
}

/** Samples of one metric as [labels, value] (series that exist only). */
async function samples(registry: Registry, name: string): Promise<Array<{ labels: Record<string, unknown>; value: number }>> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.map((v) => ({ labels: { ...v.labels }, value: v.value }));
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const matching = (await samples(registry, name)).filter((s) => Object.entries(labels).every(([k, v]) => String(s.labels[k]) === v));
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0);
}

function eject(ejected: Map<string, Set<string>>, poolKey: string, id: string): void {
  const set = ejected.get(poolKey) ?? new Set<string>();
  set.add(id);
  ejected.set(poolKey, set);
}

function pool(table: RoutingTable | undefined, key = API_POOL): readonly Endpoint[] {
  const found = table?.pools.get(key);
  if (found === undefined) throw new Error(`no pool ${key}`);
  return found.endpoints;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(START_MS);
});

afterEach(() => {
  while (rigs.length > 0) rigs.pop()?.builder.close();
  vi.useRealTimers();
});

describe('TableBuilder: coalescing', () => {
  it('the first request builds at once, synchronously', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    expect(tables).toHaveLength(1);
    expect(tables[0]?.routes.map((r) => r.name)).toEqual(['api']);
  });

  it('a burst of 50 requests within 100 ms builds at most twice, and the last build has the last snapshot', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    vi.advanceTimersByTime(1_000);
    const before = tables.length;
    for (let i = 0; i < 50; i++) {
      builder.setEndpoints(api(ep(`e${i}`)));
      vi.advanceTimersByTime(1);
    }
    vi.runAllTimers();
    const builds = tables.length - before;
    expect(builds).toBeGreaterThanOrEqual(1);
    expect(builds).toBeLessThanOrEqual(2);
    // The first request of the burst was not delayed.
    expect(pool(tables[before]).map((e) => e.id)).toEqual(['e0']);
    expect(pool(tables.at(-1)).map((e) => e.id)).toEqual(['e49']);
  });

  it('a steady stream of requests builds once per 100 ms, never more', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    for (let i = 0; i < 1_000; i++) {
      builder.setEndpoints(api(ep(i % 2 === 0 ? 'a' : 'b')));
      vi.advanceTimersByTime(1);
    }
    vi.runAllTimers();
    // 1 s of requests: the first build at once, then one at the end of each 100 ms interval.
    expect(tables.length).toBeGreaterThanOrEqual(10);
    expect(tables.length).toBeLessThanOrEqual(11);
    const builtAt = tables.map((t) => t.version);
    expect(new Set(builtAt).size).toBe(tables.length);
  });

  it('a request after a quiet interval builds at once', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    vi.advanceTimersByTime(100);
    builder.setEndpoints(api(ep('a')));
    expect(tables).toHaveLength(2);
  });

  it('a request within the interval waits for the end of the interval, not longer', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    vi.advanceTimersByTime(40);
    builder.setEndpoints(api(ep('a')));
    expect(tables).toHaveLength(1);
    vi.advanceTimersByTime(59);
    expect(tables).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(tables).toHaveLength(2);
    expect(pool(tables[1]).map((e) => e.id)).toEqual(['a']);
  });

  it('an immediate change builds at once inside the interval, and the pending build is dropped', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    vi.advanceTimersByTime(10);
    builder.setEndpoints(api(ep('a')));
    expect(tables).toHaveLength(1);
    builder.setEndpoints(api(ep('a'), ep('b')), true);
    expect(tables).toHaveLength(2);
    expect(pool(tables[1]).map((e) => e.id)).toEqual(['a', 'b']);
    vi.runAllTimers();
    expect(tables).toHaveLength(2);
  });

  it('immediate changes are never delayed, however many come', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    for (let i = 0; i < 5; i++) builder.setEndpoints(api(ep(`e${i}`)), true);
    expect(tables).toHaveLength(6);
  });

  it('every table gets a new, higher version', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a')), true);
    builder.build();
    expect(tables.map((t) => t.version)).toEqual([1, 2, 3]);
  });

  it('close() cancels a pending build', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.request();
    builder.close();
    vi.runAllTimers();
    expect(tables).toHaveLength(1);
  });
});

describe('TableBuilder: metrics', () => {
  it('counts every rebuild in dockmaster_routing_table_rebuilds_total', async () => {
    const { builder, tables, registry } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    for (let i = 0; i < 20; i++) builder.setEndpoints(api(ep(`e${i}`)));
    builder.setEndpoints(api(ep('x')), true);
    vi.runAllTimers();
    expect(await value(registry, METRIC.routingTableRebuildsTotal)).toBe(tables.length);
    expect(tables.length).toBe(2);
  });

  it('keeps dockmaster_endpoint_healthy per endpoint: 1 when pickable, 0 when unhealthy, draining or weight 0', async () => {
    const { builder, registry } = rig({}, { slowStartMs: 0, panicThresholdPercent: 0 });
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a'), ep('b', { healthy: false }), ep('c', { draining: true }), ep('d', { weight: 0 })), true);
    const byEndpoint = Object.fromEntries((await samples(registry, METRIC.endpointHealthy)).map((s) => [s.labels['endpoint'], [s.labels['pool'], s.labels['source'], s.value]]));
    expect(byEndpoint).toEqual({ a: [API_POOL, 'managed', 1], b: [API_POOL, 'managed', 0], c: [API_POOL, 'managed', 0], d: [API_POOL, 'managed', 0] });
  });

  it('removes the dockmaster_endpoint_healthy series of endpoints that are gone', async () => {
    const { builder, registry } = rig();
    builder.setRoutes([serviceRoute('api', 'api'), staticRoute('legacy', ['http://127.0.0.1:7001'])]);
    builder.setEndpoints(api(ep('a'), ep('b')), true);
    expect((await samples(registry, METRIC.endpointHealthy)).map((s) => s.labels['endpoint']).sort()).toEqual(['a', 'b', 'http://127.0.0.1:7001']);
    builder.setEndpoints(api(ep('a')), true);
    expect((await samples(registry, METRIC.endpointHealthy)).map((s) => s.labels['endpoint']).sort()).toEqual(['a', 'http://127.0.0.1:7001']);
    builder.setRoutes([serviceRoute('api', 'api')]);
    vi.runAllTimers();
    expect((await samples(registry, METRIC.endpointHealthy)).map((s) => s.labels['endpoint'])).toEqual(['a']);
  });

  it('marks ejected endpoints unhealthy in the table and counts them in dockmaster_endpoints_ejected', async () => {
    const { builder, registry, tables, ejected } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a'), ep('b'), ep('c'), ep('d')), true);
    eject(ejected, API_POOL, 'b');
    builder.build();
    expect(pool(tables.at(-1)).filter(isPickable).map((e) => e.id)).toEqual(['a', 'c', 'd']);
    expect(await value(registry, METRIC.endpointsEjected, { pool: API_POOL })).toBe(1);
    expect(await value(registry, METRIC.endpointHealthy, { endpoint: 'b' })).toBe(0);
    ejected.delete(API_POOL);
    builder.build();
    expect(pool(tables.at(-1)).filter(isPickable).map((e) => e.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(await value(registry, METRIC.endpointsEjected, { pool: API_POOL })).toBe(0);
  });
});

describe('TableBuilder: ejections per pool', () => {
  const SHARED = 'http://127.0.0.1:7001';

  it('an upstream ejected in one pool stays pickable in another pool that lists it', async () => {
    const { builder, registry, tables, ejected } = rig();
    eject(ejected, 'route:ra', SHARED);
    builder.setRoutes([staticRoute('ra', [SHARED, 'http://127.0.0.1:7002']), staticRoute('rb', [SHARED, 'http://127.0.0.1:7003'])]);
    expect(pool(tables.at(-1), 'route:ra').filter(isPickable).map((e) => e.id)).toEqual(['http://127.0.0.1:7002']);
    expect(pool(tables.at(-1), 'route:rb').filter(isPickable).map((e) => e.id)).toEqual([SHARED, 'http://127.0.0.1:7003']);
    expect(await value(registry, METRIC.endpointsEjected, { pool: 'route:ra' })).toBe(1);
    expect(await value(registry, METRIC.endpointsEjected, { pool: 'route:rb' })).toBe(0);
    expect(await value(registry, METRIC.endpointHealthy, { pool: 'route:ra', endpoint: SHARED })).toBe(0);
    expect(await value(registry, METRIC.endpointHealthy, { pool: 'route:rb', endpoint: SHARED })).toBe(1);
  });

  it('ejected ids of a pool that is not in the table, or not in that pool, change nothing', async () => {
    const { builder, registry, tables, ejected } = rig();
    eject(ejected, 'route:gone', 'a');
    eject(ejected, API_POOL, 'zzz');
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a'), ep('b')), true);
    expect(pool(tables.at(-1)).filter(isPickable).map((e) => e.id)).toEqual(['a', 'b']);
    expect(await value(registry, METRIC.endpointsEjected, { pool: API_POOL })).toBe(0);
    expect(await value(registry, METRIC.endpointsEjected, { pool: 'route:gone' })).toBeUndefined();
  });

  it('reads the ejected map afresh on every build', () => {
    let calls = 0;
    const map = new Map<string, Set<string>>();
    const { builder, tables } = rig({ ejected: () => (calls++, map) });
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a'), ep('b')), true);
    map.set(API_POOL, new Set(['a']));
    builder.build();
    expect(pool(tables.at(-1)).filter(isPickable).map((e) => e.id)).toEqual(['b']);
    expect(calls).toBe(tables.length);
  });
});

describe('TableBuilder: panic', () => {
  it('routes to every endpoint of a pool with too few healthy ones, and sets the gauge, the counter and onPanic', async () => {
    const { builder, registry, tables, panics } = rig();
    builder.setRoutes([serviceRoute('api', 'api'), serviceRoute('web', 'web')]);
    builder.setEndpoints(new Map([['api', [ep('a'), ep('b', { healthy: false }), ep('c', { healthy: false })]], ['web', [ep('w')]]]), true);
    expect(pool(tables.at(-1)).filter(isPickable).map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(await value(registry, METRIC.poolPanic, { pool: API_POOL })).toBe(1);
    expect(await value(registry, METRIC.poolPanicTotal, { pool: API_POOL })).toBe(1);
    expect(await value(registry, METRIC.poolPanic, { pool: 'service:web' })).toBeUndefined();
    expect(panics).toEqual([[API_POOL, true]]);
  });

  it('counts entering panic once per episode, not once per rebuild', async () => {
    const { builder, registry, panics } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    const sick = api(ep('a'), ep('b', { healthy: false }), ep('c', { healthy: false }));
    builder.setEndpoints(sick, true);
    builder.build();
    builder.build();
    expect(await value(registry, METRIC.poolPanicTotal, { pool: API_POOL })).toBe(1);
    builder.setEndpoints(api(ep('a'), ep('b'), ep('c', { healthy: false })), true);
    expect(await value(registry, METRIC.poolPanic, { pool: API_POOL })).toBe(0);
    builder.setEndpoints(sick, true);
    expect(await value(registry, METRIC.poolPanic, { pool: API_POOL })).toBe(1);
    expect(await value(registry, METRIC.poolPanicTotal, { pool: API_POOL })).toBe(2);
    expect(panics).toEqual([[API_POOL, true], [API_POOL, false], [API_POOL, true]]);
  });

  it('follows a changed panic threshold on the next rebuild', async () => {
    const { builder, registry, settings } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a'), ep('b'), ep('c', { healthy: false })), true);
    expect(await value(registry, METRIC.poolPanic, { pool: API_POOL })).toBeUndefined();
    settings.panicThresholdPercent = 80;
    builder.build();
    expect(await value(registry, METRIC.poolPanic, { pool: API_POOL })).toBe(1);
  });

  it('a pool that is gone leaves no panic series behind', async () => {
    const { builder, registry } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a'), ep('b', { healthy: false }), ep('c', { healthy: false })), true);
    expect(await value(registry, METRIC.poolPanic, { pool: API_POOL })).toBe(1);
    builder.setRoutes([]);
    vi.runAllTimers();
    // The pool no longer exists: the gauge must not keep saying it panics.
    expect(await value(registry, METRIC.poolPanic, { pool: API_POOL }) ?? 0).toBe(0);
  });

  it('a pool that is gone leaves no ejected-count series behind', async () => {
    const { builder, registry, ejected } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    eject(ejected, API_POOL, 'a');
    builder.setEndpoints(api(ep('a'), ep('b')), true);
    expect(await value(registry, METRIC.endpointsEjected, { pool: API_POOL })).toBe(1);
    builder.setRoutes([]);
    vi.runAllTimers();
    expect(await value(registry, METRIC.endpointsEjected, { pool: API_POOL }) ?? 0).toBe(0);
  });

  it('a pool that is gone has no series at all, and the other pools keep theirs', async () => {
    const { builder, registry } = rig();
    builder.setRoutes([serviceRoute('api', 'api'), serviceRoute('web', 'web')]);
    builder.setEndpoints(new Map([['api', [ep('a'), ep('b', { healthy: false }), ep('c', { healthy: false })]], ['web', [ep('w'), ep('v', { healthy: false }), ep('u', { healthy: false })]]]), true);
    builder.setRoutes([serviceRoute('web', 'web')]);
    vi.runAllTimers();
    expect((await samples(registry, METRIC.poolPanic)).map((s) => s.labels['pool'])).toEqual(['service:web']);
    expect((await samples(registry, METRIC.endpointsEjected)).map((s) => s.labels['pool'])).toEqual(['service:web']);
    expect(await value(registry, METRIC.poolPanic, { pool: 'service:web' })).toBe(1);
  });

  it('a pool that is gone leaves the panicking set: back in panic, it is a new episode', async () => {
    const { builder, registry, panics } = rig();
    const sick = api(ep('a'), ep('b', { healthy: false }), ep('c', { healthy: false }));
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(sick, true);
    builder.setRoutes([]);
    vi.runAllTimers();
    builder.setRoutes([serviceRoute('api', 'api')]);
    vi.runAllTimers();
    expect(panics).toEqual([[API_POOL, true], [API_POOL, true]]);
    expect(await value(registry, METRIC.poolPanic, { pool: API_POOL })).toBe(1);
    expect(await value(registry, METRIC.poolPanicTotal, { pool: API_POOL })).toBe(2);
  });

  it('a pool that comes back healthy after leaving in panic reports no panic', async () => {
    const { builder, registry, panics } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a'), ep('b', { healthy: false }), ep('c', { healthy: false })), true);
    builder.setRoutes([]);
    vi.runAllTimers();
    builder.setEndpoints(api(ep('a'), ep('b'), ep('c')), true);
    builder.setRoutes([serviceRoute('api', 'api')]);
    vi.runAllTimers();
    expect(panics).toEqual([[API_POOL, true]]);
    expect(await value(registry, METRIC.poolPanic, { pool: API_POOL })).toBeUndefined();
  });
});

describe('TableBuilder: slow start', () => {
  const SLOW = { slowStartMs: 10_000, panicThresholdPercent: 50 };

  it('endpoints in the first table are warm: full weight, no ramp', () => {
    const { builder, tables } = rig({}, SLOW);
    builder.setRoutes([{ ...staticRoute('legacy', ['http://127.0.0.1:7001']), upstreams: [{ url: 'http://127.0.0.1:7001', weight: 10 }] }]);
    expect(pool(tables[0], 'route:legacy').map((e) => e.weight)).toEqual([10]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('endpoints that arrive after the first table start their ramp at 10% of the scaled weight', () => {
    const { builder, tables } = rig({}, SLOW);
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a', { weight: 10 })), true);
    expect(pool(tables.at(-1)).map((e) => e.weight)).toEqual([10]);
  });

  it('a weight-1 endpoint joining a warm weight-1 one ramps 1..10 against 10, then both are back to 1', () => {
    const { builder, tables } = rig({}, SLOW);
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a')), true);
    // a arrived after the first table: let its own ramp finish first.
    vi.advanceTimersByTime(10_000);
    expect(pool(tables.at(-1)).map((e) => e.weight)).toEqual([1]);
    builder.setEndpoints(api(ep('a'), ep('b')), true);
    const weights: number[][] = [pool(tables.at(-1)).map((e) => e.weight)];
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(1_000);
      weights.push(pool(tables.at(-1)).map((e) => e.weight));
    }
    expect(weights).toEqual([[10, 1], [10, 2], [10, 3], [10, 4], [10, 5], [10, 6], [10, 7], [10, 8], [10, 9], [10, 10], [1, 1]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ramps a newly healthy endpoint in 10 steps, each rebuilt by a timer, then stops scheduling', () => {
    const { builder, tables } = rig({}, SLOW);
    builder.setRoutes([serviceRoute('api', 'api')]);
    vi.advanceTimersByTime(1_000);
    const before = tables.length;
    builder.setEndpoints(api(ep('b', { weight: 10 })));
    const weights: number[] = [];
    const record = (): void => {
      weights.push(pool(tables.at(-1)).find((e) => e.id === 'b')?.weight ?? -1);
    };
    record();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(1_000);
      record();
    }
    // Alone in its pool: 10 x 10 x (10%..100%), then its own weight once the ramp is over.
    expect(weights).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 10]);
    // One build when b appeared, then one per step: 10 more, none after the ramp.
    expect(tables.length - before).toBe(11);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a slow-start step rebuilds on its own, without any other request', () => {
    const { builder, tables } = rig({}, SLOW);
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a', { weight: 10 })), true);
    const built = tables.length;
    vi.advanceTimersByTime(999);
    expect(tables).toHaveLength(built);
    vi.advanceTimersByTime(1);
    expect(tables).toHaveLength(built + 1);
    expect(pool(tables.at(-1)).map((e) => e.weight)).toEqual([20]);
  });

  it('restarts the ramp of an endpoint that was unhealthy and is healthy again', () => {
    const { builder, tables } = rig({}, SLOW);
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a', { weight: 10 }), ep('b', { weight: 10 })), true);
    builder.setEndpoints(api(ep('a', { weight: 10 }), ep('b', { weight: 10, healthy: false })), true);
    vi.advanceTimersByTime(5_000);
    builder.setEndpoints(api(ep('a', { weight: 10 }), ep('b', { weight: 10 })), true);
    // b starts over at 10% of 10 x 10; a (itself half way up its ramp: 60 of 100) is scaled too.
    expect(pool(tables.at(-1)).map((e) => e.weight)).toEqual([60, 10]);
  });

  it('schedules nothing when slow start is off', () => {
    const { builder } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a')), true);
    vi.advanceTimersByTime(1_000);
    builder.setEndpoints(api(ep('a'), ep('b')), true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('TableBuilder: traffic splits', () => {
  const canary = (percent: number): TrafficSplit => ({ weights: [{ revision: 'r1', percent: 100 - percent }, { revision: 'r2', percent }] });
  const twoRevisions = (): EndpointSnapshot => api(ep('a', { revision: 'r1' }), ep('b', { revision: 'r1' }), ep('c', { revision: 'r2' }));
  const groups = (table: RoutingTable | undefined): Array<[string, number, string[]]> =>
    table?.pools.get(API_POOL)?.split?.groups.map((g) => [g.revision, g.percent, g.endpoints.map((e) => e.id)]) ?? [];

  it('builds at once on a new split, even inside the coalescing interval', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(twoRevisions());
    vi.advanceTimersByTime(10);
    const built = tables.length;
    builder.setTraffic(new Map([['api', canary(20)]]));
    expect(tables).toHaveLength(built + 1);
    expect(groups(tables.at(-1))).toEqual([
      ['r1', 80, ['a', 'b']],
      ['r2', 20, ['c']],
    ]);
    builder.setTraffic(new Map([['api', canary(50)]]));
    expect(groups(tables.at(-1)).map(([revision, percent]) => [revision, percent])).toEqual([
      ['r1', 50],
      ['r2', 50],
    ]);
  });

  it('builds nothing for the same split again', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(twoRevisions(), true);
    builder.setTraffic(new Map([['api', canary(20)]]));
    const built = tables.length;
    builder.setTraffic(new Map([['api', canary(20)]]));
    expect(tables).toHaveLength(built);
  });

  it('keeps the split through later endpoint changes, and drops it when the service leaves the map', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setTraffic(new Map([['api', canary(20)]]));
    builder.setEndpoints(api(ep('a', { revision: 'r1' }), ep('d', { revision: 'r2' })), true);
    expect(groups(tables.at(-1))).toEqual([
      ['r1', 80, ['a']],
      ['r2', 20, ['d']],
    ]);
    builder.setTraffic(new Map());
    expect(tables.at(-1)?.pools.get(API_POOL)?.split).toBeUndefined();
  });

  it('lays ejection and slow start over the endpoints inside the groups: the same objects as the pool', () => {
    const { builder, tables, ejected } = rig({}, { slowStartMs: 10_000, panicThresholdPercent: 0 });
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setEndpoints(api(ep('a', { revision: 'r1' }), ep('b', { revision: 'r1' })), true);
    vi.advanceTimersByTime(1_000);
    eject(ejected, API_POOL, 'a');
    builder.setEndpoints(twoRevisions(), true);
    builder.setTraffic(new Map([['api', canary(20)]]));
    const table = tables.at(-1);
    const poolEndpoints = pool(table);
    const split = table?.pools.get(API_POOL)?.split;
    for (const group of split?.groups ?? []) for (const e of group.endpoints) expect(poolEndpoints).toContain(e);
    const a = split?.groups[0]?.endpoints.find((e) => e.id === 'a');
    const c = split?.groups[1]?.endpoints.find((e) => e.id === 'c');
    expect(a && isPickable(a)).toBe(false);
    // c just appeared: 10% of (1 x 10) = 1; b is 1 s into its own ramp: 20% of 10 = 2.
    expect(c?.weight).toBe(1);
    expect(split?.groups[0]?.endpoints.find((e) => e.id === 'b')?.weight).toBe(2);
  });
});

describe('TableBuilder: hold settings (scale to zero)', () => {
  const hold = { maxQueue: 10, holdTimeoutMs: 5_000 };

  it('builds at once on new hold settings, even inside the coalescing interval, and the empty pool holds', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    vi.advanceTimersByTime(10);
    const built = tables.length;
    builder.setHolds(new Map([['api', hold]]));
    expect(tables).toHaveLength(built + 1);
    expect(tables.at(-1)?.pools.get(API_POOL)).toMatchObject({ endpoints: [], hold });
    builder.setHolds(new Map([['api', { ...hold, maxQueue: 20 }]]));
    expect(tables).toHaveLength(built + 2);
    expect(tables.at(-1)?.pools.get(API_POOL)?.hold?.maxQueue).toBe(20);
  });

  it('builds nothing for the same settings again, in a new map', () => {
    const { builder, tables } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setHolds(new Map([['api', hold]]));
    const built = tables.length;
    builder.setHolds(new Map([['api', { ...hold }]]));
    expect(tables).toHaveLength(built);
  });

  it('keeps the hold through endpoint changes and the health overlay, and drops it when the service leaves the map', () => {
    const { builder, tables, ejected } = rig({}, { slowStartMs: 10_000, panicThresholdPercent: 0 });
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setHolds(new Map([['api', hold]]));
    vi.advanceTimersByTime(1_000);
    eject(ejected, API_POOL, 'a');
    // A new endpoint ramps and another is ejected: the overlay makes a new pool object.
    builder.setEndpoints(api(ep('a'), ep('b')), true);
    const overlaid = tables.at(-1)?.pools.get(API_POOL);
    expect(overlaid?.hold).toEqual(hold);
    expect(overlaid?.endpoints.find((e) => e.id === 'a')?.healthy).toBe(false);
    builder.setHolds(new Map());
    expect(tables.at(-1)?.pools.get(API_POOL)).not.toHaveProperty('hold');
  });

  it('keeps split and hold together through the overlay', () => {
    const { builder, tables, ejected } = rig();
    builder.setRoutes([serviceRoute('api', 'api')]);
    builder.setTraffic(new Map([['api', { weights: [{ revision: 'r1', percent: 100 }] }]]));
    builder.setHolds(new Map([['api', hold]]));
    eject(ejected, API_POOL, 'a');
    builder.setEndpoints(api(ep('a', { revision: 'r1' }), ep('b', { revision: 'r1' })), true);
    const pool = tables.at(-1)?.pools.get(API_POOL);
    expect(pool?.hold).toEqual(hold);
    expect(pool?.split?.groups[0]?.endpoints.map((e) => [e.id, e.healthy])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });
});
