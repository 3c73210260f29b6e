// Stabilization windows, as in the Kubernetes HPA's behavior: scale up to the lowest
// recommendation over the scale-up window, down to the highest over the scale-down window.
// The autoscaler's state is a list of timed recommendations; each sync folds one more in. Pure.

import { formatMs } from './replica-math.js';

export interface TimedRecommendation {
  readonly atMs: number;
  readonly replicas: number;
}

export interface StabilizeArgs {
  /** Earlier recommendations, oldest first (what the previous call returned). */
  readonly history: readonly TimedRecommendation[];
  /** This sync's recommendation, before stabilization. */
  readonly recommendation: number;
  readonly currentReplicas: number;
  readonly nowMs: number;
  readonly scaleUpWindowMs: number;
  readonly scaleDownWindowMs: number;
}

export interface Stabilized {
  readonly replicas: number;
  /** The history to keep: this recommendation appended, entries older than both windows dropped. */
  readonly history: readonly TimedRecommendation[];
  readonly reason: string;
}

/**
 * HPA's stabilizeRecommendationWithBehaviors. An entry is inside a window when
 * `atMs > nowMs - windowMs`, so a 0 window holds only this sync's recommendation. Scale-up goes
 * only as far as the lowest recommendation in its window, and scale-down only as far as the
 * highest in its window. The raw recommendation is stored, never the stabilized one, as in HPA.
 *
 * Worked examples (current 5, windows up 0 and down 300 s unless said; the tests reuse them):
 * - history 5 at 0 s, 3 at 100 s; now 200 s recommends 2 -> 5 (the highest in 300 s).
 * - history 5 at 0 s, 3 at 100 s, 2 at 200 s; now 301 s recommends 1 -> 3 (the 5 has left).
 * - current 2, now recommends 6 -> 6 at once (up window 0).
 * - up window 60 s, current 2: 6 at 0 s, 4 at 30 s; now 40 s recommends 8 -> 4 (the lowest).
 * - current 4, history 6 at 0 s; now 10 s recommends 4 -> 4 (no move: it is the current count).
 */
export function stabilizeRecommendation(args: StabilizeArgs): Stabilized {
  const { history, recommendation, currentReplicas, nowMs, scaleUpWindowMs, scaleDownWindowMs } = args;
  let upLimit = recommendation;
  let downLimit = recommendation;
  for (const entry of history) {
    if (entry.atMs > nowMs - scaleUpWindowMs) upLimit = Math.min(upLimit, entry.replicas);
    if (entry.atMs > nowMs - scaleDownWindowMs) downLimit = Math.max(downLimit, entry.replicas);
  }
  let replicas = currentReplicas;
  let reason = `stabilized: ${recommendation} recommended, current ${currentReplicas} kept`;
  if (replicas < upLimit) {
    replicas = upLimit;
    reason = upLimit < recommendation
      ? `stabilized: up to ${upLimit}, the lowest recommendation in the last ${formatMs(scaleUpWindowMs)} (${recommendation} now)`
      : `stabilized: up to ${upLimit}`;
  } else if (replicas > downLimit) {
    replicas = downLimit;
    reason = downLimit > recommendation
      ? `stabilized: down to ${downLimit}, the highest recommendation in the last ${formatMs(scaleDownWindowMs)} (${recommendation} now)`
      : `stabilized: down to ${downLimit}`;
  } else if (recommendation < currentReplicas) {
    reason = `stabilized: current ${currentReplicas} held, the highest recommendation in the last ${formatMs(scaleDownWindowMs)} (${recommendation} now)`;
  } else if (recommendation > currentReplicas) {
    reason = `stabilized: current ${currentReplicas} held, the lowest recommendation in the last ${formatMs(scaleUpWindowMs)} (${recommendation} now)`;
  }
  const keepAfterMs = nowMs - Math.max(scaleUpWindowMs, scaleDownWindowMs);
  const kept = history.filter((entry) => entry.atMs > keepAfterMs);
  return { replicas, history: [...kept, { atMs: nowMs, replicas: recommendation }], reason };
}
