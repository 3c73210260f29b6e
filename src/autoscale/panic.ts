// Panic mode, as in Knative's autoscaler. Short-window demand of at least threshold x the ready
// replicas scales up at once, past the scale-up stabilization and rate limits. Nothing scales
// down while it lasts. Pure: the state is a value the caller keeps.

import { formatMs, formatNumber } from './replica-math.js';

export interface PanicState {
  /** The last sync whose demand was over the threshold; undefined when not panicking. */
  readonly lastOverThresholdAtMs: number | undefined;
  /** The highest count recommended since panic began (Knative's maxPanicPods); 0 outside panic. */
  readonly maxPanicReplicas: number;
}

export const CALM: PanicState = { lastOverThresholdAtMs: undefined, maxPanicReplicas: 0 };

export interface PanicArgs {
  readonly threshold: number;
  /** How long demand must stay under the threshold before panic ends (the stable window). */
  readonly exitAfterMs: number;
  readonly state: PanicState;
  /** Unrounded demand in replicas from the short window; undefined without data. */
  readonly demandReplicas: number | undefined;
  /** The count to scale to while panicking: the larger of the short-window and stable recommendations. */
  readonly recommendedReplicas: number;
  readonly readyReplicas: number;
  readonly nowMs: number;
}

export interface PanicDecision {
  readonly panicking: boolean;
  readonly overThreshold: boolean;
  /** While panicking, the floor of the desired count (never lower than earlier in this panic); else 0. */
  readonly replicas: number;
  readonly state: PanicState;
  readonly reason: string;
}

/**
 * Knative's rule. The ready capacity is max(1, ready replicas), as in Knative, so a service with
 * nothing ready still has a threshold. Demand at or over threshold x capacity starts panic, or
 * extends it. While panicking, the count only ratchets up.
 *
 * Exit rule: panic ends once demand has stayed under the threshold for `exitAfterMs`. decide
 * passes the stable window (60 s by default), not the 6 s panic window, as Knative does. By
 * then the stable window's average has taken in the surge. The stable recommendation
 * carries on at the panic level and shows no dip. After a 6 s exit, a 60 s average that still
 * mixes in the old load would recommend fewer replicas than the load needs.
 *
 * Worked examples (threshold 2, exit after 60 s; the tests reuse them):
 * - 1 ready, demand 5, recommended 5 -> panic, 5.
 * - 4 ready, demand 7.9 -> not over (7.9 < 8), calm.
 * - 0 ready, demand 2 -> over (capacity counts as 1): panic, at the recommended count.
 * - panicking since 0 s at 5; at 30 s demand 3, recommended 3 -> still panicking, 5 (no scale-down).
 * - last over the threshold at 0 s; at 59 s calm demand -> panicking; at 60 s -> calm.
 */
export function evaluatePanic(args: PanicArgs): PanicDecision {
  const { threshold, exitAfterMs, state, demandReplicas, recommendedReplicas, readyReplicas, nowMs } = args;
  const capacity = Math.max(1, readyReplicas);
  const overThreshold = demandReplicas !== undefined && demandReplicas >= threshold * capacity;
  const measured = demandReplicas === undefined
    ? 'no short-window data'
    : `short-window demand ${formatNumber(demandReplicas)} replicas vs ${formatNumber(threshold)} x ${capacity} ready`;
  if (overThreshold) {
    const replicas = Math.max(state.maxPanicReplicas, recommendedReplicas);
    const verb = state.lastOverThresholdAtMs === undefined ? 'panic: entered' : 'panic: extended';
    return { panicking: true, overThreshold, replicas, state: { lastOverThresholdAtMs: nowMs, maxPanicReplicas: replicas }, reason: `${verb}, ${measured} -> at least ${replicas}` };
  }
  if (state.lastOverThresholdAtMs === undefined) {
    return { panicking: false, overThreshold, replicas: 0, state: CALM, reason: `panic: no, ${measured}` };
  }
  const calmForMs = nowMs - state.lastOverThresholdAtMs;
  if (calmForMs >= exitAfterMs) {
    return { panicking: false, overThreshold, replicas: 0, state: CALM, reason: `panic: left after ${formatMs(calmForMs)} under the threshold, ${measured}` };
  }
  const replicas = Math.max(state.maxPanicReplicas, recommendedReplicas);
  return {
    panicking: true, overThreshold, replicas, state: { lastOverThresholdAtMs: state.lastOverThresholdAtMs, maxPanicReplicas: replicas },
    reason: `panic: holding, under the threshold for ${formatMs(calmForMs)} of ${formatMs(exitAfterMs)}, ${measured} -> at least ${replicas}`,
  };
}
