// The Docker label provider end to end, through the real CLI gateway (`dockmaster serve
// --docker-provider`): containers started outside dockmaster (dockerode create + start of the demo
// image, host network, labelled dockmaster.service / dockmaster.port) become routable, lose
// traffic while their Docker health check fails and disappear when removed; and when the daemon
// is SIGKILLed mid-traffic (a private dockerd with --live-restore, so the container keeps
// serving) routing continues on the last-known-good set while the provider reports itself stale,
// and resumes fresh when the daemon is back. Integration: real Docker, traffic to 127.0.0.1 only;
// every container carries this run's dockmaster.test-run label and is removed afterwards.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import Dockerode from 'dockerode';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { configDir, freePort, startCli, type RunningCli } from '../../helpers/cli.js';
import { DEMO_IMAGE, TEST_RUN_LABEL, ensureDemoImage, newTestRunId, removeTestRun, skipWithoutDocker } from '../../helpers/docker.js';
import { skipWithoutPrivateDockerd, startDockerd, type PrivateDockerd } from '../../helpers/dockerd.js';
import { eventually } from '../../helpers/eventually.js';
import { loadAdvances, startLoad as startSharedLoad, type LoadLimits } from '../../helpers/load.js';

const skip = await skipWithoutDocker('docker label provider through the gateway');
const skipPrivate = skip || (await skipWithoutPrivateDockerd('docker daemon restart through the gateway (label provider)'));
const runId = newTestRunId();
const mainDocker = new Dockerode();
const WAIT = { timeoutMs: 20_000, intervalMs: 50 };

if (!skip) {
  beforeAll(async () => {
    await ensureDemoImage();
  }, 120_000);
  afterAll(async () => {
    await removeTestRun(runId, mainDocker);
  });
}

type Cleanup = () => Promise<void> | void;

/** A clean-up stack for one test, run last-in first-out when it finishes (the suites run
 * concurrently, so clean-up is per test). */
function cleanupStack(ctx: TestContext): (c: Cleanup) => void {
  const stack: Cleanup[] = [];
  ctx.onTestFinished(async () => {
    while (stack.length > 0) await stack.pop()?.();
  });
  return (c) => void stack.push(c);
}

// ---- containers --------------------------------------------------------------------------------

/** The image has no shell, curl or wget: node's fetch against 127.0.0.1 (host network). */
function healthcheck(portVariable: string): Dockerode.HealthConfig {
  return {
    Test: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:'+process.env.${portVariable}+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`],
    Interval: 250_000_000,
    Timeout: 2_000_000_000,
    Retries: 1,
  };
}

interface RunOptions {
  readonly docker: Dockerode;
  readonly name: string;
  readonly service: string;
  readonly port: number;
  readonly env?: readonly string[];
  readonly healthcheck?: Dockerode.HealthConfig;
}

/** `docker run -d --network host` of the demo app with dockmaster's labels, as someone other
 * than dockmaster would start it. */
async function runLabelled(options: RunOptions): Promise<Dockerode.Container> {
  const container = await options.docker.createContainer({
    name: `dm-gw-${runId}-${options.name}`,
    Image: DEMO_IMAGE,
    Env: [`PORT=${options.port}`, ...(options.env ?? [])],
    Labels: { [TEST_RUN_LABEL]: runId, 'dockmaster.service': options.service, 'dockmaster.port': String(options.port) },
    ...(options.healthcheck ? { Healthcheck: options.healthcheck } : {}),
    HostConfig: { NetworkMode: 'host', RestartPolicy: { Name: 'no' } },
  });
  await container.start();
  return container;
}

const idOf = (container: Dockerode.Container): string => `docker:${container.id.slice(0, 12)}`;

// ---- the gateway -------------------------------------------------------------------------------

