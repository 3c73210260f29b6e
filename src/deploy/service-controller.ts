// Keeps one service's replicas as its spec says: observes the runtime and health checks, plans
// one set of actions with planReplicas, applies them (start; drain then stop), and publishes the
// service's endpoints. Level-triggered and serialised: events only ask for another reconcile.
// I/O shell.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventLog } from '../observability/event-log.js';
import type { ServiceSpec } from '../model/service.js';
import type { Endpoint } from '../model/endpoint.js';
import type { ReplicaObservation, ReplicaTemplate, RuntimeDriver, RuntimeEvent } from '../runtime/runtime-driver.js';
import { INITIAL_HEALTH, nextHealth, type HealthState } from '../health/thresholds.js';
import type { HealthProber } from '../health/health-prober.js';
import { planReplicas, type ReplicaAction, type ReplicaView } from './plan/plan-replicas.js';
import { NO_BACKOFF, afterCrash, afterUptime, type CrashBackoff } from './plan/crash-backoff.js';
import { replicaTemplate } from './replica-template.js';

export interface ControllerDeps {
  readonly driver: RuntimeDriver;
  readonly prober: HealthProber;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly events: EventLog;
  /** Requests in flight to an endpoint id (the proxy's count), for draining. */
  readonly inFlight: (endpointId: string) => number;
  /** Stop reusing upstream connections to an origin once its replica is gone. */
  readonly retireOrigin: (origin: string) => void;
  /** Called whenever this service's endpoints may have changed. */
  readonly onEndpoints: (service: string, endpoints: readonly Endpoint[]) => void;
  readonly configDir: string;
  readonly nowMs?: () => number;
}

interface ReplicaRecord {
  readonly replicaId: string;
  readonly revision: string;
  phase: 'starting' | 'serving' | 'leaving';
  observation: ReplicaObservation | undefined;
  health: HealthState;
  readonly startedAtMs: number;
  readonly restarts: number;
  probeTimer: NodeJS.Timeout | undefined;
  /** The runtime refused to stop it (unreachable): kept, and stopped again on the next resync. */
  stopFailed: boolean;
}

export interface ReplicaStatus {
  readonly id: string;
  readonly revision: string;
  readonly address: string | undefined;
  readonly state: 'starting' | 'ready' | 'unhealthy' | 'draining';
  readonly health: { readonly healthy: boolean; readonly consecutiveFailures: number; readonly lastError?: string | undefined };
  readonly restarts: number;
  readonly startedAtMs: number;
  readonly nativeId: string | undefined;
}

export interface ServiceStatus {
  readonly name: string;
  readonly spec: ServiceSpec;
  readonly revision: string;
  readonly desiredReplicas: number;
  readonly readyReplicas: number;
  readonly replicas: readonly ReplicaStatus[];
  readonly crashBackoff: { readonly consecutiveCrashes: number; readonly nextStartAtMs: number };
}

const RESYNC_INTERVAL_MS = 5_000;

function isLeaving(record: ReplicaRecord): boolean {
  return record.phase === 'leaving';
}
const DRAIN_POLL_MS = 25;

export class ServiceController {
  private spec: ServiceSpec;
  private template: ReplicaTemplate;
  private readonly deps: ControllerDeps;
  private readonly replicas = new Map<string, ReplicaRecord>();
  /** Restart counts of crashed replicas, handed to the replacement that reuses the id. */
  private readonly crashed = new Map<string, number>();
  private backoff: CrashBackoff = NO_BACKOFF;
  private reconciling = false;
  private pending = false;
  private closed = false;
  private requeueTimer: NodeJS.Timeout | undefined;
  private readonly resyncTimer: NodeJS.Timeout;
  private readonly nowMs: () => number;
  private readonly leaving = new Set<Promise<void>>();

