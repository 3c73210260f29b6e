// The fake driver in virtual mode on a ManualClock: what scenario tests rely on. Unit: no sockets.
import { describe, expect, it } from 'vitest';
import { DockmasterError } from '../../../src/errors.js';
import { FakeRuntime, ManualClock } from '../../../src/runtime/fake/fake-driver.js';
import type { ReplicaTemplate, RuntimeEvent } from '../../../src/runtime/runtime-driver.js';

const template = (env: Record<string, string> = {}): ReplicaTemplate => ({
  service: 'web',
  revision: 'r1',
  runtime: { kind: 'process', command: ['app'] },
  port: 0,
  env,
  stopGraceMs: 1_000,
});

function setup(startDelayMs = 0): { clock: ManualClock; runtime: FakeRuntime; events: RuntimeEvent[] } {
  const clock = new ManualClock(1_000);
  const runtime = new FakeRuntime({ clock, startDelayMs });
  const events: RuntimeEvent[] = [];
  runtime.driver().on((e) => events.push(e));
  return { clock, runtime, events };
}

describe('FakeRuntime on a manual clock', () => {
  it('starts only when the clock passes the start delay, on made-up loopback ports', async () => {
    const { clock, runtime, events } = setup(500);
    const driver = runtime.driver();
    let done = false;
    const starting = driver.start(template(), 'a').then((o) => {
      done = true;
      return o;
    });
    await clock.advance(499);
    expect(done).toBe(false);
    await clock.advance(1);
    const replica = await starting;
    expect(replica).toMatchObject({ state: 'running', origin: 'http://127.0.0.1:41000', startedAtMs: 1_500 });
    expect(runtime.envOf(replica.id)).toMatchObject({ PORT: '41000', DOCKMASTER_REPLICA: 'a', DOCKMASTER_REVISION: 'r1' });
    expect(events.map((e) => e.kind)).toEqual(['started']);
  });

  it('waits the full grace on fake time for a replica that ignores SIGTERM', async () => {
    const { clock, runtime, events } = setup();
    const driver = runtime.driver();
    const replica = await driver.start(template({ DEMO_IGNORE_SIGTERM: '1' }), 'a');
    let stopped = false;
    const stopping = driver.stop(replica.id, 2_000).then(() => {
      stopped = true;
    });
    await clock.advance(1_999);
    expect(stopped).toBe(false);
    expect((await driver.list())[0]?.state).toBe('stopping');
    await clock.advance(1);
    await stopping;
    expect(events.at(-1)).toMatchObject({ kind: 'exited', exitCode: 137, signal: 'SIGKILL', expected: true, atMs: 3_000 });
    expect(await driver.list()).toEqual([]);
  });

  it('simulates crashes, self-exits and health changes as events', async () => {
    const { clock, runtime, events } = setup();
    const driver = runtime.driver();
    const a = await driver.start(template(), 'a');
    const b = await driver.start(template({ DEMO_EXIT_AFTER_MS: '300', DEMO_EXIT_CODE: '4' }), 'b');
    runtime.setHealth(a.id, 'unhealthy');
    await runtime.crash(a.id, { signal: 'SIGKILL' });
    await clock.advance(300);
    expect(events.filter((e) => e.kind !== 'started')).toEqual([
      { kind: 'health', atMs: 1_000, ref: { id: a.id, service: 'web', revision: 'r1', replicaId: 'a' }, health: 'unhealthy' },
      expect.objectContaining({ kind: 'exited', ref: expect.objectContaining({ id: a.id }), exitCode: 137, expected: false }),
      expect.objectContaining({ kind: 'exited', ref: expect.objectContaining({ id: b.id }), exitCode: 4, expected: false, atMs: 1_300 }),
    ]);
    expect((await driver.list()).map((r) => [r.replicaId, r.state, r.exitCode])).toEqual([
      ['a', 'exited', 137],
      ['b', 'exited', 4],
    ]);
  });

  it('fails starts on request, e.g. a missing image', async () => {
    const { runtime } = setup();
    runtime.failStartsWith((t) => new DockmasterError('DM_ERR_RUNTIME_IMAGE_MISSING', `image for ${t.service} missing`));
    await expect(runtime.driver().start(template(), 'a')).rejects.toMatchObject({ code: 'DM_ERR_RUNTIME_IMAGE_MISSING' });
    runtime.failStartsWith(undefined);
    await expect(runtime.driver().start(template(), 'a')).resolves.toMatchObject({ state: 'running' });
    expect(runtime.startLog).toHaveLength(2);
  });

  it('keeps replicas when a driver closes; another driver adopts them and hears availability', async () => {
    const { runtime } = setup();
    const first = runtime.driver();
    const replica = await first.start(template(), 'a');
    await first.close();
    await expect(first.start(template(), 'b')).rejects.toMatchObject({ code: 'DM_ERR_RUNTIME_UNAVAILABLE' });
    const second = runtime.driver();
    const heard: RuntimeEvent[] = [];
    second.on((e) => heard.push(e));
    expect((await second.list()).map((r) => r.id)).toEqual([replica.id]);
    runtime.setAvailable(false);
    expect(heard).toEqual([{ kind: 'availability', atMs: 1_000, available: false }]);
  });
});
