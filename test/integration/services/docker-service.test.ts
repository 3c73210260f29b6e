// A service of Docker replicas through the real gateway (the built CLI with `--runtime docker`):
// spread over 3 replicas with dockmaster's labels, a `docker kill` replaced under load without a
// client error, a restarted dockmaster adopting the running containers, and the Docker daemon
// going away while replicas serve: private dockerds (test/helpers/dockerd.ts, live-restore)
// stopped with SIGTERM and SIGKILL, a replica dying and a scale asked during the outage, and
// dockmaster starting while the daemon is down. Integration: real Docker, host networking,
// traffic to 127.0.0.1 only. The gateway puts no test-run label on its containers, so each test
// uses a fresh service name and every container labelled dockmaster.service=<that name> is
// removed afterwards; a private daemon is destroyed with all its containers.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import Dockerode from 'dockerode';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { DEMO_IMAGE, ensureDemoImage, skipWithoutDocker } from '../../helpers/docker.js';
import { skipWithoutPrivateDockerd, startDockerd, type PrivateDockerd } from '../../helpers/dockerd.js';
import { eventually } from '../../helpers/eventually.js';
import { startLoad as startSharedLoad, type LoadLimits } from '../../helpers/load.js';

const skip = await skipWithoutDocker('docker service through the gateway');
const skipPrivate = skip || (await skipWithoutPrivateDockerd('docker daemon restart through the gateway'));

const mainDocker = new Dockerode();
/** Every service name used, with the daemon its containers live on (the main daemon's are swept
 * again in afterAll; a private daemon goes with all its containers). */
const usedNames: Array<{ name: string; docker: Dockerode }> = [];

if (!skip) {
  beforeAll(async () => {
    await ensureDemoImage();
  }, 120_000);
  afterAll(async () => {
    for (const { name, docker } of usedNames) if (docker === mainDocker) await removeServiceContainers(docker, name);
  });
}

interface ReplicaJson {
  id: string;
  state: string;
  address?: string;
  restarts: number;
  nativeId?: string;
  revision: string;
}

function newServiceName(): string {
  return `dtest-${randomBytes(4).toString('hex')}`;
}

function serviceYaml(name: string, replicas: number): string {
  return `kind: Service
name: ${name}
runtime: {type: docker, image: ${DEMO_IMAGE}, network: host, pull: never}
replicas: ${replicas}
env: {DEMO_LATENCY_MS: "0"}
health: {path: /healthz, intervalMs: 250, timeoutMs: 250, healthyThreshold: 1, unhealthyThreshold: 2}
stopGraceMs: 1000
drainTimeoutMs: 2000
`;
}

function routeYaml(name: string): string {
  return `kind: Route\nname: ${name}\nmatch: {pathPrefix: /}\nservice: ${name}\nretries: 2\ntimeoutMs: 5000\n`;
}

async function containersOf(docker: Dockerode, name: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`dockmaster.service=${name}`] } });
}

