// A real ServiceController on a FakeRuntime, driven by vitest's fake timers: the controller's
// timers (probes, requeues, drain polls, resync), its `nowMs`, the fake runtime's clock and the
// event log all read the same fake time, so a scenario advances it tick by tick and checks
// invariants in between. Test helper: no sockets, no child processes.
import { vi } from 'vitest';
import { Registry } from 'prom-client';
import { ServiceController } from '../../../src/deploy/service-controller.js';
import { FakeRuntime, type FakeClock } from '../../../src/runtime/fake/fake-driver.js';
import type { RuntimeDriver } from '../../../src/runtime/runtime-driver.js';
import type { HealthProber } from '../../../src/health/health-prober.js';
import { EventLog, type TimelineEvent } from '../../../src/observability/event-log.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { RevisionMeasurement } from '../../../src/deploy/plan/analysis.js';
import type { DeployPolicy } from '../../../src/model/deploy.js';
import { isPickable, type Endpoint } from '../../../src/model/endpoint.js';
import type { ServiceSpec } from '../../../src/model/service.js';
import type { TrafficSplit } from '../../../src/model/traffic.js';
import type { RolloutView, ServiceStatus } from '../../../src/deploy/service-controller.js';

export const SERVICE = 'web';

/** Fake timers for everything the controller and the fake runtime schedule; setImmediate stays
 * real so a tick can let promise chains settle. */
export function useScenarioTimers(startMs = 1_700_000_000_000): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: startMs });
}

export interface HarnessOptions {
  readonly policy: DeployPolicy;
  readonly replicas?: number;
  /** How long a leaving replica may keep its in-flight requests. Default 5 000. */
  readonly drainTimeoutMs?: number;
  /** The fake prober passes a replica only this long after its start. Default 1 500. */
  readonly warmupMs?: number;
  /** Time a start takes on the fake runtime. Default 200. */
  readonly startDelayMs?: number;
  readonly healthIntervalMs?: number;
}

export interface StopRecord {
  readonly replicaId: string;
  readonly revision: string;
  readonly atMs: number;
  readonly inFlight: number;
  /** When its drain began (undefined: stopped without a drain, e.g. a crash). */
  readonly drainStartedAtMs: number | undefined;
}

const NO_TRAFFIC: RevisionMeasurement = { requests: 0, errors5xx: 0, p95Ms: 0, p99Ms: 0 };

export class ControllerHarness {
  readonly runtime: FakeRuntime;
  readonly events: EventLog;
  readonly controller: ServiceController;
  readonly inFlight = new Map<string, number>();
  /** Revisions whose health checks always fail. */
  readonly failingRevisions = new Set<string>();
  endpoints: readonly Endpoint[] = [];
  traffic: TrafficSplit | undefined;
  /** Every traffic split published, in order, with the number of events recorded before it. */
  readonly trafficLog: Array<{ readonly atMs: number; readonly traffic: TrafficSplit | undefined; readonly afterEventSeq: number }> = [];
  readonly stops: StopRecord[] = [];
  /** Invariant breaches seen inside callbacks (between ticks), asserted by the scenario. */
  readonly violations: string[] = [];
  readonly drainStartedAt = new Map<string, number>();
  /** Called when a replica starts draining. By default it holds 2 requests in flight for 300 ms,
   * so every scenario drains across in-flight requests. */
  onDrain: (replicaId: string, endpointId: string) => void = (_replicaId, endpointId) => {
    this.inFlight.set(endpointId, 2);
    setTimeout(() => this.inFlight.set(endpointId, 0), 300);
  };
  /** When set, every endpoint list published must hold at least this many pickable endpoints. */
  minPickable: number | undefined;
  /** What the proxy measured for a revision since the meter started (canary analysis). */
  measure: (revision: string) => RevisionMeasurement = () => NO_TRAFFIC;
  private spec: ServiceSpec;
  private readonly drainTimeoutMs: number;
  private readonly warmupMs: number;

