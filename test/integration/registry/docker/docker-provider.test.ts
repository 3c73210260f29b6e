// The Docker label provider against the real daemon: labelled containers started outside dockmaster
// come and go with their health, stop and removal; managed ones are ignored; bad labels reported.
// Integration: real Docker, loopback only; every container has this run's label and is removed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../../src/observability/logger.js';
import { DockerProvider } from '../../../../src/registry/docker/docker-provider.js';
import { findFreePort } from '../../../../src/runtime/ports.js';
import { DEMO_IMAGE, TEST_RUN_LABEL, createTestBridgeNetwork, ensureDemoImage, newTestRunId, removeTestRun, skipWithoutDocker } from '../../../helpers/docker.js';
import { eventually } from '../../../helpers/eventually.js';
import { RecordingSink } from './helpers.js';

const skip = await skipWithoutDocker('docker provider');
const runId = newTestRunId();
const docker = new Dockerode();
/** Service names unique to this run: other tests may label containers on the same daemon. */
const svc = (name: string): string => `${name}-${runId}`;
const idOf = (container: Dockerode.Container): string => `docker:${container.id.slice(0, 12)}`;
const WAIT = { timeoutMs: 20_000, intervalMs: 50 };

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
  readonly name: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly env?: readonly string[];
  readonly healthcheck?: Dockerode.HealthConfig;
}

/** `docker run -d --network host` of the demo app, as someone other than dockmaster would. */
async function runLabelled(options: RunOptions): Promise<Dockerode.Container> {
  const container = await docker.createContainer({
    name: `dm-reg-${runId}-${options.name}`,
    Image: DEMO_IMAGE,
    Env: [`PORT=${options.port}`, ...(options.env ?? [])],
    Labels: { [TEST_RUN_LABEL]: runId, ...options.labels },
    ...(options.healthcheck ? { Healthcheck: options.healthcheck } : {}),
    HostConfig: { NetworkMode: 'host', RestartPolicy: { Name: 'no' } },
  });
  await container.start();
  return container;
}

async function healthOf(container: Dockerode.Container): Promise<string | undefined> {
  return (await container.inspect()).State.Health?.Status;
}

