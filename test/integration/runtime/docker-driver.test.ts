// The Docker driver against a real daemon: the RuntimeDriver contract (host network) plus labels,
// bridge publishing on 127.0.0.1, image pull policies, runtime health and live events.
// Integration: real Docker; every container carries this run's test-run label and is removed.
import net from 'node:net';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { DockerDriver } from '../../../src/runtime/docker/docker-driver.js';
import { findFreePort } from '../../../src/runtime/ports.js';
import { templateRevision } from '../../../src/runtime/revision.js';
import type { DockerNetworkMode, PullPolicy, ReplicaTemplate, RuntimeDriver, RuntimeEvent } from '../../../src/runtime/runtime-driver.js';
import {
  DEMO_IMAGE,
  TEST_RUN_LABEL,
  createTestBridgeNetwork,
  ensureDemoImage,
  newTestRunId,
  removeTestRun,
  skipWithoutDocker,
} from '../../helpers/docker.js';
import { eventually } from '../../helpers/eventually.js';
import { runtimeContract } from './contract.js';

const skip = await skipWithoutDocker('docker driver');
const silent = createLogger({ level: 'silent' });
const runId = newTestRunId();
const runLabels = { [TEST_RUN_LABEL]: runId };

function dockerTemplate(
  service: string,
  env: Readonly<Record<string, string>> = {},
  options: { image?: string; network?: DockerNetworkMode; pull?: PullPolicy; port?: number } = {},
): ReplicaTemplate {
  const runtime = { kind: 'docker' as const, image: options.image ?? DEMO_IMAGE, network: options.network ?? 'host', pull: options.pull ?? 'never' };
  const port = options.port ?? 8080;
  return { service, revision: templateRevision({ runtime, env, port }), runtime, port, env, stopGraceMs: 1_000 };
}

if (!skip) {
  beforeAll(async () => {
    await ensureDemoImage();
  }, 120_000);
  afterAll(async () => {
    await removeTestRun(runId);
  });
}

