// FakeDriver: an in-memory RuntimeDriver for unit and scenario tests, held to the same contract
// suite as the real drivers. No I/O unless `serve` is set: then each replica is a real HTTP server
// on 127.0.0.1 answering like the demo app, so proxies and probers can be tested against it.
//
// Replicas live in a FakeRuntime (the "daemon"), not in the driver: like Docker containers they
// outlive a driver that closes, and a new driver on the same runtime adopts them. A FakeClock
// paces start delays and stop grace periods, so a scenario test can run them on fake time.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DockmasterError } from '../../errors.js';
import { EventHub } from '../event-hub.js';
import { loopbackOrigin, replicaEnv } from '../replica-env.js';
import type {
  ReplicaObservation,
  ReplicaRef,
  ReplicaTemplate,
  RuntimeDriver,
  RuntimeEvent,
  RuntimeEventListener,
  RuntimeHealth,
} from '../runtime-driver.js';

/** Time as the fake runtime sees it. */
export interface FakeClock {
  nowMs(): number;
  /** Resolves after ms of this clock's time. */
  sleep(ms: number): Promise<void>;
}

export const realClock: FakeClock = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A clock that moves only when told: sleepers wake in deadline order as advance() passes them. */
export class ManualClock implements FakeClock {
  private current: number;
  private sleepers: Array<{ wakeAtMs: number; wake: () => void }> = [];

  constructor(startMs = 0) {
    this.current = startMs;
  }