  constructor(options: HarnessOptions) {
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5_000;
    this.warmupMs = options.warmupMs ?? 1_500;
    const clock: FakeClock = { nowMs: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
    this.runtime = new FakeRuntime({ clock, startDelayMs: options.startDelayMs ?? 200 });
    this.events = new EventLog({ capacity: 100_000, nowMs: () => Date.now() });
    this.events.subscribe((e) => this.onEvent(e));
    this.spec = {
      kind: 'Service',
      name: SERVICE,
      runtime: { type: 'process', command: ['node', 'app.mjs'] },
      port: 8080,
      env: {},
      replicas: options.replicas ?? 4,
      health: { path: '/healthz', intervalMs: options.healthIntervalMs ?? 500, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 3 },
      stopGraceMs: 1_000,
      drainTimeoutMs: this.drainTimeoutMs,
      deploy: options.policy,
      version: 'v1',
    };
    const inner = this.runtime.driver();
    const driver: RuntimeDriver = {
      kind: 'fake',
      list: (service) => inner.list(service),
      start: (template, replicaId) => inner.start(template, replicaId),
      stop: async (id, graceMs) => {
        this.recordStop(id);
        await inner.stop(id, graceMs);
      },
      on: (listener) => inner.on(listener),
      close: () => inner.close(),
    };
    const prober = {
      probe: async (origin: string) => {
        const obs = this.runtime.list(SERVICE).find((o) => o.origin === origin);
        if (obs === undefined) return { passed: false, error: 'gone' };
        if (this.failingRevisions.has(obs.revision)) return { passed: false, error: 'status 503' };
        const upMs = Date.now() - (obs.startedAtMs ?? Date.now());
        return upMs >= this.warmupMs ? { passed: true } : { passed: false, error: 'warming up' };
      },
    };
    this.controller = new ServiceController(this.spec, {
      driver,
      // Structural fake: the real class has a private agent, so the type needs a cast.
      prober: prober as unknown as HealthProber,
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics(new Registry()),
      events: this.events,
      inFlight: (endpointId) => this.inFlight.get(endpointId) ?? 0,
      retireOrigin: () => {},
      onEndpoints: (_service, endpoints) => {
        this.endpoints = endpoints;
        this.checkWeightsHaveEndpoints('endpoints published');
        const pickable = this.pickable().length;
        if (this.minPickable !== undefined && pickable < this.minPickable) this.violations.push(`endpoints published at ${Date.now()}: ${pickable} pickable < ${this.minPickable}`);
      },
      onTraffic: (_service, traffic) => {
        this.traffic = traffic;
        this.trafficLog.push({ atMs: Date.now(), traffic, afterEventSeq: this.events.list().at(-1)?.seq ?? 0 });
        this.checkWeightsHaveEndpoints('traffic published');
      },
      meter: (_service, revision) => () => this.measure(revision),
      stateStore: undefined,
      configDir: '/srv/dockmaster',
      nowMs: () => Date.now(),
    });
    inner.on((event) => this.controller.onRuntimeEvent(event));
  }

  /** The revision of the spec as it is now. */
  get revision(): string {
    return this.controller.revision;
  }

  /** Adopts (nothing), lets the first replicas come up, and returns their revision. */
  async boot(): Promise<string> {
    await this.controller.adopt();
    await this.runUntil(() => this.pickable().length === this.spec.replicas && this.status().replicas.length === this.spec.replicas, { maxMs: 20_000 });
    return this.revision;
  }

  /** Applies the spec with another version (a new revision); returns it. */
  deploy(version: string, fields: Partial<ServiceSpec> = {}): string {
    this.spec = { ...this.spec, version, ...fields };
    this.controller.update(this.spec);
    return this.revision;
  }

  get nowMs(): number {
    return Date.now();
  }

  /** Advances fake time and lets every promise chain that it woke settle. */
  async tick(ms: number): Promise<void> {
    await vi.advanceTimersByTimeAsync(ms);
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Ticks until `done` holds, running `check` after every tick; throws past maxMs. */
  async runUntil(done: () => boolean, options: { readonly maxMs: number; readonly stepMs?: number; readonly check?: () => void }): Promise<number> {
    const startMs = Date.now();
    const stepMs = options.stepMs ?? 100;
    for (;;) {
      await this.tick(stepMs);
      options.check?.();
      if (done()) return Date.now() - startMs;
      if (Date.now() - startMs > options.maxMs) throw new Error(`not done after ${options.maxMs} ms: ${JSON.stringify(this.summary())}`);
    }
  }

  /** Runs a command or rollback to completion while time moves. */
  async settle<T>(promise: Promise<T>, stepMs = 10): Promise<T> {
    let result: { value: T } | undefined;
    let failure: { error: unknown } | undefined;
    void promise.then(
      (value) => (result = { value }),
      (error: unknown) => (failure = { error }),
    );
    for (let waited = 0; result === undefined && failure === undefined; waited += stepMs) {
      if (waited > 60_000) throw new Error('command did not settle');
      await this.tick(stepMs);
    }
    if (failure !== undefined) throw failure.error;
    return (result as { value: T }).value;
  }

  status(): ServiceStatus {
    return this.controller.status();
  }

  rollout(): RolloutView | undefined {
    return this.controller.status().rollout;
  }

  /** Replicas not leaving, of one revision or all. */
  active(revision?: string): number {
    return this.status().replicas.filter((r) => r.state !== 'draining' && (revision === undefined || r.revision === revision)).length;
  }

  /** Endpoints a picker may choose now, of one revision or all. */
  pickable(revision?: string): Endpoint[] {
    return this.endpoints.filter((e) => isPickable(e) && (revision === undefined || e.revision === revision));
  }

  weightOf(revision: string): number | undefined {
    return this.traffic?.weights.find((w) => w.revision === revision)?.percent;
  }

  /** Every replica the runtime still holds, by revision (stopping ones included). */
  runtimeCount(revision: string): number {
    return this.runtime.list(SERVICE).filter((o) => o.revision === revision).length;
  }

  summary(): Record<string, unknown> {
    const r = this.rollout();
    return {
      atMs: Date.now(),
      rollout: r === undefined ? undefined : { phase: r.phase, step: r.step, message: r.message, weights: r.weights },
      replicas: this.status().replicas.map((x) => `${x.revision.slice(0, 4)}:${x.state}`),
      traffic: this.traffic?.weights,
    };
  }

  /** Weights sum to 100 and no revision with weight lacks a pickable endpoint. */
  private checkWeightsHaveEndpoints(when: string): void {
    const traffic = this.traffic;
    if (traffic === undefined) return;
    const sum = traffic.weights.reduce((n, w) => n + w.percent, 0);
    if (sum !== 100) this.violations.push(`${when} at ${Date.now()}: weights sum to ${sum}`);
    for (const w of traffic.weights) {
      if (w.percent > 0 && this.pickable(w.revision).length === 0) {
        this.violations.push(`${when} at ${Date.now()}: ${w.percent}% on ${w.revision} without a pickable endpoint`);
      }
    }
  }

  private onEvent(event: TimelineEvent): void {
    if (event.type !== 'replica.draining') return;
    const replicaId = String(event.data?.['replica']);
    this.drainStartedAt.set(replicaId, event.atMs);
    this.onDrain(replicaId, this.controller.endpointId(replicaId));
  }

  private recordStop(id: string): void {
    const obs = this.runtime.list(SERVICE).find((o) => o.id === id);
    if (obs === undefined) return;
    const endpointId = this.controller.endpointId(obs.replicaId);
    const inFlight = this.inFlight.get(endpointId) ?? 0;
    const drainStartedAtMs = this.drainStartedAt.get(obs.replicaId);
    this.stops.push({ replicaId: obs.replicaId, revision: obs.revision, atMs: Date.now(), inFlight, drainStartedAtMs });
    const timedOut = drainStartedAtMs !== undefined && Date.now() - drainStartedAtMs >= this.drainTimeoutMs;
    if (inFlight > 0 && !timedOut) this.violations.push(`stopped ${obs.replicaId} at ${Date.now()} with ${inFlight} requests in flight`);
  }
}
