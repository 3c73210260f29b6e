// The autoscaler shell: for each service with an `autoscale` policy, every syncIntervalMs it
// snapshots what the proxy measured, forms the stable and panic windows, asks the pure `decide`
// for the replica count, and hands a changed count to the service's controller (which starts and
// drains; during a rollout it splits the total across revisions). A request held for a service
// with no ready replica wakes it at once. Timers and wiring only; the arithmetic is in decide.ts.
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventLog } from '../observability/event-log.js';
import type { RevisionTotals } from '../observability/latency-histogram.js';
import type { AutoscaleInput, AutoscalePolicy } from '../model/autoscale.js';
import { decide, initialAutoscalerState, type AutoscalerState } from './decide.js';
import { MetricWindows } from './metric-windows.js';

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
}

interface Scaled {
  readonly policy: AutoscalePolicy;
  readonly key: string;
  state: AutoscalerState;
  readonly windows: MetricWindows;
  timer: NodeJS.Timeout;
  lastRequests: number;
  lastRequestAtMs: number;
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
      };
      scaled.windows.record(nowMs, totals, this.deps.inFlight(name));
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
    const target = this.deps.target(service);
    if (scaled === undefined || target === undefined) return;
    const nowMs = this.nowMs();
    const totals = this.deps.totals(service);
    const inFlight = this.deps.inFlight(service);
    const held = this.deps.held(service);
    scaled.windows.record(nowMs, totals, inFlight);
    if (totals.requests !== scaled.lastRequests || inFlight > 0 || held > 0) scaled.lastRequestAtMs = nowMs;
    scaled.lastRequests = totals.requests;
    const { policy } = scaled;
    const input: AutoscaleInput = {
      nowMs,
      currentReplicas: target.desiredReplicas,
      readyReplicas: target.readyReplicas(),
      stable: scaled.windows.window(policy.stableWindowMs),
      panic: scaled.windows.window(policy.panic.windowMs),
      latest: scaled.windows.window(policy.syncIntervalMs),
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

  close(): void {
    for (const scaled of this.services.values()) clearInterval(scaled.timer);
    this.services.clear();
  }
}
