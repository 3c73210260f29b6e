// Keeps one service's replicas as its spec says: observes the runtime and health checks, plans
// one set of actions (planRollout while a rollout runs, planReplicas otherwise), applies them
// (start; drain then stop), persists the deployment state, and publishes the service's endpoints
// and traffic split. Level-triggered and serialised: events only ask for another reconcile.
// I/O shell.
import { randomBytes } from 'node:crypto';
import { DockmasterError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { startServiceCountersAtZero, type Metrics } from '../observability/metrics.js';
import type { EventLog } from '../observability/event-log.js';
import type { ServiceSpec } from '../model/service.js';
import type { Endpoint } from '../model/endpoint.js';
import type { ReplicaObservation, ReplicaTemplate, RuntimeDriver, RuntimeEvent } from '../runtime/runtime-driver.js';
import { INITIAL_HEALTH, nextHealth, type HealthState } from '../health/thresholds.js';
import type { HealthProber } from '../health/health-prober.js';
import { planReplicas } from './plan/plan-replicas.js';
import { NO_BACKOFF, afterCrash, afterUptime, type CrashBackoff } from './plan/crash-backoff.js';
import { planRollout, type RolloutAction, type RolloutReplica } from './plan/plan-rollout.js';
import type { RevisionMeasurement } from './plan/analysis.js';
import { replicaTemplate } from './replica-template.js';
import type { DeployPolicy } from '../model/deploy.js';
import { deployPolicyOf } from '../model/service.js';
import type { TrafficSplit } from '../model/traffic.js';
import { isRunning, ROLLOUT_PHASES, type Rollout, type ServiceDeployState } from '../model/rollout.js';
import { applyCommand, applyRollback, emptyDeployState, onRolloutPlanned, onSpec, recordRevision, servingRevision, type CommandName } from './deploy-state.js';
import type { StateStore } from './state-store.js';

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
  /** Called when the service's traffic split changes (undefined: by replica count). */
  readonly onTraffic: (service: string, traffic: TrafficSplit | undefined) => void;
  /** Starts measuring what the proxy answers for one revision; the function returns the
   * measurement since then (canary analysis). */
  readonly meter: (service: string, revision: string) => () => RevisionMeasurement;
  /** Persists deployment state; without it state lives in memory only. */
  readonly stateStore?: StateStore | undefined;
  readonly configDir: string;
  readonly nowMs?: () => number;
}

/** What a rollout command or rollback answers. */
export type ControllerCommandResult =
  | { readonly ok: true; readonly message: string; readonly rollout: RolloutView | undefined }
  | { readonly ok: false; readonly code: 'DM_ERR_DEPLOY_NO_ROLLOUT' | 'DM_ERR_DEPLOY_NOT_ALLOWED' | 'DM_ERR_DEPLOY_IN_PROGRESS' | 'DM_ERR_DEPLOY_UNKNOWN_REVISION'; readonly message: string };

/** A rollout as the admin API shows it. */
export type RolloutView = Omit<Rollout, 'policy' | 'rolling' | 'blueGreen' | 'canary' | 'request'> & {
  readonly pendingRequest?: string | undefined;
  /** Replicas per revision now: all active ones, and those ready. */
  readonly replicas: ReadonlyArray<{ readonly revision: string; readonly active: number; readonly ready: number }>;
  readonly analysis?: NonNullable<NonNullable<Rollout['canary']>['analysis']> | undefined;
};

export interface RevisionView {
  readonly revision: string;
  readonly createdAtMs: number;
  readonly servedAtMs?: number | undefined;
  readonly stable: boolean;
  /** The revision the current spec describes. */
  readonly spec: boolean;
  readonly heldBack: boolean;
  /** Replicas running it now. */
  readonly replicas: number;
  /** What it runs: the image, or the command. */
  readonly runs: string;
  readonly version?: string | undefined;
}

