// ConsulProvider against the Consul double, over real sockets: services appear and leave, tags
// map to version and weight, tagged services are found through the catalog, the token is sent,
// and close() ends blocking queries at once. Integration: HTTP on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../helpers/eventually.js';
import { harness, type Harness } from './harness.js';

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('ConsulProvider: services appear and leave', () => {
  it('publishes the passing instances of a wanted service, then changes as Consul changes', async () => {
    h = await harness();
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', id: 'api-1', port: 3001 });
    double.registerService({ name: 'api', id: 'api-2', port: 3002, check: 'critical' });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    expect(sink.origins('api')).toEqual(['http://127.0.0.1:3001']);
    expect(sink.lastStatus).toMatchObject({ provider: 'consul', up: true, skipped: [] });
    expect(sink.lastStatus?.lastSyncMs).toBeGreaterThan(0);

    double.setServiceHealth('api-2', 'passing');
    await eventually(() => expect(sink.origins('api')).toEqual(['http://127.0.0.1:3001', 'http://127.0.0.1:3002']));

    double.setServiceHealth('api-1', 'critical');
    await eventually(() => expect(sink.origins('api')).toEqual(['http://127.0.0.1:3002']));

    double.deregisterService('api-2');
    await eventually(() => expect(sink.endpoints('api')).toEqual([]));

    double.registerService({ name: 'api', id: 'api-3', port: 3003, node: 'node-b', nodeAddress: '127.0.0.3' });
    await eventually(() => expect(sink.endpoints('api')?.map((e) => [e.id, e.origin])).toEqual([['consul:node-b/api-3', 'http://127.0.0.3:3003']]));

    double.setNodeHealth('node-b', 'critical');
    await eventually(() => expect(sink.endpoints('api')).toEqual([]));
  });

  it('publishes the whole snapshot of every wanted service when one of them changes', async () => {
    h = await harness();
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001 });
    double.registerService({ name: 'web', port: 4001 });
    provider.setWantedServices(new Set(['api', 'web']));
    await provider.start(sink);
    await eventually(() => expect([...(sink.snapshots.at(-1)?.keys() ?? [])]).toEqual(['api', 'web']));
    const before = sink.snapshots.length;
    double.registerService({ name: 'web', id: 'web-2', port: 4002 });
    await eventually(() => expect(sink.origins('web')).toHaveLength(2));
    const last = sink.snapshots.at(-1);
    expect(sink.snapshots.length).toBe(before + 1);
    expect(last?.get('api')?.map((e) => e.origin)).toEqual(['http://127.0.0.1:3001']);
  });

  it('does not republish while nothing changes (an elapsed wait or a write to another service)', async () => {
    h = await harness({ config: { waitMs: 200 } });
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001 });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    const published = sink.snapshots.length;
    double.registerService({ name: 'unrelated', port: 9 });
    double.touchService('api'); // an idempotent write: the index moves, the data does not
    const since = Date.now();
    await eventually(() => expect(double.requestCount({ pathPrefix: '/v1/health/service/api', sinceMs: since })).toBeGreaterThanOrEqual(4), { timeoutMs: 5_000 });
    expect(sink.snapshots.length).toBe(published);
  });

  it('starts and stops watches as the wanted services change', async () => {
    h = await harness();
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001 });
    double.registerService({ name: 'web', port: 4001 });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    provider.setWantedServices(new Set(['api', 'web']));
    await eventually(() => expect(sink.origins('web')).toEqual(['http://127.0.0.1:4001']));
    provider.setWantedServices(new Set(['web']));
    await eventually(() => expect([...(sink.snapshots.at(-1)?.keys() ?? [])]).toEqual(['web']));
    expect([...provider.requestCounts().keys()]).toEqual(['web']);
  });

  it('maps version and weight tags (with the configured prefix) onto endpoints', async () => {
    h = await harness({ config: { tagPrefix: 'dm-' } });
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', id: 'api-1', port: 3001, tags: ['dm-version=v2', 'dm-weight=7', 'version=ignored'] });
    double.registerService({ name: 'api', id: 'api-2', port: 3002, tags: ['dm-weight=lots'] });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    expect(sink.endpoints('api')).toEqual([
      { id: `consul:${double.nodeName}/api-1`, origin: 'http://127.0.0.1:3001', weight: 7, revision: 'v2', source: 'consul', healthy: true, draining: false },
      { id: `consul:${double.nodeName}/api-2`, origin: 'http://127.0.0.1:3002', weight: 1, revision: undefined, source: 'consul', healthy: true, draining: false },
    ]);
  });

  it('reports skipped entries in its status and uses the rest', async () => {
    h = await harness();
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', id: 'good', port: 3001 });
    double.registerService({ name: 'api', id: 'no-port', port: 0 });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    expect(sink.origins('api')).toEqual(['http://127.0.0.1:3001']);
    expect(sink.lastStatus?.skipped).toEqual([{ id: `consul:${double.nodeName}/no-port`, reason: 'port 0 is not an integer 1..65535' }]);
  });
});

describe('ConsulProvider: tagged services from the catalog', () => {
  it('watches services carrying the tag, besides the wanted ones, and drops them when the tag goes', async () => {
    h = await harness({ config: { tag: 'edge' } });
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001, tags: ['edge'] });
    double.registerService({ name: 'db', port: 5432 });
    await provider.start(sink);
    await eventually(() => expect([...(sink.snapshots.at(-1)?.keys() ?? [])]).toEqual(['api']));
    double.registerService({ name: 'web', port: 4001, tags: ['edge', 'version=w1'] });
    await eventually(() => expect(sink.endpoints('web')?.map((e) => e.revision)).toEqual(['w1']));
    double.registerService({ name: 'web', port: 4001, tags: ['version=w1'] });
    await eventually(() => expect([...(sink.snapshots.at(-1)?.keys() ?? [])]).toEqual(['api']));
    expect(double.requestCount({ pathPrefix: '/v1/catalog/services' })).toBeGreaterThan(0);
  });
});

describe('ConsulProvider: token and shutdown', () => {
  it('sends the configured token as X-Consul-Token', async () => {
    h = await harness({ double: { aclToken: 's3cret' }, config: { token: 's3cret' } });
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001 });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    expect(sink.origins('api')).toEqual(['http://127.0.0.1:3001']);
    expect(double.requests().every((r) => r.token === 's3cret')).toBe(true);
  });

  it('is down with the reason when the token is refused', async () => {
    h = await harness({ double: { aclToken: 's3cret' }, config: { token: 'wrong' } });
    const { provider, sink } = h;
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    expect(sink.lastStatus).toMatchObject({ up: false });
    expect(sink.lastStatus?.lastError).toMatch(/403/);
    expect(sink.snapshots).toEqual([]);
  });

  it('close() aborts blocking queries in flight at once', async () => {
    h = await harness({ config: { waitMs: 30_000 } });
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001 });
    provider.setWantedServices(new Set(['api', 'web']));
    await provider.start(sink);
    // Both watches now hold a 30 s blocking query.
    await eventually(() => expect(double.requestCount({ pathPrefix: '/v1/health/service/' })).toBe(4));
    const started = Date.now();
    await provider.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    const after = double.requestCount();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(double.requestCount()).toBe(after);
  });
});
