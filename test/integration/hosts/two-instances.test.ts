// Two dockmaster instances (the built CLI) in front of one Docker daemon, coordinated through the
// Consul double (test/helpers/consul-double.ts: a double of Consul's HTTP API, not Consul) with
// `consul.leadership` on: exactly one instance drives the service and starts its replicas, the
// other routes to them through the Consul registrations; SIGKILL the leader and the other takes
// over within the session TTL plus a check, adopts the containers without starting duplicates,
// and keeps answering. Real sockets on 127.0.0.1, a real daemon, polling with deadlines.
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { ConsulDouble } from '../../helpers/consul-double.js';
import { DEMO_IMAGE, ensureDemoImage, skipWithoutDocker } from '../../helpers/docker.js';
import { eventually } from '../../helpers/eventually.js';
import type { TimelineEvent } from '../../../src/observability/event-log.js';
import type { ServiceView } from '../../../src/admin/admin-service.js';

const skip = await skipWithoutDocker('two dockmaster instances with Consul leadership');
const SESSION_TTL_MS = 1_000;
const REPLICAS = 2;

const docker = new Dockerode();
const service = `ha-${randomBytes(3).toString('hex')}`;
const cleanups: Array<() => Promise<void> | void> = [];

async function containers(): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`dockmaster.service=${service}`] } });
}

function files(double: ConsulDouble): Record<string, string> {
  return {
    'dockmaster.yaml': `kind: Gateway
providers:
  consul:
    address: ${double.address}
    waitMs: 1000
    register: {enabled: true, checkIntervalMs: 200}
    leadership: {enabled: true, sessionTtlMs: ${SESSION_TTL_MS}, lockDelayMs: 0}
`,
    [`routes/${service}.yaml`]: `kind: Route\nname: ${service}\nmatch: {pathPrefix: /}\nservice: ${service}\nretries: 2\ntimeoutMs: 5000\n`,
    [`policies/${service}.yaml`]: `kind: Service
name: ${service}
runtime: {type: docker, image: ${DEMO_IMAGE}, network: host, pull: never}
replicas: ${REPLICAS}
health: {path: /healthz, intervalMs: 200, timeoutMs: 200, healthyThreshold: 1, unhealthyThreshold: 3}
stopGraceMs: 1000
drainTimeoutMs: 1000
`,
  };
}

async function startInstance(double: ConsulDouble): Promise<RunningCli> {
  const dir = configDir(files(double));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const cli = await startCli(dir, ['--runtime', 'docker', '--drain-timeout-ms', '1000']);
  cleanups.push(async () => {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  });
  if (cli.child.exitCode !== null) throw new Error(`gateway exited ${cli.child.exitCode}:\n${cli.stdout().slice(-3000)}`);
  return cli;
}

async function events(cli: RunningCli): Promise<TimelineEvent[]> {
  const res = await request(`${cli.adminUrl}/v1/events?service=${service}&limit=1000`);
  return ((await res.body.json()) as { events: TimelineEvent[] }).events;
}

async function view(cli: RunningCli): Promise<ServiceView> {
  const res = await request(`${cli.adminUrl}/v1/services/${service}`);
  return (await res.body.json()) as ServiceView;
}

/** `n` GETs through the instance's proxy: every status seen. */
async function statuses(cli: RunningCli, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    try {
      const res = await request(`${cli.proxyUrl}/x${i}`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
      await res.body.dump();
      out.push(res.statusCode);
    } catch {
      out.push(0);
    }
  }
  return out;
}

/** Whether the instance drives the service: its admin API shows managed replicas. */
function drives(v: ServiceView): boolean {
  return (v.replicas ?? []).length > 0;
}

describe.skipIf(skip)('two dockmaster instances share one fleet through Consul leadership (Consul double)', () => {
  let double: ConsulDouble;

  beforeAll(async () => {
    await ensureDemoImage();
    double = await ConsulDouble.start({ sessionTtlMinMs: SESSION_TTL_MS, runHttpChecks: true });
  }, 180_000);

  afterAll(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
    for (const c of await containers().catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await double?.close();
  }, 60_000);

  it('one instance drives the service, both route; the other takes over after a SIGKILL, adopting without duplicates', async () => {
    const a = await startInstance(double);
    // A leads (it is alone), starts the replicas and registers them.
    await eventually(async () => {
      const v = await view(a);
      expect(drives(v), 'instance A drives the service').toBe(true);
      expect(v.readyReplicas).toBe(REPLICAS);
      expect(await containers()).toHaveLength(REPLICAS);
    }, { timeoutMs: 60_000, intervalMs: 200 });

    const b = await startInstance(double);
    // B follows: no controller of its own, no container of its own, and it routes to A's
    // replicas through their Consul registrations.
    await eventually(async () => {
      const trail = await events(b);
      const followed = trail.find((e) => e.type === 'service.follower' && e.data?.['role'] === 'follower');
      expect(followed?.data?.['holder'], `B names the instance that drives the service; B's events: ${trail.map((e) => `${e.type} ${e.message}`).join(' | ')}`).toBeDefined();
      expect(drives(await view(b))).toBe(false);
      expect(await statuses(b, 10)).toEqual(Array(10).fill(200));
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(await statuses(a, 10)).toEqual(Array(10).fill(200));
    const idsBefore = (await containers()).map((c) => c.Id).sort();
    expect(idsBefore).toHaveLength(REPLICAS);

    // Requests keep going through B while A dies and B takes over (bounded: stops at the end).
    let sending = true;
    const during: number[] = [];
    const load = (async () => {
      for (let i = 0; sending && i < 5_000; i++) during.push(...(await statuses(b, 1)));
    })();
    // The leader dies without a word: its session expires after the TTL and B takes over.
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAtMs = Date.now();
    let tookOverAtMs = 0;
    await eventually(async () => {
      const v = await view(b);
      expect(drives(v), 'instance B drives the service').toBe(true);
      if (tookOverAtMs === 0) tookOverAtMs = Date.now();
      expect(v.readyReplicas).toBe(REPLICAS);
    }, { timeoutMs: 30_000, intervalMs: 100 });
    sending = false;
    await load;
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((status) => status !== 200), 'requests through B that failed while A died and B took over').toEqual([]);
    // Adopted, not started again: the same containers, no duplicate.
    expect((await containers()).map((c) => c.Id).sort()).toEqual(idsBefore);
    expect((await events(b)).some((e) => e.type === 'service.leader')).toBe(true);
    expect(await statuses(b, 20)).toEqual(Array(20).fill(200));
    console.log(`two instances: B drove the service ${tookOverAtMs - killedAtMs} ms after A was SIGKILLed (session TTL ${SESSION_TTL_MS} ms)`);
  }, 150_000);
});
