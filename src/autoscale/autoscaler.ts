// The autoscaler shell: for each service with an `autoscale` policy, every syncIntervalMs it
// snapshots what the proxy measured, forms the stable and panic windows, asks the pure `decide`
// for the replica count, and hands a changed count to the service's controller (which starts and
// drains; during a rollout it splits the total across revisions). A request held for a service
// with no ready replica wakes it at once. Timers and wiring only; the arithmetic is in decide.ts.
// A policy with a `source` (Prometheus) takes rate, p95 and concurrency from it instead: one
// read per sync, never two at once, the last good window kept over SOURCE_STALE_SYNCS failed
// reads and then no decision from metrics (never scale on missing data; requests held at zero
// replicas, this proxy's own count, still start one).
import type { Logger } from '../observability/logger.js';
import { startAutoscaleCountersAtZero, type Metrics } from '../observability/metrics.js';
import type { EventLog } from '../observability/event-log.js';
import type { RevisionTotals } from '../observability/latency-histogram.js';
import type { AutoscaleInput, AutoscalePolicy, MetricWindow } from '../model/autoscale.js';
import { decide, initialAutoscalerState, type AutoscalerState } from './decide.js';
import { MetricWindows } from './metric-windows.js';
import { PrometheusSource, type MetricSource, type SourceRead } from './prometheus-source.js';

/** Failed source reads in a row that still use the last good window; past them nothing is decided. */
export const SOURCE_STALE_SYNCS = 3;

/** The part of a service's controller the autoscaler drives. */
export interface ScaleTarget {
  readonly desiredReplicas: number;
  readyReplicas(): number;
  setDesiredReplicas(replicas: number | undefined): void;
}

export interface AutoscalerDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly events: EventLog;
  /** Cumulative proxy totals of a service, summed over its revisions. */
  readonly totals: (service: string) => RevisionTotals;
  /** Requests in flight to the service now. */
  readonly inFlight: (service: string) => number;
  /** Requests held for the service (no ready replica). */
  readonly held: (service: string) => number;
  readonly target: (service: string) => ScaleTarget | undefined;
  readonly nowMs?: () => number;
  /** The source of a policy with `source`; default a PrometheusSource (tests pass a fake). */
  readonly metricSource?: (service: string, policy: AutoscalePolicy) => MetricSource;
}

interface SourceState {
  readonly source: MetricSource;
  reading: boolean;
  lastGood: MetricWindow | undefined;
  /** Failed reads in a row (the streak is logged once, at its first failure). */
  failures: number;
}

/** The stable and panic windows of one sync, or 'missing': the source cannot be trusted now. */
type Measured = { readonly stable: MetricWindow; readonly panic: MetricWindow } | 'missing';

interface Scaled {
  readonly policy: AutoscalePolicy;
  readonly key: string;
  state: AutoscalerState;
  readonly windows: MetricWindows;
  timer: NodeJS.Timeout;
  lastRequests: number;
  lastRequestAtMs: number;
  readonly source: SourceState | undefined;
}

/** An input and decision, for the event that records a scaling change. */
function describeInputs(input: AutoscaleInput): Record<string, unknown> {
  const round = (n: number | undefined): number | undefined => (n === undefined ? undefined : Math.round(n * 100) / 100);
  return {
    currentReplicas: input.currentReplicas,
    readyReplicas: input.readyReplicas,
    rps: round(input.stable.requestsPerSecond),
    p95Ms: round(input.stable.p95Ms),
    concurrency: round(input.stable.concurrency),
    panicRps: round(input.panic.requestsPerSecond),
    panicConcurrency: round(input.panic.concurrency),
    heldRequests: input.heldRequests,
  };
}

export class Autoscaler {
  private readonly deps: AutoscalerDeps;
  private readonly nowMs: () => number;
  private readonly services = new Map<string, Scaled>();

  constructor(deps: AutoscalerDeps) {
    this.deps = deps;
    this.nowMs = deps.nowMs ?? Date.now;
  }