describe.skipIf(skip)('docker provider (real daemon)', () => {
  const sink = new RecordingSink();
  let provider: DockerProvider;
  let markers = 0;

  /** Level-triggered barrier: once a fresh labelled container shows up, the provider has listed
   * after everything that happened before it started. */
  async function listedSinceNow(): Promise<void> {
    markers += 1;
    const name = svc(`marker${markers}`);
    const port = await findFreePort();
    const marker = await runLabelled({ name: `marker${markers}`, port, labels: { 'dockmaster.service': name, 'dockmaster.port': String(port) } });
    await eventually(() => expect(sink.endpoints(name).map((e) => e.id)).toEqual([idOf(marker)]), WAIT);
  }

  beforeAll(async () => {
    await ensureDemoImage();
    provider = new DockerProvider({
      logger: createLogger({ level: 'silent' }),
      config: { labelPrefix: 'dockmaster' },
      minResyncIntervalMs: 50,
    });
    await provider.start(sink);
    expect(sink.lastStatus).toMatchObject({ provider: 'docker', up: true, lastSyncMs: expect.any(Number) as number });
  }, 120_000);

  afterAll(async () => {
    await provider?.close();
    await removeTestRun(runId);
  });

  it('a healthy labelled container becomes an endpoint with its 127.0.0.1 origin, version and weight, and answers there', async () => {
    const port = await findFreePort();
    const web = await runLabelled({
      name: 'web',
      port,
      labels: { 'dockmaster.service': svc('shop'), 'dockmaster.port': String(port), 'dockmaster.version': 'v7', 'dockmaster.weight': '3' },
      healthcheck: healthcheck('PORT'),
    });
    await eventually(
      () =>
        expect(sink.endpoints(svc('shop'))).toEqual([
          { id: idOf(web), origin: `http://127.0.0.1:${port}`, weight: 3, revision: 'v7', source: 'docker', healthy: true, draining: false },
        ]),
      WAIT,
    );
    expect(await healthOf(web)).toBe('healthy');
    const answer = await fetch(`http://127.0.0.1:${port}/`);
    expect(answer.status).toBe(200);
    await answer.arrayBuffer();
    expect(sink.lastStatus).toMatchObject({ up: true, lastError: undefined });
  });

  it('a container whose health check fails (DEMO_FAIL_HEALTH=1) never becomes an endpoint', async () => {
    const port = await findFreePort();
    const sick = await runLabelled({
      name: 'sick',
      port,
      env: ['DEMO_FAIL_HEALTH=1'],
      labels: { 'dockmaster.service': svc('sick'), 'dockmaster.port': String(port) },
      healthcheck: healthcheck('PORT'),
    });
    await eventually(async () => expect(await healthOf(sick)).toBe('unhealthy'), WAIT);
    await listedSinceNow();
    expect(sink.everPublished(idOf(sick))).toBe(false);
    expect(sink.snapshot?.has(svc('sick'))).toBe(false);
  });

  it('leaves when its health check fails, returns when it passes, and leaves when stopped and when removed', async () => {
    // The check asks a switch in this test (on 127.0.0.1) instead of the app, so it can flip.
    let passing = true;
    const healthSwitch = http.createServer((_req, res) => {
      res.writeHead(passing ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => healthSwitch.listen(0, '127.0.0.1', resolve));
    try {
      const switchPort = (healthSwitch.address() as AddressInfo).port;
      const port = await findFreePort();
      const flip = await runLabelled({
        name: 'flip',
        port,
        env: [`HEALTH_PORT=${switchPort}`],
        labels: { 'dockmaster.service': svc('flip'), 'dockmaster.port': String(port) },
        healthcheck: healthcheck('HEALTH_PORT'),
      });
      const ids = (): string[] => sink.endpoints(svc('flip')).map((e) => e.id);
      await eventually(() => expect(ids()).toEqual([idOf(flip)]), WAIT);

      passing = false;
      await eventually(() => expect(ids()).toEqual([]), WAIT);
      expect(await healthOf(flip)).toBe('unhealthy');

      passing = true;
      await eventually(() => expect(ids()).toEqual([idOf(flip)]), WAIT);

      await flip.stop({ t: 2 });
      await eventually(() => expect(ids()).toEqual([]), WAIT);

      await flip.start();
      await eventually(() => expect(ids()).toEqual([idOf(flip)]), WAIT);

      await flip.remove({ force: true });
      await eventually(() => expect(ids()).toEqual([]), WAIT);
      expect(sink.lastStatus?.up).toBe(true);
    } finally {
      await new Promise<void>((resolve) => healthSwitch.close(() => resolve()));
    }
  });

  it("ignores a container dockmaster manages (it carries the replica label): that is the managed provider's", async () => {
    const port = await findFreePort();
    const managed = await runLabelled({
      name: 'managed',
      port,
      labels: {
        'dockmaster.service': svc('managed'),
        'dockmaster.port': String(port),
        'dockmaster.revision': 'a1b2c3d4e5',
        'dockmaster.replica': 'r1',
        'dockmaster.network': 'host',
      },
    });
    await listedSinceNow();
    expect(sink.everPublished(idOf(managed))).toBe(false);
    expect(sink.lastStatus?.skipped.some((s) => s.id === idOf(managed))).toBe(false);
  });

  it('skips and reports a container with a bad port label while the rest keeps serving', async () => {
    const good = await findFreePort();
    const fine = await runLabelled({ name: 'fine', port: good, labels: { 'dockmaster.service': svc('mixed'), 'dockmaster.port': String(good) } });
    const bad = await runLabelled({ name: 'badport', port: await findFreePort(), labels: { 'dockmaster.service': svc('mixed'), 'dockmaster.port': 'http' } });
    await eventually(() => {
      expect(sink.lastStatus?.skipped).toContainEqual({
        id: idOf(bad),
        reason: `container dm-reg-${runId}-badport (${bad.id.slice(0, 12)}): label dockmaster.port="http" is not a port (1-65535)`,
      });
      expect(sink.endpoints(svc('mixed')).map((e) => e.id)).toEqual([idOf(fine)]);
    }, WAIT);
    expect(sink.lastStatus?.up).toBe(true);
    await bad.remove({ force: true });
    await eventually(() => expect(sink.lastStatus?.skipped.some((s) => s.id === idOf(bad))).toBe(false), WAIT);
  });

  it('uses the host port a bridge container publishes on 127.0.0.1 (never its bridge address)', async () => {
    const network = await createTestBridgeNetwork(runId, docker);
    const container = await docker.createContainer({
      name: `dm-reg-${runId}-bridge`,
      Image: DEMO_IMAGE,
      Env: ['PORT=8080', 'DEMO_BIND=1'],
      Labels: { [TEST_RUN_LABEL]: runId, 'dockmaster.service': svc('bridged'), 'dockmaster.port': '8080' },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { NetworkMode: network, PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    });
    await container.start();
    const hostPort = (await container.inspect()).NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
    expect(hostPort).toMatch(/^\d+$/);
    await eventually(() => expect(sink.endpoints(svc('bridged')).map((e) => e.origin)).toEqual([`http://127.0.0.1:${hostPort}`]), WAIT);
    await eventually(async () => {
      const answer = await fetch(`http://127.0.0.1:${hostPort}/`);
      await answer.arrayBuffer();
      expect(answer.status).toBe(200);
    }, WAIT);
  });
});
