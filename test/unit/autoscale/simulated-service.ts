// A simulated service driven by `decide` on a fake clock, for the autoscaler scenarios. Each
// second is one bucket of what the proxy would measure. Each ready replica serves
// `capacityRps` at `baseLatencyMs`; beyond that, p95 grows with the overload (base x load per
// ready replica / capacity). A started replica becomes ready after `startupMs`. Requests that
// arrive with no ready replica are held until one is, and their latency is measured from the
// forward (hold time excluded). The autoscaler syncs at the end of every
// second, with the stable (60 s), panic (6 s) and latest (1 s) windows over the buckets.
import { decide, initialAutoscalerState, type AutoscaleDecision, type AutoscalerState } from '../../../src/autoscale/decide.js';
import type { AutoscaleInput, AutoscalePolicy, MetricWindow } from '../../../src/model/autoscale.js';

export const SECOND_MS = 1_000;

/** mulberry32: a small seeded PRNG, so noisy scenarios replay exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface SimulationOptions {
  readonly policy: AutoscalePolicy;
  readonly capacityRps: number;
  readonly baseLatencyMs: number;
  readonly startupMs: number;
  readonly initialReplicas: number;
  /** Offered requests per second during the second that starts at tMs (tMs < 0: before the start). */
  readonly load: (tMs: number) => number;
  /** Seconds measured before the first sync, so the windows start full. */
  readonly prefillSeconds: number;
  /** Pass the newest second as `latest` (default true). */
  readonly withLatest?: boolean;
}

interface Bucket {
  readonly startMs: number;
  /** Requests that arrived (the proxy counts them as they come, held or not). */
  readonly arrived: number;
  /** Served requests grouped by latency (one group per latency). */
  readonly served: readonly { readonly latencyMs: number; readonly count: number }[];
  readonly concurrency: number;
}

export interface Tick {
  readonly nowMs: number;
  readonly input: AutoscaleInput;
  readonly decision: AutoscaleDecision;
  /** Replicas before and after the decision. */
  readonly replicasBefore: number;
  readonly replicasAfter: number;
  readonly ready: number;
  /** p95 measured over the last second (undefined with nothing served). */
  readonly p95Ms: number | undefined;
}

export class SimulatedService {
  nowMs = 0;
  heldRequests = 0;
  /** Every held request that a replica later served. */
  heldServed = 0;
  state: AutoscalerState = initialAutoscalerState();
  private readonly options: SimulationOptions;
  private readyAtMs: number[];
  private readonly buckets: Bucket[] = [];
  private lastRequestAtMs: number | undefined;

  constructor(options: SimulationOptions) {
    this.options = options;
    this.readyAtMs = Array.from({ length: options.initialReplicas }, () => Number.NEGATIVE_INFINITY);
    for (let s = -options.prefillSeconds; s < 0; s++) this.measureSecond(s * SECOND_MS);
  }

  get replicas(): number {
    return this.readyAtMs.length;
  }

  readyAt(tMs: number): number {
    return this.readyAtMs.filter((at) => at <= tMs).length;
  }

  /** One second passes: the proxy measures it, then the autoscaler syncs and its decision is applied. */
  step(): Tick {
    this.measureSecond(this.nowMs);
    this.nowMs += SECOND_MS;
    const input: AutoscaleInput = {
      nowMs: this.nowMs,
      currentReplicas: this.replicas,
      readyReplicas: this.readyAt(this.nowMs),
      stable: this.window(this.options.policy.stableWindowMs),
      panic: this.window(this.options.policy.panic.windowMs),
      ...(this.options.withLatest === false ? {} : { latest: this.window(SECOND_MS) }),
      lastRequestAtMs: this.lastRequestAtMs,
      heldRequests: this.heldRequests,
    };
    const decision = decide(this.options.policy, this.state, input);
    this.state = decision.state;
    const replicasBefore = this.replicas;
    this.apply(decision.desiredReplicas);
    return { nowMs: this.nowMs, input, decision, replicasBefore, replicasAfter: this.replicas, ready: input.readyReplicas, p95Ms: this.window(SECOND_MS).p95Ms };
  }

  /** Steps until `untilMs` (inclusive), returning every tick. */
  runUntil(untilMs: number): Tick[] {
    const ticks: Tick[] = [];
    while (this.nowMs < untilMs) ticks.push(this.step());
    return ticks;
  }

  private apply(desired: number): void {
    if (desired > this.replicas) {
      for (let i = this.replicas; i < desired; i++) this.readyAtMs.push(this.nowMs + this.options.startupMs);
    } else if (desired < this.replicas) {
      // Remove the newest first: starting replicas before ready ones.
      this.readyAtMs = [...this.readyAtMs].sort((a, b) => a - b).slice(0, desired);
    }
  }

  private measureSecond(startMs: number): void {
    const { capacityRps, baseLatencyMs, load, policy } = this.options;
    const keepMs = 2 * Math.max(policy.stableWindowMs, policy.panic.windowMs);
    while (this.buckets.length > 0 && (this.buckets[0] as Bucket).startMs < startMs - keepMs) this.buckets.shift();
    const arrived = Math.max(0, Math.round(load(startMs)));
    if (arrived > 0) this.lastRequestAtMs = startMs + SECOND_MS;
    const ready = this.readyAt(startMs);
    if (ready === 0) {
      this.heldRequests += arrived;
      this.buckets.push({ startMs, arrived, served: [], concurrency: this.heldRequests });
      return;
    }
    const released = this.heldRequests;
    this.heldServed += released;
    this.heldRequests = 0;
    const served = arrived + released;
    const latencyMs = baseLatencyMs * Math.max(1, served / (ready * capacityRps));
    // The latency the autoscaler reads is the upstream's (forward to response). The time a request
    // was held during a cold start is not in it: more replicas would not shorten that wait, and
    // counting it makes 3 held requests after a 2 s start read as p95 2.1 s, which asks for 11
    // replicas.
    this.buckets.push({ startMs, arrived, served: [{ latencyMs, count: served }], concurrency: (served * latencyMs) / SECOND_MS });
  }

  /** What the proxy measured over the last `windowMs` of whole seconds. */
  private window(windowMs: number): MetricWindow {
    const inWindow = this.buckets.filter((b) => b.startMs >= this.nowMs - windowMs && b.startMs < this.nowMs);
    const requests = inWindow.reduce((sum, b) => sum + b.arrived, 0);
    const served = inWindow.flatMap((b) => b.served).filter((g) => g.count > 0).sort((x, y) => x.latencyMs - y.latencyMs);
    const total = served.reduce((sum, g) => sum + g.count, 0);
    let p95Ms: number | undefined;
    let seen = 0;
    for (const group of served) {
      seen += group.count;
      if (seen >= 0.95 * total) {
        p95Ms = group.latencyMs;
        break;
      }
    }
    const concurrency = inWindow.length === 0 ? 0 : inWindow.reduce((sum, b) => sum + b.concurrency, 0) / inWindow.length;
    return { windowMs, requests, requestsPerSecond: (requests * SECOND_MS) / windowMs, p95Ms, concurrency };
  }
}