  constructor(spec: ServiceSpec, deps: ControllerDeps) {
    this.spec = spec;
    this.deps = deps;
    this.nowMs = deps.nowMs ?? Date.now;
    this.template = replicaTemplate(spec, deps.configDir);
    this.resyncTimer = setInterval(() => void this.resync(), RESYNC_INTERVAL_MS);
    this.resyncTimer.unref();
    deps.metrics.serviceDesiredReplicas.set({ service: spec.name }, spec.replicas);
  }

  get name(): string {
    return this.spec.name;
  }

  get runtimeType(): ServiceSpec['runtime']['type'] {
    return this.spec.runtime.type;
  }

  get revision(): string {
    return this.template.revision;
  }

  /** Adopts replicas the runtime already runs for this service (Docker after a restart). */
  async adopt(): Promise<void> {
    this.adoptObserved(await this.deps.driver.list(this.spec.name));
    this.requestReconcile();
  }

  /**
   * Takes over running replicas of this service that no record tracks (found at start, or after
   * the runtime came back), and removes exited leftovers. The planner then keeps or drains them
   * like any other replica, so a runtime that was unreachable never leaves duplicates behind.
   */
  private adoptObserved(observed: readonly ReplicaObservation[]): void {
    const trackedIds = new Set([...this.replicas.values()].flatMap((r) => (r.observation ? [r.observation.id] : [])));
    for (const obs of observed) {
      if (trackedIds.has(obs.id)) continue;
      if (obs.state === 'exited') {
        void this.deps.driver.stop(obs.id, 0).catch(() => undefined);
        continue;
      }
      if (obs.state !== 'running' || this.replicas.has(obs.replicaId)) continue;
      const record: ReplicaRecord = {
        replicaId: obs.replicaId,
        revision: obs.revision,
        phase: 'starting',
        observation: obs,
        health: INITIAL_HEALTH,
        startedAtMs: obs.startedAtMs ?? this.nowMs(),
        restarts: 0,
        probeTimer: undefined,
        stopFailed: false,
      };
      this.replicas.set(obs.replicaId, record);
      this.deps.events.record({ type: 'replica.adopted', service: this.spec.name, message: `adopted ${obs.replicaId} (${obs.revision})`, data: { replica: obs.replicaId, revision: obs.revision, origin: obs.origin } });
      this.scheduleProbe(record, 0);
    }
  }

  /** A new spec for the same service: a changed template replaces replicas one at a time. */
  update(spec: ServiceSpec): void {
    const template = replicaTemplate(spec, this.deps.configDir);
    const changed = template.revision !== this.template.revision;
    const scaled = spec.replicas !== this.spec.replicas;
    this.spec = spec;
    this.template = template;
    this.deps.metrics.serviceDesiredReplicas.set({ service: spec.name }, spec.replicas);
    if (changed) {
      this.backoff = NO_BACKOFF;
      this.deps.events.record({ type: 'service.applied', service: spec.name, message: `revision ${template.revision}`, data: { revision: template.revision } });
    }
    if (scaled) this.deps.events.record({ type: 'service.scaled', service: spec.name, message: `replicas ${spec.replicas}`, data: { replicas: spec.replicas } });
    this.requestReconcile();
  }

  onRuntimeEvent(event: RuntimeEvent): void {
    if (event.kind === 'exited' && !event.expected) {
      const record = this.replicas.get(event.ref.replicaId);
      if (record === undefined || record.observation?.id !== event.ref.id || record.phase === 'leaving') return;
      this.replicaCrashed(record, `exited with code ${event.exitCode ?? 'unknown'}${event.signal ? ` (${event.signal})` : ''}`);
    }
    if (event.kind === 'availability' && event.available) void this.resync();
  }

