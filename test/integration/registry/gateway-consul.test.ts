// The Consul provider and registrar end to end, through the real CLI gateway (`dockmaster serve`
// with `providers.consul` in dockmaster.yaml) against the Consul HTTP API double
// (test/helpers/consul-double.ts: a double, not Consul): instances registered in the double
// become routable and leave again; every injected fault keeps the last good set serving with
// zero client errors while the provider reports itself stale; the requests the gateway sends to
// the double stay bounded by the token bucket and the backoff; the gateway registers its own
// ready replicas in the double and deregisters them. Integration: real sockets on 127.0.0.1,
// bounded load loops, polling with deadlines.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { CONSUL_DEFAULTS } from '../../../src/model/gateway.js';
import { DEFAULT_BACKOFF, backoffDelayMs } from '../../../src/registry/consul/backoff.js';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { ConsulDouble, type ConsulFault } from '../../helpers/consul-double.js';
import { eventually } from '../../helpers/eventually.js';
import { loadAdvances, startLoad as startSharedLoad, type LoadLimits } from '../../helpers/load.js';
import { startUpstream, type RunningUpstream } from '../../helpers/upstream.js';

const DEMO_APP = resolve(import.meta.dirname, '../../../src/demo/demo-app.mjs');
/** The double's agent node: instances registered without a node live there. */
const NODE = 'double-node';

// ---- set-up and clean-up ---------------------------------------------------------------------

type Cleanup = () => Promise<void> | void;

/** A clean-up stack for one test, run last-in first-out when it finishes (the suites run
 * concurrently, so clean-up is per test, not in a shared afterEach). */
function cleanupStack(ctx: TestContext): (c: Cleanup) => void {
  const stack: Cleanup[] = [];
  ctx.onTestFinished(async () => {
    while (stack.length > 0) await stack.pop()?.();
  });
  return (c) => void stack.push(c);
}

async function stopCli(cli: RunningCli, timeoutMs = 10_000): Promise<number | string> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return cli.exited;
  cli.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([cli.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
  clearTimeout(timer);
  if (result !== 'timeout') return result;
  cli.child.kill('SIGKILL');
  await cli.exited;
  return 'timeout';
}

function gatewayYaml(double: ConsulDouble, extra = ''): string {
  // waitMs at its minimum (1 s) keeps blocking queries short; rate, burst and backoff stay at
  // their defaults (the bounds below are derived from them).
  return `kind: Gateway\nproviders:\n  consul:\n    address: ${double.address}\n    waitMs: 1000\n${extra}`;
}

function routeYaml(service: string): string {
  return `kind: Route\nname: ${service}\nmatch: {pathPrefix: /}\nservice: ${service}\nretries: 2\ntimeoutMs: 5000\n`;
}

/** Starts the gateway on a fresh config folder and waits until its admin API answers. */
async function startGateway(files: Record<string, string>, register: (c: Cleanup) => void): Promise<RunningCli> {
  const dir = configDir(files);
  register(() => rmSync(dir, { recursive: true, force: true }));
  const cli = await startCli(dir, ['--drain-timeout-ms', '2000']);
  register(async () => {
    await stopCli(cli);
  });
  await eventually(
    async () => {
      if (cli.child.exitCode !== null) throw new Error(`gateway exited ${cli.child.exitCode}:\n${cli.stdout().slice(-2000)}\n${cli.stderr().slice(-2000)}`);
      const res = await request(`${cli.adminUrl}/healthz`);
      await res.body.dump();
      expect(res.statusCode).toBe(200);
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  return cli;
}

/** A real upstream on 127.0.0.1 that answers with its name. */
async function namedUpstream(name: string, register: (c: Cleanup) => void): Promise<RunningUpstream> {
  const upstream = await startUpstream((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ upstream: name }));
  });
  register(() => upstream.close());
  return upstream;
}

// ---- the admin API and metrics -----------------------------------------------------------------

interface EndpointJson {
  id: string;
  origin: string;
  source: string;
  revision?: string;
  weight: number;
  pickable: boolean;
  healthy: boolean;
  draining: boolean;
  ejected: boolean;
}
interface ProviderJson {
  provider: string;
  up: boolean;
  stale: boolean;
  lastSyncMs?: number;
  lastError?: string;
}
interface ReplicaJson {
  id: string;
  state: string;
  address?: string;
  revision: string;
}
interface ServiceJson {
  name: string;
  endpoints: EndpointJson[];
  providers: ProviderJson[];
  replicas?: ReplicaJson[];
}

