// ConsulRegistrar against the Consul double: register with an HTTP check and version tag,
// deregister, retries that never throw; with the double running checks, a registered replica
// reaches a provider's snapshot. Integration: HTTP on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { ConsulDouble, type ConsulDoubleOptions } from '../../../helpers/consul-double.js';
import { startUpstream, type RunningUpstream } from '../../../helpers/upstream.js';
import { eventually } from '../../../helpers/eventually.js';
import { ConsulRegistrar } from '../../../../src/registry/consul/consul-registrar.js';
import { ConsulProvider } from '../../../../src/registry/consul/consul-provider.js';
import { providerConfig, RecordingSink, testLogger } from './harness.js';
import type { ConsulProviderConfig } from '../../../../src/model/gateway.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: { double?: ConsulDoubleOptions; config?: Partial<ConsulProviderConfig>; attempts?: number } = {}): Promise<{ double: ConsulDouble; registrar: ConsulRegistrar; config: ConsulProviderConfig }> {
  const double = await ConsulDouble.start(options.double);
  cleanups.push(() => double.close());
  const config = providerConfig(double.address, { register: { enabled: true, checkIntervalMs: 1_000, deregisterCriticalAfterMs: 60_000 }, ...options.config });
  const registrar = new ConsulRegistrar(config, { logger: testLogger, backoff: { baseMs: 20, maxMs: 100 }, requestTimeoutMs: 1_000, attempts: options.attempts });
  cleanups.push(() => registrar.close());
  return { double, registrar, config };
}

const replica = { service: 'api', replicaId: 'api-r1', revision: 'abc123', origin: 'http://127.0.0.1:3101', healthPath: '/healthz' };

describe('ConsulRegistrar', () => {
  it('registers a replica as an agent service with an HTTP check, then deregisters it', async () => {
    const { double, registrar } = await setup();
    await expect(registrar.register(replica)).resolves.toBe(true);
    const [instance] = double.instances('api');
    expect(instance).toMatchObject({ node: double.nodeName, id: 'dockmaster-api-api-r1', service: 'api', address: '127.0.0.1', port: 3101, tags: ['version=abc123'] });
    expect(instance?.checks).toEqual([
      { checkId: 'service:dockmaster-api-api-r1', status: 'critical', definition: { HTTP: 'http://127.0.0.1:3101/healthz', Interval: '1000ms', Timeout: '1000ms', DeregisterCriticalServiceAfter: '60000ms' } },
    ]);
    expect(registrar.registeredIds()).toEqual(['dockmaster-api-api-r1']);
    expect(double.requestCounts().get('PUT /v1/agent/service/register')).toBe(1);

    await expect(registrar.deregister('api', 'api-r1')).resolves.toBe(true);
    expect(double.instances('api')).toEqual([]);
    expect(registrar.registeredIds()).toEqual([]);
  });

  it('sends the token and uses the tag prefix', async () => {
    const { double, registrar } = await setup({ double: { aclToken: 'tok' }, config: { token: 'tok', tagPrefix: 'dm-' } });
    await expect(registrar.register(replica)).resolves.toBe(true);
    expect(double.instances('api')[0]?.tags).toEqual(['dm-version=abc123']);
    expect(double.requests().map((r) => r.token)).toEqual(['tok']);
  });

  it('counts deregistering a replica Consul does not know as done', async () => {
    const { registrar } = await setup();
    await expect(registrar.deregister('api', 'never-registered')).resolves.toBe(true);
  });

  it('retries through errors with backoff and then succeeds', async () => {
    const { double, registrar } = await setup();
    double.inject('agent.service.register', { kind: 'html-error' }, { times: 2 });
    await expect(registrar.register(replica)).resolves.toBe(true);
    expect(double.requestCounts().get('PUT /v1/agent/service/register')).toBe(3);
    expect(double.instances('api')).toHaveLength(1);
  });

  it('gives up after its attempts without throwing, when Consul keeps failing or is gone', async () => {
    const { double, registrar } = await setup({ attempts: 3 });
    double.inject('agent.service.register', { kind: 'reset' });
    await expect(registrar.register(replica)).resolves.toBe(false);
    expect(double.requestCounts().get('PUT /v1/agent/service/register')).toBe(3);
    double.clearFaults();
    double.inject('agent.service.register', { kind: 'hang' });
    const started = Date.now();
    await expect(registrar.register(replica)).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(3 * 1_000 + 1_000);
    await double.refuseConnections();
    await expect(registrar.deregister('api', 'api-r1')).resolves.toBe(false);
  });

  it('runs calls for one replica in order: a deregister after a register wins', async () => {
    const { double, registrar } = await setup();
    double.inject('agent.service.register', { kind: 'slow', delayMs: 200 }, { times: 1 });
    const registered = registrar.register(replica);
    const deregistered = registrar.deregister('api', 'api-r1');
    await Promise.all([registered, deregistered]);
    expect(double.instances('api')).toEqual([]);
  });

  it('stops retrying a register once a deregister for the same replica comes', async () => {
    const { double, registrar } = await setup({ attempts: 10 });
    double.inject('agent.service.register', { kind: 'html-error' });
    const registered = registrar.register(replica);
    await eventually(() => expect(double.requestCount({ pathPrefix: '/v1/agent/service/register' })).toBeGreaterThanOrEqual(1));
    double.clearFaults();
    await expect(registrar.deregister('api', 'api-r1')).resolves.toBe(true);
    await expect(registered).resolves.toBe(false);
    expect(double.instances('api')).toEqual([]);
  });

  it('does nothing when registration is disabled', async () => {
    const { double, registrar } = await setup({ config: { register: { enabled: false, checkIntervalMs: 1_000, deregisterCriticalAfterMs: 60_000 } } });
    await expect(registrar.register(replica)).resolves.toBe(false);
    await expect(registrar.deregister('api', 'api-r1')).resolves.toBe(false);
    expect(double.requestCount()).toBe(0);
  });
});

