// ConsulProvider against injected faults of the Consul double: each fault keeps the last good
// endpoints published and marks the provider stale (up false, with the error); recovery marks it
// up again. Index resets are followed, not treated as errors. Integration: HTTP on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../helpers/eventually.js';
import type { ConsulFault } from '../../../helpers/consul-double.js';
import { harness, type Harness } from './harness.js';

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A provider watching `api` (two passing instances), started, its blocking query held. */
async function started(): Promise<Harness> {
  const setup = await harness();
  setup.double.registerService({ name: 'api', id: 'api-1', port: 3001 });
  setup.double.registerService({ name: 'api', id: 'api-2', port: 3002 });
  setup.provider.setWantedServices(new Set(['api']));
  await setup.provider.start(setup.sink);
  expect(setup.sink.origins('api')).toEqual(['http://127.0.0.1:3001', 'http://127.0.0.1:3002']);
  await waitForBlocking(setup, 'api', 2);
  return setup;
}

/** Waits until `count` requests for the service reached the double (the last one is held). */
async function waitForBlocking(setup: Harness, service: string, count: number): Promise<void> {
  await eventually(() => expect(setup.double.requestCount({ pathPrefix: `/v1/health/service/${service}` })).toBe(count));
}

/** Injects a fault that the next request meets: the held blocking query is woken by a write
 * that changes nothing, so the watch asks again. */
function failNext(setup: Harness, fault: ConsulFault, service = 'api'): void {
  setup.double.inject('health.service', fault, { service });
  setup.double.touchService(service);
}

const GOOD = ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'];