function routeYaml(service: string): string {
  return `kind: Route\nname: labelled\nmatch: {pathPrefix: /}\nservice: ${service}\nretries: 2\ntimeoutMs: 5000\n`;
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

/** Starts the gateway with --docker-provider for a route to `service` and waits until its admin
 * API answers. A host-network container may take a port freePort() picked for the gateway a
 * moment before it binds, so EADDRINUSE at start-up is retried on fresh ports. */
async function startGateway(service: string, env: NodeJS.ProcessEnv, add: (c: Cleanup) => void): Promise<RunningCli> {
  const dir = configDir({ 'routes/labelled.yaml': routeYaml(service) });
  add(() => rmSync(dir, { recursive: true, force: true }));
  for (let attempt = 1; ; attempt++) {
    const cli = await startCli(dir, ['--docker-provider', '--drain-timeout-ms', '2000'], env);
    add(async () => {
      await stopCli(cli);
    });
    const up = await eventually(
      async () => {
        if (cli.child.exitCode !== null || cli.child.signalCode !== null) return false;
        const res = await request(`${cli.adminUrl}/healthz`);
        await res.body.dump();
        return res.statusCode === 200;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    if (up) return cli;
    const output = `${cli.stderr()}\n${cli.stdout()}`;
    if (attempt >= 3 || !output.includes('EADDRINUSE')) throw new Error(`the gateway exited (${await cli.exited}) at start-up:\n${output.slice(-3000)}`);
  }
}

interface EndpointJson {
  id: string;
  origin: string;
  source: string;
  pickable: boolean;
  healthy: boolean;
  ejected: boolean;
}
interface ProviderJson {
  provider: string;
  up: boolean;
  stale: boolean;
  lastSyncMs?: number;
  lastError?: string;
}
interface ServiceJson {
  name: string;
  endpoints: EndpointJson[];
  providers: ProviderJson[];
}

function gatewayAlive(cli: RunningCli): void {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) {
    throw new Error(`the gateway exited (${cli.child.exitCode ?? cli.child.signalCode}):\n${cli.stdout().slice(-2000)}\n${cli.stderr().slice(-2000)}`);
  }
}

/** GET /v1/services/:name; undefined on 404 (no provider reports the service). */
async function serviceView(cli: RunningCli, name: string): Promise<ServiceJson | undefined> {
  gatewayAlive(cli);
  const res = await request(`${cli.adminUrl}/v1/services/${name}`);
  const text = await res.body.text();
  if (res.statusCode === 404) return undefined;
  if (res.statusCode !== 200) throw new Error(`GET /v1/services/${name}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as ServiceJson;
}

/** The service as GET /v1/services lists it. */
async function listedService(cli: RunningCli, name: string): Promise<ServiceJson | undefined> {
  gatewayAlive(cli);
  const body = (await (await request(`${cli.adminUrl}/v1/services`)).body.json()) as { services: ServiceJson[] };
  return body.services.find((s) => s.name === name);
}

function pickable(view: ServiceJson | undefined): string[] {
  return (view?.endpoints ?? []).filter((e) => e.pickable).map((e) => e.id).sort();
}

async function metric(cli: RunningCli, name: string, labels: string): Promise<number | undefined> {
  const text = await (await request(`${cli.adminUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

// ---- traffic -----------------------------------------------------------------------------------


/** The shared load (test/helpers/load.ts), counting answers per port. */
function startLoad(url: string, limits: LoadLimits) {
  const load = startSharedLoad<number>(url, limits, (t) => (JSON.parse(t) as { port: number }).port);
  return {
    done: () => load.done(),
    stop: async () => {
      const result = await load.stop();
      return { ...result, byPort: result.byKey };
    },
  };
}


/** `count` sequential requests, each a 200; answers per container port. */
async function spread(url: string, count: number): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const res = await request(url);
    const text = await res.body.text();
    expect(res.statusCode, text).toBe(200);
    const port = (JSON.parse(text) as { port: number }).port;
    seen.set(port, (seen.get(port) ?? 0) + 1);
  }
  return seen;
}

// ---- 5. a labelled container on the main daemon ------------------------------------------------

describe.skipIf(skip).concurrent('gateway --docker-provider: labelled containers started outside dockmaster', () => {
  it('become routable, lose traffic while their health check fails, and disappear when removed', async (ctx) => {
    const add = cleanupStack(ctx);
    const service = `gwl-${runId}`;
    // The flipping container's health check asks this switch (on 127.0.0.1, host network)
    // instead of the app, so that its health can change while it runs.
    let passing = true;
    const healthSwitch = http.createServer((_req, res) => {
      res.writeHead(passing ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => healthSwitch.listen(0, '127.0.0.1', resolve));
    add(() => new Promise<void>((resolve) => healthSwitch.close(() => resolve())));
    const switchPort = (healthSwitch.address() as AddressInfo).port;

    const stablePort = await freePort();
    const stable = await runLabelled({ docker: mainDocker, name: 'stable', service, port: stablePort });
    const flipPort = await freePort();
    const flip = await runLabelled({ docker: mainDocker, name: 'flip', service, port: flipPort, env: [`HEALTH_PORT=${switchPort}`], healthcheck: healthcheck('HEALTH_PORT') });
    add(() => removeTestRun(runId, mainDocker));

    const cli = await startGateway(service, {}, add);
    const url = `${cli.proxyUrl}/labelled`;
    const view = await eventually(async () => {
      const v = await serviceView(cli, service);
      expect(pickable(v)).toEqual([idOf(stable), idOf(flip)].sort());
      return v as ServiceJson;
    }, WAIT);
    expect(view.endpoints.find((e) => e.id === idOf(flip))).toMatchObject({ origin: `http://127.0.0.1:${flipPort}`, source: 'docker', healthy: true, ejected: false });
    expect(view.endpoints.find((e) => e.id === idOf(stable))).toMatchObject({ origin: `http://127.0.0.1:${stablePort}`, source: 'docker' });
    expect(view.providers).toEqual([expect.objectContaining({ provider: 'docker', up: true, stale: false })]);
    expect(await metric(cli, 'dockmaster_registry_provider_up', 'provider="docker"')).toBe(1);

    const both = await spread(url, 40);
    expect(both.get(stablePort)).toBeGreaterThanOrEqual(15);
    expect(both.get(flipPort)).toBeGreaterThanOrEqual(15);

    const load = startLoad(`${cli.proxyUrl}/load`, { maxMs: 40_000, maxRequests: 40_000 });
    try {
      await loadAdvances(load, 30);
      // Health check fails: Docker marks it unhealthy, the provider drops it, traffic moves.
      passing = false;
      await eventually(async () => expect(pickable(await serviceView(cli, service))).toEqual([idOf(stable)]), WAIT);
      expect((await flip.inspect()).State.Health?.Status).toBe('unhealthy');
      expect((await spread(url, 20)).get(stablePort)).toBe(20);

      // Passing again: it takes traffic again.
      passing = true;
      await eventually(async () => expect(pickable(await serviceView(cli, service))).toEqual([idOf(stable), idOf(flip)].sort()), WAIT);
      const again = await spread(url, 20);
      expect(again.get(flipPort)).toBeGreaterThanOrEqual(5);

      // Removed (killed and deleted) under load: it disappears, the other keeps serving.
      await flip.remove({ force: true });
      await eventually(async () => expect((await serviceView(cli, service))?.endpoints.map((e) => e.id)).toEqual([idOf(stable)]), WAIT);
      await loadAdvances(load, 50);
    } finally {
      passing = true;
      const result = await load.stop();
      expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
      expect(result.byPort.get(flipPort)).toBeGreaterThan(0);
    }
    expect((await spread(url, 20)).get(stablePort)).toBe(20);

    // The last one removed: the service is gone, the route has no endpoint (503).
    await stable.remove({ force: true });
    await eventually(async () => expect(await serviceView(cli, service)).toBeUndefined(), WAIT);
    const empty = await request(url);
    await empty.body.dump();
    expect(empty.statusCode).toBe(503);
    expect((await listedService(cli, service)) ?? null).toBeNull();
  }, 60_000);
});

// ---- 6. the daemon restarts mid-traffic ----------------------------------------------------------

describe.skipIf(skipPrivate).concurrent('gateway --docker-provider: the Docker daemon restarts mid-traffic', () => {
  let daemon: PrivateDockerd | undefined;
  beforeAll(async () => {
    daemon = await startDockerd('gwlabels');
    await daemon.loadImage(DEMO_IMAGE);
  }, 60_000);
  afterAll(async () => {
    if (daemon === undefined) return;
    await removeTestRun(runId, daemon.docker).catch(() => undefined);
    await daemon.destroy();
  }, 60_000);

  it('SIGKILL of the daemon: routing continues on the last-known-good set (zero errors), the provider is stale, then up again', async (ctx) => {
    const add = cleanupStack(ctx);
    const d = daemon as PrivateDockerd;
    const service = `gwr-${runId}`;
    const port = await freePort();
    const web = await runLabelled({ docker: d.docker, name: 'web', service, port, healthcheck: healthcheck('PORT') });
    await eventually(async () => expect((await web.inspect()).State.Health?.Status).toBe('healthy'), WAIT);

    const cli = await startGateway(service, { DOCKER_HOST: d.host }, add);
    await eventually(async () => expect(pickable(await serviceView(cli, service))).toEqual([idOf(web)]), WAIT);
    // The gateway reads the private daemon: the main one has no such container.
    expect(await mainDocker.listContainers({ all: true, filters: { label: [`dockmaster.service=${service}`] } })).toEqual([]);
    const syncedBefore = (await listedService(cli, service))?.providers.find((p) => p.provider === 'docker')?.lastSyncMs ?? 0;

    const load = startLoad(`${cli.proxyUrl}/through-restart`, { maxMs: 45_000, maxRequests: 100_000 });
    try {
      await loadAdvances(load, 50);
      await d.stop('SIGKILL');
      expect(d.running()).toBe(false);
      // Stale, and still routing to the container (live-restore keeps it serving).
      const stale = await eventually(async () => {
        const listed = await listedService(cli, service);
        expect(listed?.providers.find((p) => p.provider === 'docker')).toMatchObject({ up: false, stale: true });
        expect(await metric(cli, 'dockmaster_registry_provider_up', 'provider="docker"')).toBe(0);
        return listed as ServiceJson;
      }, WAIT);
      expect(pickable(stale)).toEqual([idOf(web)]);
      expect(stale.providers.find((p) => p.provider === 'docker')?.lastError).toMatch(/\S/);
      const downSince = Date.now();
      await loadAdvances(load, 200);
      await eventually(() => expect(Date.now() - downSince).toBeGreaterThan(2_000), { timeoutMs: 5_000 });
      expect((await listedService(cli, service))?.providers.find((p) => p.provider === 'docker')?.stale).toBe(true);

      await d.start();
      // Up again (the reconnect backoff is at most 5 s), re-listed, the same container routed.
      const fresh = await eventually(async () => {
        const listed = await listedService(cli, service);
        const docker = listed?.providers.find((p) => p.provider === 'docker');
        expect(docker).toMatchObject({ up: true, stale: false });
        expect(docker?.lastSyncMs).toBeGreaterThan(syncedBefore);
        expect(await metric(cli, 'dockmaster_registry_provider_up', 'provider="docker"')).toBe(1);
        return listed as ServiceJson;
      }, WAIT);
      expect(pickable(fresh)).toEqual([idOf(web)]);
      await loadAdvances(load, 100);
    } finally {
      const result = await load.stop();
      expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
      expect([...result.byPort.keys()]).toEqual([port]);
    }

    // The event stream works again: a container removed now disappears.
    await web.remove({ force: true });
    await eventually(async () => expect(await serviceView(cli, service)).toBeUndefined(), WAIT);
  }, 60_000);
});