describe('ConsulRegistrar with a provider: another instance routes to a registered replica', () => {
  it('a registered replica with a passing check appears in the provider snapshot, and leaves', async () => {
    const { double, registrar, config } = await setup({ double: { runHttpChecks: true } });
    let healthy = true;
    const app: RunningUpstream = await startUpstream((req, res) => {
      res.statusCode = req.url === '/healthz' && healthy ? 200 : 503;
      res.end();
    });
    cleanups.push(() => app.close());
    const provider = new ConsulProvider(config, { logger: testLogger, timeoutMarginMs: 500, backoff: { baseMs: 100, maxMs: 1_000 } });
    cleanups.push(() => provider.close());
    const sink = new RecordingSink();
    provider.setWantedServices(new Set(['api']));
    await provider.start(sink);

    await expect(registrar.register({ ...replica, origin: app.origin })).resolves.toBe(true);
    await eventually(() => expect(sink.endpoints('api')).toEqual([{ id: `consul:${double.nodeName}/dockmaster-api-api-r1`, origin: app.origin, weight: 1, revision: 'abc123', source: 'consul', healthy: true, draining: false }]), { timeoutMs: 5_000 });

    healthy = false;
    await eventually(() => expect(sink.endpoints('api')).toEqual([]), { timeoutMs: 5_000 });
    healthy = true;
    await eventually(() => expect(sink.origins('api')).toEqual([app.origin]), { timeoutMs: 5_000 });

    await registrar.deregister('api', 'api-r1');
    await eventually(() => expect(sink.endpoints('api')).toEqual([]));
  });

  it("an instance's own registrations stay out of its own provider, and reach the others", async () => {
    const { double, config } = await setup({ double: { runHttpChecks: true } });
    const app = await startUpstream((_req, res) => res.end());
    cleanups.push(() => app.close());
    const registrar = new ConsulRegistrar(config, { logger: testLogger, instanceId: 'dm-a' });
    cleanups.push(() => registrar.close());
    const sinks = new Map<string, RecordingSink>();
    for (const instanceId of ['dm-a', 'dm-b']) {
      const provider = new ConsulProvider(config, { logger: testLogger, instanceId, timeoutMarginMs: 500 });
      cleanups.push(() => provider.close());
      const sink = new RecordingSink();
      sinks.set(instanceId, sink);
      provider.setWantedServices(new Set(['api']));
      await provider.start(sink);
    }
    await registrar.register({ ...replica, origin: app.origin });
    await eventually(() => expect(sinks.get('dm-b')?.origins('api')).toEqual([app.origin]), { timeoutMs: 5_000 });
    expect(double.instances('api')[0]?.meta).toEqual({ 'dockmaster-replica': 'api-r1', 'dockmaster-instance': 'dm-a' });
    expect(sinks.get('dm-a')?.endpoints('api') ?? []).toEqual([]);
  });
});