  private replicaCrashed(record: ReplicaRecord, why: string): void {
    clearTimeout(record.probeTimer);
    this.replicas.delete(record.replicaId);
    if (record.revision === this.template.revision) this.crashed.set(record.replicaId, record.restarts + 1);
    this.backoff = afterCrash(this.backoff, this.nowMs());
    this.deps.metrics.replicaRestartsTotal.inc({ service: this.spec.name });
    this.deps.logger.warn({ service: this.spec.name, replica: record.replicaId, why, restartInMs: this.backoff.nextStartAtMs - this.nowMs() }, 'replica exited');
    this.deps.events.record({ type: 'replica.exited', service: this.spec.name, message: `${record.replicaId} ${why}`, data: { replica: record.replicaId, revision: record.revision, restartAtMs: this.backoff.nextStartAtMs } });
    if (record.observation !== undefined) {
      const origin = record.observation.origin;
      void this.deps.driver.stop(record.observation.id, 0).catch(() => undefined);
      if (origin !== undefined) this.deps.retireOrigin(origin);
    }
    this.publish();
    this.requestReconcile();
  }

  /** Compares with the runtime's own list: a replica it no longer has is gone. */
  private async resync(): Promise<void> {
    if (this.closed) return;
    let observed: ReplicaObservation[];
    try {
      observed = await this.deps.driver.list(this.spec.name);
    } catch {
      return; // runtime unavailable: keep what we know (stale is safe)
    }
    const byId = new Map(observed.map((o) => [o.id, o]));
    for (const record of [...this.replicas.values()]) {
      if (record.observation === undefined) continue;
      if (record.phase === 'leaving') {
        if (record.stopFailed) void this.stopLeaving(record);
        continue;
      }
      const now = byId.get(record.observation.id);
      if (now === undefined || now.state === 'exited') this.replicaCrashed(record, now ? `exited with code ${now.exitCode ?? 'unknown'}` : 'disappeared from the runtime');
    }
    this.adoptObserved(observed);
    this.requestReconcile();
  }

  requestReconcile(): void {
    if (this.closed) return;
    if (this.reconciling) {
      this.pending = true;
      return;
    }
    this.reconciling = true;
    void this.reconcile().finally(() => {
      this.reconciling = false;
      if (this.pending) {
        this.pending = false;
        this.requestReconcile();
      }
    });
  }

  private view(): ReplicaView[] {
    return [...this.replicas.values()].map((r) => ({
      replicaId: r.replicaId,
      revision: r.revision,
      phase: r.phase,
      healthy: r.health.healthy,
      startedAtMs: r.startedAtMs,
    }));
  }

  private async reconcile(): Promise<void> {
    const nowMs = this.nowMs();
    const longestUptimeMs = Math.max(0, ...[...this.replicas.values()].filter((r) => r.health.healthy).map((r) => nowMs - r.startedAtMs));
    this.backoff = afterUptime(this.backoff, longestUptimeMs);
    const plan = planReplicas({
      revision: this.template.revision,
      desiredReplicas: this.spec.replicas,
      replicas: this.view(),
      nextStartAtMs: this.backoff.nextStartAtMs,
      nowMs,
    });
    clearTimeout(this.requeueTimer);
    if (plan.requeueAtMs !== undefined) {
      this.requeueTimer = setTimeout(() => this.requestReconcile(), Math.max(0, plan.requeueAtMs - nowMs));
      this.requeueTimer.unref();
    }
    await Promise.all(plan.actions.map((action) => this.apply(action)));
  }

  private async apply(action: ReplicaAction): Promise<void> {
    if (action.type === 'start') {
      await this.startReplica();
    } else {
      const record = this.replicas.get(action.replicaId);
      if (record !== undefined) this.drain(record, action.reason);
    }
  }

  private nextReplicaId(): { replicaId: string; restarts: number } {
    for (const [replicaId, restarts] of this.crashed) {
      if (!this.replicas.has(replicaId)) {
        this.crashed.delete(replicaId);
        return { replicaId, restarts };
      }
    }
    return { replicaId: `${this.spec.name}-${this.template.revision.slice(0, 6)}-${randomBytes(3).toString('hex')}`, restarts: 0 };
  }

