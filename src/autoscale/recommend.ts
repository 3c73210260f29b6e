// Replica recommendation from one measurement window: per metric the Kubernetes HPA formula
// (desired = ceil(current x measured / target), skipped inside the tolerance), the largest wins. Pure.

import type { AutoscalePolicy, MetricWindow } from '../model/autoscale.js';
import { ceilReplicas, formatMs, formatNumber, withinTolerance } from './replica-math.js';

export type ScalingMetric = 'rps' | 'concurrency' | 'latencyP95';

export type RecommendPolicy = Pick<AutoscalePolicy, 'targetRps' | 'targetConcurrency' | 'targetLatencyP95Ms' | 'tolerance'>;

export interface ReplicaCounts {
  /** The replica count the autoscaler last set: what "no change" recommends. */
  readonly currentReplicas: number;
  /** The base of every ratio (HPA: unready replicas' zeros never count). */
  readonly readyReplicas: number;
  readonly heldRequests: number;
  /**
   * How long readyReplicas has had its value. A latency window longer than that measured another
   * capacity and counts as missing data. undefined: unknown (the first sync), trusted.
   */
  readonly readyForMs?: number | undefined;
}

export interface MetricRecommendation {
  readonly metric: ScalingMetric;
  /** undefined: the metric has no data and abstains, so it never pulls the count down. */
  readonly replicas: number | undefined;
  /** Unrounded demand in replicas, without tolerance (what panic mode compares with capacity). */
  readonly demandReplicas: number | undefined;
  readonly reason: string;
}

export interface Recommendation {
  readonly replicas: number;
  /** The largest unrounded demand over the metrics with data; undefined when none has data. */
  readonly demandReplicas: number | undefined;
  readonly metrics: readonly MetricRecommendation[];
  /** Why `replicas`: the winning metric's reason, or why no metric decided. */
  readonly reason: string;
}

/**
 * The HPA direction guard. A ratio above 1 means "more capacity", so it never recommends fewer
 * than current. That covers replicas still starting: HPA counts them as zeros and finds the
 * direction flipped. A ratio below 1 never recommends more than current.
 */
function guarded(ratio: number, desired: number, current: number): { replicas: number; note: string } {
  if (ratio > 1 && desired < current) return { replicas: current, note: ` (not below current ${current}: unready replicas take the rest)` };
  if (ratio < 1 && desired > current) return { replicas: current, note: ` (not above current ${current})` };
  return { replicas: desired, note: '' };
}

/** rps and concurrency: the proxy measures the service's total, so desired = ceil(total / target). */
function recommendFromTotal(metric: 'rps' | 'concurrency', total: number, target: number, counts: ReplicaCounts, tolerance: number, window: MetricWindow): MetricRecommendation {
  const unit = metric === 'rps' ? 'rps' : 'in flight';
  const { currentReplicas: current, readyReplicas: ready, heldRequests } = counts;
  if (window.windowMs <= 0) {
    // A window of no length (the first sync after start) has measured nothing yet.
    return { metric, replicas: undefined, demandReplicas: undefined, reason: `${metric}: no measurement yet (empty window) -> no recommendation` };
  }
  const demand = total / target;
  const measured = `${metric}: ${formatNumber(total)} ${unit} / ${formatNumber(target)} per replica = ${formatNumber(demand)} replicas`;
  if (ready === 0) {
    // No ratio without a ready replica. Traffic or held requests ask for at least one.
    const traffic = window.requests > 0 || heldRequests > 0;
    const replicas = traffic ? Math.max(1, ceilReplicas(demand)) : ceilReplicas(demand);
    return { metric, replicas, demandReplicas: demand, reason: `${measured}, none ready -> ${replicas}` };
  }
  const ratio = total / (ready * target);
  if (withinTolerance(ratio, tolerance)) {
    return { metric, replicas: current, demandReplicas: demand, reason: `${measured}, ${formatNumber(ratio)} x target over ${ready} ready, within tolerance ${formatNumber(tolerance)} -> current ${current}` };
  }
  const { replicas, note } = guarded(ratio, ceilReplicas(demand), current);
  return { metric, replicas, demandReplicas: demand, reason: `${measured}, ${formatNumber(ratio)} x target over ${ready} ready -> ${replicas}${note}` };
}