interface ReplicaRecord {
  readonly replicaId: string;
  readonly revision: string;
  phase: 'starting' | 'serving' | 'leaving';
  observation: ReplicaObservation | undefined;
  health: HealthState;
  /** Start of the current unbroken healthy stretch (minReadyMs); undefined while not healthy. */
  healthySinceMs: number | undefined;
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
  /** The host it runs on (several Docker hosts); undefined on one machine. */
  readonly host?: string | undefined;
}

/** Why replicas wait to be started: no host can take one (several Docker hosts). */
export interface PendingStatus {
  /** The placement's reason: `no host fits: h1 cordoned; h2 needs 0.5 cpus (0.25 free)`. */
  readonly reason: string;
  readonly sinceMs: number;
}

export interface ServiceStatus {
  readonly name: string;
  readonly spec: ServiceSpec;
  /** The revision the spec describes. */
  readonly revision: string;
  /** The revision serving when no rollout runs (may differ from `revision` after an abort). */
  readonly stableRevision: string | undefined;
  /** The running rollout, or the last one. */
  readonly rollout: RolloutView | undefined;
  readonly desiredReplicas: number;
  readonly readyReplicas: number;
  readonly replicas: readonly ReplicaStatus[];
  readonly crashBackoff: { readonly consecutiveCrashes: number; readonly nextStartAtMs: number };
  /** Set while a replica could not be placed on any host; cleared by the next start. */
  readonly pending?: PendingStatus | undefined;
}

const RESYNC_INTERVAL_MS = 5_000;
/** A replica no host could take is tried again this often (and on every host change). */
const PENDING_RETRY_MS = 1_000;
const DRAIN_POLL_MS = 25;

/** A function, not an inline comparison: the phase may change while a probe awaits. */
function isLeaving(record: ReplicaRecord): boolean {
  return record.phase === 'leaving';
}