  /** Follows the applied services: starts, restarts (policy changed) or stops each one's loop. */
  apply(policies: ReadonlyMap<string, AutoscalePolicy>): void {
    for (const [name, scaled] of this.services) {
      const policy = policies.get(name);
      if (policy !== undefined && JSON.stringify(policy) === scaled.key) continue;
      clearInterval(scaled.timer);
      scaled.source?.source.close();
      this.services.delete(name);
      this.deps.metrics.autoscaleRecommendation.remove({ service: name });
      this.deps.metrics.autoscalePanic.remove({ service: name });
      if (policy === undefined) this.deps.target(name)?.setDesiredReplicas(undefined);
    }
    for (const [name, policy] of policies) {
      if (this.services.has(name)) continue;
      const nowMs = this.nowMs();
      const timer = setInterval(() => this.sync(name), policy.syncIntervalMs);
      timer.unref();
      const totals = this.deps.totals(name);
      const scaled: Scaled = {
        policy,
        key: JSON.stringify(policy),
        state: initialAutoscalerState(),
        windows: new MetricWindows(Math.max(policy.stableWindowMs, policy.panic.windowMs) + policy.syncIntervalMs),
        timer,
        lastRequests: totals.requests,
        // Starting counts as activity: a service scales to zero only after idleMs of quiet.
        lastRequestAtMs: nowMs,
        source: policy.source === undefined ? undefined : { source: this.sourceFor(name, policy), reading: false, lastGood: undefined, failures: 0 },
      };
      scaled.windows.record(nowMs, totals, this.deps.inFlight(name));
      startAutoscaleCountersAtZero(this.deps.metrics, name);
      this.services.set(name, scaled);
      this.sync(name);
    }
  }

  /** A request is held for the service (no ready replica): decide now, not at the next tick. */
  wake(service: string): void {
    if (this.services.has(service)) this.sync(service);
  }

  sync(service: string): void {
    const scaled = this.services.get(service);
    if (scaled === undefined || this.deps.target(service) === undefined) return;
    const state = scaled.source;
    if (state === undefined) {
      this.decideOnce(service, scaled, undefined);
      return;
    }
    // Reads never overlap: a slow Prometheus skips syncs. The read in flight decides with the
    // held requests of the moment it answers, so a skipped wake is not lost.
    if (state.reading) return;
    state.reading = true;
    void state.source
      .read()
      .catch((error: unknown): SourceRead => ({ ok: false, error: error instanceof Error ? error.message : String(error) }))
      .then((read) => {
        state.reading = false;
        // The policy was changed or removed while the read was in flight: its answer is stale.
        if (this.services.get(service) !== scaled || this.deps.target(service) === undefined) return;
        const window = this.sourceWindow(service, state, read);
        this.decideOnce(service, scaled, window === undefined ? 'missing' : { stable: window, panic: window });
      })
      .catch((error: unknown) => this.deps.logger.error({ service, err: error }, 'autoscale sync failed'));
  }

  /** The window a read gives, the last good one within SOURCE_STALE_SYNCS failures, else undefined. */
  private sourceWindow(service: string, state: SourceState, read: SourceRead): MetricWindow | undefined {
    if (read.ok) {
      if (state.failures > 0) {
        this.deps.logger.info({ service, failedReads: state.failures }, 'autoscale source answers again');
        this.deps.events.record({ type: 'autoscale.source-recovered', service, message: `${service}: the metric source answers again after ${state.failures} failed read(s)`, data: { failedReads: state.failures } });
      }
      state.failures = 0;
      state.lastGood = read.window;
      return read.window;
    }
    state.failures += 1;
    if (state.failures === 1) {
      const message = `${service}: metric source failed: ${read.error}; keeping the last good values for ${SOURCE_STALE_SYNCS} syncs, then no scaling decisions until it answers`;
      this.deps.logger.warn({ service, error: read.error, hasLastGood: state.lastGood !== undefined }, 'autoscale source error');
      this.deps.events.record({ type: 'autoscale.source-error', service, message, data: { error: read.error, staleSyncs: SOURCE_STALE_SYNCS, hasLastGood: state.lastGood !== undefined } });
    }
    return state.failures <= SOURCE_STALE_SYNCS ? state.lastGood : undefined;
  }