describe.skipIf(skip)('docker driver', () => {
  runtimeContract(
    'docker (host network)',
    async () => {
      const docker = new Dockerode();
      const drivers: RuntimeDriver[] = [];
      const open = (): DockerDriver => {
        const driver = new DockerDriver({ logger: silent, docker, labels: runLabels });
        drivers.push(driver);
        return driver;
      };
      return {
        driver: open(),
        template: (service, env) => dockerTemplate(service, env),
        killFromOutside: async (replica) => {
          await docker.getContainer(replica.nativeId).kill();
        },
        openAnother: async () => open(),
        isGone: async (replica) =>
          docker
            .getContainer(replica.nativeId)
            .inspect()
            .then(
              () => false,
              (err: { statusCode?: number }) => err.statusCode === 404,
            ),
        cleanup: async () => {
          await Promise.all(drivers.map((d) => d.close()));
        },
      };
    },
    { afterClose: 'adopt' },
  );

  describe('docker specifics', () => {
    const docker = new Dockerode();
    let driver: DockerDriver;
    beforeAll(() => {
      driver = new DockerDriver({ logger: silent, docker, labels: runLabels });
    });
    afterAll(async () => {
      const left = await driver.list();
      await Promise.all(left.map((r) => driver.stop(r.id, 0)));
      await driver.close();
    });

    it('labels containers with service, revision, replica and the test run, and passes the replica env', async () => {
      const template = dockerTemplate('labelled', { EXTRA: 'yes' });
      const replica = await driver.start(template, 'r1');
      const info = await docker.getContainer(replica.id).inspect();
      expect(info.Config.Labels).toMatchObject({
        'dockmaster.service': 'labelled',
        'dockmaster.revision': template.revision,
        'dockmaster.replica': 'r1',
        [TEST_RUN_LABEL]: runId,
      });
      const port = new URL(replica.origin ?? '').port;
      expect(info.Config.Env).toEqual(
        expect.arrayContaining([`PORT=${port}`, 'DOCKMASTER_SERVICE=labelled', `DOCKMASTER_REVISION=${template.revision}`, 'DOCKMASTER_REPLICA=r1', 'EXTRA=yes']),
      );
      expect(info.HostConfig.NetworkMode).toBe('host');
      await driver.stop(replica.id, 1_000);
    });

    it('fails clearly when the image is missing and pull is never', async () => {
      const template = dockerTemplate('noimage', {}, { image: 'dockmaster-test-no-such-image:1', pull: 'never' });
      await expect(driver.start(template, 'r1')).rejects.toMatchObject({
        code: 'DM_ERR_RUNTIME_IMAGE_MISSING',
        message: expect.stringMatching(/dockmaster-test-no-such-image:1 is not present and pull policy is never/),
      });
      expect(await driver.list('noimage')).toEqual([]);
    });

    it('fails clearly when the image is missing and cannot be pulled (if-missing; no registry here)', async () => {
      const template = dockerTemplate('noimage2', {}, { image: 'dockmaster-test-no-such-image:2', pull: 'if-missing' });
      const failure = await driver.start(template, 'r1').then(
        () => undefined,
        (err: unknown) => err as Error & { code: string },
      );
      expect(failure?.code).toBe('DM_ERR_RUNTIME_IMAGE_MISSING');
      expect(failure?.message).toMatch(/^image dockmaster-test-no-such-image:2 is not present and could not be pulled: /);
      expect(await driver.list('noimage2')).toEqual([]);
    });

    it('does not pull a present image with if-missing', async () => {
      const replica = await driver.start(dockerTemplate('present', {}, { pull: 'if-missing' }), 'r1');
      expect(replica.state).toBe('running');
      await driver.stop(replica.id, 1_000);
    });

    it('reports runtime health from an image HEALTHCHECK as health events and in list()', async () => {
      const image = `dockmaster-test-health:${runId}`;
      const base = await docker.createContainer({ Image: DEMO_IMAGE, Labels: runLabels });
      await base.commit({
        repo: 'dockmaster-test-health',
        tag: runId,
        changes: 'HEALTHCHECK --interval=300ms --timeout=2s --retries=1 CMD ["node","-e","fetch(\\"http://127.0.0.1:\\"+process.env.PORT+\\"/healthz\\").then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]',
      });
      await base.remove();
      try {
        const events: RuntimeEvent[] = [];
        const unsubscribe = driver.on((e) => events.push(e));
        const [good, bad] = await Promise.all([
          driver.start(dockerTemplate('health', {}, { image }), 'good'),
          driver.start(dockerTemplate('health', { DEMO_FAIL_HEALTH: '1' }, { image }), 'bad'),
        ]);
        await eventually(
          () => {
            const healthOf = (id: string): string | undefined =>
              events.filter((e): e is Extract<RuntimeEvent, { kind: 'health' }> => e.kind === 'health' && e.ref.id === id).at(-1)?.health;
            expect(healthOf(good.id)).toBe('healthy');
            expect(healthOf(bad.id)).toBe('unhealthy');
          },
          { timeoutMs: 10_000 },
        );
        unsubscribe();
        const listed = await driver.list('health');
        expect(Object.fromEntries(listed.map((r) => [r.replicaId, r.runtimeHealth]))).toEqual({ good: 'healthy', bad: 'unhealthy' });
        await Promise.all([driver.stop(good.id, 0), driver.stop(bad.id, 0)]);
      } finally {
        await docker.getImage(image).remove({ force: true }).catch(() => undefined);
      }
    });

    it('reports a container started outside start() (docker start of an exited replica) as started', async () => {
      const replica = await driver.start(dockerTemplate('restarted'), 'r1');
      const events: RuntimeEvent[] = [];
      const unsubscribe = driver.on((e) => events.push(e));
      await docker.getContainer(replica.id).kill();
      await eventually(() => expect(events.some((e) => e.kind === 'exited' && e.ref.id === replica.id)).toBe(true));
      await docker.getContainer(replica.id).start();
      await eventually(() => expect(events.some((e) => e.kind === 'started' && e.replica.id === replica.id)).toBe(true));
      unsubscribe();
      expect((await driver.list('restarted'))[0]?.state).toBe('running');
      await driver.stop(replica.id, 0);
    });

    it('retries on another port when the chosen host port is taken before the container binds it', async () => {
      const squatter = net.createServer();
      await new Promise<void>((resolve) => squatter.listen({ host: '127.0.0.1', port: 0 }, resolve));
      const takenPort = (squatter.address() as net.AddressInfo).port;
      const offered: number[] = [];
      const racing = new DockerDriver({
        logger: silent,
        docker,
        labels: runLabels,
        findFreePort: async () => {
          const port = offered.length === 0 ? takenPort : await findFreePort();
          offered.push(port);
          return port;
        },
      });
      try {
        const replica = await racing.start(dockerTemplate('race'), 'r1');
        expect(offered).toHaveLength(2);
        expect(replica.origin).toBe(`http://127.0.0.1:${offered[1]}`);
        expect(((await (await fetch(`${replica.origin}/`)).json()) as { port: number }).port).toBe(offered[1]);
        expect((await racing.list('race')).map((r) => r.id)).toEqual([replica.id]);
        await racing.stop(replica.id, 0);
      } finally {
        await racing.close();
        squatter.close();
      }
    });

    it('refuses a duplicate replica across drivers (the container name is taken)', async () => {
      const other = new DockerDriver({ logger: silent, docker, labels: runLabels });
      try {
        const template = dockerTemplate('dup');
        const replica = await driver.start(template, 'r1');
        await expect(other.start(template, 'r1')).rejects.toMatchObject({ code: 'DM_ERR_RUNTIME_START', details: { reason: 'duplicate' } });
        await driver.stop(replica.id, 0);
      } finally {
        await other.close();
      }
    });
  });

  describe('bridge network', () => {
    const docker = new Dockerode();
    let network: string | undefined;
    let bridgeError: string | undefined;
    beforeAll(async () => {
      try {
        network = await createTestBridgeNetwork(runId, docker);
      } catch (err) {
        bridgeError = (err as Error).message;
      }
    });

    it('publishes the container port on 127.0.0.1 only, with a host port Docker picks', async (context) => {
      if (!network) {
        console.warn(`  [skip] bridge network test: cannot create a bridge network here: ${bridgeError ?? 'unknown'}`);
        context.skip();
        return;
      }
      const driver = new DockerDriver({ logger: silent, docker, labels: runLabels, bridgeNetwork: network });
      try {
        const template = dockerTemplate('bridged', { DEMO_BIND: '1' }, { network: 'bridge', port: 8080 });
        const replica = await driver.start(template, 'r1');
        expect(replica.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const info = await docker.getContainer(replica.id).inspect();
        const bindings = info.NetworkSettings.Ports['8080/tcp'] ?? [];
        expect(bindings.length).toBeGreaterThan(0);
        expect(bindings.every((b) => b.HostIp === '127.0.0.1')).toBe(true);
        expect(info.Config.Env).toContain('PORT=8080');
        const body = await eventually(async () => (await (await fetch(`${replica.origin}/b`)).json()) as { port: number; replica: string });
        expect(body).toMatchObject({ port: 8080, replica: 'r1' });
        // A new driver finds the published origin again from labels and inspect.
        const again = new DockerDriver({ logger: silent, docker, labels: runLabels, bridgeNetwork: network });
        expect((await again.list('bridged'))[0]?.origin).toBe(replica.origin);
        await again.close();
        await driver.stop(replica.id, 1_000);
      } finally {
        await driver.close();
      }
    });
  });
});