  private async startReplica(): Promise<void> {
    const template = this.template;
    const { replicaId, restarts } = this.nextReplicaId();
    const record: ReplicaRecord = {
      replicaId,
      revision: template.revision,
      phase: 'starting',
      observation: undefined,
      health: INITIAL_HEALTH,
      startedAtMs: this.nowMs(),
      restarts,
      probeTimer: undefined,
      stopFailed: false,
    };
    this.replicas.set(replicaId, record);
    try {
      record.observation = await this.deps.driver.start(template, replicaId);
    } catch (error) {
      this.replicas.delete(replicaId);
      this.crashed.set(replicaId, restarts);
      this.backoff = afterCrash(this.backoff, this.nowMs());
      this.deps.metrics.replicaStartFailuresTotal.inc({ service: this.spec.name });
      const message = (error as Error).message;
      this.deps.logger.error({ service: this.spec.name, replica: replicaId, err: message }, 'replica failed to start');
      this.deps.events.record({ type: 'replica.start-failed', service: this.spec.name, message: `${replicaId}: ${message}`, data: { replica: replicaId, revision: template.revision } });
      this.requestReconcile();
      return;
    }
    if (this.closed || !this.replicas.has(replicaId)) {
      await this.deps.driver.stop(record.observation.id, this.spec.stopGraceMs).catch(() => undefined);
      return;
    }
    this.deps.logger.info({ service: this.spec.name, replica: replicaId, revision: template.revision, origin: record.observation.origin }, 'replica started');
    this.deps.events.record({ type: 'replica.started', service: this.spec.name, message: `${replicaId} at ${record.observation.origin ?? '?'}`, data: { replica: replicaId, revision: template.revision, origin: record.observation.origin, restarts } });
    this.scheduleProbe(record, 0);
    this.publish();
  }

  private scheduleProbe(record: ReplicaRecord, delayMs: number): void {
    clearTimeout(record.probeTimer);
    record.probeTimer = setTimeout(() => void this.probe(record), delayMs);
    record.probeTimer.unref();
  }

  private async probe(record: ReplicaRecord): Promise<void> {
    const origin = record.observation?.origin;
    if (this.closed || origin === undefined || this.replicas.get(record.replicaId) !== record || record.phase === 'leaving') return;
    const { health } = this.spec;
    const result = await this.deps.prober.probe(origin, health.path, health.timeoutMs);
    // The replica may have started leaving while the check ran.
    if (this.replicas.get(record.replicaId) !== record || isLeaving(record)) return;
    record.health = nextHealth(record.health, result.passed, health, result.error);
    if (record.health.changed) {
      const to = record.health.healthy ? 'healthy' : 'unhealthy';
      if (record.health.healthy && record.phase === 'starting') record.phase = 'serving';
      this.deps.metrics.replicaHealthChangesTotal.inc({ service: this.spec.name, to });
      this.deps.logger.info({ service: this.spec.name, replica: record.replicaId, to, err: result.error }, 'replica health changed');
      this.deps.events.record({ type: 'health.changed', service: this.spec.name, message: `${record.replicaId} ${to}${result.error ? `: ${result.error}` : ''}`, data: { replica: record.replicaId, healthy: record.health.healthy } });
      this.publish();
      this.requestReconcile();
    }
    this.scheduleProbe(record, health.intervalMs);
  }

  /** Out of rotation first, then wait for in-flight requests (bounded), then stop. */
  private drain(record: ReplicaRecord, reason: string): void {
    if (record.phase === 'leaving') return;
    record.phase = 'leaving';
    clearTimeout(record.probeTimer);
    this.deps.events.record({ type: 'replica.draining', service: this.spec.name, message: `${record.replicaId} (${reason})`, data: { replica: record.replicaId, revision: record.revision, reason } });
    this.publish();
    const done = this.finishDrain(record).finally(() => this.leaving.delete(done));
    this.leaving.add(done);
  }

