// The RuntimeDriver contract: one suite that every driver (process, docker, fake) must pass, so a
// fake cannot drift from the real ones. Test code; does I/O (HTTP to 127.0.0.1 origins).
//
// What applies to whom:
// - start, list, events, exit detection (kill from outside, exit codes), stop with grace, start
//   failure, duplicate refusal, idempotent stop, the app's /healthz through the origin: all drivers.
// - After the driver closes: Docker containers and fake replicas keep running and a new driver
//   adopts them through list() ("adopt"); process replicas are children of dockmaster and end with
//   it, so a new process driver lists none of them and close() has stopped them ("stopped").
// - Runtime-reported health (Docker HEALTHCHECK) is not in the contract: processes have none; the
//   Docker and fake tests check it separately.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockmasterError } from '../../../src/errors.js';
import type { ReplicaObservation, ReplicaTemplate, RuntimeDriver, RuntimeEvent } from '../../../src/runtime/runtime-driver.js';
import { eventually } from '../../helpers/eventually.js';

export interface ContractHarness {
  readonly driver: RuntimeDriver;
  /** A template running the demo app (or its fake twin) for `service`, with extra env. */
  template(service: string, env?: Readonly<Record<string, string>>): ReplicaTemplate;
  /** Ends a replica with SIGKILL from outside the driver: kill -9 PID, docker kill, fake crash. */
  killFromOutside(replica: ReplicaObservation): Promise<void>;
  /** Another driver on the same runtime (a dockmaster restart, as far as the runtime can tell). */
  openAnother(): Promise<RuntimeDriver>;
  /** True once nothing of the replica runs any more (no process, no container). */
  isGone(replica: ReplicaObservation): Promise<boolean>;
  cleanup(): Promise<void>;
}

export interface ContractCapabilities {
  /** See the file comment. */
  readonly afterClose: 'adopt' | 'stopped';
  /** Port the app itself listens on, when it differs from the origin's (bridge networks). */
  readonly appPortOf?: (replica: ReplicaObservation, template: ReplicaTemplate) => number;
}

interface DemoAnswer {
  readonly service: string;
  readonly revision: string;
  readonly replica: string;
  readonly port: number;
  readonly path: string;
}

async function getJson(origin: string | undefined, path: string): Promise<{ status: number; body: DemoAnswer }> {
  if (!origin) throw new Error('replica has no origin');
  const res = await fetch(`${origin}${path}`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: (await res.json()) as DemoAnswer };
}

async function refuses(origin: string | undefined): Promise<boolean> {
  try {
    await fetch(`${origin ?? 'http://127.0.0.1:1'}/`, { signal: AbortSignal.timeout(1_000) });
    return false;
  } catch {
    return true;
  }
}

/** Records a driver's events until `stop()`. */
function recordEvents(driver: RuntimeDriver): { events: RuntimeEvent[]; stop: () => void } {
  const events: RuntimeEvent[] = [];
  const stop = driver.on((event) => events.push(event));
  return { events, stop };
}

function exitedOf(events: readonly RuntimeEvent[], id: string): Extract<RuntimeEvent, { kind: 'exited' }> | undefined {
  return events.find((e): e is Extract<RuntimeEvent, { kind: 'exited' }> => e.kind === 'exited' && e.ref.id === id);
}