  /** One decision; `measured` undefined: the proxy's own windows. */
  private decideOnce(service: string, scaled: Scaled, measured: Measured | undefined): void {
    const target = this.deps.target(service);
    if (target === undefined) return;
    const nowMs = this.nowMs();
    const totals = this.deps.totals(service);
    const inFlight = this.deps.inFlight(service);
    const held = this.deps.held(service);
    // Held requests and the last request time always come from this proxy, whatever the source.
    scaled.windows.record(nowMs, totals, inFlight);
    if (totals.requests !== scaled.lastRequests || inFlight > 0 || held > 0) scaled.lastRequestAtMs = nowMs;
    scaled.lastRequests = totals.requests;
    const { policy } = scaled;
    if (measured === 'missing') {
      this.wakeWithoutMetrics(service, policy, target, held);
      return;
    }
    const input: AutoscaleInput = {
      nowMs,
      currentReplicas: target.desiredReplicas,
      readyReplicas: target.readyReplicas(),
      stable: measured?.stable ?? scaled.windows.window(policy.stableWindowMs),
      panic: measured?.panic ?? scaled.windows.window(policy.panic.windowMs),
      // The newest sync interval: a load step shows in panic demand at the first sync after it.
      ...(measured === undefined ? { latest: scaled.windows.window(policy.syncIntervalMs) } : {}),
      lastRequestAtMs: scaled.lastRequestAtMs,
      heldRequests: held,
    };
    const decision = decide(policy, scaled.state, input);
    const wasPanicking = scaled.state.panicking;
    scaled.state = decision.state;
    this.deps.metrics.autoscaleRecommendation.set({ service }, decision.recommendation);
    this.deps.metrics.autoscalePanic.set({ service }, decision.panicking ? 1 : 0);
    if (decision.panicking !== wasPanicking) {
      this.deps.events.record({ type: 'autoscale.panic', service, message: `${service} ${decision.panicking ? 'entered' : 'left'} panic mode`, data: { panicking: decision.panicking, ...describeInputs(input) } });
    }
    const from = input.currentReplicas;
    const to = decision.desiredReplicas;
    if (to === from) return;
    const direction = to > from ? 'up' : 'down';
    this.deps.metrics.autoscaleDecisionsTotal.inc({ service, direction });
    const reason = decision.reasons.join('; ');
    this.deps.logger.info({ service, from, to, reason, ...describeInputs(input) }, 'autoscale');
    this.deps.events.record({ type: 'autoscale.scaled', service, message: `${service} ${from} -> ${to}: ${reason}`, data: { from, to, direction, reasons: decision.reasons, recommendation: decision.recommendation, panicking: decision.panicking, ...describeInputs(input) } });
    target.setDesiredReplicas(to);
  }

  /**
   * Without trustworthy metrics nothing is scaled, except that requests held for a service at
   * zero replicas (this proxy's own count, not missing data) still start one: otherwise they would
   * all time out while Prometheus is down.
   */
  private wakeWithoutMetrics(service: string, policy: AutoscalePolicy, target: ScaleTarget, held: number): void {
    if (held === 0 || target.desiredReplicas > 0) return;
    const to = Math.max(1, policy.minReplicas);
    const reason = `${held} request(s) held with no replica; the metric source has no data`;
    this.deps.metrics.autoscaleDecisionsTotal.inc({ service, direction: 'up' });
    this.deps.logger.info({ service, from: 0, to, reason, heldRequests: held }, 'autoscale');
    this.deps.events.record({ type: 'autoscale.scaled', service, message: `${service} 0 -> ${to}: ${reason}`, data: { from: 0, to, direction: 'up', reasons: [reason], heldRequests: held } });
    target.setDesiredReplicas(to);
  }

  private sourceFor(service: string, policy: AutoscalePolicy): MetricSource {
    const custom = this.deps.metricSource?.(service, policy);
    if (custom !== undefined) return custom;
    const prometheus = policy.source?.prometheus;
    if (prometheus === undefined) throw new Error(`autoscale policy of ${service} has a source without prometheus`);
    return new PrometheusSource({ ...prometheus, windowMs: policy.stableWindowMs }, this.deps.logger.child({ service }));
  }

  close(): void {
    for (const scaled of this.services.values()) {
      clearInterval(scaled.timer);
      scaled.source?.source.close();
    }
    this.services.clear();
  }
}