/** p95 latency: an object metric in HPA terms, desired = ceil(ready x p95 / target). */
function recommendFromLatency(p95Ms: number | undefined, targetMs: number, counts: ReplicaCounts, tolerance: number, window: MetricWindow): MetricRecommendation {
  const metric = 'latencyP95';
  const { currentReplicas: current, readyReplicas: ready } = counts;
  if (p95Ms === undefined) {
    return { metric, replicas: undefined, demandReplicas: undefined, reason: `latencyP95: no requests in the last ${formatMs(window.windowMs)}, no data -> no recommendation` };
  }
  if (ready === 0) {
    return { metric, replicas: undefined, demandReplicas: undefined, reason: `latencyP95: ${formatNumber(p95Ms)} ms with no ready replica to scale from -> no recommendation` };
  }
  if (counts.readyForMs !== undefined && window.windowMs > counts.readyForMs) {
    // Latency from before the change measured the old capacity. Multiplied by the new ready count
    // it compounds: 400 ms measured on 1 replica would ask 5 ready for 10, then 10 for 20.
    return {
      metric, replicas: undefined, demandReplicas: undefined,
      reason: `latencyP95: ${formatNumber(p95Ms)} ms over the last ${formatMs(window.windowMs)}, but ready replicas changed ${formatMs(counts.readyForMs)} ago -> no recommendation`,
    };
  }
  const ratio = p95Ms / targetMs;
  const demand = ready * ratio;
  const measured = `latencyP95: ${formatNumber(p95Ms)} ms / target ${formatNumber(targetMs)} ms = ${formatNumber(ratio)} x over ${ready} ready`;
  if (withinTolerance(ratio, tolerance)) {
    return { metric, replicas: current, demandReplicas: demand, reason: `${measured}, within tolerance ${formatNumber(tolerance)} -> current ${current}` };
  }
  const { replicas, note } = guarded(ratio, ceilReplicas(demand), current);
  return { metric, replicas, demandReplicas: demand, reason: `${measured} = ${formatNumber(demand)} replicas -> ${replicas}${note}` };
}

/**
 * Recommends a replica count from one window. The largest recommendation of the configured
 * metrics wins, as in the HPA.
 *
 * Missing data. The proxy sees every request, so a window without requests measures 0 rps and
 * 0 in flight. That is data, and it may recommend fewer replicas. A p95 without requests is
 * missing: that metric abstains. So does any metric of an empty window (windowMs 0, the first
 * sync after start). So does a p95 whose window began before the ready count last changed
 * (`readyForMs`): it measured another capacity. The rate does not depend on capacity and
 * stays valid. If no metric has data, the recommendation is the current
 * count, so missing data never scales down. With no ready replica, held or arriving requests
 * recommend at least 1.
 *
 * Worked examples (targetRps 8, tolerance 0.1; the tests reuse them):
 * - 1 ready of 1, 40 rps -> ceil(40 / 8) = 5.
 * - 3 ready of 3, 25 rps: ratio 25 / 24 = 1.04, within the tolerance -> current 3.
 * - 3 ready of 3, 27 rps: ratio 1.125 -> ceil(3.375) = 4.
 * - 4 ready of 4, 12 rps: ratio 0.375 -> ceil(1.5) = 2.
 * - 2 ready of 5 (3 starting), 24 rps: ratio 1.5, but ceil(3) = 3 < 5 -> current 5.
 * - 0 ready, 2 held, 0 rps -> 1.
 * - 4 ready, no requests: rps -> 0; a p95 target alone -> no data -> current 4.
 * - 4 ready, an empty window (windowMs 0) -> no data -> current 4.
 * - targetLatencyP95Ms 200, 2 ready, p95 300 ms: ratio 1.5 -> ceil(2 x 1.5) = 3.
 * - both targets, 2 ready, 12 rps (-> 2) and p95 500 ms (-> 5): the larger, 5.
 * - 5 ready for 3 s, p95 400 ms over 6 s (measured while 1 was ready) -> no data; the rate decides.
 */
export function recommendReplicas(policy: RecommendPolicy, counts: ReplicaCounts, window: MetricWindow): Recommendation {
  const metrics: MetricRecommendation[] = [];
  if (policy.targetRps !== undefined) metrics.push(recommendFromTotal('rps', window.requestsPerSecond, policy.targetRps, counts, policy.tolerance, window));
  if (policy.targetConcurrency !== undefined) metrics.push(recommendFromTotal('concurrency', window.concurrency, policy.targetConcurrency, counts, policy.tolerance, window));
  if (policy.targetLatencyP95Ms !== undefined) metrics.push(recommendFromLatency(window.p95Ms, policy.targetLatencyP95Ms, counts, policy.tolerance, window));

  const current = counts.currentReplicas;
  let winner: MetricRecommendation | undefined;
  let demandReplicas: number | undefined;
  for (const m of metrics) {
    if (m.demandReplicas !== undefined) demandReplicas = Math.max(demandReplicas ?? 0, m.demandReplicas);
    if (m.replicas !== undefined && (winner?.replicas === undefined || m.replicas > winner.replicas)) winner = m;
  }
  let replicas: number;
  let reason: string;
  if (winner?.replicas !== undefined) {
    replicas = winner.replicas;
    reason = metrics.length > 1 ? `${winner.metric} wins with ${replicas}` : winner.reason;
  } else {
    replicas = current;
    reason = metrics.length === 0 ? `no target configured -> current ${current}` : `no metric has data -> current ${current} (no scale-down on missing data)`;
  }
  const traffic = window.requests > 0 || counts.heldRequests > 0;
  if (counts.readyReplicas === 0 && traffic && replicas < 1) {
    replicas = 1;
    reason = `none ready with ${window.requests} requests arriving and ${counts.heldRequests} held -> at least 1`;
  }
  return { replicas, demandReplicas, metrics, reason };
}