  nowMs(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.sleepers.push({ wakeAtMs: this.current + ms, wake: resolve });
    });
  }

  /** Moves time forward, waking every sleeper whose deadline is passed (with a microtask turn in
   * between, so work a sleeper does right after waking happens before the next one wakes). */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      this.sleepers.sort((a, b) => a.wakeAtMs - b.wakeAtMs);
      const next = this.sleepers[0];
      if (!next || next.wakeAtMs > target) break;
      this.sleepers.shift();
      this.current = next.wakeAtMs;
      next.wake();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Sleepers still waiting (a scenario can assert nothing is left hanging). */
  get pendingSleepers(): number {
    return this.sleepers.length;
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

export interface FakeRuntimeOptions {
  readonly clock?: FakeClock;
  /** Serve each replica with a real HTTP server on 127.0.0.1. Default false: virtual replicas
   * with made-up ports and no sockets. */
  readonly serve?: boolean;
  /** First port handed to virtual replicas. Default 41000. */
  readonly firstVirtualPort?: number;
  /** Time a start takes on the clock. Default 0. */
  readonly startDelayMs?: number;
}

/** Environment the fake understands, the same keys as the demo app. */
interface FakeBehaviour {
  readonly ignoreSigterm: boolean;
  readonly failHealth: boolean;
  readonly latencyMs: number;
  readonly exitAfterMs: number | undefined;
  readonly exitCode: number;
}

interface FakeReplica {
  observation: ReplicaObservation;
  readonly template: ReplicaTemplate;
  env: Readonly<Record<string, string>>;
  readonly behaviour: FakeBehaviour;
  server: http.Server | undefined;
  healthy: boolean;
  /** Resolves when the replica exits. */
  readonly exited: Promise<void>;
  markExited: () => void;
}

/** Why a start should fail; return undefined to let it succeed. */
export type StartFailureHook = (template: ReplicaTemplate, replicaId: string) => DockmasterError | undefined;

/**
 * The fake "daemon": every replica of every FakeDriver attached to it. Tests use its methods to
 * act from outside (crash a replica, change its health) and to inspect what runs.
 */
export class FakeRuntime {
  readonly clock: FakeClock;
  private readonly serve: boolean;
  private readonly startDelayMs: number;
  private nextVirtualPort: number;
  private nextNativeId = 1;
  private readonly replicas = new Map<string, FakeReplica>();
  private readonly hubs = new Set<EventHub>();
  private startFailure: StartFailureHook | undefined;
  /** Every start() call, in order: scenario tests assert on counts. */
  readonly startLog: Array<{ readonly service: string; readonly revision: string; readonly replicaId: string }> = [];

  constructor(options: FakeRuntimeOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.serve = options.serve ?? false;
    this.startDelayMs = options.startDelayMs ?? 0;
    this.nextVirtualPort = options.firstVirtualPort ?? 41_000;
  }

  /** A new driver on this runtime. */
  driver(): FakeDriver {
    return new FakeDriver(this);
  }

  /** Makes start() fail when the hook returns an error (e.g. DM_ERR_RUNTIME_IMAGE_MISSING). */
  failStartsWith(hook: StartFailureHook | undefined): void {
    this.startFailure = hook;
  }

  /** Ends a replica from outside, as kill -9 or a crash would: exit code 128 + 9 for SIGKILL. */
  async crash(id: string, exit: { readonly exitCode?: number; readonly signal?: 'SIGKILL' | 'SIGTERM' } = {}): Promise<void> {
    const replica = this.replicas.get(id);
    if (!replica || replica.observation.state === 'exited') return;
    const exitCode = exit.exitCode ?? (exit.signal === 'SIGKILL' ? 137 : exit.signal === 'SIGTERM' ? 143 : 1);
    await this.exit(replica, exitCode, exit.signal, false);
  }

  /** Reports runtime health (as Docker's HEALTHCHECK would) and makes /healthz follow it. */
  setHealth(id: string, health: RuntimeHealth): void {
    const replica = this.replicas.get(id);
    if (!replica || replica.observation.state === 'exited') return;
    replica.healthy = health !== 'unhealthy';
    if (replica.observation.runtimeHealth === health) return;
    replica.observation = { ...replica.observation, runtimeHealth: health };
    this.emit({ kind: 'health', atMs: this.clock.nowMs(), ref: refOf(replica.observation), health });
  }

  /** Tells every attached driver that the runtime went away or came back. */
  setAvailable(available: boolean): void {
    this.emit({ kind: 'availability', atMs: this.clock.nowMs(), available });
  }

  /** The environment a replica was started with (PORT and DOCKMASTER_* included). */
  envOf(id: string): Readonly<Record<string, string>> | undefined {
    return this.replicas.get(id)?.env;
  }

  /** Closes every served replica's server and forgets everything. */
  async shutdown(): Promise<void> {
    const all = [...this.replicas.values()];
    this.replicas.clear();
    await Promise.all(all.map((r) => closeServer(r.server)));
  }

  // ---- used by FakeDriver ----

  attach(hub: EventHub): void {
    this.hubs.add(hub);
  }

  detach(hub: EventHub): void {
    this.hubs.delete(hub);
  }

  list(service?: string): ReplicaObservation[] {
    return [...this.replicas.values()].map((r) => r.observation).filter((o) => service === undefined || o.service === service);
  }

  async start(template: ReplicaTemplate, replicaId: string): Promise<ReplicaObservation> {
    this.startLog.push({ service: template.service, revision: template.revision, replicaId });
    const duplicate = [...this.replicas.values()].find(
      (r) => r.observation.service === template.service && r.observation.replicaId === replicaId && r.observation.state !== 'exited',
    );
    if (duplicate) {
      throw new DockmasterError('DM_ERR_RUNTIME_START', `replica ${template.service}/${replicaId} already runs`, { reason: 'duplicate', id: duplicate.observation.id });
    }
    const failure = this.startFailure?.(template, replicaId);
    if (failure) throw failure;
    const behaviour = readBehaviour(template.env);
    if (typeof behaviour === 'string') {
      throw new DockmasterError('DM_ERR_RUNTIME_START', `replica ${template.service}/${replicaId} exited before accepting connections (exit code 2); stderr:\n${behaviour}`, {
        service: template.service,
        replicaId,
        exitCode: 2,
      });
    }
    const nativeId = `fake-${this.nextNativeId++}`;
    const id = `${template.service}.${replicaId}.${nativeId}`;
    if (this.startDelayMs > 0) await this.clock.sleep(this.startDelayMs);

    let markExited = (): void => {};
    const exited = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    const replica: FakeReplica = {
      observation: {
        id,
        service: template.service,
        revision: template.revision,
        replicaId,
        state: 'starting',
        nativeId,
      },
      template,
      env: {},
      behaviour,
      server: undefined,
      healthy: !behaviour.failHealth,
      exited,
      markExited,
    };
    let port: number;
    if (this.serve) {
      const served = await this.listen(replica);
      replica.server = served.server;
      port = served.port;
    } else {
      port = this.nextVirtualPort++;
    }
    replica.env = replicaEnv(template, replicaId, port);
    replica.observation = { ...replica.observation, state: 'running', origin: loopbackOrigin(port), startedAtMs: this.clock.nowMs() };
    this.replicas.set(id, replica);
    this.emit({ kind: 'started', atMs: this.clock.nowMs(), replica: replica.observation });
    if (behaviour.exitAfterMs !== undefined) {
      const exitAfterMs = behaviour.exitAfterMs;
      void this.clock.sleep(exitAfterMs).then(() => this.exit(replica, behaviour.exitCode, undefined, false));
    }
    return replica.observation;
  }

  async stop(id: string, graceMs: number): Promise<void> {
    const replica = this.replicas.get(id);
    if (!replica) return;
    if (replica.observation.state === 'exited') {
      this.replicas.delete(id);
      return;
    }
    if (replica.observation.state === 'stopping') {
      await replica.exited;
      this.replicas.delete(id);
      return;
    }
    replica.observation = { ...replica.observation, state: 'stopping' };
    if (replica.behaviour.ignoreSigterm) {
      // SIGTERM is ignored: SIGKILL after the grace period, unless something else ends it first.
      await Promise.race([this.clock.sleep(Math.max(0, graceMs)), replica.exited]);
      await this.exit(replica, 137, 'SIGKILL', true);
    } else {
      await this.exit(replica, 0, undefined, true);
    }
    this.replicas.delete(id);
  }

  private async exit(replica: FakeReplica, exitCode: number, signal: string | undefined, expected: boolean): Promise<void> {
    if (replica.observation.state === 'exited') return;
    replica.observation = { ...replica.observation, state: 'exited', origin: undefined, exitCode, signal, runtimeHealth: undefined };
    const server = replica.server;
    replica.server = undefined;
    await closeServer(server, !expected || signal === 'SIGKILL');
    replica.markExited();
    this.emit({ kind: 'exited', atMs: this.clock.nowMs(), ref: refOf(replica.observation), exitCode, signal, expected });
  }

  private emit(event: RuntimeEvent): void {
    for (const hub of this.hubs) hub.emit(event);
  }

  private listen(replica: FakeReplica): Promise<{ server: http.Server; port: number }> {
    return new Promise((resolve, reject) => {
      let port = 0;
      const server = http.createServer((req, res) => {
        req.resume();
        const o = replica.observation;
        const path = req.url ?? '/';
        const answer = (): void => {
          const status = path === '/healthz' || path.startsWith('/healthz?') ? (replica.healthy ? 200 : 503) : 200;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ service: o.service, revision: o.revision, replica: o.replicaId, port, version: replica.env['DOCKMASTER_VERSION'] ?? '', path }));
        };
        if (replica.behaviour.latencyMs > 0) setTimeout(answer, replica.behaviour.latencyMs);
        else answer();
      });
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        port = (server.address() as AddressInfo).port;
        resolve({ server, port });
      });
    });
  }
}