async function removeServiceContainers(docker: Dockerode, name: string): Promise<void> {
  const rows = await containersOf(docker, name).catch(() => []);
  await Promise.all(rows.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

async function stopCli(cli: RunningCli, timeoutMs = 15_000): Promise<number | string> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return cli.exited;
  cli.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    cli.exited,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (result !== 'timeout') return result;
  cli.child.kill('SIGKILL');
  await cli.exited;
  return 'timeout';
}

interface Served {
  readonly name: string;
  readonly dir: string;
  cli: RunningCli;
}

/** Writes a config for a fresh service, starts the gateway on it (`--runtime docker`) and waits
 * until all replicas are ready. When the test finishes (the two suites run concurrently, so
 * cleanup is per test), the gateway stops, then the containers and the folder go. */
async function serve(ctx: TestContext, replicaCount: number, options: { docker?: Dockerode; env?: NodeJS.ProcessEnv } = {}): Promise<Served> {
  const docker = options.docker ?? mainDocker;
  const name = newServiceName();
  usedNames.push({ name, docker });
  const dir = configDir({ [`routes/${name}.yaml`]: routeYaml(name), [`policies/${name}.yaml`]: serviceYaml(name, replicaCount) });
  const served: Served = { name, dir, cli: await startGateway(dir, options.env ?? {}) };
  ctx.onTestFinished(async () => {
    await stopCli(served.cli);
    await removeServiceContainers(docker, name);
    rmSync(dir, { recursive: true, force: true });
  });
  await waitReady(served, replicaCount, 30_000);
  return served;
}

/** Starts the gateway and waits until its admin listener answers. freePort() picks a port that
 * is free a moment before the gateway binds it; another gateway's container (host network, also
 * on a fresh 127.0.0.1 port) can take it in between, so an EADDRINUSE at start-up is retried on
 * fresh ports (not when the ports were given). */
async function startGateway(dir: string, env: NodeJS.ProcessEnv, ports: { proxyPort?: number; adminPort?: number } = {}): Promise<RunningCli> {
  const fixedPorts = ports.proxyPort !== undefined || ports.adminPort !== undefined;
  for (let attempt = 1; ; attempt++) {
    const cli = await startCli(dir, ['--runtime', 'docker', '--drain-timeout-ms', '2000'], env, ports);
    const up = await eventually(
      async () => {
        if (cli.child.exitCode !== null || cli.child.signalCode !== null) return false;
        const res = await request(`${cli.adminUrl}/healthz`);
        await res.body.dump();
        return true;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    if (up) return cli;
    const output = `${cli.stderr()}\n${cli.stdout()}`;
    if (fixedPorts || attempt >= 3 || !output.includes('EADDRINUSE')) {
      throw new Error(`the gateway exited (${await cli.exited}) at start-up:\n${output.slice(-3000)}`);
    }
  }
}

async function replicasOf(served: Served): Promise<ReplicaJson[]> {
  const { child } = served.cli;
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`the gateway exited (${child.exitCode ?? child.signalCode}):\n${served.cli.stderr().slice(-2000)}\n${served.cli.stdout().slice(-2000)}`);
  }
  const res = await request(`${served.cli.adminUrl}/v1/services/${served.name}`);
  const body = (await res.body.json()) as { replicas?: ReplicaJson[] };
  if (res.statusCode !== 200 || body.replicas === undefined) throw new Error(`GET /v1/services/${served.name}: ${res.statusCode} ${JSON.stringify(body)}`);
  return body.replicas;
}

async function waitReady(served: Served, count: number, timeoutMs: number): Promise<ReplicaJson[]> {
  const cli = served.cli;
  // A gateway that exits (a rejected config, a crash) fails the wait at once, with its output.
  const exited = cli.exited.then((code) => {
    throw new Error(`the gateway exited (${code}) while waiting for ${count} ready replicas:\n${cli.stderr().slice(-2000)}\n${cli.stdout().slice(-2000)}`);
  });
  exited.catch(() => undefined);
  const ready = eventually(
    async () => {
      const listed = await replicasOf(served);
      expect(listed.filter((r) => r.state === 'ready'), `gateway log tail:\n${served.cli.stdout().slice(-2000)}`).toHaveLength(count);
      expect(listed).toHaveLength(count);
      return listed;
    },
    { timeoutMs, intervalMs: 100 },
  );
  ready.catch(() => undefined);
  return Promise.race([ready, exited]);
}


function startLoad(url: string, limits: LoadLimits) {
  return startSharedLoad(url, limits);
}

async function replicaOfResponses(url: string, count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const res = await request(url);
    const text = await res.body.text();
    expect(res.statusCode, text).toBe(200);
    const body = JSON.parse(text) as { replica: string };
    seen.set(body.replica, (seen.get(body.replica) ?? 0) + 1);
  }
  return seen;
}

/** Holds for `forMs`: the assertion passes on every poll (e.g. no duplicate appears late). */
async function staysTrue(fn: () => Promise<void>, forMs: number, intervalMs = 250): Promise<void> {
  const until = Date.now() + forMs;
  do {
    await fn();
    await new Promise((r) => setTimeout(r, intervalMs));
  } while (Date.now() < until);
}

/** The service's containers as the daemon lists them: exactly `count`, all running, one per
 * replica id, and the same set the gateway reports. */
async function expectExactlyServing(docker: Dockerode, served: Served, count: number): Promise<Dockerode.ContainerInfo[]> {
  const rows = await containersOf(docker, served.name);
  expect(rows.map((c) => c.State).sort(), 'container states').toEqual(Array.from({ length: count }, () => 'running'));
  const replicaIds = rows.map((c) => c.Labels['dockmaster.replica']);
  expect(new Set(replicaIds).size, 'one container per replica id').toBe(count);
  const listed = await replicasOf(served);
  expect(listed.filter((r) => r.state === 'ready')).toHaveLength(count);
  expect(new Set(listed.map((r) => r.nativeId))).toEqual(new Set(rows.map((c) => c.Id)));
  return rows;
}

