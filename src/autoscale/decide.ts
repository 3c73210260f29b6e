// One autoscaler sync for one service: recommend -> panic -> stabilize -> rate-limit -> clamp,
// folding the small autoscaler state (recommendation history, scale events, panic). Pure: the
// shell passes the measurements and nowMs, keeps the returned state, and applies desiredReplicas.

import type { AutoscaleInput, AutoscalePolicy } from '../model/autoscale.js';
import { CALM, evaluatePanic, type PanicState } from './panic.js';
import { limitScaleRate, recordScaleEvent, type ScaleEvent } from './rate-limit.js';
import { recommendReplicas, type Recommendation, type ReplicaCounts } from './recommend.js';
import { formatMs } from './replica-math.js';
import { replicaFloor } from './scale-to-zero.js';
import { stabilizeRecommendation, type TimedRecommendation } from './stabilizer.js';

export interface AutoscalerState {
  /** The first sync seen: the idle clock's start when no request has been seen since. */
  readonly firstSyncAtMs: number | undefined;
  /** Whether the last decision was in panic mode (for the shell's enter / leave events). */
  readonly panicking: boolean;
  /** The ready count at the last sync, and since when it has had that value (latency windows
   * that began earlier measured another capacity; recommend.ts). */
  readonly lastReadyReplicas: number | undefined;
  readonly readySinceMs: number | undefined;
  /** Raw recommendations inside the longer stabilization window (stabilizer.ts). */
  readonly recommendations: readonly TimedRecommendation[];
  /** Changes this autoscaler made inside the longest rate-limit period (rate-limit.ts). */
  readonly scaleEvents: readonly ScaleEvent[];
  readonly panic: PanicState;
}

export function initialAutoscalerState(): AutoscalerState {
  return { firstSyncAtMs: undefined, panicking: false, lastReadyReplicas: undefined, readySinceMs: undefined, recommendations: [], scaleEvents: [], panic: CALM };
}

export interface AutoscaleDecision {
  readonly desiredReplicas: number;
  /** The stable window's recommended count, before panic, stabilization, rate limits and clamp
   * (what metrics export as the last recommendation). */
  readonly recommendation: number;
  /** That recommendation with each metric's count and reason. */
  readonly stableRecommendation: Recommendation;
  /** The short windows' recommendation (the panic window, or `latest` when that is larger). */
  readonly panicRecommendation: Recommendation;
  /** Every step's reason, in pipeline order, numbers included (for the scaling event). */
  readonly reasons: readonly string[];
  readonly panicking: boolean;
  readonly state: AutoscalerState;
}

/** The panic window's recommendation, or the newest interval's when that one asks for more. */
function shortWindowRecommendation(policy: AutoscalePolicy, counts: ReplicaCounts, input: AutoscaleInput): Recommendation {
  const panicWindow = recommendReplicas(policy, counts, input.panic);
  if (input.latest === undefined) return panicWindow;
  const latest = recommendReplicas(policy, counts, input.latest);
  const demands = [panicWindow.demandReplicas, latest.demandReplicas].filter((d): d is number => d !== undefined);
  const winner = latest.replicas > panicWindow.replicas ? latest : panicWindow;
  return { ...winner, demandReplicas: demands.length === 0 ? undefined : Math.max(...demands) };
}

/**
 * The pipeline:
 * 1. recommend from the stable window (recommend.ts);
 * 2. panic (panic.ts) from the short windows: while panicking the recommendation is at least
 *    the panic count;
 * 3. scale to zero (scale-to-zero.ts): idle for idleMs (and not panicking) recommends 0;
 * 4. stabilize (stabilizer.ts), then rate-limit (rate-limit.ts). The first sync seeds the history
 *    with the current count, so nothing scales down within the scale-down window of a start;
 * 5. panic overrides: at least the panic count and never below current. Knative's panic skips
 *    the scale-up stabilization and rate limits in the same way;
 * 6. idle overrides: 0 at once, past the scale-down window and rate limits. A full idleMs with no
 *    request is the stabilization; the rule is "idle for idleMs drains to zero";
 * 7. clamp to [floor, maxReplicas], where the floor is minReplicas, or 0 / 1 for minReplicas 0
 *    (scale-to-zero.ts).
 * A change is recorded as a scale event for the rate limits, panic and idle jumps included.
 *
 * Worked examples (AUTOSCALE_DEFAULTS, targetRps 8, min 1, max 20; the tests reuse them):
 * - 1 of 1 ready at 8 rps everywhere -> 1, no reasons to change.
 * - 1 of 1 ready, stable 8 rps, panic window 13.3 rps, latest 40 rps -> panic, 5 at once.
 * - 5 of 5 ready, stable 8 rps (load gone) after a 40 rps past inside 300 s -> 5 (stabilized).
 * - 2 of 2 ready, 28 rps everywhere: ceil(3.5) = 4; demand 3.5 < 2 x 2, so no panic; the rate
 *   limit is max(4, 6) = 6 -> 4.
 * - 8 of 8 ready, 120 rps everywhere (15 replicas, under the panic threshold 16), scaled 4 -> 8
 *   at 0 s: at 5 s -> 8 (the period began at 4: max(8, 8)); at 15 s -> 15.
 * - min 0, idleMs 60 s, 3 of 3 ready, no request for 60 s -> 0.
 */
