// The Docker provider against the runtime tests' Docker API double (a double: restarting the shared
// daemon would disturb others): listing, coalesced events, the daemon going away (last-known-good,
// bounded retries) and coming back (re-list). Integration: real unix socket, no Docker needed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../../src/observability/logger.js';
import { DockerProvider, type DockerProviderOptions } from '../../../../src/registry/docker/docker-provider.js';
import { eventually } from '../../../helpers/eventually.js';
import { DockerApiDouble } from '../../runtime/docker-api-double.js';
import { hexId, labelledContainer, RecordingSink } from './helpers.js';

const A = hexId('a');
const B = hexId('b');
const C = hexId('c');
const idOf = (id: string): string => `docker:${id.slice(0, 12)}`;

describe('docker provider (against a Docker API double)', () => {
  let dir: string;
  let double: DockerApiDouble;
  let clockMs: number;
  let providers: DockerProvider[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dm-docker-provider-'));
    double = new DockerApiDouble(join(dir, 'docker.sock'));
    double.containers.set(A, labelledContainer(A, { port: '18701', labels: { 'dockmaster.version': 'v1', 'dockmaster.weight': '4' } }));
    clockMs = 1_800_000_000_000;
    providers = [];
  });

  afterEach(async () => {
    await Promise.all(providers.map((p) => p.close()));
    await double.goAway();
    rmSync(dir, { recursive: true, force: true });
  });

  const makeProvider = (overrides: Partial<DockerProviderOptions> = {}): DockerProvider => {
    const provider = new DockerProvider({
      logger: createLogger({ level: 'silent' }),
      docker: new Dockerode({ socketPath: double.socketPath }),
      config: { labelPrefix: 'dockmaster' },
      nowMs: () => clockMs,
      random: () => 0.5,
      reconnectInitialMs: 50,
      reconnectMaxMs: 200,
      minResyncIntervalMs: 20,
      ...overrides,
    });
    providers.push(provider);
    return provider;
  };

  it('lists on start and publishes the whole snapshot before start() resolves, then reports up', async () => {
    await double.listen();
    const sink = new RecordingSink();
    await makeProvider().start(sink);
    expect(sink.snapshots).toHaveLength(1);
    expect(sink.endpoints('shop')).toEqual([
      { id: idOf(A), origin: 'http://127.0.0.1:18701', weight: 4, revision: 'v1', source: 'docker', healthy: true, draining: false },
    ]);
    expect(sink.lastStatus).toEqual({ provider: 'docker', up: true, lastSyncMs: clockMs, lastError: undefined, skipped: [] });
    const filters = JSON.parse(double.eventRequests[0]?.get('filters') ?? '{}') as unknown;
    expect(filters).toEqual({ type: ['container'], label: ['dockmaster.service'], event: ['start', 'die', 'stop', 'destroy', 'pause', 'unpause', 'health_status'] });
    expect(double.eventRequests[0]?.get('since')).toBeNull();
  });

  it('an event means "list again": new, unhealthy and bad containers show up as they are; exec noise lists nothing', async () => {
    await double.listen();
    const sink = new RecordingSink();
    await makeProvider().start(sink);
    await eventually(() => expect(double.openStreams).toBe(1));

    double.containers.set(B, labelledContainer(B, { port: '18702', health: 'healthy' }));
    double.containers.set(C, labelledContainer(C, { port: 'http', name: 'bad-port' }));
    const t0 = 1_800_000_000_000_000_000;
    // Split mid-object, as a chunked stream may.
    const start = DockerApiDouble.event(B, { 'dockmaster.service': 'shop' }, 'start', t0);
    double.write(start.slice(0, 30));
    double.write(`${start.slice(30)}\n`);
    await eventually(() => expect(sink.endpoints('shop').map((e) => e.id)).toEqual([idOf(A), idOf(B)]));
    expect(sink.lastStatus?.skipped).toEqual([{ id: idOf(C), reason: expect.stringContaining('container bad-port (cccccccccccc): label dockmaster.port="http"') as string }]);

    // Health check execs and events of unlabelled containers are not a reason to list.
    const lists = double.listRequests;
    double.write(`${DockerApiDouble.event(B, { 'dockmaster.service': 'shop' }, 'exec_die', t0 + 1)}\n`);
    double.write(`${DockerApiDouble.event(B, { other: 'x' }, 'die', t0 + 2)}\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(double.listRequests).toBe(lists);

    double.containers.set(B, labelledContainer(B, { port: '18702', health: 'unhealthy' }));
    double.write(`${DockerApiDouble.event(B, { 'dockmaster.service': 'shop' }, 'health_status: unhealthy', t0 + 3)}\n`);
    await eventually(() => expect(sink.endpoints('shop').map((e) => e.id)).toEqual([idOf(A)]));
  });

  it('coalesces a burst of events into a few lists', async () => {
    await double.listen();
    const sink = new RecordingSink();
    await makeProvider({ minResyncIntervalMs: 200 }).start(sink);
    await eventually(() => expect(double.openStreams).toBe(1));
    const lists = double.listRequests;
    const burst = Array.from({ length: 50 }, (_, i) => DockerApiDouble.event(A, { 'dockmaster.service': 'shop' }, i % 2 ? 'die' : 'start', 1e18 + i));
    for (let i = 0; i < burst.length; i += 10) double.write(`${burst.slice(i, i + 10).join('\n')}\n`);
    await eventually(() => expect(double.listRequests).toBeGreaterThan(lists));
    // The first list starts at once; everything else in the burst waits for one more at most.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(double.listRequests - lists).toBeGreaterThanOrEqual(1);
    expect(double.listRequests - lists).toBeLessThanOrEqual(2);
  });

  it('keeps the last good snapshot while the daemon is gone, retries with backoff, and re-lists after it returns', async () => {
    await double.listen();
    const sink = new RecordingSink();
    await makeProvider().start(sink);
    const firstSyncMs = clockMs;
    const published = sink.snapshots.length;

    await double.goAway();
    await eventually(() => expect(sink.lastStatus).toMatchObject({ up: false, lastSyncMs: firstSyncMs }));
    expect(sink.lastStatus?.lastError).toEqual(expect.any(String));
    // While it is away: nothing is published (the sink keeps serving the last snapshot) and the
    // retries back off (50, 100, 200, 200 ms ... at jitter 0.5: a handful in 800 ms, not hundreds).
    const downAt = sink.statuses.length;
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(sink.snapshots).toHaveLength(published);
    expect(sink.endpoints('shop').map((e) => e.id)).toEqual([idOf(A)]);
    const retries = sink.statuses.length - downAt;
    expect(retries).toBeGreaterThanOrEqual(2);
    expect(retries).toBeLessThanOrEqual(12);
    expect(sink.statuses.slice(downAt).every((s) => !s.up && s.lastSyncMs === firstSyncMs)).toBe(true);

    // Meanwhile A was removed and B started: the re-list after the reconnect sees both changes.
    double.containers.delete(A);
    double.containers.set(B, labelledContainer(B, { port: '18702' }));
    clockMs += 5_000;
    const lists = double.listRequests;
    await double.listen();
    await eventually(() => expect(sink.lastStatus).toMatchObject({ up: true, lastSyncMs: clockMs, lastError: undefined }));
    expect(double.listRequests).toBeGreaterThan(lists);
    expect(sink.endpoints('shop').map((e) => e.id)).toEqual([idOf(B)]);
  });

  it('starts while the daemon is away: start() resolves reporting up: false, publishes nothing, lists once it answers', async () => {
    const sink = new RecordingSink();
    await makeProvider().start(sink);
    expect(sink.snapshots).toHaveLength(0);
    expect(sink.lastStatus).toMatchObject({ provider: 'docker', up: false, lastSyncMs: undefined, skipped: [] });
    await double.listen();
    await eventually(() => expect(sink.lastStatus).toMatchObject({ up: true, lastSyncMs: clockMs }));
    expect(sink.endpoints('shop').map((e) => e.id)).toEqual([idOf(A)]);
  });

  it('a list that fails while the stream is up keeps the last snapshot, drops the stream and lists again after a backoff', async () => {
    await double.listen();
    const docker = new Dockerode({ socketPath: double.socketPath });
    const realList = docker.listContainers.bind(docker) as (options?: Dockerode.ContainerListOptions) => Promise<Dockerode.ContainerInfo[]>;
    let failNext = 0;
    const patched = (options?: Dockerode.ContainerListOptions): Promise<Dockerode.ContainerInfo[]> => {
      if (failNext > 0) {
        failNext -= 1;
        return Promise.reject(new Error('injected: list failed'));
      }
      return realList(options);
    };
    (docker as unknown as { listContainers: typeof patched }).listContainers = patched;
    const sink = new RecordingSink();
    await makeProvider({ docker }).start(sink);
    await eventually(() => expect(double.openStreams).toBe(1));
    const streams = double.eventRequests.length;

    failNext = 1;
    double.containers.set(B, labelledContainer(B, { port: '18702' }));
    double.write(`${DockerApiDouble.event(B, { 'dockmaster.service': 'shop' }, 'start', 1e18)}\n`);
    await eventually(() => expect(sink.statuses.some((s) => !s.up && s.lastError === 'injected: list failed')).toBe(true));
    expect(sink.endpoints('shop').map((e) => e.id)).toEqual([idOf(A)]);
    await eventually(() => expect(sink.endpoints('shop').map((e) => e.id)).toEqual([idOf(A), idOf(B)]));
    expect(sink.lastStatus?.up).toBe(true);
    expect(double.eventRequests.length).toBe(streams + 1);
  });

  it('a container removed between list and inspect is simply absent; the rest is published', async () => {
    const ghost = labelledContainer(C, { port: '18703' });
    // The list shows it; its inspect answers 404 (the double looks it up under another key).
    double.containers.set('gone', ghost);
    await double.listen();
    const sink = new RecordingSink();
    await makeProvider().start(sink);
    expect(sink.endpoints('shop').map((e) => e.id)).toEqual([idOf(A)]);
    expect(sink.lastStatus).toMatchObject({ up: true, skipped: [] });
  });

  it('lists again every resyncEveryMs while connected, even without events', async () => {
    await double.listen();
    const sink = new RecordingSink();
    await makeProvider({ resyncEveryMs: 50 }).start(sink);
    double.containers.set(B, labelledContainer(B, { port: '18702' }));
    await eventually(() => expect(sink.endpoints('shop').map((e) => e.id)).toEqual([idOf(A), idOf(B)]));
  });

  it('close() stops everything: no list, stream or status afterwards', async () => {
    await double.listen();
    const sink = new RecordingSink();
    const provider = makeProvider({ resyncEveryMs: 20 });
    await provider.start(sink);
    await provider.close();
    const statuses = sink.statuses.length;
    const lists = double.listRequests;
    await eventually(() => expect(double.openStreams).toBe(0));
    await double.goAway();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.statuses).toHaveLength(statuses);
    expect(double.listRequests).toBe(lists);
  });
});
