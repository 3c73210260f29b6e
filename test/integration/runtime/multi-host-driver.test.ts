// The multi-host driver against three private Docker daemons on this machine (one per simulated
// host, zones a/b/c): the RuntimeDriver contract, then spread placement, cordon, capacity, a brief
// blip that changes nothing, a host killed (daemon and containers) and its replicas replaced
// elsewhere, the host coming back with its old containers fenced, and a restarted dockmaster that
// fences an older copy by generation. Integration: real dockerd processes, real containers on
// 127.0.0.1 (host network); everything is removed afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockmasterError } from '../../../src/errors.js';
import type { HostSpec } from '../../../src/model/host.js';
import { createLogger } from '../../../src/observability/logger.js';
import { MultiHostDriver } from '../../../src/runtime/multi-host/multi-host-driver.js';
import { dockerClientFor } from '../../../src/runtime/multi-host/docker-client.js';
import type { HostEvent } from '../../../src/runtime/multi-host/host-events.js';
import { templateRevision } from '../../../src/runtime/revision.js';
import type { ReplicaObservation, ReplicaTemplate, RuntimeEvent } from '../../../src/runtime/runtime-driver.js';
import { DEMO_IMAGE, TEST_RUN_LABEL, ensureDemoImage, newTestRunId } from '../../helpers/docker.js';
import { startDockerHosts, type DockerHosts } from '../../helpers/docker-hosts.js';
import { skipWithoutPrivateDockerd } from '../../helpers/dockerd.js';
import { eventually } from '../../helpers/eventually.js';
import { runtimeContract } from './contract.js';

const skip = await skipWithoutPrivateDockerd('multi-host driver');
const silent = createLogger({ level: 'silent' });
const runId = newTestRunId();
const CHECK_INTERVAL_MS = 200;
const HOST_DOWN_AFTER_MS = 1_500;
const ZONES = ['a', 'b', 'c'] as const;

function template(service: string, options: Partial<Pick<ReplicaTemplate, 'resources' | 'placement' | 'env'>> = {}): ReplicaTemplate {
  const runtime = { kind: 'docker' as const, image: DEMO_IMAGE, network: 'host' as const, pull: 'never' as const };
  const env = options.env ?? {};
  const base = { runtime, env, port: 8080, resources: options.resources };
  return { service, revision: templateRevision(base), ...base, stopGraceMs: 1_000, placement: options.placement };
}

const spreadByZone = { constraints: [], spread: 'zone' };
const small = { cpus: 0.25, memoryMb: 64 };

/** host -> number of replicas among the observations. */
function countByHost(observations: readonly ReplicaObservation[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of observations) counts[o.host ?? '?'] = (counts[o.host ?? '?'] ?? 0) + 1;
  return counts;
}

async function answers(origin: string | undefined): Promise<string> {
  const res = await fetch(`${origin ?? 'http://127.0.0.1:1'}/`, { signal: AbortSignal.timeout(2_000) });
  return ((await res.json()) as { replica: string }).replica;
}

let hosts: DockerHosts;

function hostSpecs(): HostSpec[] {
  return ZONES.map((zone) => ({
    name: zone,
    dockerEndpoint: hosts.get(zone).endpoint,
    address: '127.0.0.1',
    capacity: { cpus: 2, memoryMb: 1_024 },
    labels: { zone },
    cordoned: false,
  }));
}

function openDriver(labelValue: string, hostDownAfterMs = HOST_DOWN_AFTER_MS): MultiHostDriver {
  return new MultiHostDriver({
    hosts: hostSpecs(),
    logger: silent,
    labels: { [TEST_RUN_LABEL]: labelValue },
    hostCheckIntervalMs: CHECK_INTERVAL_MS,
    hostDownAfterMs,
    hostDriver: { reconnectInitialMs: 50, reconnectMaxMs: 250 },
  });
}

if (!skip) {
  beforeAll(async () => {
    await ensureDemoImage();
    hosts = await startDockerHosts(ZONES);
  }, 120_000);
  afterAll(async () => {
    await hosts?.destroy();
  }, 60_000);
}