describe('ConsulProvider: faults keep the last good set', () => {
  it.each<[string, ConsulFault, RegExp]>([
    ['an HTML error page', { kind: 'html-error' }, /500/],
    ['truncated JSON', { kind: 'truncated-json' }, /unreadable answer|JSON/i],
    ['an answer of the wrong shape', { kind: 'wrong-shape' }, /not an array/],
    ['a reset connection', { kind: 'reset' }, /socket hang up|ECONNRESET/],
    ['a hanging connection (client timeout)', { kind: 'hang' }, /timed out|timeout/i],
    ['answers slower than the client timeout', { kind: 'slow', delayMs: 5_000 }, /timed out|timeout/i],
  ])('%s: stale while failing, up again after', async (_name, fault, error) => {
    h = await started();
    const { double, sink } = h;
    const published = sink.snapshots.length;
    failNext(h, fault);
    await eventually(() => expect(sink.lastStatus?.up).toBe(false), { timeoutMs: 8_000 });
    expect(sink.lastStatus?.lastError).toMatch(error);
    double.registerService({ name: 'api', id: 'api-3', port: 3003 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.snapshots.length).toBe(published);
    expect(sink.origins('api')).toEqual(GOOD);
    expect(sink.lastStatus?.up).toBe(false);

    double.clearFaults();
    await eventually(() => expect(sink.lastStatus?.up).toBe(true), { timeoutMs: 8_000 });
    expect(sink.lastStatus?.lastError).toBeUndefined();
    await eventually(() => expect(sink.origins('api')).toEqual([...GOOD, 'http://127.0.0.1:3003']));
  });

  it('refused connections: stale while the listener is gone, up again when it is back', async () => {
    h = await started();
    const { double, sink } = h;
    await double.refuseConnections();
    await eventually(() => expect(sink.lastStatus?.up).toBe(false), { timeoutMs: 8_000 });
    expect(sink.lastStatus?.lastError).toMatch(/ECONNREFUSED|socket hang up|ECONNRESET/);
    expect(sink.origins('api')).toEqual(GOOD);
    await double.acceptConnections();
    await eventually(() => expect(sink.lastStatus?.up).toBe(true), { timeoutMs: 8_000 });
    expect(sink.origins('api')).toEqual(GOOD);
  });

  it('answers slower than usual but within the timeout are not faults', async () => {
    h = await started();
    const { double, sink } = h;
    failNext(h, { kind: 'slow', delayMs: 300 });
    double.registerService({ name: 'api', id: 'api-3', port: 3003 });
    await eventually(() => expect(sink.origins('api')).toEqual([...GOOD, 'http://127.0.0.1:3003']));
    expect(sink.statuses.every((s) => s.up)).toBe(true);
  });

  it('a provider that never had a good read publishes nothing and reports down', async () => {
    h = await harness();
    const { double, provider, sink } = h;
    double.inject('*', { kind: 'html-error' });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    expect(sink.snapshots).toEqual([]);
    expect(sink.lastStatus).toMatchObject({ up: false, lastSyncMs: undefined });
  });

  it('one failing service does not hold back the others', async () => {
    h = await harness();
    const { double, provider, sink } = h;
    double.registerService({ name: 'api', port: 3001 });
    double.registerService({ name: 'web', port: 4001 });
    provider.setWantedServices(new Set(['api', 'web']));
    await provider.start(sink);
    await waitForBlocking(h, 'api', 2);
    await waitForBlocking(h, 'web', 2);
    failNext(h, { kind: 'html-error' }, 'api');
    await eventually(() => expect(sink.lastStatus).toMatchObject({ up: false }));
    double.registerService({ name: 'api', id: 'api-2', port: 3002 });
    double.registerService({ name: 'web', id: 'web-2', port: 4002 });
    await eventually(() => expect(sink.origins('web')).toEqual(['http://127.0.0.1:4001', 'http://127.0.0.1:4002']));
    expect(sink.lastStatus).toMatchObject({ up: false });
    expect(sink.lastStatus?.lastError).toMatch(/^api: /);
    expect(sink.origins('api')).toEqual(['http://127.0.0.1:3001']);
  });
});

describe('ConsulProvider: index resets', () => {
  it('follows an index that goes backwards (a restored snapshot) and sees later changes promptly', async () => {
    h = await harness({ config: { waitMs: 5_000 } });
    const { double, provider, sink } = h;
    // Many writes, so that the watch blocks on a high index.
    for (let i = 0; i < 20; i++) double.touchService('api');
    double.registerService({ name: 'api', id: 'api-1', port: 3001 });
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);
    await eventually(() => expect(double.requestCount({ pathPrefix: '/v1/health/service/api' })).toBe(2));
    // The restored data lacks api-1 and has an index far below the one the watch holds. The watch
    // sees it after its wait, resets to 0, and from then on blocks on the low index.
    double.deregisterService('api-1');
    double.rewindIndex(3);
    double.registerService({ name: 'api', id: 'api-2', port: 3002 });
    await eventually(() => expect(sink.origins('api')).toEqual(['http://127.0.0.1:3002']), { timeoutMs: 8_000 });
    double.registerService({ name: 'api', id: 'api-3', port: 3003 });
    const since = Date.now();
    await eventually(() => expect(sink.origins('api')).toEqual(['http://127.0.0.1:3002', 'http://127.0.0.1:3003']), { timeoutMs: 8_000 });
    expect(Date.now() - since).toBeLessThan(2_000);
    expect(sink.statuses.every((s) => s.up)).toBe(true);
  });

  it('an answer with a lower index is used, and the next read does not block', async () => {
    h = await started();
    const { double, sink } = h;
    double.inject('health.service', { kind: 'index-backwards', index: 2 }, { times: 1 });
    double.touchService('api');
    await waitForBlocking(h, 'api', 5);
    // #3 met the fault; #4 restarts without an index; #5 blocks again on the real index.
    const queries = double.requests().map((r) => new URLSearchParams(r.query).get('index'));
    expect(queries[3]).toBeNull();
    expect(Number(queries[4])).toBeGreaterThan(2);
    double.registerService({ name: 'api', id: 'api-3', port: 3003 });
    await eventually(() => expect(sink.origins('api')).toEqual([...GOOD, 'http://127.0.0.1:3003']));
    expect(sink.statuses.every((s) => s.up)).toBe(true);
  });

  it('an index of 0 is treated as 1: the watch keeps blocking instead of spinning', async () => {
    h = await started();
    const { double, sink } = h;
    double.inject('health.service', { kind: 'index-zero' }, { times: 1 });
    double.touchService('api');
    await waitForBlocking(h, 'api', 5);
    const queries = double.requests().map((r) => new URLSearchParams(r.query).get('index'));
    // #3 answered index 0 (below the held index: a reset), #4 read afresh, #5 blocks again.
    expect(queries[3]).toBeNull();
    expect(Number(queries[4])).toBeGreaterThan(1);
    expect(sink.statuses.every((s) => s.up)).toBe(true);
  });
});