function sameTraffic(a: TrafficSplit | undefined, b: TrafficSplit | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class ServiceController {
  private spec: ServiceSpec;
  private template: ReplicaTemplate;
  private readonly deps: ControllerDeps;
  private readonly replicas = new Map<string, ReplicaRecord>();
  /** Crashed replicas' ids and restart counts, handed to the replacement of the same revision. */
  private readonly crashed = new Map<string, { readonly revision: string; readonly restarts: number }>();
  private backoff: CrashBackoff = NO_BACKOFF;
  /** No host could take the last replica started: why, since when, and when to try again. */
  private pendingStart: (PendingStatus & { retryAtMs: number }) | undefined;
  /** Hosts being drained: this service's replicas on them are replaced elsewhere, one at a time. */
  private readonly evacuating = new Set<string>();
  private state: ServiceDeployState<ReplicaTemplate>;
  private traffic: TrafficSplit | undefined;
  /** Measures the canary since the current analysis interval began (memory only: after a
   * restart the interval starts again). */
  private analysisMeter: { readonly revision: string; readonly measure: () => RevisionMeasurement } | undefined;
  private reconciling = false;
  private reconcileAgain = false;
  private settledWaiters: Array<() => void> = [];
  private closed = false;
  private removed = false;
  /** Set by the autoscaler; overrides spec.replicas while set. */
  private autoscaled: number | undefined;
  private requeueTimer: NodeJS.Timeout | undefined;
  private readonly resyncTimer: NodeJS.Timeout;
  private readonly nowMs: () => number;
  private readonly leaving = new Set<Promise<void>>();

  constructor(spec: ServiceSpec, deps: ControllerDeps) {
    this.spec = spec;
    this.deps = deps;
    this.nowMs = deps.nowMs ?? Date.now;
    this.template = replicaTemplate(spec, deps.configDir);
    this.state = emptyDeployState(spec.name);
    this.resyncTimer = setInterval(() => void this.resync(), RESYNC_INTERVAL_MS);
    this.resyncTimer.unref();
    deps.metrics.serviceDesiredReplicas.set({ service: spec.name }, spec.replicas);
    startServiceCountersAtZero(deps.metrics, spec.name);
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

  /** The replica count planned for: the autoscaler's when it set one, else the spec's. */
  get desiredReplicas(): number {
    return this.autoscaled ?? this.spec.replicas;
  }

  /** Replicas passing health checks and taking traffic now. */
  readyReplicas(): number {
    let ready = 0;
    for (const r of this.replicas.values()) if (r.phase === 'serving' && r.health.healthy) ready++;
    return ready;
  }

  /** The spec's replica count, the starting point of an autoscaled service. */
  get specReplicas(): number {
    return this.spec.replicas;
  }

  /** The autoscaler sets the total (a rollout splits it); undefined gives control back to the spec. */
  setDesiredReplicas(replicas: number | undefined): void {
    if (replicas === this.autoscaled) return;
    this.autoscaled = replicas;
    this.deps.metrics.serviceDesiredReplicas.set({ service: this.spec.name }, this.desiredReplicas);
    this.requestReconcile();
  }

  /** Loads the persisted deployment state, then adopts replicas the runtime already runs for
   * this service (Docker after a restart). */
  async adopt(): Promise<void> {
    const stored = await this.deps.stateStore?.load<ReplicaTemplate>(this.spec.name);
    if (stored !== undefined) {
      this.state = stored;
      const r = stored.rollout;
      if (r !== undefined && isRunning(r.phase)) {
        this.deps.events.record({ type: 'rollout.resumed', service: this.spec.name, message: `${r.id} resumed after restart at step ${r.step.index}/${r.step.total}`, data: { rollout: r.id, phase: r.phase } });
      }
    }
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
        healthySinceMs: undefined,
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

  /** A new spec for the same service: a changed template starts a rollout (superseding one that
   * runs); a changed replica count scales. */
  update(spec: ServiceSpec): void {
    const template = replicaTemplate(spec, this.deps.configDir);
    const changed = template.revision !== this.template.revision;
    const scaled = spec.replicas !== this.spec.replicas;
    this.spec = spec;
    this.template = template;
    this.deps.metrics.serviceDesiredReplicas.set({ service: spec.name }, this.desiredReplicas);
    if (changed) {
      this.backoff = NO_BACKOFF;
      this.deps.events.record({ type: 'service.applied', service: spec.name, message: `revision ${template.revision}`, data: { revision: template.revision } });
    }
    if (scaled) this.deps.events.record({ type: 'service.scaled', service: spec.name, message: `replicas ${spec.replicas}`, data: { replicas: spec.replicas } });
    this.requestReconcile();
  }

  /** The message of a 409 when `spec` would start a rollout while another runs; undefined when
   * it would not (same template, or nothing running). */
  conflictWith(spec: ServiceSpec): string | undefined {
    const r = this.state.rollout;
    if (r === undefined || !isRunning(r.phase)) return undefined;
    const revision = replicaTemplate(spec, this.deps.configDir).revision;
    if (revision === this.template.revision) return undefined;
    return `rollout ${r.id} (${r.fromRevision} -> ${r.toRevision}) is ${r.phase}; applying revision ${revision} would supersede it (send ?supersede=true to do so)`;
  }

  onRuntimeEvent(event: RuntimeEvent): void {
    if (event.kind === 'exited' && !event.expected) {
      const record = this.replicas.get(event.ref.replicaId);
      if (record === undefined || record.observation?.id !== event.ref.id) return;
      if (event.reason !== undefined) return this.replicaLost(record, event.reason);
      if (record.phase === 'leaving') return;
      this.replicaCrashed(record, `exited with code ${event.exitCode ?? 'unknown'}${event.signal ? ` (${event.signal})` : ''}`);
    }
    if (event.kind === 'availability' && event.available) void this.resync();
  }

  private replicaCrashed(record: ReplicaRecord, why: string): void {
    clearTimeout(record.probeTimer);
    this.replicas.delete(record.replicaId);
    this.crashed.set(record.replicaId, { revision: record.revision, restarts: record.restarts + 1 });
    this.backoff = afterCrash(this.backoff, this.nowMs());
    this.countNewRevisionCrash(record.revision);
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

  /**
   * Its host was lost (or a newer copy runs elsewhere): out of the routing table at once and
   * replaced without crash backoff. Not a crash: no restart counted, and a rollout does not fail
   * because of it.
   */
  private replicaLost(record: ReplicaRecord, reason: 'host-lost' | 'fenced'): void {
    clearTimeout(record.probeTimer);
    this.replicas.delete(record.replicaId);
    // The replacement keeps the replica id (no backoff, no restart counted), so the runtime can
    // say where it moved and fence the old copy by generation if its host comes back.
    this.crashed.set(record.replicaId, { revision: record.revision, restarts: record.restarts });
    const host = record.observation?.host;
    const why = reason === 'host-lost' ? `its host ${host ?? '?'} was lost` : `a newer copy runs elsewhere`;
    this.deps.logger.warn({ service: this.spec.name, replica: record.replicaId, host, reason }, 'replica lost');
    this.deps.events.record({ type: 'replica.lost', service: this.spec.name, message: `${record.replicaId}: ${why}; replacing it`, data: { replica: record.replicaId, revision: record.revision, host, reason } });
    const origin = record.observation?.origin;
    if (origin !== undefined) this.deps.retireOrigin(origin);
    this.publish();
    this.requestReconcile();
  }

  /** A replica of the revision being rolled out exited or failed to start: the planner fails the rollout. */
  private countNewRevisionCrash(revision: string): void {
    const r = this.state.rollout;
    if (r !== undefined && isRunning(r.phase) && revision === r.toRevision) {
      this.state = { ...this.state, rollout: { ...r, newReplicaCrashes: r.newReplicaCrashes + 1 } };
    }
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

  /** Plans again (coalesced: at most one reconcile runs, one more is queued). */
  requestReconcile(): void {
    if (this.closed) return;
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = true;
    void this.reconcile()
      .catch((error: unknown) => this.deps.logger.error({ service: this.spec.name, err: (error as Error).message }, 'reconcile failed'))
      .finally(() => {
        this.reconciling = false;
        if (this.reconcileAgain) {
          this.reconcileAgain = false;
          this.requestReconcile();
        } else {
          const waiters = this.settledWaiters;
          this.settledWaiters = [];
          for (const w of waiters) w();
        }
      });
  }

  /** Resolves once a reconcile that started after this call has finished. */
  private reconciled(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const settled = new Promise<void>((resolve) => this.settledWaiters.push(resolve));
    this.requestReconcile();
    return settled;
  }

  /** Starts wait for the crash backoff, and for the retry of a replica no host could take. */
  private nextStartAtMs(): number {
    return Math.max(this.backoff.nextStartAtMs, this.pendingStart?.retryAtMs ?? 0);
  }

  /**
   * What the planners see of the replicas. With `evacuation`, a replica on a host being drained
   * shows under a revision of its own, so the steady planner replaces it the way it replaces an
   * old revision: a new one (placed elsewhere: the host is cordoned) healthy first, then it drains.
   */
  private replicaViews(options: { readonly evacuation?: boolean } = {}): RolloutReplica[] {
    return [...this.replicas.values()].map((r) => ({
      replicaId: r.replicaId,
      revision: options.evacuation === true && this.onEvacuatedHost(r) ? `${r.revision}@evacuating` : r.revision,
      phase: r.phase,
      healthy: r.health.healthy,
      healthySinceMs: r.healthySinceMs,
      startedAtMs: r.startedAtMs,
    }));
  }

  private activeByRevision(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.replicas.values()) if (r.phase !== 'leaving') counts.set(r.revision, (counts.get(r.revision) ?? 0) + 1);
    return counts;
  }

  private get policy(): DeployPolicy {
    return deployPolicyOf(this.spec);
  }

  /** Keeps the revision history and rollout decisions in step with the spec. */
  private followSpec(nowMs: number): void {
    const policy = this.policy;
    this.state = recordRevision(this.state, this.template.revision, this.template, nowMs, policy.revisionHistoryLimit);
    const decision = onSpec(this.state, {
      specRevision: this.template.revision,
      desiredReplicas: this.desiredReplicas,
      policy,
      activeByRevision: this.activeByRevision(),
      nowMs,
    });
    if (decision.state.rollout !== this.state.rollout && decision.state.rollout !== undefined && decision.state.rollout.number !== this.state.rollout?.number) {
      const r = decision.state.rollout;
      this.deps.logger.info({ service: this.spec.name, rollout: r.id, from: r.fromRevision, to: r.toRevision, strategy: r.strategy }, 'rollout started');
      this.deps.events.record({ type: 'rollout.started', service: this.spec.name, message: `${r.id} ${r.fromRevision} -> ${r.toRevision} (${r.strategy})`, data: { rollout: r.id, from: r.fromRevision, to: r.toRevision, strategy: r.strategy, kind: r.kind } });
    }
    if (decision.event !== undefined && decision.event.type !== 'rollout.created') {
      this.deps.events.record({ ...decision.event, service: this.spec.name });
    }
    // A rollout the spec ended (superseded, or a Failed one reverted) counts like any other end.
    const ended = decision.ended;
    if (ended !== undefined) {
      this.deps.metrics.rolloutsTotal.inc({ service: this.spec.name, strategy: ended.strategy, phase: ended.phase });
      this.deps.events.record({ type: 'rollout.aborted', service: this.spec.name, message: `${ended.id} Aborted: ${ended.message}`, data: { rollout: ended.id, from: ended.fromRevision, to: ended.toRevision, strategy: ended.strategy, phase: ended.phase, message: ended.message } });
    }
    this.state = decision.state;
  }

  private async reconcile(): Promise<void> {
    if (this.removed) return; // remove() drains everything itself
    const nowMs = this.nowMs();
    const longestUptimeMs = Math.max(0, ...[...this.replicas.values()].filter((r) => r.health.healthy).map((r) => nowMs - r.startedAtMs));
    this.backoff = afterUptime(this.backoff, longestUptimeMs);
    this.followSpec(nowMs);

    let actions: RolloutAction[] = [];
    let traffic: TrafficSplit | undefined;
    let requeueAtMs: number | undefined;
    const running = this.state.rollout;
    if (running !== undefined && isRunning(running.phase)) {
      const plan = planRollout({
        rollout: running,
        desiredReplicas: this.desiredReplicas,
        replicas: this.replicaViews(),
        nowMs,
        analysisSample: this.analysisSample(running, nowMs),
      });
      this.setRollout(plan.rollout, nowMs);
      for (const event of plan.events) this.deps.events.record({ ...event, service: this.spec.name });
      if (plan.analysisBaseline) this.analysisMeter = { revision: plan.rollout.toRevision, measure: this.deps.meter(this.spec.name, plan.rollout.toRevision) };
      if (isRunning(plan.rollout.phase)) {
        actions = [...plan.actions];
        traffic = plan.traffic;
        requeueAtMs = plan.requeueAtMs;
      }
    }
    const rollout = this.state.rollout;
    if (rollout === undefined || !isRunning(rollout.phase)) {
      this.analysisMeter = undefined;
      if (rollout?.phase === 'Failed') {
        // Frozen where it failed (autoRollback off) until abort, rollback or a new spec.
        traffic = rollout.weights.length > 0 ? { weights: rollout.weights } : undefined;
      } else {
        const serving = servingRevision(this.state, this.template.revision);
        const plan = planReplicas({ revision: serving, desiredReplicas: this.desiredReplicas, replicas: this.replicaViews({ evacuation: true }), nextStartAtMs: this.nextStartAtMs(), nowMs });
        actions = [...plan.actions];
        requeueAtMs = plan.requeueAtMs;
        traffic = this.steadyTraffic(serving);
      }
    }
    if (this.nextStartAtMs() > nowMs && actions.some((a) => a.type === 'start')) {
      actions = actions.filter((a) => a.type !== 'start');
      requeueAtMs = Math.min(requeueAtMs ?? Infinity, this.nextStartAtMs());
    }
    this.publishRolloutMetrics();
    // Weights move before replicas leave, so no request is sent to a replica being drained.
    this.setTraffic(traffic);
    void this.persist();
    clearTimeout(this.requeueTimer);
    if (requeueAtMs !== undefined) {
      this.requeueTimer = setTimeout(() => this.requestReconcile(), Math.max(0, requeueAtMs - nowMs));
      this.requeueTimer.unref();
    }
    // Drains and starts run on their own: a start takes until the replica listens, and the next
    // health change must not wait for it (the starting replica is already in the view).
    for (const action of actions) {
      this.apply(action).catch((error: unknown) => this.deps.logger.error({ service: this.spec.name, action: action.type, err: (error as Error).message }, 'replica action failed'));
    }
  }

  /** After a blue-green or canary rollout ended, replicas of the other revision take no traffic
   * while they drain; after rolling, traffic follows the replicas. */
  private steadyTraffic(serving: string): TrafficSplit | undefined {
    const last = this.state.rollout;
    if (last === undefined || last.strategy === 'rolling') return undefined;
    const others = [...this.replicas.values()].some((r) => r.phase !== 'leaving' && r.revision !== serving);
    return others ? { weights: [{ revision: serving, percent: 100 }] } : undefined;
  }

  private analysisSample(rollout: Rollout, nowMs: number): RevisionMeasurement | undefined {
    const meter = this.analysisMeter;
    const analysis = rollout.canary?.analysis;
    const intervalMs = rollout.policy.canary.analysis?.intervalMs;
    if (meter === undefined || analysis?.intervalStartedAtMs === undefined || intervalMs === undefined || meter.revision !== rollout.toRevision) return undefined;
    if (nowMs < analysis.intervalStartedAtMs + intervalMs) return undefined;
    return meter.measure();
  }

  /** Stores the planned rollout; when it just ended, moves the stable revision and counts it. */
  private setRollout(rollout: Rollout, nowMs: number): void {
    const before = this.state.rollout;
    this.state = onRolloutPlanned(this.state, rollout, nowMs);
    if (before !== undefined && isRunning(before.phase) && !isRunning(rollout.phase)) {
      this.deps.metrics.rolloutsTotal.inc({ service: this.spec.name, strategy: rollout.strategy, phase: rollout.phase });
      const level = rollout.phase === 'Succeeded' ? 'info' : 'warn';
      this.deps.logger[level]({ service: this.spec.name, rollout: rollout.id, phase: rollout.phase, message: rollout.message }, 'rollout ended');
    }
    const verdict = rollout.canary?.analysis?.last;
    const previous = before?.canary?.analysis?.last;
    if (verdict !== undefined && verdict.atMs !== previous?.atMs) this.deps.metrics.rolloutAnalysisIntervalsTotal.inc({ service: this.spec.name, verdict: verdict.verdict });
  }

  private publishRolloutMetrics(): void {
    const r = this.state.rollout;
    if (r === undefined) return;
    for (const phase of ROLLOUT_PHASES) this.deps.metrics.rolloutPhase.set({ service: this.spec.name, phase }, phase === r.phase ? 1 : 0);
    this.deps.metrics.rolloutStep.set({ service: this.spec.name }, isRunning(r.phase) ? r.step.index : 0);
  }

  private setTraffic(traffic: TrafficSplit | undefined): void {
    if (sameTraffic(traffic, this.traffic)) return;
    const previous = this.traffic;
    this.traffic = traffic;
    for (const w of previous?.weights ?? []) this.deps.metrics.trafficWeightPercent.remove({ service: this.spec.name, revision: w.revision });
    for (const w of traffic?.weights ?? []) this.deps.metrics.trafficWeightPercent.set({ service: this.spec.name, revision: w.revision }, w.percent);
    this.deps.onTraffic(this.spec.name, traffic);
  }

  private async persist(): Promise<void> {
    // A controller on its way out (service removed, or moved to another runtime whose new
    // controller owns the state now) writes nothing more.
    if (this.removed) return;
    await this.deps.stateStore?.save(this.state);
  }

  /** pause | resume | promote | abort on the running rollout; answers once it took effect. */
  async command(command: CommandName): Promise<ControllerCommandResult> {
    const result = applyCommand(this.state, command, this.nowMs());
    if (!result.ok) return result;
    this.state = result.state;
    this.deps.events.record({ type: `rollout.${command}`, service: this.spec.name, message: `${result.state.rollout?.id ?? ''} ${result.message}`, data: { rollout: result.state.rollout?.id } });
    await this.persist();
    await this.reconciled();
    return { ok: true, message: result.message, rollout: this.rolloutView() };
  }

  /** Back to `to` (default: the previous revision); see applyRollback. */
  async rollback(to: string | undefined): Promise<ControllerCommandResult> {
    const nowMs = this.nowMs();
    const result = applyRollback(this.state, to, {
      specRevision: this.template.revision,
      desiredReplicas: this.desiredReplicas,
      policy: this.policy,
      activeByRevision: this.activeByRevision(),
      nowMs,
    });
    if (!result.ok) return result;
    this.state = result.state;
    this.deps.events.record({ type: 'rollout.rollback', service: this.spec.name, message: result.message, data: { to: result.toRevision, rollout: result.state.rollout?.id } });
    await this.persist();
    await this.reconciled();
    return { ok: true, message: result.message, rollout: this.rolloutView() };
  }

  revisions(): RevisionView[] {
    const counts = this.activeByRevision();
    return this.state.revisions.map((rec) => {
      const t = rec.template;
      return {
        revision: rec.revision,
        createdAtMs: rec.createdAtMs,
        servedAtMs: rec.servedAtMs,
        stable: rec.revision === this.state.stableRevision,
        spec: rec.revision === this.template.revision,
        heldBack: rec.revision === this.state.heldBackRevision,
        replicas: counts.get(rec.revision) ?? 0,
        runs: t.runtime.kind === 'docker' ? t.runtime.image : t.runtime.command.join(' '),
        version: t.version,
      };
    });
  }

  private rolloutView(): RolloutView | undefined {
    const r = this.state.rollout;
    if (r === undefined) return undefined;
    const { policy: _policy, rolling: _rolling, blueGreen: _blueGreen, canary, request, ...rest } = r;
    const byRevision = new Map<string, { active: number; ready: number }>();
    for (const rec of this.replicas.values()) {
      if (rec.phase === 'leaving') continue;
      const entry = byRevision.get(rec.revision) ?? { active: 0, ready: 0 };
      entry.active++;
      if (rec.phase === 'serving' && rec.health.healthy) entry.ready++;
      byRevision.set(rec.revision, entry);
    }
    return {
      ...rest,
      pendingRequest: request,
      replicas: [...byRevision].map(([revision, c]) => ({ revision, ...c })).sort((a, b) => (a.revision < b.revision ? -1 : 1)),
      ...(canary?.analysis === undefined ? {} : { analysis: canary.analysis }),
    };
  }

  private async apply(action: RolloutAction): Promise<void> {
    if (action.type === 'start') {
      await this.startReplica(action.revision);
    } else {
      const record = this.replicas.get(action.replicaId);
      if (record !== undefined) this.drain(record, action.reason);
    }
  }

  private templateFor(revision: string): ReplicaTemplate | undefined {
    if (revision === this.template.revision) return this.template;
    return this.state.revisions.find((r) => r.revision === revision)?.template;
  }

  private nextReplicaId(revision: string): { replicaId: string; restarts: number } {
    for (const [replicaId, crashed] of this.crashed) {
      if (crashed.revision === revision && !this.replicas.has(replicaId)) {
        this.crashed.delete(replicaId);
        return { replicaId, restarts: crashed.restarts };
      }
    }
    return { replicaId: `${this.spec.name}-${revision.slice(0, 6)}-${randomBytes(3).toString('hex')}`, restarts: 0 };
  }

  private async startReplica(revision: string): Promise<void> {
    const template = this.templateFor(revision);
    if (template === undefined) {
      this.deps.logger.error({ service: this.spec.name, revision }, 'no template for revision; cannot start a replica of it');
      return;
    }
    const { replicaId, restarts } = this.nextReplicaId(revision);
    const record: ReplicaRecord = {
      replicaId,
      revision: template.revision,
      phase: 'starting',
      observation: undefined,
      health: INITIAL_HEALTH,
      healthySinceMs: undefined,
      startedAtMs: this.nowMs(),
      restarts,
      probeTimer: undefined,
      stopFailed: false,
    };
    this.replicas.set(replicaId, record);
    try {
      record.observation = await this.deps.driver.start(template, replicaId);
    } catch (error) {
      if (error instanceof DockmasterError && error.code === 'DM_ERR_RUNTIME_NO_HOST') return this.replicaPending(record, error.message);
      this.replicas.delete(replicaId);
      this.crashed.set(replicaId, { revision: template.revision, restarts });
      this.backoff = afterCrash(this.backoff, this.nowMs());
      this.countNewRevisionCrash(template.revision);
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
    this.pendingStart = undefined;
    this.deps.logger.info({ service: this.spec.name, replica: replicaId, revision: template.revision, origin: record.observation.origin, host: record.observation.host }, 'replica started');
    this.deps.events.record({ type: 'replica.started', service: this.spec.name, message: `${replicaId} at ${record.observation.origin ?? '?'}`, data: { replica: replicaId, revision: template.revision, origin: record.observation.origin, restarts } });
    this.scheduleProbe(record, 0);
    this.publish();
  }
  /** No host can take the replica: it waits, with the reason in the status and one event per
   * new reason, and is tried again after PENDING_RETRY_MS or as soon as a host changes. */
  private replicaPending(record: ReplicaRecord, reason: string): void {
    this.replicas.delete(record.replicaId);
    const nowMs = this.nowMs();
    if (this.pendingStart?.reason !== reason) {
      this.deps.logger.warn({ service: this.spec.name, reason }, 'replica pending: no host fits');
      this.deps.events.record({ type: 'replica.pending', service: this.spec.name, message: `a replica waits: ${reason}`, data: { reason } });
    }
    this.pendingStart = { reason, sinceMs: this.pendingStart?.reason === reason ? this.pendingStart.sinceMs : nowMs, retryAtMs: nowMs + PENDING_RETRY_MS };
    this.publish();
    this.requestReconcile();
  }

  /** A host came back, was uncordoned or freed capacity: a pending replica is tried at once. */
  hostsChanged(): void {
    if (this.pendingStart !== undefined) this.pendingStart = { ...this.pendingStart, retryAtMs: 0 };
    this.requestReconcile();
  }

  /** Replaces this service's replicas on `host` elsewhere, one at a time (see replicaViews). */
  evacuate(host: string): void {
    this.evacuating.add(host);
    this.requestReconcile();
  }

  /** Stops replacing replicas of `host` (uncordon); replacements already made stay. */
  stopEvacuating(host: string): void {
    if (this.evacuating.delete(host)) this.requestReconcile();
  }

  private onEvacuatedHost(record: ReplicaRecord): boolean {
    const host = record.observation?.host;
    return host !== undefined && this.evacuating.has(host);
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
    if (record.health.changed) record.healthySinceMs = record.health.healthy ? this.nowMs() : undefined;
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
          ...(r.observation?.host === undefined ? {} : { host: r.observation.host }),
        }),
      )
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    return {
      name: this.spec.name,
      spec: this.spec,
      revision: this.template.revision,
      stableRevision: this.state.stableRevision,
      rollout: this.rolloutView(),
      desiredReplicas: this.desiredReplicas,
      readyReplicas: replicas.filter((r) => r.state === 'ready').length,
      replicas,
      crashBackoff: this.backoff,
      ...(this.pendingStart === undefined ? {} : { pending: { reason: this.pendingStart.reason, sinceMs: this.pendingStart.sinceMs } }),
    };
  }

  /** Removes the service: every replica drains and stops. */
  async remove(): Promise<void> {
    this.removed = true;
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
