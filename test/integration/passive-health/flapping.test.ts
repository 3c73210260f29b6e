// A flapping provider on real timers: alternating snapshots every 5 ms for 1 s through
// EndpointSet -> TableBuilder -> a real proxy cause about one table rebuild per 100 ms, and
// traffic sent meanwhile sees no error. 127.0.0.1 only.
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { Registry } from 'prom-client';
import { startProxy, metricValue } from '../../helpers/proxy-harness.js';
import { startUpstream, type RunningUpstream } from '../../helpers/upstream.js';
import { EndpointSet } from '../../../src/endpoints/endpoint-set.js';
import { TableBuilder } from '../../../src/endpoints/table-builder.js';
import { METRIC } from '../../../src/observability/metric-names.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import type { Endpoint } from '../../../src/model/endpoint.js';
import type { RouteSpec } from '../../../src/model/route.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const FLAP_MS = 1_000;
const EVERY_MS = 5;

async function upstream(name: string): Promise<RunningUpstream> {
  const u = await startUpstream((_req, res) => res.end(name));
  cleanups.push(() => u.close());
  return u;
}

describe('a flapping provider', () => {
  it('publishing alternating snapshots every 5 ms for 1 s causes at most about 11 rebuilds, with no client error', async () => {
    const [a, b] = [await upstream('a'), await upstream('b')];
    const endpoint = (u: RunningUpstream): Endpoint => ({ id: u.origin, origin: u.origin, weight: 1, source: 'consul', healthy: true, draining: false });
    const routes: RouteSpec[] = [{ kind: 'Route', name: 'api', match: { pathPrefix: '/' }, service: 'api' }];
    const harness = await startProxy(routes);
    cleanups.push(() => harness.close());
    const builtAtMs: number[] = [];
    const builder = new TableBuilder({
      metrics: harness.metrics,
      publish: (table) => {
        builtAtMs.push(performance.now());
        harness.proxy.setTable(table);
      },
      ejected: () => new Map(),
      slowStartMs: () => 0,
      panicThresholdPercent: () => 50,
    });
    cleanups.push(() => builder.close());
    builder.setRoutes(routes);
    const set = new EndpointSet((merged, provider) => builder.setEndpoints(merged, provider === 'managed'));
    const snapshots = [new Map([['api', [endpoint(a)]]]), new Map([['api', [endpoint(b)]]])];
    set.publish('consul', snapshots[0] ?? new Map());
    // Let the first build's interval pass so the flapping starts from a quiet builder.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const baseline = builtAtMs.length;

    const startMs = performance.now();
    let published = 0;
    let changes = 0;
    const flapping = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (performance.now() - startMs >= FLAP_MS) {
          clearInterval(timer);
          resolve();
          return;
        }
        published++;
        if (set.publish('consul', snapshots[published % 2] ?? new Map())) changes++;
      }, EVERY_MS);
    });
    const statuses: number[] = [];
    const bodies = new Set<string>();
    const traffic = (async () => {
      while (performance.now() - startMs < FLAP_MS) {
        const response = await request(`${harness.url}/`);
        statuses.push(response.statusCode);
        bodies.add(await response.body.text());
      }
    })();
    await Promise.all([flapping, traffic]);
    const duringMs = performance.now() - startMs;
    const during = builtAtMs.slice(baseline).filter((t) => t - startMs <= duringMs);
    // Wait for the trailing coalesced build, if one is pending.
    await new Promise((resolve) => setTimeout(resolve, 150));

    // About 200 at 5 ms; fewer on a loaded machine, still many more than the rebuilds.
    expect(published).toBeGreaterThan(20);
    expect(changes).toBe(published);
    // The first change builds at once, then at most one per 100 ms: 11 in a second.
    expect(during.length).toBeGreaterThanOrEqual(2);
    expect(during.length).toBeLessThanOrEqual(11);
    const gaps = during.slice(1).map((t, i) => t - (during[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(90);
    // The trailing build brings the table to the provider's last snapshot.
    const finalPool = harness.proxy.currentTable().pools.get('service:api')?.endpoints.map((e) => e.origin);
    expect(finalPool).toEqual(set.current().get('api')?.map((e) => e.origin));
    expect(builtAtMs.length - baseline).toBeLessThanOrEqual(12);
    expect(await metricValue(harness.registry, METRIC.routingTableRebuildsTotal)).toBe(builtAtMs.length);

    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(bodies).toEqual(new Set(['a', 'b']));
  });

  it('republishing the same snapshot every 5 ms causes no rebuild at all', async () => {
    const a = await upstream('a');
    let builds = 0;
    const builder = new TableBuilder({
      metrics: createMetrics(new Registry()),
      publish: () => builds++,
      ejected: () => new Map(),
      slowStartMs: () => 0,
      panicThresholdPercent: () => 50,
    });
    cleanups.push(() => builder.close());
    const set = new EndpointSet((merged) => builder.setEndpoints(merged));
    const snapshot = (): Map<string, Endpoint[]> => new Map([['api', [{ id: a.origin, origin: a.origin, weight: 1, source: 'docker', healthy: true, draining: false }]]]);
    set.publish('docker', snapshot());
    const after = builds;
    for (let i = 0; i < 40; i++) {
      expect(set.publish('docker', snapshot())).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
    }
    expect(builds).toBe(after);
  });
});
