// The load ConsulProvider puts on Consul stays bounded: a churning index is held to the token
// bucket's rate, and an outage to the backoff's, measured over a few seconds against the double.
// Integration: HTTP on 127.0.0.1; each case runs about 3 s.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../helpers/eventually.js';
import { harness, type Harness } from './harness.js';

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const WINDOW_MS = 3_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('ConsulProvider: bounded load', () => {
  it('an index that changes on every read is polled at the token bucket rate, not in a busy loop', async () => {
    h = await harness({ config: { maxQueriesPerSecond: 5, burst: 10 } });
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001 });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    const published = sink.snapshots.length;
    double.inject('health.service', { kind: 'churn' });
    double.touchService('api');
    const since = Date.now();
    await sleep(WINDOW_MS);
    const requests = double.requestCount({ pathPrefix: '/v1/health/service/api', sinceMs: since });
    // At most the bucket: what was left of the burst plus 5 per second (and one in flight).
    expect(requests).toBeLessThanOrEqual(10 + 5 * (WINDOW_MS / 1000) + 2);
    // It does keep reading (polling degrades gracefully rather than stopping).
    expect(requests).toBeGreaterThanOrEqual(5 * (WINDOW_MS / 1000) - 2);
    // Unchanged data: nothing republished, and the provider stays up.
    expect(sink.snapshots.length).toBe(published);
    expect(sink.statuses.every((s) => s.up)).toBe(true);
  });

  it('the token bucket applies per service', async () => {
    h = await harness({ config: { maxQueriesPerSecond: 2, burst: 2 } });
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001 });
    double.registerService({ name: 'web', port: 4001 });
    provider.setWantedServices(new Set(['api', 'web']));
    await provider.start(sink);
    double.inject('health.service', { kind: 'churn' }, { service: 'api' });
    double.touchService('api');
    const since = Date.now();
    await sleep(WINDOW_MS);
    const api = double.requestCount({ pathPrefix: '/v1/health/service/api', sinceMs: since });
    expect(api).toBeLessThanOrEqual(2 + 2 * (WINDOW_MS / 1000) + 2);
    // web is quiet: its blocking query returns once per wait (1 s).
    const web = double.requestCount({ pathPrefix: '/v1/health/service/web', sinceMs: since });
    expect(web).toBeLessThanOrEqual(WINDOW_MS / 1000 + 2);
  });

  it('an outage (refused connections) is retried with backoff, not hammered', async () => {
    h = await harness({ deps: { backoff: { baseMs: 100, maxMs: 1_000 } } });
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001 });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    const before = provider.requestCounts().get('api') ?? 0;
    await double.refuseConnections();
    await sleep(WINDOW_MS);
    const attempts = (provider.requestCounts().get('api') ?? 0) - before;
    // Delays of at least 50, 100, 200, 400, 500, 500, ... ms: at most about 8 tries in 3 s.
    expect(attempts).toBeLessThanOrEqual(10);
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(sink.lastStatus?.up).toBe(false);
    expect(sink.origins('api')).toEqual(['http://127.0.0.1:3001']);
    await double.acceptConnections();
    await eventually(() => expect(sink.lastStatus?.up).toBe(true), { timeoutMs: 5_000 });
  });

  it('an outage of error pages is retried with backoff, counted at the double', async () => {
    h = await harness({ deps: { backoff: { baseMs: 100, maxMs: 1_000 } } });
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001 });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    double.inject('*', { kind: 'html-error' });
    double.touchService('api');
    const since = Date.now();
    await sleep(WINDOW_MS);
    expect(double.requestCount({ sinceMs: since })).toBeLessThanOrEqual(11);
    expect(sink.lastStatus?.up).toBe(false);
    expect(sink.origins('api')).toEqual(['http://127.0.0.1:3001']);
  });
});