export function decide(policy: AutoscalePolicy, state: AutoscalerState, input: AutoscaleInput): AutoscaleDecision {
  const { nowMs, currentReplicas: current, readyReplicas: ready } = input;
  const firstSyncAtMs = state.firstSyncAtMs ?? nowMs;
  // The first sync counts the current count as recommended: a restarted autoscaler does not shed
  // replicas before its scale-down window has seen data.
  const history = state.firstSyncAtMs === undefined ? [{ atMs: nowMs, replicas: current }] : state.recommendations;
  // Unknown before the second sync: trusted, so a restart does not blind the latency metric.
  let readySinceMs = state.readySinceMs;
  if (state.lastReadyReplicas !== undefined && state.lastReadyReplicas !== ready) readySinceMs = nowMs;
  const readyForMs = readySinceMs === undefined ? undefined : nowMs - readySinceMs;
  const counts: ReplicaCounts = { currentReplicas: current, readyReplicas: ready, heldRequests: input.heldRequests, readyForMs };
  const reasons: string[] = [];

  const recommendation = recommendReplicas(policy, counts, input.stable);
  const stableLabel = `stable ${formatMs(input.stable.windowMs)}`;
  for (const metric of recommendation.metrics) reasons.push(`${stableLabel}: ${metric.reason}`);
  reasons.push(`${stableLabel}: recommends ${recommendation.replicas}: ${recommendation.reason}`);

  const panicRecommendation = shortWindowRecommendation(policy, counts, input);
  const panic = evaluatePanic({
    threshold: policy.panic.threshold,
    exitAfterMs: policy.stableWindowMs,
    state: state.panic,
    demandReplicas: panicRecommendation.demandReplicas,
    recommendedReplicas: Math.max(recommendation.replicas, panicRecommendation.replicas),
    readyReplicas: ready,
    nowMs,
  });
  reasons.push(panic.reason);

  const floor = replicaFloor(policy, input, firstSyncAtMs);
  const idle = floor.idle && !panic.panicking;
  let recommended = recommendation.replicas;
  if (idle) recommended = 0;
  else if (panic.panicking) recommended = Math.max(recommended, panic.replicas);

  const stabilized = stabilizeRecommendation({
    history,
    recommendation: recommended,
    currentReplicas: current,
    nowMs,
    scaleUpWindowMs: policy.scaleUp.stabilizationWindowMs,
    scaleDownWindowMs: policy.scaleDown.stabilizationWindowMs,
  });
  reasons.push(stabilized.reason);

  const rate = limitScaleRate({
    scaleUp: policy.scaleUp,
    scaleDown: policy.scaleDown,
    events: state.scaleEvents,
    currentReplicas: current,
    desiredReplicas: stabilized.replicas,
    nowMs,
  });
  reasons.push(rate.reason);

  let desired = rate.replicas;
  if (panic.panicking) {
    const panicDesired = Math.max(desired, panic.replicas, current);
    if (panicDesired !== desired) reasons.push(`panic: ${panicDesired} past stabilization and rate limits, never below current ${current}`);
    desired = panicDesired;
  }
  if (idle) {
    if (desired !== 0) reasons.push(`idle: 0 at once, past the scale-down window and rate limits`);
    desired = 0;
  }
  reasons.push(floor.reason);
  const clamped = Math.min(policy.maxReplicas, Math.max(floor.floor, desired));
  if (clamped !== desired) reasons.push(`clamp: ${clamped} within [${floor.floor}, ${policy.maxReplicas}] instead of ${desired}`);
  reasons.push(`desired ${clamped} (current ${current}, ready ${ready})`);

  const scaleEvents = recordScaleEvent(state.scaleEvents, { atMs: nowMs, fromReplicas: current, toReplicas: clamped }, [policy.scaleUp, policy.scaleDown]);
  return {
    desiredReplicas: clamped,
    recommendation: recommendation.replicas,
    stableRecommendation: recommendation,
    panicRecommendation,
    reasons,
    panicking: panic.panicking,
    state: { firstSyncAtMs, panicking: panic.panicking, lastReadyReplicas: ready, readySinceMs, recommendations: stabilized.history, scaleEvents, panic: panic.state },
  };
}