describe.skipIf(skip)('multi-host driver', () => {
  const contractRun = `${runId}c`;
  runtimeContract(
    'multi-host (three docker hosts)',
    async () => {
      const drivers: MultiHostDriver[] = [];
      const open = (): MultiHostDriver => {
        const d = openDriver(contractRun);
        drivers.push(d);
        return d;
      };
      const containerOf = (replica: ReplicaObservation) => hosts.get(replica.host ?? '?').docker.getContainer(replica.nativeId);
      return {
        driver: open(),
        template: (service, env) => template(service, env === undefined ? {} : { env }),
        killFromOutside: async (replica) => {
          await containerOf(replica).kill();
        },
        openAnother: async () => open(),
        isGone: async (replica) =>
          containerOf(replica)
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
});

describe.skipIf(skip)('multi-host driver over three Docker daemons: placement, host loss, fencing', () => {
  let driver: MultiHostDriver;
  const events: RuntimeEvent[] = [];
  const hostEvents: HostEvent[] = [];
  /** The six web replicas as placed, then as replaced. */
  let web: ReplicaObservation[] = [];
  /** Replica ids that ran on host c when it was killed. */
  let lostFromC: string[] = [];

  let restarted: MultiHostDriver | undefined;

  beforeAll(async () => {
    driver = openDriver(runId);
    driver.on((e) => events.push(e));
    driver.onHostEvent((e) => hostEvents.push(e));
    await eventually(() => expect(driver.hosts().map((h) => h.state)).toEqual(['up', 'up', 'up']), { timeoutMs: 10_000 });
  });

  afterAll(async () => {
    await driver?.close();
    await restarted?.close();
  });

  it('places 6 replicas spread by zone 2/2/2, with limits, host and generation labels, each answering on its origin', async () => {
    const t = template('web', { resources: small, placement: spreadByZone });
    web = await Promise.all(['w1', 'w2', 'w3', 'w4', 'w5', 'w6'].map((id) => driver.start(t, id)));
    expect(countByHost(web)).toEqual({ a: 2, b: 2, c: 2 });
    for (const r of web) {
      expect(r.id).toBe(`${r.host}/${r.nativeId}`);
      expect(r.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await answers(r.origin)).toBe(r.replicaId);
    }
    expect(new Set(web.map((r) => r.generation)).size).toBe(6);

    const first = web[0] as ReplicaObservation;
    const info = await hosts.get(first.host ?? '?').docker.getContainer(first.nativeId).inspect();
    expect(info.HostConfig.NanoCpus).toBe(250_000_000);
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.Config.Labels).toMatchObject({ 'dockmaster.host': first.host, 'dockmaster.generation': String(first.generation), 'dockmaster.cpus': '0.25', 'dockmaster.memory-mb': '64' });

    const listed = await driver.list('web');
    expect(listed.map((r) => r.id).sort()).toEqual(web.map((r) => r.id).sort());
    expect(listed.every((r) => r.resources?.cpus === 0.25 && r.generation !== undefined)).toBe(true);
    const views = driver.hosts();
    expect(views.flatMap((v) => v.placed.map((p) => `${v.name}:${p.replicaId}:${p.revision}`)).sort()).toEqual(web.map((r) => `${r.host}:${r.replicaId}:${t.revision}`).sort());
    expect(views.map((v) => [v.name, v.allocated, v.replicas['web']?.length])).toEqual([
      ['a', { cpus: 0.5, memoryMb: 128, replicas: 2 }, 2],
      ['b', { cpus: 0.5, memoryMb: 128, replicas: 2 }, 2],
      ['c', { cpus: 0.5, memoryMb: 128, replicas: 2 }, 2],
    ]);
  });

  it('answers the lists of many services from one full list per host while it is fresh (listReuseMs), and lists again after', async () => {
    const calls = new Map<string, number>();
    const counting = (reuseMs: number): MultiHostDriver =>
      new MultiHostDriver({
        hosts: hostSpecs(),
        logger: silent,
        labels: { [TEST_RUN_LABEL]: `${runId}-lists` },
        hostCheckIntervalMs: CHECK_INTERVAL_MS,
        hostDownAfterMs: HOST_DOWN_AFTER_MS,
        listReuseMs: reuseMs,
        dockerFor: (entry) => {
          const docker = dockerClientFor(entry);
          const listContainers = docker.listContainers.bind(docker);
          docker.listContainers = ((options?: object) => {
            calls.set(entry.name, (calls.get(entry.name) ?? 0) + 1);
            return listContainers(options ?? {});
          }) as typeof docker.listContainers;
          return docker;
        },
      });
    const reusing = counting(60_000);
    try {
      await eventually(() => expect(reusing.hosts().map((h) => h.state)).toEqual(['up', 'up', 'up']), { timeoutMs: 10_000 });
      await reusing.list();
      const after = new Map(calls);
      // Twenty services re-listing at once cost no Docker call: the full lists are fresh.
      await Promise.all(Array.from({ length: 20 }, (_, i) => reusing.list(`svc-${i}`)));
      expect(calls).toEqual(after);
    } finally {
      await reusing.close();
    }
    calls.clear();
    const listing = counting(0);
    try {
      await eventually(() => expect(listing.hosts().map((h) => h.state)).toEqual(['up', 'up', 'up']), { timeoutMs: 10_000 });
      await listing.list();
      const before = [...calls.values()].reduce((a, b) => a + b, 0);
      for (let i = 0; i < 3; i++) await listing.list(`svc-${i}`);
      // Without reuse every call lists every host.
      expect([...calls.values()].reduce((a, b) => a + b, 0) - before).toBe(3 * ZONES.length);
    } finally {
      await listing.close();
    }
  });

  it('places nothing on a cordoned host, even the one placement would pick first', async () => {
    // Without the cordon, ties go to host a (same free share, same counts, first name).
    driver.cordon('a');
    try {
      expect(driver.hosts().find((h) => h.name === 'a')?.cordoned).toBe(true);
      const t = template('side', { placement: spreadByZone });
      const side = await Promise.all(['s1', 's2', 's3'].map((id) => driver.start(t, id)));
      expect(side.map((r) => r.host).filter((h) => h === 'a')).toEqual([]);
      expect(countByHost(side)).toEqual({ b: expect.any(Number), c: expect.any(Number) });
      await Promise.all(side.map((r) => driver.stop(r.id, 1_000)));
    } finally {
      driver.uncordon('a');
    }
    const next = await driver.start(template('side'), 's4');
    expect(next.host).toBe('a');
    await driver.stop(next.id, 1_000);
    expect(await driver.list('side')).toEqual([]);
  });

  it('rejects a replica no host can hold with DM_ERR_RUNTIME_NO_HOST naming each host\'s reason, and creates nothing', async () => {
    const failure = await driver.start(template('huge', { resources: { cpus: 8, memoryMb: 64 } }), 'h1').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(DockmasterError);
    expect(failure).toMatchObject({ code: 'DM_ERR_RUNTIME_NO_HOST' });
    expect((failure as Error).message).toBe('no host fits: a needs 8 cpus (1.5 free); b needs 8 cpus (1.5 free); c needs 8 cpus (1.5 free)');
    for (const zone of ZONES) expect(await hosts.containers(zone, ['dockmaster.service=huge'])).toEqual([]);
  });

  it('rides out a blip shorter than hostDownAfterMs: no exit, no loss, nothing moves', async () => {
    const before = { events: events.length, hostEvents: hostEvents.length };
    const idsBefore = (await driver.list('web')).map((r) => r.id).sort();
    hosts.pause('b');
    try {
      // The watcher notices the silence (suspect) ...
      await eventually(() => expect(driver.hosts().find((h) => h.name === 'b')?.state).toBe('suspect'), { timeoutMs: HOST_DOWN_AFTER_MS, intervalMs: 10 });
      // ... and list() answers from what it knew of b meanwhile.
      expect((await driver.list('web')).map((r) => r.id).sort()).toEqual(idsBefore);
    } finally {
      hosts.resume('b');
    }
    await eventually(() => expect(driver.hosts().find((h) => h.name === 'b')?.state).toBe('up'), { timeoutMs: 5_000 });
    expect((await driver.list('web')).map((r) => r.id).sort()).toEqual(idsBefore);
    expect(events.slice(before.events).filter((e) => e.kind === 'exited')).toEqual([]);
    expect(hostEvents.slice(before.hostEvents).map((e) => e.type)).toEqual(['host.suspect', 'host.up']);
    for (const r of web.filter((w) => w.host === 'b')) expect(await answers(r.origin)).toBe(r.replicaId);
  });

  it('loses a killed host: exited (host-lost) for exactly its 2 replicas, list() without them, the others unaffected', async () => {
    const onC = web.filter((r) => r.host === 'c');
    const elsewhere = web.filter((r) => r.host !== 'c');
    lostFromC = onC.map((r) => r.replicaId).sort();
    const before = events.length;
    await hosts.kill('c');
    await eventually(
      () => {
        const exited = events.slice(before).filter((e): e is Extract<RuntimeEvent, { kind: 'exited' }> => e.kind === 'exited');
        expect(exited.map((e) => e.ref.id).sort()).toEqual(onC.map((r) => r.id).sort());
        expect(exited.every((e) => e.reason === 'host-lost' && !e.expected)).toBe(true);
      },
      { timeoutMs: HOST_DOWN_AFTER_MS + 5_000, intervalMs: 20 },
    );
    expect(driver.hosts().find((h) => h.name === 'c')).toMatchObject({ state: 'lost', lost: true, reachable: false, allocated: { replicas: 0 }, placed: [] });
    expect(driver.hosts().find((h) => h.name === 'c')?.lastError).toMatch(/ECONNREFUSED|ENOENT|timed out/);
    expect(hostEvents.find((e) => e.type === 'host.lost')).toMatchObject({ host: 'c', data: { replicas: onC.map((r) => `web/${r.replicaId}`).sort() } });
    // The driver as a whole stays available.
    expect(events.slice(before).some((e) => e.kind === 'availability')).toBe(false);
    expect((await driver.list('web')).map((r) => r.id).sort()).toEqual(elsewhere.map((r) => r.id).sort());
    for (const r of elsewhere) expect(await answers(r.origin)).toBe(r.replicaId);
    // Stopping a replica of the lost host resolves at once (it is fenced when the host returns).
    await driver.stop((onC[0] as ReplicaObservation).id, 1_000);
  });

  it('places the replacements (same replica ids, as the controller starts them) on the remaining hosts, with newer generations', async () => {
    const lost = web.filter((r) => r.host === 'c');
    const t = template('web', { resources: small, placement: spreadByZone });
    const replacements = await Promise.all(lost.map((r) => driver.start(t, r.replicaId)));
    expect(replacements.map((r) => r.host).sort()).toEqual(['a', 'b']);
    for (const [i, r] of replacements.entries()) expect(r.generation).toBeGreaterThan((lost[i] as ReplicaObservation).generation ?? Infinity);
    const moved = hostEvents.filter((e) => e.type === 'host.moved');
    expect(moved.map((e) => [e.data['replica'], e.data['from'], e.data['to']]).sort()).toEqual(replacements.map((r) => [r.replicaId, 'c', r.host]).sort());
    web = [...web.filter((r) => r.host !== 'c'), ...replacements];
    const listed = await driver.list('web');
    expect(listed.map((r) => r.replicaId).sort()).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6']);
    expect(countByHost(listed)).toEqual({ a: 3, b: 3 });
  });

  it('fences the old containers of the host when it comes back: stopped and removed, no duplicate replica ids, none adopted', async () => {
    const before = { events: events.length, hostEvents: hostEvents.length };
    const oldOnC = await hosts.containers('c', [`${TEST_RUN_LABEL}=${runId}`]).catch(() => undefined);
    // The daemon is down: the old containers are only on disk.
    expect(oldOnC).toBeUndefined();
    await hosts.restart('c');
    await eventually(() => expect(hostEvents.slice(before.hostEvents).map((e) => e.type)).toContain('host.back'), { timeoutMs: 15_000, intervalMs: 20 });
    const fenced = hostEvents.slice(before.hostEvents).filter((e) => e.type === 'host.fenced');
    expect(fenced.map((e) => e.data['replica']).sort()).toEqual(lostFromC);
    expect(await hosts.containers('c', [`${TEST_RUN_LABEL}=${runId}`])).toEqual([]);
    const listed = await driver.list('web');
    expect(listed.map((r) => r.replicaId).sort()).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6']);
    expect(listed.some((r) => r.host === 'c')).toBe(false);
    // Nothing of c's old containers reached the listeners (they were reported exited when c was lost).
    expect(events.slice(before.events).filter((e) => e.kind !== 'availability')).toEqual([]);
    expect(driver.hosts().find((h) => h.name === 'c')).toMatchObject({ state: 'up', reachable: true, lost: false, allocated: { replicas: 0 } });

    // The host takes new replicas again: spread sends the next one to zone c.
    const extra = await driver.start(template('web', { resources: small, placement: spreadByZone }), 'w7');
    expect(extra.host).toBe('c');
    expect(await answers(extra.origin)).toBe('w7');
    web = [...web, extra];
  });

  it('loses a host that stays silent past hostDownAfterMs although its containers run on, and stops them when it answers again', async () => {
    const onB = web.filter((r) => r.host === 'b');
    const before = { events: events.length, hostEvents: hostEvents.length };
    hosts.pause('b');
    try {
      await eventually(
        () => {
          const exited = events.slice(before.events).filter((e): e is Extract<RuntimeEvent, { kind: 'exited' }> => e.kind === 'exited');
          expect(exited.map((e) => [e.ref.id, e.reason]).sort()).toEqual(onB.map((r) => [r.id, 'host-lost']).sort());
        },
        { timeoutMs: HOST_DOWN_AFTER_MS + 5_000, intervalMs: 20 },
      );
      // Unreachable, not dead: the lost replicas still answer, and no request should go there.
      expect(await answers(onB[0]?.origin)).toBe(onB[0]?.replicaId);
      const t = template('web', { resources: small, placement: spreadByZone });
      const replacements = await Promise.all(onB.map((r) => driver.start(t, r.replicaId)));
      expect(replacements.some((r) => r.host === 'b')).toBe(false);
      web = [...web.filter((r) => r.host !== 'b'), ...replacements];
    } finally {
      hosts.resume('b');
    }
    await eventually(() => expect(hostEvents.slice(before.hostEvents).map((e) => e.type)).toContain('host.back'), { timeoutMs: 15_000, intervalMs: 20 });
    const fenced = hostEvents.slice(before.hostEvents).filter((e) => e.type === 'host.fenced');
    expect(fenced.map((e) => [e.data['replica'], e.data['state']]).sort()).toEqual(onB.map((r) => [r.replicaId, 'running']).sort());
    expect(hostEvents.slice(before.hostEvents).find((e) => e.type === 'host.back')?.data).toMatchObject({ fenced: onB.length, stillRunning: onB.length });
    expect(await hosts.containers('b', [`${TEST_RUN_LABEL}=${runId}`])).toEqual([]);
    for (const r of onB) await expect(answers(r.origin)).rejects.toThrow();
    const listed = await driver.list('web');
    expect(listed.map((r) => r.replicaId).sort()).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7']);
    expect(listed.some((r) => r.host === 'b')).toBe(false);
  });

  it('after a restart that cannot reach a host, fences the older copy of a replica started again elsewhere (the higher generation stays)', async () => {
    // dockmaster goes away (containers keep running), and comes back while host a does not answer.
    await driver.close();
    const victim = web.find((r) => r.host === 'a') as ReplicaObservation;
    const othersOnA = web.filter((r) => r.host === 'a' && r !== victim);
    hosts.pause('a');
    const seen: HostEvent[] = [];
    const exits: RuntimeEvent[] = [];
    try {
      restarted = openDriver(runId, 30_000);
      restarted.onHostEvent((e) => seen.push(e));
      restarted.on((e) => exits.push(e));
      // Not knowing a's copy, the controller starts the replica again: it goes where spread sends it.
      const again = await restarted.start(template('web', { resources: small, placement: spreadByZone }), victim.replicaId);
      expect(again.host).not.toBe('a');
      expect(again.generation).toBeGreaterThan(victim.generation ?? Infinity);
    } finally {
      hosts.resume('a');
    }
    const d = restarted;
    await eventually(
      async () => {
        const listed = await d.list('web');
        expect(listed.map((r) => r.replicaId).sort()).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7']);
        expect(listed.filter((r) => r.host === 'a').map((r) => r.id).sort()).toEqual(othersOnA.map((r) => r.id).sort());
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(seen.find((e) => e.type === 'host.fenced')).toMatchObject({ host: 'a', service: 'web', data: { replica: victim.replicaId, generation: victim.generation } });
    expect(exits.find((e) => e.kind === 'exited')).toMatchObject({ ref: { id: victim.id }, reason: 'fenced', expected: false });
    await eventually(
      () =>
        hosts
          .get('a')
          .docker.getContainer(victim.nativeId)
          .inspect()
          .then(
            () => expect.fail('the older copy still exists'),
            (err: { statusCode?: number }) => expect(err.statusCode).toBe(404),
          ),
      { timeoutMs: 10_000 },
    );
    expect(await answers(othersOnA[0]?.origin)).toBe(othersOnA[0]?.replicaId);
  });
});