export function runtimeContract(name: string, makeHarness: () => Promise<ContractHarness>, capabilities: ContractCapabilities): void {
  describe(`RuntimeDriver contract: ${name}`, () => {
    let h: ContractHarness;
    let serial = 0;
    /** A service name no other test of this run uses. */
    const freshService = (): string => `c${process.pid}x${(serial += 1)}`;

    beforeAll(async () => {
      h = await makeHarness();
    });

    afterEach(async () => {
      const left = await h.driver.list();
      await Promise.all(left.map((r) => h.driver.stop(r.id, 0)));
    });

    afterAll(async () => {
      await h?.cleanup();
    });

    it('starts a replica that answers on its 127.0.0.1 origin with its PORT and identity', async () => {
      const template = h.template(freshService());
      const { events, stop } = recordEvents(h.driver);
      const replica = await h.driver.start(template, 'r1');
      stop();

      expect(replica).toMatchObject({ service: template.service, revision: template.revision, replicaId: 'r1', state: 'running' });
      expect(replica.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(replica.nativeId).not.toBe('');
      expect(typeof replica.startedAtMs).toBe('number');

      const { status, body } = await getJson(replica.origin, '/some/path');
      expect(status).toBe(200);
      const appPort = capabilities.appPortOf?.(replica, template) ?? Number(new URL(replica.origin ?? '').port);
      expect(body).toEqual({ service: template.service, revision: template.revision, replica: 'r1', port: appPort, version: '', path: '/some/path' });
      expect(events.some((e) => e.kind === 'started' && e.replica.id === replica.id)).toBe(true);
    });

    it('serves /healthz through the origin: 200, or 503 with DEMO_FAIL_HEALTH', async () => {
      const service = freshService();
      const [ok, failing] = await Promise.all([
        h.driver.start(h.template(service), 'ok'),
        h.driver.start(h.template(service, { DEMO_FAIL_HEALTH: '1' }), 'failing'),
      ]);
      expect((await getJson(ok.origin, '/healthz')).status).toBe(200);
      expect((await getJson(failing.origin, '/healthz')).status).toBe(503);
    });

    it('lists replicas by service and all together', async () => {
      const a = freshService();
      const b = freshService();
      const [a1, a2, b1] = await Promise.all([
        h.driver.start(h.template(a), 'r1'),
        h.driver.start(h.template(a), 'r2'),
        h.driver.start(h.template(b), 'r1'),
      ]);
      const ofA = await h.driver.list(a);
      expect(ofA.map((r) => r.id).sort()).toEqual([a1.id, a2.id].sort());
      expect(ofA.every((r) => r.state === 'running' && r.service === a && r.origin !== undefined)).toBe(true);
      const all = (await h.driver.list()).map((r) => r.id);
      expect(all).toEqual(expect.arrayContaining([a1.id, a2.id, b1.id]));
      expect(await h.driver.list(freshService())).toEqual([]);
    });

    it('detects a replica killed from outside: exited event with code 137, listed as exited until stopped', async () => {
      const replica = await h.driver.start(h.template(freshService()), 'r1');
      const { events, stop } = recordEvents(h.driver);
      await h.killFromOutside(replica);
      const exited = await eventually(() => {
        const event = exitedOf(events, replica.id);
        expect(event).toBeDefined();
        return event;
      });
      stop();
      expect(exited).toMatchObject({ exitCode: 137, expected: false, ref: { service: replica.service, replicaId: 'r1', revision: replica.revision } });
      const listed = (await h.driver.list(replica.service)).find((r) => r.id === replica.id);
      expect(listed).toMatchObject({ state: 'exited', exitCode: 137 });
      await h.driver.stop(replica.id, 1_000);
      expect(await h.driver.list(replica.service)).toEqual([]);
    });

    it('detects a replica that exits by itself, with its exit code', async () => {
      const replica = await h.driver.start(h.template(freshService(), { DEMO_EXIT_AFTER_MS: '1000', DEMO_EXIT_CODE: '3' }), 'r1');
      const { events, stop } = recordEvents(h.driver);
      const exited = await eventually(
        () => {
          const event = exitedOf(events, replica.id);
          expect(event).toBeDefined();
          return event;
        },
        { timeoutMs: 10_000 },
      );
      stop();
      expect(exited).toMatchObject({ exitCode: 3, expected: false });
    });

    it('stops a well-behaved replica on SIGTERM well before the grace period, with exit code 0', async () => {
      const replica = await h.driver.start(h.template(freshService()), 'r1');
      const { events, stop } = recordEvents(h.driver);
      const startedAtMs = Date.now();
      await h.driver.stop(replica.id, 10_000);
      const tookMs = Date.now() - startedAtMs;
      stop();
      expect(tookMs).toBeLessThan(5_000);
      expect(exitedOf(events, replica.id)).toMatchObject({ exitCode: 0, expected: true });
      expect(await h.driver.list(replica.service)).toEqual([]);
      expect(await refuses(replica.origin)).toBe(true);
      expect(await h.isGone(replica)).toBe(true);
    });

    it('kills a replica that ignores SIGTERM once the grace period is over (exit code 137)', async () => {
      const graceMs = 1_000;
      const replica = await h.driver.start(h.template(freshService(), { DEMO_IGNORE_SIGTERM: '1' }), 'r1');
      const { events, stop } = recordEvents(h.driver);
      const startedAtMs = Date.now();
      const stopping = h.driver.stop(replica.id, graceMs);
      await eventually(async () => {
        expect((await h.driver.list(replica.service)).find((r) => r.id === replica.id)?.state).toBe('stopping');
      });
      await stopping;
      const tookMs = Date.now() - startedAtMs;
      stop();
      expect(tookMs).toBeGreaterThanOrEqual(graceMs - 50);
      expect(tookMs).toBeLessThan(graceMs + 3_000);
      expect(exitedOf(events, replica.id)).toMatchObject({ exitCode: 137, expected: true });
      expect(await h.isGone(replica)).toBe(true);
    });

    it('treats stop as idempotent: unknown ids and repeated stops resolve', async () => {
      await h.driver.stop('no-such-replica', 100);
      const replica = await h.driver.start(h.template(freshService()), 'r1');
      await Promise.all([h.driver.stop(replica.id, 5_000), h.driver.stop(replica.id, 5_000)]);
      await h.driver.stop(replica.id, 5_000);
      expect(await h.driver.list(replica.service)).toEqual([]);
    });

    it('refuses to start a second live replica with the same service and replica id', async () => {
      const template = h.template(freshService());
      const first = await h.driver.start(template, 'r1');
      await expect(h.driver.start(template, 'r1')).rejects.toMatchObject({ code: 'DM_ERR_RUNTIME_START' });
      expect((await h.driver.list(template.service)).map((r) => r.id)).toEqual([first.id]);
      // Once the first one is gone the replica id is free again.
      await h.driver.stop(first.id, 5_000);
      const second = await h.driver.start(template, 'r1');
      expect(second.state).toBe('running');
    });

    it('fails a start whose app exits before listening, with the reason, and leaves nothing behind', async () => {
      const template = h.template(freshService(), { DEMO_LATENCY_MS: 'abc' });
      const failure = await h.driver.start(template, 'r1').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(DockmasterError);
      expect(failure).toMatchObject({ code: 'DM_ERR_RUNTIME_START' });
      expect((failure as Error).message).toContain('DEMO_LATENCY_MS=abc');
      expect(await h.driver.list(template.service)).toEqual([]);
    });

    if (capabilities.afterClose === 'adopt') {
      it('adopt: a new driver lists the running replicas of a closed one and can stop them', async () => {
        const first = await h.openAnother();
        const template = h.template(freshService());
        const replica = await first.start(template, 'r1');
        await first.close();

        const second = await h.openAnother();
        try {
          const listed = await second.list(template.service);
          expect(listed).toHaveLength(1);
          expect(listed[0]).toMatchObject({ id: replica.id, state: 'running', origin: replica.origin, revision: template.revision, replicaId: 'r1' });
          expect((await getJson(replica.origin, '/')).body.replica).toBe('r1');
          const { events, stop } = recordEvents(second);
          await second.stop(replica.id, 5_000);
          stop();
          expect(exitedOf(events, replica.id)).toMatchObject({ expected: true });
          expect(await second.list(template.service)).toEqual([]);
        } finally {
          await second.close();
        }
      });
    } else {
      it('no adoption: replicas end with their driver, and a new driver does not see them', async () => {
        const first = await h.openAnother();
        const template = h.template(freshService());
        const replica = await first.start(template, 'r1');
        const second = await h.openAnother();
        try {
          expect(await second.list(template.service)).toEqual([]);
          await first.close();
          expect(await h.isGone(replica)).toBe(true);
          expect(await refuses(replica.origin)).toBe(true);
        } finally {
          await second.close();
        }
      });
    }
  });
}
