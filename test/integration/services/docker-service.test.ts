// A service of Docker replicas through the real gateway (the built CLI with `--runtime docker`):
// spread over 3 replicas with dockmaster's labels, a `docker kill` replaced under load without a
// client error, a restarted dockmaster adopting the running containers, and a Docker daemon
// restart (a private dockerd with live-restore, killed with SIGTERM and SIGKILL) while replicas
// serve. Integration: real Docker, host networking, traffic to 127.0.0.1 only. The gateway puts no
// test-run label on its containers, so each test uses a fresh service name and every container
// labelled dockmaster.service=<that name> is removed afterwards.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import Dockerode from 'dockerode';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { DEMO_IMAGE, ensureDemoImage, skipWithoutDocker } from '../../helpers/docker.js';
import { skipWithoutPrivateDockerd, startDockerd, type PrivateDockerd } from '../../helpers/dockerd.js';
import { eventually } from '../../helpers/eventually.js';

const skip = await skipWithoutDocker('docker service through the gateway');
const skipPrivate = skip || (await skipWithoutPrivateDockerd('docker daemon restart through the gateway'));

const mainDocker = new Dockerode();
/** Every service name used, with the daemon its containers live on (swept in afterAll). */
const usedNames: Array<{ name: string; docker: Dockerode }> = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

if (!skip) {
  beforeAll(async () => {
    await ensureDemoImage();
  }, 120_000);
  afterAll(async () => {
    for (const { name, docker } of usedNames) await removeServiceContainers(docker, name);
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
health: {path: /healthz, intervalMs: 200, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 2}
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
 * until all replicas are ready. Cleanup stops the gateway, then removes the containers. */
async function serve(replicaCount: number, options: { docker?: Dockerode; env?: NodeJS.ProcessEnv } = {}): Promise<Served> {
  const docker = options.docker ?? mainDocker;
  const name = newServiceName();
  usedNames.push({ name, docker });
  const dir = configDir({ [`routes/${name}.yaml`]: routeYaml(name), [`policies/${name}.yaml`]: serviceYaml(name, replicaCount) });
  const served: Served = { name, dir, cli: await startGateway(dir, options.env ?? {}) };
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => removeServiceContainers(docker, name));
  cleanups.push(async () => {
    await stopCli(served.cli);
  });
  await waitReady(served, replicaCount, 30_000);
  return served;
}

async function startGateway(dir: string, env: NodeJS.ProcessEnv, ports: { proxyPort?: number; adminPort?: number } = {}): Promise<RunningCli> {
  return startCli(dir, ['--runtime', 'docker', '--drain-timeout-ms', '2000'], env, ports);
}

async function replicasOf(served: Served): Promise<ReplicaJson[]> {
  const res = await request(`${served.cli.adminUrl}/v1/services/${served.name}`);
  const body = (await res.body.json()) as { replicas?: ReplicaJson[] };
  if (res.statusCode !== 200 || body.replicas === undefined) throw new Error(`GET /v1/services/${served.name}: ${res.statusCode} ${JSON.stringify(body)}`);
  return body.replicas;
}

async function waitReady(served: Served, count: number, timeoutMs: number): Promise<ReplicaJson[]> {
  return eventually(
    async () => {
      const listed = await replicasOf(served);
      expect(listed.filter((r) => r.state === 'ready'), `gateway log tail:\n${served.cli.stdout().slice(-2000)}`).toHaveLength(count);
      expect(listed).toHaveLength(count);
      return listed;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

interface LoadResult {
  readonly done: number;
  readonly failures: number;
  readonly samples: readonly string[];
}

/** Sequential requests until stopped, bounded by a deadline and a count; counts non-200s and
 * transport errors, keeping a few for the failure message. */
function startLoad(url: string, limits: { maxMs: number; maxRequests: number }): { done(): number; stop(): Promise<LoadResult> } {
  let done = 0;
  let failures = 0;
  const samples: string[] = [];
  let stopped = false;
  const loop = (async () => {
    const deadline = Date.now() + limits.maxMs;
    while (!stopped && Date.now() < deadline && done < limits.maxRequests) {
      try {
        const res = await request(url, { headersTimeout: 5_000, bodyTimeout: 5_000 });
        const text = await res.body.text();
        if (res.statusCode !== 200) {
          failures++;
          if (samples.length < 5) samples.push(`${res.statusCode} ${text.slice(0, 200)}`);
        }
      } catch (err) {
        failures++;
        if (samples.length < 5) samples.push(String(err));
      }
      done++;
    }
  })();
  return {
    done: () => done,
    stop: async () => {
      stopped = true;
      await loop;
      return { done, failures, samples };
    },
  };
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

describe.skipIf(skip)('a service of Docker replicas behind the proxy', () => {
  it('starts 3 labelled containers, all become ready, and requests spread over the 3 replica ids', async () => {
    const served = await serve(3);
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

  it('replaces a container killed with docker kill under continuous load, with no client error', async () => {
    const served = await serve(3);
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

  it('adopts the running containers by their labels when dockmaster restarts: same containers, no new ones, traffic flows', async () => {
    const served = await serve(3);
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

describe.skipIf(skipPrivate)('a Docker daemon restart while replicas serve', () => {
  let daemon: PrivateDockerd | undefined;

  beforeAll(async () => {
    daemon = await startDockerd('svc');
    await daemon.loadImage(DEMO_IMAGE);
  }, 60_000);

  afterAll(async () => {
    await daemon?.destroy();
  }, 60_000);

  it('keeps serving through SIGTERM and SIGKILL of the daemon, reconnects, and ends with exactly the desired containers', async () => {
    const d = daemon as PrivateDockerd;
    const served = await serve(3, { docker: d.docker, env: { DOCKER_HOST: d.host } });
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