// The two suites use different daemons and service names and run concurrently; the tests inside
// each run one after the other.
describe.skipIf(skip).concurrent('a service of Docker replicas behind the proxy', () => {
  it.sequential('starts 3 labelled containers, all become ready, and requests spread over the 3 replica ids', async (ctx) => {
    const served = await serve(ctx, 3);
    const seen = await replicaOfResponses(`${served.cli.proxyUrl}/hello`, 60);
    expect([...seen.values()]).toEqual([20, 20, 20]);
    const listed = await replicasOf(served);
    expect(new Set(listed.map((r) => r.id))).toEqual(new Set(seen.keys()));
    expect(listed.every((r) => r.address?.startsWith('http://127.0.0.1:'))).toBe(true);

    const rows = await containersOf(mainDocker, served.name);
    expect(rows).toHaveLength(3);
    for (const replica of listed) {
      const info = await mainDocker.getContainer(replica.nativeId ?? 'missing').inspect();
      expect(info.State.Running).toBe(true);
      expect(info.HostConfig.NetworkMode).toBe('host');
      expect(info.Config.Labels).toMatchObject({
        'dockmaster.service': served.name,
        'dockmaster.revision': replica.revision,
        'dockmaster.replica': replica.id,
      });
      expect(info.Config.Env).toContain(`DOCKMASTER_REPLICA=${replica.id}`);
      expect(info.Config.Env).toContain(`PORT=${new URL(replica.address ?? 'http://x:0').port}`);
    }
  }, 60_000);

  it.sequential('replaces a container killed with docker kill under continuous load, with no client error', async (ctx) => {
    const served = await serve(ctx, 3);
    const victim = (await replicasOf(served))[0] as ReplicaJson;
    const load = startLoad(`${served.cli.proxyUrl}/load`, { maxMs: 30_000, maxRequests: 100_000 });
    try {
      await eventually(() => expect(load.done()).toBeGreaterThan(50), { timeoutMs: 10_000 });
      await mainDocker.getContainer(victim.nativeId ?? 'missing').kill();
      const replaced = await eventually(
        async () => {
          const now = await replicasOf(served);
          const again = now.find((r) => r.id === victim.id);
          expect(again?.restarts).toBe(1);
          expect(again?.state).toBe('ready');
          expect(again?.nativeId).not.toBe(victim.nativeId);
          expect(now.filter((r) => r.state === 'ready')).toHaveLength(3);
          return again as ReplicaJson;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      const afterReplace = load.done();
      await eventually(() => expect(load.done()).toBeGreaterThan(afterReplace + 50), { timeoutMs: 10_000 });
      const result = await load.stop();
      expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
      // The killed container is gone; the replacement carries the same replica id.
      await eventually(async () => {
        const rows = await expectExactlyServing(mainDocker, served, 3);
        expect(rows.map((c) => c.Id)).not.toContain(victim.nativeId);
        expect(rows.find((c) => c.Id === replaced.nativeId)?.Labels['dockmaster.replica']).toBe(victim.id);
      }, { timeoutMs: 10_000, intervalMs: 100 });
    } finally {
      await load.stop();
    }
  }, 60_000);

  it.sequential('adopts the running containers by their labels when dockmaster restarts: same containers, no new ones, traffic flows', async (ctx) => {
    const served = await serve(ctx, 3);
    const before = await replicasOf(served);
    const idsBefore = (await containersOf(mainDocker, served.name)).map((c) => c.Id).sort();
    expect(idsBefore).toHaveLength(3);
    const proxyPort = Number(new URL(served.cli.proxyUrl).port);
    const adminPort = Number(new URL(served.cli.adminUrl).port);

    expect(await stopCli(served.cli)).toBe(0);
    // Docker replicas outlive the gateway.
    const whileDown = await containersOf(mainDocker, served.name);
    expect(whileDown.map((c) => c.Id).sort()).toEqual(idsBefore);
    expect(whileDown.every((c) => c.State === 'running')).toBe(true);

    served.cli = await startGateway(served.dir, {}, { proxyPort, adminPort });
    const after = await waitReady(served, 3, 20_000);
    expect(new Set(after.map((r) => r.nativeId))).toEqual(new Set(idsBefore));
    expect(new Set(after.map((r) => r.id))).toEqual(new Set(before.map((r) => r.id)));
    expect(after.every((r) => r.restarts === 0)).toBe(true);

    const seen = await replicaOfResponses(`${served.cli.proxyUrl}/again`, 30);
    expect(new Set(seen.keys())).toEqual(new Set(before.map((r) => r.id)));
    const events = (await (await request(`${served.cli.adminUrl}/v1/events?service=${served.name}`)).body.json()) as { events: Array<{ type: string }> };
    expect(events.events.filter((e) => e.type === 'replica.adopted')).toHaveLength(3);
    expect(events.events.filter((e) => e.type === 'replica.started')).toHaveLength(0);
    // No container appears later either (a resync runs every 5 s).
    await staysTrue(async () => {
      expect((await containersOf(mainDocker, served.name)).map((c) => c.Id).sort()).toEqual(idsBefore);
    }, 5_500);
  }, 60_000);
});

/** A private dockerd (own socket and roots, live-restore) holding the demo image, for one suite. */
function privateDaemonForSuite(name: string): () => PrivateDockerd {
  let daemon: PrivateDockerd | undefined;
  beforeAll(async () => {
    daemon = await startDockerd(name);
    await daemon.loadImage(DEMO_IMAGE);
  }, 60_000);
  afterAll(async () => {
    await daemon?.destroy();
  }, 60_000);
  return () => {
    if (daemon === undefined) throw new Error(`private dockerd ${name} did not start`);
    return daemon;
  };
}

// Each of these suites has its own private daemon (two beside the main one), so they run
// concurrently with each other and with the suite above.
describe.skipIf(skipPrivate).concurrent('a Docker daemon restart while replicas serve', () => {
  const daemon = privateDaemonForSuite('restart');

  it.sequential('keeps serving through SIGTERM and SIGKILL of the daemon, reconnects, and ends with exactly the desired containers', async (ctx) => {
    const d = daemon();
    const served = await serve(ctx, 3, { docker: d.docker, env: { DOCKER_HOST: d.host } });
    const reconnects = (): number => served.cli.stdout().split('docker event stream reconnected').length - 1;
    const idsBefore = (await expectExactlyServing(d.docker, served, 3)).map((c) => c.Id).sort();
    // The gateway really talks to the private daemon, not the main one.
    expect(await containersOf(mainDocker, served.name)).toHaveLength(0);

    const load = startLoad(`${served.cli.proxyUrl}/through-restart`, { maxMs: 45_000, maxRequests: 200_000 });
    try {
      await eventually(() => expect(load.done()).toBeGreaterThan(50), { timeoutMs: 10_000 });
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        const reconnectsBefore = reconnects();
        await d.stop(signal);
        expect(d.running()).toBe(false);
        // The daemon is away: replicas keep answering (live-restore) and health checks keep passing.
        const atStop = load.done();
        const downSince = Date.now();
        await eventually(() => {
          expect(load.done()).toBeGreaterThan(atStop + 100);
          expect(Date.now() - downSince).toBeGreaterThan(2_000);
        }, { timeoutMs: 10_000, intervalMs: 50 });
        expect((await replicasOf(served)).filter((r) => r.state === 'ready')).toHaveLength(3);
        await d.start();
        await eventually(() => expect(reconnects(), `gateway log tail:\n${served.cli.stdout().slice(-2000)}`).toBeGreaterThan(reconnectsBefore), { timeoutMs: 15_000, intervalMs: 100 });
        await eventually(() => expectExactlyServing(d.docker, served, 3), { timeoutMs: 15_000, intervalMs: 100 });
      }
      // Settled: no duplicate appears later (the controller re-lists every 5 s), all serving.
      await staysTrue(() => expectExactlyServing(d.docker, served, 3).then(() => undefined), 5_500);
      const idsAfter = (await containersOf(d.docker, served.name)).map((c) => c.Id).sort();
      // With live-restore nothing had to be replaced.
      expect(idsAfter).toEqual(idsBefore);

      // The event stream works again: a container killed now is noticed and replaced.
      const victim = (await replicasOf(served))[0] as ReplicaJson;
      await d.docker.getContainer(victim.nativeId ?? 'missing').kill();
      await eventually(
        async () => {
          const now = await replicasOf(served);
          const again = now.find((r) => r.id === victim.id);
          expect(again?.restarts).toBe(1);
          expect(again?.nativeId).not.toBe(victim.nativeId);
          await expectExactlyServing(d.docker, served, 3);
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      const result = await load.stop();
      expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
      expect(result.done).toBeGreaterThan(300);
    } finally {
      await load.stop();
    }
  }, 90_000);
});

describe.skipIf(skipPrivate).concurrent('a replica dying while the Docker daemon is down', () => {
  const daemon = privateDaemonForSuite('outage');

  it.sequential('replaces a replica that died while the daemon was down, and a scale-up asked meanwhile ends with exactly that many containers', async (ctx) => {
    const d = daemon();
    const served = await serve(ctx, 3, { docker: d.docker, env: { DOCKER_HOST: d.host } });
    const victim = (await replicasOf(served))[0] as ReplicaJson;
    const victimPid = (await d.docker.getContainer(victim.nativeId ?? 'missing').inspect()).State.Pid;
    expect(victimPid).toBeGreaterThan(0);
    const load = startLoad(`${served.cli.proxyUrl}/outage`, { maxMs: 45_000, maxRequests: 200_000 });
    try {
      await eventually(() => expect(load.done()).toBeGreaterThan(50), { timeoutMs: 10_000 });
      await d.stop('SIGKILL');
      // The replica's process dies while no daemon watches: only health checks can tell.
      process.kill(victimPid, 'SIGKILL');
      await eventually(async () => {
        const now = await replicasOf(served);
        expect(now.find((r) => r.id === victim.id)?.state).toBe('unhealthy');
      }, { timeoutMs: 10_000, intervalMs: 100 });
      const scaled = await request(`${served.cli.adminUrl}/v1/services/${served.name}/scale`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ replicas: 4 }),
      });
      expect(scaled.statusCode, await scaled.body.text()).toBeLessThan(300);
      // The new replica cannot start without a daemon; give it a few tries.
      const atScale = load.done();
      await eventually(() => expect(load.done()).toBeGreaterThan(atScale + 100), { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 1_500));
      await d.start();
      await eventually(async () => {
        await expectExactlyServing(d.docker, served, 4);
        const again = (await replicasOf(served)).find((r) => r.id === victim.id);
        expect(again?.restarts).toBe(1);
        expect(again?.nativeId).not.toBe(victim.nativeId);
      }, { timeoutMs: 20_000, intervalMs: 100 });
      await staysTrue(() => expectExactlyServing(d.docker, served, 4).then(() => undefined), 5_500);
      const result = await load.stop();
      expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
    } finally {
      await load.stop();
    }
  }, 90_000);
});

