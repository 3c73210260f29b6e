// Dynamic endpoint state laid over a compiled pool before it is published: passive-health
// ejections, slow start of newly healthy endpoints, and panic mode. Pure.
import type { Endpoint } from '../model/endpoint.js';

export interface OverlayInput {
  /** Endpoint ids ejected right now. */
  readonly ejected: ReadonlySet<string>;
  /** When each endpoint was first seen healthy (for slow start). */
  readonly healthySinceMs: ReadonlyMap<string, number>;
  readonly nowMs: number;
  readonly slowStartMs: number;
  readonly panicThresholdPercent: number;
}

export interface OverlayResult {
  readonly endpoints: readonly Endpoint[];
  /** True when too few endpoints were healthy and the pool routes to all of them. */
  readonly panic: boolean;
  /** Earliest time a slow-start weight changes again (to schedule the next rebuild). */
  readonly nextChangeAtMs?: number | undefined;
}

/** Minimum share of its weight a slow-starting endpoint gets (Envoy's `min_weight_percent`). */
export const SLOW_START_MIN_SHARE = 0.1;
/** Slow-start weights step at most this often, so a ramp costs few table rebuilds. */
export const SLOW_START_STEPS = 10;

/**
 * Worked examples:
 * - 4 endpoints, 1 ejected, threshold 50%: 3 of 4 healthy, no panic; the ejected one is unhealthy.
 * - 4 endpoints, 3 unhealthy, threshold 50%: 1 of 4 healthy (25% < 50%): panic, all 4 pickable
 *   (draining ones excepted).
 * - slowStartMs 10000, endpoint healthy since 2500 ms ago, weight 10: weight 3 (a quarter of the
 *   way, rounded up to the next step), next change at the next step.
 * - while any endpoint of a pool ramps, every weight in the pool is first multiplied by
 *   SLOW_START_STEPS, so a ramp works with the default weight of 1: weights 1 and 1 (one healthy
 *   since 2.5 s of 10 s) become 10 and 3.
 */
export function overlayPool(endpoints: readonly Endpoint[], input: OverlayInput): OverlayResult {
  if (endpoints.length === 0) return { endpoints, panic: false };
  let nextChangeAtMs: number | undefined;
  let changed = false;
  const ramping = input.slowStartMs > 0 && endpoints.some((e) => e.healthy && !e.draining && e.weight > 0 && input.nowMs - (input.healthySinceMs.get(e.id) ?? -Infinity) < input.slowStartMs);
  const scale = ramping ? SLOW_START_STEPS : 1;
  const out: Endpoint[] = endpoints.map((e) => {
    let endpoint = e;
    if (input.ejected.has(e.id) && e.healthy) {
      endpoint = { ...endpoint, healthy: false };
      changed = true;
    }
    if (input.slowStartMs > 0 && endpoint.healthy && endpoint.weight > 0) {
      const since = input.healthySinceMs.get(e.id);
      if (since !== undefined && input.nowMs - since < input.slowStartMs) {
        const stepMs = input.slowStartMs / SLOW_START_STEPS;
        const step = Math.floor((input.nowMs - since) / stepMs) + 1;
        const share = Math.max(SLOW_START_MIN_SHARE, step / SLOW_START_STEPS);
        const weight = Math.max(1, Math.ceil(endpoint.weight * scale * share));
        const at = since + step * stepMs;
        nextChangeAtMs = nextChangeAtMs === undefined ? at : Math.min(nextChangeAtMs, at);
        if (weight !== endpoint.weight) {
          endpoint = { ...endpoint, weight };
          changed = true;
        }
        return endpoint;
      }
    }
    if (scale !== 1 && endpoint.weight > 0) {
      endpoint = { ...endpoint, weight: endpoint.weight * scale };
      changed = true;
    }
    return endpoint;
  });
  const candidates = out.filter((e) => !e.draining);
  const healthy = candidates.filter((e) => e.healthy).length;
  const panic = candidates.length > 0 && (healthy * 100) / candidates.length < input.panicThresholdPercent;
  if (panic) {
    return { endpoints: out.map((e) => (e.draining || e.healthy ? e : { ...e, healthy: true })), panic, nextChangeAtMs };
  }
  return { endpoints: changed ? out : endpoints, panic, nextChangeAtMs };
}
