// The Docker driver's event watcher against a Docker API double on a unix socket: event objects
// split across chunks, the daemon going away and coming back (reconnect with `since`, re-list,
// catch-up events, no duplicates). A double, because restarting the shared real daemon in a test
// would disturb everything else using it. Integration: real sockets, no Docker needed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { DockerDriver } from '../../../src/runtime/docker/docker-driver.js';
import type { RuntimeEvent } from '../../../src/runtime/runtime-driver.js';
import { eventually } from '../../helpers/eventually.js';
import { DockerApiDouble, doubleContainer } from './docker-api-double.js';

const labelsOf = (replicaId: string): Record<string, string> => ({
  'dockmaster.service': 'web',
  'dockmaster.revision': 'a1b2c3d4e5',
  'dockmaster.replica': replicaId,
  'dockmaster.port': '18000',
  'dockmaster.network': 'host',
});

describe('docker driver event watcher (against a Docker API double)', () => {
  let dir: string;
  let double: DockerApiDouble;
  let driver: DockerDriver;
  let events: RuntimeEvent[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dm-docker-double-'));
    double = new DockerApiDouble(join(dir, 'docker.sock'));
    double.containers.set('aaa', doubleContainer('aaa', labelsOf('r1'), 'running'));
    await double.listen();
    driver = new DockerDriver({
      logger: createLogger({ level: 'silent' }),
      docker: new Dockerode({ socketPath: double.socketPath }),
      reconnectInitialMs: 50,
      reconnectMaxMs: 200,
      random: () => 0.5,
    });
    events = [];
    driver.on((e) => events.push(e));
    await eventually(() => expect(double.openStreams).toBe(1));
  });

  afterEach(async () => {
    await driver.close();
    await double.goAway();
    rmSync(dir, { recursive: true, force: true });
  });

  const started = (id: string): number => events.filter((e) => e.kind === 'started' && e.replica.id === id).length;
  const exited = (id: string): Array<Extract<RuntimeEvent, { kind: 'exited' }>> =>
    events.filter((e): e is Extract<RuntimeEvent, { kind: 'exited' }> => e.kind === 'exited' && e.ref.id === id);

  it('adopts what runs at connect: lists it and reports it started once', async () => {
    await eventually(() => expect(started('aaa')).toBe(1));
    const listed = await driver.list();
    expect(listed).toEqual([
      expect.objectContaining({ id: 'aaa', state: 'running', replicaId: 'r1', origin: 'http://127.0.0.1:18000', startedAtMs: Date.parse('2026-01-02T03:04:05.678Z') }),
    ]);
    const filters = JSON.parse(double.eventRequests[0]?.get('filters') ?? '{}') as { label?: string[]; type?: string[] };
    expect(filters).toEqual({ type: ['container'], label: ['dockmaster.service'] });
  });

  it('reads events split across chunks and several in one chunk', async () => {
    await eventually(() => expect(started('aaa')).toBe(1));
    const t0 = 1_795_000_000_000_000_000;
    const die = DockerApiDouble.event('aaa', labelsOf('r1'), 'die', t0 + 1, { exitCode: '137' });
    double.containers.set('aaa', doubleContainer('aaa', labelsOf('r1'), 'exited', { exitCode: 137 }));
    double.write(die.slice(0, 40));
    await new Promise((resolve) => setTimeout(resolve, 30));
    double.write(`${die.slice(40)}\n`);
    await eventually(() => expect(exited('aaa')).toHaveLength(1));
    expect(exited('aaa')[0]).toMatchObject({ exitCode: 137, expected: false });

    double.containers.set('bbb', doubleContainer('bbb', labelsOf('r2'), 'running', { health: 'healthy' }));
    const start = DockerApiDouble.event('bbb', labelsOf('r2'), 'start', t0 + 2);
    const health = DockerApiDouble.event('bbb', labelsOf('r2'), 'health_status: unhealthy', t0 + 3);
    double.write(`${start}\n${health}`);
    await eventually(() => {
      expect(started('bbb')).toBe(1);
      expect(events.some((e) => e.kind === 'health' && e.ref.id === 'bbb' && e.health === 'unhealthy')).toBe(true);
    });
    // A duplicate of an event already applied changes nothing.
    double.write(`\n${die}\n`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exited('aaa')).toHaveLength(1);
  });

  it('reconnects with since after the daemon goes away, re-lists, and reports what changed meanwhile', async () => {
    await eventually(() => expect(started('aaa')).toBe(1));
    const lastNano = 1_795_000_000_123_456_789;
    double.write(`${DockerApiDouble.event('aaa', labelsOf('r1'), 'health_status: healthy', lastNano)}\n`);
    await eventually(() => expect(events.some((e) => e.kind === 'health')).toBe(true));

    await double.goAway();
    await eventually(() => expect(events.some((e) => e.kind === 'availability' && !e.available)).toBe(true));
    await expect(driver.list()).rejects.toMatchObject({ code: 'DM_ERR_RUNTIME_UNAVAILABLE' });

    // While it was away: aaa was removed, ccc started (by someone else, e.g. a restart policy).
    double.containers.delete('aaa');
    double.containers.set('ccc', doubleContainer('ccc', labelsOf('r3'), 'running'));
    const listsBefore = double.listRequests;
    await double.listen();

    await eventually(() => {
      expect(events.at(-1)).toMatchObject({ kind: 'availability', available: true });
    });
    expect(double.listRequests).toBeGreaterThan(listsBefore);
    const since = Number(double.eventRequests.at(-1)?.get('since'));
    expect(since).toBeCloseTo(lastNano / 1e9, 3);
    expect(exited('aaa')).toEqual([expect.objectContaining({ exitCode: undefined, expected: false })]);
    expect(started('ccc')).toBe(1);
    expect(started('aaa')).toBe(1);
    expect((await driver.list()).map((r) => r.id)).toEqual(['ccc']);

    // A second outage with no changes produces no events but the availability pair.
    const before = events.length;
    await double.goAway();
    await eventually(() => expect(events.some((e, i) => i >= before && e.kind === 'availability' && !e.available)).toBe(true));
    await double.listen();
    await eventually(() => expect(events.at(-1)).toMatchObject({ kind: 'availability', available: true }));
    expect(events.slice(before).map((e) => e.kind)).toEqual(['availability', 'availability']);
  });
});