describe.skipIf(skipPrivate).concurrent('dockmaster starting while the Docker daemon is down', () => {
  const daemon = privateDaemonForSuite('late');

  it.sequential('adopts the running containers once the daemon answers, instead of starting duplicates', async (ctx) => {
    const d = daemon();
    const env = { DOCKER_HOST: d.host };
    const served = await serve(ctx, 3, { docker: d.docker, env });
    const before = await replicasOf(served);
    const idsBefore = (await expectExactlyServing(d.docker, served, 3)).map((c) => c.Id).sort();

    expect(await stopCli(served.cli)).toBe(0);
    await d.stop('SIGTERM');
    // A new gateway comes up while the daemon is away: it cannot list, so it cannot adopt yet.
    served.cli = await startGateway(served.dir, env);
    await eventually(() => expect(served.cli.stdout()).toMatch(/could not list the runtime|replica failed to start|docker event stream failed/), { timeoutMs: 10_000 });
    await d.start();
    // The replicas the daemon kept running (live-restore) are adopted, or replaced with the
    // leftovers removed; either way exactly 3 containers, all serving.
    await eventually(() => expectExactlyServing(d.docker, served, 3), { timeoutMs: 20_000, intervalMs: 250 });
    await staysTrue(() => expectExactlyServing(d.docker, served, 3).then(() => undefined), 5_500);
    const seen = await replicaOfResponses(`${served.cli.proxyUrl}/late`, 30);
    expect(seen.size).toBe(3);
    // Nothing needed replacing: the same containers serve under the same replica ids.
    expect((await containersOf(d.docker, served.name)).map((c) => c.Id).sort()).toEqual(idsBefore);
    expect(new Set(seen.keys())).toEqual(new Set(before.map((r) => r.id)));
  }, 90_000);

  it.sequential('stops the container of a replica scaled away while the daemon was down, once the daemon answers', async (ctx) => {
    const d = daemon();
    const served = await serve(ctx, 3, { docker: d.docker, env: { DOCKER_HOST: d.host } });
    await d.stop('SIGTERM');
    const scaled = await request(`${served.cli.adminUrl}/v1/services/${served.name}/scale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replicas: 2 }),
    });
    expect(scaled.statusCode, await scaled.body.text()).toBeLessThan(300);
    // One replica leaves rotation at once; stopping its container has to wait for the daemon.
    await eventually(async () => expect((await replicasOf(served)).filter((r) => r.state === 'ready')).toHaveLength(2), { timeoutMs: 10_000 });
    // The stop was tried while the daemon was away (and failed), so the test is not won by timing.
    await eventually(() => expect(served.cli.stdout()).toMatch(/replica stop failed|could not stop container/), { timeoutMs: 10_000 });
    await d.start();
    await eventually(() => expectExactlyServing(d.docker, served, 2), { timeoutMs: 15_000, intervalMs: 250 });
    const seen = await replicaOfResponses(`${served.cli.proxyUrl}/after-scale`, 20);
    expect(seen.size).toBe(2);
  }, 90_000);
});