  private async finishDrain(record: ReplicaRecord): Promise<void> {
    const endpointId = this.endpointId(record.replicaId);
    const deadline = this.nowMs() + this.spec.drainTimeoutMs;
    while (this.deps.inFlight(endpointId) > 0 && this.nowMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    await this.stopLeaving(record);
  }

  /** Stops a leaving replica; on failure it stays listed and the next resync tries again. */
  private async stopLeaving(record: ReplicaRecord): Promise<void> {
    if (record.observation !== undefined) {
      try {
        await this.deps.driver.stop(record.observation.id, this.spec.stopGraceMs);
      } catch (error) {
        record.stopFailed = true;
        this.deps.logger.error({ service: this.spec.name, replica: record.replicaId, err: (error as Error).message }, 'replica stop failed; will retry');
        return;
      }
      if (record.observation.origin !== undefined) this.deps.retireOrigin(record.observation.origin);
    }
    if (this.replicas.get(record.replicaId) !== record) return;
    this.replicas.delete(record.replicaId);
    this.deps.events.record({ type: 'replica.stopped', service: this.spec.name, message: record.replicaId, data: { replica: record.replicaId, revision: record.revision } });
    this.publish();
    this.requestReconcile();
  }

  endpointId(replicaId: string): string {
    return `${this.spec.name}/${replicaId}`;
  }

  /** Serving and leaving replicas with an address; only healthy serving ones are pickable. */
  endpoints(): Endpoint[] {
    const out: Endpoint[] = [];
    for (const r of this.replicas.values()) {
      const origin = r.observation?.origin;
      if (origin === undefined || r.phase === 'starting') continue;
      out.push({
        id: this.endpointId(r.replicaId),
        origin,
        weight: 1,
        revision: r.revision,
        source: 'managed',
        healthy: r.health.healthy,
        draining: r.phase === 'leaving',
      });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private publish(): void {
    const { serviceReplicas } = this.deps.metrics;
    const counts = new Map<string, number>();
    for (const r of this.replicas.values()) {
      const state = this.stateOf(r);
      const key = `${r.revision}\0${state}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const revision of new Set([...this.replicas.values()].map((r) => r.revision).concat(this.template.revision))) {
      for (const state of ['starting', 'ready', 'unhealthy', 'draining'] as const) {
        serviceReplicas.set({ service: this.spec.name, revision, state }, counts.get(`${revision}\0${state}`) ?? 0);
      }
    }
    this.deps.onEndpoints(this.spec.name, this.endpoints());
  }

  private stateOf(r: ReplicaRecord): ReplicaStatus['state'] {
    if (r.phase === 'leaving') return 'draining';
    if (r.phase === 'starting') return 'starting';
    return r.health.healthy ? 'ready' : 'unhealthy';
  }

  status(): ServiceStatus {
    const replicas = [...this.replicas.values()]
      .map(
        (r): ReplicaStatus => ({
          id: r.replicaId,
          revision: r.revision,
          address: r.observation?.origin,
          state: this.stateOf(r),
          health: { healthy: r.health.healthy, consecutiveFailures: r.health.consecutiveFailures, lastError: r.health.lastError },
          restarts: r.restarts,
          startedAtMs: r.startedAtMs,
          nativeId: r.observation?.nativeId,
        }),
      )
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    return {
      name: this.spec.name,
      spec: this.spec,
      revision: this.template.revision,
      desiredReplicas: this.spec.replicas,
      readyReplicas: replicas.filter((r) => r.state === 'ready').length,
      replicas,
      crashBackoff: this.backoff,
    };
  }

  /** Removes the service: every replica drains and stops. */
  async remove(): Promise<void> {
    this.spec = { ...this.spec, replicas: 0 };
    for (const record of [...this.replicas.values()]) this.drain(record, 'service removed');
    await Promise.all([...this.leaving]);
    this.deps.metrics.serviceDesiredReplicas.remove({ service: this.spec.name });
    this.close();
  }

  /** Stops timers; replicas are left to the driver's own close (processes die with it). */
  close(): void {
    this.closed = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.requeueTimer);
    for (const r of this.replicas.values()) clearTimeout(r.probeTimer);
  }
}