async function serviceView(cli: RunningCli, name: string): Promise<ServiceJson> {
  const res = await request(`${cli.adminUrl}/v1/services/${name}`);
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET /v1/services/${name}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as ServiceJson;
}

function pickableOrigins(view: ServiceJson): string[] {
  return view.endpoints.filter((e) => e.pickable).map((e) => e.origin).sort();
}

function consulStatus(view: ServiceJson): ProviderJson | undefined {
  return view.providers.find((p) => p.provider === 'consul');
}

/** The value of one sample of the gateway's /metrics, or undefined when it is absent. */
async function metric(cli: RunningCli, name: string, labels: string): Promise<number | undefined> {
  const text = await (await request(`${cli.adminUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

// ---- traffic -----------------------------------------------------------------------------------


/** The shared load (test/helpers/load.ts), counting answers per upstream. */
function startLoad(url: string, limits: LoadLimits) {
  const load = startSharedLoad<string>(url, limits, (t) => (JSON.parse(t) as { upstream?: string }).upstream ?? '?');
  return {
    done: () => load.done(),
    stop: async () => {
      const result = await load.stop();
      return { ...result, byUpstream: result.byKey };
    },
  };
}


/** `count` sequential requests; every one must be a 200. Returns answers per upstream name. */
async function spread(url: string, count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const res = await request(url);
    const text = await res.body.text();
    expect(res.statusCode, text).toBe(200);
    const name = (JSON.parse(text) as { upstream: string }).upstream;
    seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  return seen;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---- 1. discovery ------------------------------------------------------------------------------

// The four suites below have their own doubles and gateways and run concurrently (the fault
// cases one after the other, on one gateway).
describe.concurrent('gateway + Consul double: discovery', () => {
  it('two passing instances become routable, share traffic, show their tags; a failing check and a deregistration take one out of traffic', async (ctx) => {
    const add = cleanupStack(ctx);
    const double = await ConsulDouble.start();
    add(() => double.close());
    const a = await namedUpstream('a', add);
    const b = await namedUpstream('b', add);
    double.registerService({ name: 'api', id: 'api-a', port: a.port, tags: ['version=v2', 'weight=3'] });
    double.registerService({ name: 'api', id: 'api-b', port: b.port, tags: ['version=v1'] });
    const cli = await startGateway({ 'dockmaster.yaml': gatewayYaml(double), 'routes/api.yaml': routeYaml('api') }, add);

    const view = await eventually(async () => {
      const v = await serviceView(cli, 'api');
      expect(pickableOrigins(v)).toEqual([a.origin, b.origin].sort());
      return v;
    }, { timeoutMs: 10_000 });
    expect(view.endpoints.find((e) => e.id === `consul:${NODE}/api-a`)).toMatchObject({
      origin: a.origin,
      source: 'consul',
      revision: 'v2',
      weight: 3,
      pickable: true,
      healthy: true,
      draining: false,
      ejected: false,
    });
    expect(view.endpoints.find((e) => e.id === `consul:${NODE}/api-b`)).toMatchObject({ origin: b.origin, source: 'consul', revision: 'v1', weight: 1, pickable: true });
    expect(consulStatus(view)).toMatchObject({ up: true, stale: false, lastSyncMs: expect.any(Number) as number });
    expect(await metric(cli, 'dockmaster_registry_provider_up', 'provider="consul"')).toBe(1);
    expect(await metric(cli, 'dockmaster_registry_last_sync_timestamp_seconds', 'provider="consul"')).toBeGreaterThan(Date.now() / 1000 - 60);

    // Round-robin over both.
    const both = await spread(`${cli.proxyUrl}/spread`, 40);
    expect(both.get('a')).toBeGreaterThanOrEqual(15);
    expect(both.get('b')).toBeGreaterThanOrEqual(15);

    // A failing check (Consul answers ?passing without it) takes b out; passing brings it back.
    double.setServiceHealth('api-b', 'critical');
    await eventually(async () => expect(pickableOrigins(await serviceView(cli, 'api'))).toEqual([a.origin]), { timeoutMs: 10_000 });
    expect((await spread(`${cli.proxyUrl}/critical`, 20)).get('a')).toBe(20);
    double.setServiceHealth('api-b', 'passing');
    await eventually(async () => expect(pickableOrigins(await serviceView(cli, 'api'))).toEqual([a.origin, b.origin].sort()), { timeoutMs: 10_000 });

    // Deregistered under load: b stops receiving traffic, no client sees an error.
    const load = startLoad(`${cli.proxyUrl}/load`, { maxMs: 20_000, maxRequests: 20_000 });
    try {
      await loadAdvances(load, 30);
      expect(double.deregisterService('api-b')).toBe(true);
      await eventually(async () => expect(pickableOrigins(await serviceView(cli, 'api'))).toEqual([a.origin]), { timeoutMs: 10_000 });
      await loadAdvances(load, 50);
    } finally {
      const result = await load.stop();
      expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
      expect(result.byUpstream.get('b')).toBeGreaterThan(0);
    }
    const bSeen = b.seen.length;
    expect((await spread(`${cli.proxyUrl}/after`, 30)).get('a')).toBe(30);
    expect(b.seen.length).toBe(bSeen);
    expect((await serviceView(cli, 'api')).endpoints.map((e) => e.id)).toEqual([`consul:${NODE}/api-a`]);
  }, 40_000);
});

// ---- 2. faults ---------------------------------------------------------------------------------

describe.concurrent('gateway + Consul double: each fault keeps the last good set serving', () => {
  let double: ConsulDouble;
  let cli: RunningCli;
  let a: RunningUpstream;
  let b: RunningUpstream;
  /** Registered only while a fault lasts: it must not show up before the fault ends. */
  let c: RunningUpstream;
  const suite: Cleanup[] = [];

  beforeAll(async () => {
    double = await ConsulDouble.start();
    suite.push(() => double.close());
    const add = (c: Cleanup): void => void suite.push(c);
    a = await namedUpstream('a', add);
    b = await namedUpstream('b', add);
    c = await namedUpstream('c', add);
    double.registerService({ name: 'api', id: 'api-a', port: a.port });
    double.registerService({ name: 'api', id: 'api-b', port: b.port });
    cli = await startGateway({ 'dockmaster.yaml': gatewayYaml(double), 'routes/api.yaml': routeYaml('api') }, add);
  });

  afterAll(async () => {
    while (suite.length > 0) await suite.pop()?.();
  });

  /** Waits until the gateway routes to a and b with the provider up (between cases too). */
  async function healthy(): Promise<ServiceJson> {
    return eventually(async () => {
      const view = await serviceView(cli, 'api');
      expect(pickableOrigins(view)).toEqual([a.origin, b.origin].sort());
      expect(consulStatus(view)).toMatchObject({ up: true, stale: false });
      expect(await metric(cli, 'dockmaster_registry_provider_up', 'provider="consul"')).toBe(1);
      return view;
    }, { timeoutMs: 15_000, intervalMs: 50 });
  }

  type Case = {
    readonly name: string;
    readonly start: () => Promise<void> | void;
    readonly end: () => Promise<void> | void;
    readonly error: RegExp;
  };
  /** The next request meets the fault: the held blocking query is woken by a write that
   * changes nothing, so the watch asks again at once. */
  const injected = (fault: ConsulFault): Pick<Case, 'start' | 'end'> => ({
    start: () => {
      double.inject('health.service', fault, { service: 'api' });
      double.touchService('api');
    },
    end: () => double.clearFaults(),
  });
  const cases: Case[] = [
    { name: 'an HTML error page', ...injected({ kind: 'html-error' }), error: /500/ },
    { name: 'truncated JSON', ...injected({ kind: 'truncated-json' }), error: /JSON|unreadable/i },
    { name: 'an answer of the wrong shape', ...injected({ kind: 'wrong-shape' }), error: /not an array/ },
    { name: 'a hanging connection', ...injected({ kind: 'hang' }), error: /time/i },
    {
      name: 'refused connections',
      start: () => double.refuseConnections(),
      end: () => double.acceptConnections(),
      error: /ECONNREFUSED|ECONNRESET|socket hang up/,
    },
  ];

  for (const fault of cases) {
    it.sequential(`${fault.name}: zero client errors, stale (up 0) during the fault, up again after`, async () => {
      const before = await healthy();
      const syncedBefore = consulStatus(before)?.lastSyncMs ?? 0;
      const load = startLoad(`${cli.proxyUrl}/fault`, { maxMs: 30_000, maxRequests: 30_000 });
      try {
        await loadAdvances(load, 20);
        await fault.start();
        const stale = await eventually(async () => {
          const view = await serviceView(cli, 'api');
          const status = consulStatus(view);
          expect(status).toMatchObject({ up: false, stale: true });
          expect(await metric(cli, 'dockmaster_registry_provider_up', 'provider="consul"')).toBe(0);
          return { view, status: status as ProviderJson };
        }, { timeoutMs: 12_000, intervalMs: 50 });
        expect(stale.status.lastError).toMatch(fault.error);
        // The last good set, whole.
        expect(pickableOrigins(stale.view)).toEqual([a.origin, b.origin].sort());
        const syncDuring = await metric(cli, 'dockmaster_registry_last_sync_timestamp_seconds', 'provider="consul"');
        // A change in Consul during the fault is not seen; traffic keeps flowing to both.
        double.registerService({ name: 'api', id: 'api-c', port: c.port });
        const aBefore = a.seen.length;
        const bBefore = b.seen.length;
        await loadAdvances(load, 60);
        expect(a.seen.length).toBeGreaterThan(aBefore);
        expect(b.seen.length).toBeGreaterThan(bBefore);
        const still = await serviceView(cli, 'api');
        expect(consulStatus(still)?.stale).toBe(true);
        expect(pickableOrigins(still)).toEqual([a.origin, b.origin].sort());

        await fault.end();
        // Recovered: the change made during the fault arrives, then leaves again.
        await eventually(async () => expect(pickableOrigins(await serviceView(cli, 'api'))).toEqual([a.origin, b.origin, c.origin].sort()), { timeoutMs: 15_000 });
        expect(double.deregisterService('api-c')).toBe(true);
        const after = await healthy();
        expect(consulStatus(after)?.lastSyncMs).toBeGreaterThan(syncedBefore);
        expect(consulStatus(after)?.lastError).toBeUndefined();
        expect(await metric(cli, 'dockmaster_registry_last_sync_timestamp_seconds', 'provider="consul"')).toBeGreaterThan(syncDuring ?? Infinity);
        await loadAdvances(load, 30);
      } finally {
        await fault.end();
        double.deregisterService('api-c');
        const result = await load.stop();
        expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
      }
    }, 40_000);
  }

  it.sequential('an index that goes backwards is followed, not a fault: zero client errors, never stale, later changes seen', async () => {
    await healthy();
    const load = startLoad(`${cli.proxyUrl}/backwards`, { maxMs: 20_000, maxRequests: 20_000 });
    let staleSeen = false;
    const watcher = (async () => {
      const until = Date.now() + 2_000;
      while (Date.now() < until) {
        if (consulStatus(await serviceView(cli, 'api'))?.stale !== false) staleSeen = true;
        await sleep(50);
      }
    })();
    try {
      await loadAdvances(load, 20);
      // Answers that carry index 1, far below the index the watch holds (a restored snapshot,
      // a follower with older data): the watch resets its index and reads again.
      double.inject('health.service', { kind: 'index-backwards', index: 1 }, { service: 'api', times: 3 });
      double.touchService('api');
      await watcher;
      expect(staleSeen).toBe(false);
      // Changes after the reset reach the routing table.
      double.registerService({ name: 'api', id: 'api-c', port: c.port });
      await eventually(async () => expect(pickableOrigins(await serviceView(cli, 'api'))).toEqual([a.origin, b.origin, c.origin].sort()), { timeoutMs: 10_000 });
      double.deregisterService('api-c');
      await eventually(async () => expect(pickableOrigins(await serviceView(cli, 'api'))).toEqual([a.origin, b.origin].sort()), { timeoutMs: 10_000 });
      await loadAdvances(load, 30);
    } finally {
      double.clearFaults();
      await watcher;
      const result = await load.stop();
      expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
    }
    expect(consulStatus(await serviceView(cli, 'api'))).toMatchObject({ up: true, stale: false });
  }, 40_000);
});

// ---- 3. bounded load on the double ---------------------------------------------------------------

/** The most requests a watch can make within `windowMs` of failures, with the default backoff:
 * the first at once, then after at least half of each capped delay (random 0). */
function maxAttemptsWithin(windowMs: number): number {
  let atMs = 0;
  let attempts = 1;
  for (let failures = 1; ; failures++) {
    atMs += backoffDelayMs(failures, DEFAULT_BACKOFF, () => 0);
    if (atMs > windowMs) return attempts;
    attempts++;
  }
}

describe.concurrent('gateway + Consul double: the requests to the double stay bounded', () => {
  const WINDOW_MS = 3_000;

  it('during index churn (token bucket) and during an outage (backoff), with zero client errors', async (ctx) => {
    const add = cleanupStack(ctx);
    const double = await ConsulDouble.start();
    add(() => double.close());
    const a = await namedUpstream('a', add);
    double.registerService({ name: 'api', id: 'api-a', port: a.port });
    const cli = await startGateway({ 'dockmaster.yaml': gatewayYaml(double), 'routes/api.yaml': routeYaml('api') }, add);
    await eventually(async () => expect(pickableOrigins(await serviceView(cli, 'api'))).toEqual([a.origin]), { timeoutMs: 10_000 });
    // Quiet: blocking queries of 1 s; the bucket refills to its burst.
    await sleep(2_500);

    const load = startLoad(`${cli.proxyUrl}/bounded`, { maxMs: 30_000, maxRequests: 30_000 });
    try {
      // Churn: every read answers at once with a new index and the same data.
      const { maxQueriesPerSecond: rate, burst } = CONSUL_DEFAULTS;
      double.inject('health.service', { kind: 'churn' });
      const churnSince = Date.now();
      double.touchService('api');
      await sleep(WINDOW_MS);
      const churned = double.requestCount({ sinceMs: churnSince });
      double.clearFaults();
      // The burst, then `rate` per second, and one more in flight.
      expect(churned, `${churned} requests during ${WINDOW_MS} ms of churn`).toBeLessThanOrEqual(burst + rate * (WINDOW_MS / 1000) + 1);
      // It keeps reading: degraded into polling at the bucket's rate, not stopped.
      expect(churned, `${churned} requests during ${WINDOW_MS} ms of churn`).toBeGreaterThanOrEqual(rate * (WINDOW_MS / 1000) - 2);
      expect(consulStatus(await serviceView(cli, 'api'))).toMatchObject({ up: true, stale: false });

      // Outage: every answer is an error page (a proxy in front of a Consul that is down).
      await sleep(1_500);
      double.inject('*', { kind: 'html-error', status: 503 });
      const outageSince = Date.now();
      double.touchService('api');
      await sleep(WINDOW_MS);
      const attempts = double.requestCount({ sinceMs: outageSince });
      // Delays of at least 125, 250, 500, 1000 ms... after the first: 5 tries in 3 s (+1 slack).
      expect(attempts, `${attempts} requests during ${WINDOW_MS} ms of outage`).toBeLessThanOrEqual(maxAttemptsWithin(WINDOW_MS) + 1);
      expect(attempts, `${attempts} requests during ${WINDOW_MS} ms of outage`).toBeGreaterThanOrEqual(3);
      const down = await serviceView(cli, 'api');
      expect(consulStatus(down)).toMatchObject({ up: false, stale: true });
      expect(pickableOrigins(down)).toEqual([a.origin]);

      double.clearFaults();
      // Back within the capped delay of the next try (at most 2 s after 5 failures) plus a read.
      await eventually(async () => expect(consulStatus(await serviceView(cli, 'api'))).toMatchObject({ up: true, stale: false }), { timeoutMs: 10_000 });
      await loadAdvances(load, 20);
    } finally {
      double.clearFaults();
      const result = await load.stop();
      expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
    }
  }, 40_000);
});

// ---- 4. registration ---------------------------------------------------------------------------

function demoServiceYaml(replicas: number): string {
  return `kind: Service
name: demo
runtime:
  type: process
  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(DEMO_APP)}]
replicas: ${replicas}
env: {DEMO_LATENCY_MS: "0"}
health: {path: /healthz, intervalMs: 200, timeoutMs: 200, healthyThreshold: 1, unhealthyThreshold: 2}
stopGraceMs: 2000
drainTimeoutMs: 1000
`;
}

describe.concurrent('gateway + Consul double: registration of the replicas the gateway runs', () => {
  it('registers ready replicas with an HTTP check and its instance in Meta; deregisters on scale-down and on SIGTERM', async (ctx) => {
    const add = cleanupStack(ctx);
    const double = await ConsulDouble.start({ runHttpChecks: true });
    add(() => double.close());
    const cli = await startGateway(
      {
        'dockmaster.yaml': gatewayYaml(double, '    register: {enabled: true, checkIntervalMs: 1000}\n'),
        'routes/demo.yaml': routeYaml('demo'),
        'policies/demo.yaml': demoServiceYaml(2),
      },
      add,
    );
    const ready = await eventually(async () => {
      const replicas = (await serviceView(cli, 'demo')).replicas ?? [];
      expect(replicas.filter((r) => r.state === 'ready')).toHaveLength(2);
      return replicas;
    }, { timeoutMs: 20_000 });

    const instances = await eventually(() => {
      const found = double.instances('demo');
      expect(found.map((i) => i.id).sort()).toEqual(ready.map((r) => `dockmaster-demo-${r.id}`).sort());
      return found;
    }, { timeoutMs: 10_000 });
    const instanceIds = new Set(instances.map((i) => i.meta['dockmaster-instance']));
    expect(instanceIds.size).toBe(1);
    expect([...instanceIds][0]).toMatch(/\S/);
    for (const replica of ready) {
      const address = new URL(replica.address ?? 'http://missing:0');
      const registered = instances.find((i) => i.id === `dockmaster-demo-${replica.id}`);
      expect(registered).toMatchObject({
        node: NODE,
        service: 'demo',
        address: '127.0.0.1',
        port: Number(address.port),
        tags: [`version=${replica.revision}`],
        meta: { 'dockmaster-replica': replica.id },
      });
      expect(registered?.checks).toHaveLength(1);
      expect(registered?.checks[0]?.definition).toMatchObject({ HTTP: `${address.origin}/healthz`, Interval: '1000ms' });
    }
    // The double runs the HTTP checks like an agent: they pass against the replicas.
    await eventually(() => expect(double.instances('demo').flatMap((i) => i.checks.map((c) => c.status))).toEqual(['passing', 'passing']), { timeoutMs: 10_000 });
    // The gateway's own provider leaves its own registrations out: each replica once, as managed.
    const view = await serviceView(cli, 'demo');
    expect(view.endpoints.map((e) => e.source)).toEqual(['managed', 'managed']);
    expect(double.requestCount({ pathPrefix: '/v1/health/service/demo' })).toBeGreaterThan(0);

    // Scaled down: the leaving replica is deregistered.
    const scaled = await request(`${cli.adminUrl}/v1/services/demo/scale`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ replicas: 1 }) });
    expect(scaled.statusCode, await scaled.body.text()).toBeLessThan(300);
    const remaining = await eventually(async () => {
      const replicas = (await serviceView(cli, 'demo')).replicas ?? [];
      expect(replicas).toHaveLength(1);
      expect(double.instances('demo').map((i) => i.id)).toEqual([`dockmaster-demo-${replicas[0]?.id}`]);
      return replicas;
    }, { timeoutMs: 15_000 });
    expect(ready.map((r) => r.id)).toContain(remaining[0]?.id);
    expect(double.requestCount({ pathPrefix: '/v1/agent/service/deregister/', method: 'PUT' })).toBe(1);

    // SIGTERM: the gateway deregisters what it registered before it exits.
    expect(await stopCli(cli)).toBe(0);
    expect(double.instances('demo')).toEqual([]);
    expect(double.requestCount({ pathPrefix: `/v1/agent/service/deregister/dockmaster-demo-${remaining[0]?.id}` })).toBe(1);
  }, 40_000);
});