/**
 * One client of a FakeRuntime. close() detaches it and leaves the replicas running, as a Docker
 * driver leaves containers; a new runtime.driver() adopts them through list().
 */
export class FakeDriver implements RuntimeDriver {
  readonly kind = 'fake' as const;
  private readonly hub = new EventHub({ error: () => {} });
  private closed = false;

  constructor(readonly runtime: FakeRuntime) {
    runtime.attach(this.hub);
  }

  async list(service?: string): Promise<ReplicaObservation[]> {
    return this.runtime.list(service);
  }

  async start(template: ReplicaTemplate, replicaId: string): Promise<ReplicaObservation> {
    if (this.closed) throw new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', 'fake driver is closed');
    return this.runtime.start(template, replicaId);
  }

  async stop(id: string, graceMs: number): Promise<void> {
    await this.runtime.stop(id, graceMs);
  }

  on(listener: RuntimeEventListener): () => void {
    return this.hub.on(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.runtime.detach(this.hub);
    this.hub.clear();
  }
}

function refOf(o: ReplicaObservation): ReplicaRef {
  return { id: o.id, service: o.service, revision: o.revision, replicaId: o.replicaId };
}

function flag(value: string | undefined): boolean {
  return value === '1' || value === 'true';
}

/** The demo app's settings, checked the same way: a bad number is a failed start. */
function readBehaviour(env: Readonly<Record<string, string>>): FakeBehaviour | string {
  const numbers: Record<string, number | undefined> = {};
  for (const key of ['DEMO_LATENCY_MS', 'DEMO_EXIT_AFTER_MS', 'DEMO_EXIT_CODE']) {
    const raw = env[key];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) return `demo-app: ${key}=${raw} is not a non-negative number`;
    numbers[key] = value;
  }
  return {
    ignoreSigterm: flag(env['DEMO_IGNORE_SIGTERM']),
    failHealth: flag(env['DEMO_FAIL_HEALTH']),
    latencyMs: numbers['DEMO_LATENCY_MS'] ?? 0,
    exitAfterMs: numbers['DEMO_EXIT_AFTER_MS'],
    exitCode: numbers['DEMO_EXIT_CODE'] ?? 1,
  };
}

async function closeServer(server: http.Server | undefined, abrupt = true): Promise<void> {
  if (!server) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    if (abrupt) server.closeAllConnections();
    else server.closeIdleConnections();
  });
}
