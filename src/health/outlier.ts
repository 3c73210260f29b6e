// Passive health (outlier detection) arithmetic: consecutive failures eject an endpoint for a
// time that grows with each ejection, never more than a share of its pool at once; it returns
// when the time is up. Same rules as Envoy's consecutive-5xx / gateway-failure detection. Pure.
import type { PassiveHealthConfig } from '../model/gateway.js';

export interface OutlierState {
  readonly consecutiveFailures: number;
  /** How many times this endpoint was ejected (drives the growing ejection time). */
  readonly ejections: number;
  /** Ejected until this time; 0 when not ejected. */
  readonly ejectedUntilMs: number;
}

export const NOT_EJECTED: OutlierState = { consecutiveFailures: 0, ejections: 0, ejectedUntilMs: 0 };

/** The n-th ejection lasts n x base, capped. */
export function ejectionMs(ejections: number, config: PassiveHealthConfig): number {
  return Math.min(config.maxEjectionMs, Math.max(1, ejections) * config.baseEjectionMs);
}

/** Largest number of a pool's endpoints that may be ejected at once (at least one when the
 * share allows any, so a pool of 1 with 100% can eject its only endpoint). */
export function maxEjected(poolSize: number, config: PassiveHealthConfig): number {
  return Math.floor((poolSize * config.maxEjectionPercent) / 100);
}

export type FailureVerdict = { readonly state: OutlierState; readonly ejected: boolean };

/**
 * One failed attempt. Ejects when the run of failures reaches the threshold and the pool can
 * spare the endpoint (`ejectedInPool` counts the others ejected now); otherwise only counts.
 */
export function recordFailure(state: OutlierState, nowMs: number, ejectedInPool: number, poolSize: number, config: PassiveHealthConfig): FailureVerdict {
  if (state.ejectedUntilMs > nowMs) return { state, ejected: false };
  const consecutiveFailures = state.consecutiveFailures + 1;
  if (consecutiveFailures < config.consecutiveFailures || ejectedInPool >= maxEjected(poolSize, config)) {
    return { state: { ...state, consecutiveFailures }, ejected: false };
  }
  const ejections = state.ejections + 1;
  return { state: { consecutiveFailures: 0, ejections, ejectedUntilMs: nowMs + ejectionMs(ejections, config) }, ejected: true };
}

/** One successful attempt: the run of failures ends (the ejection count is kept, so an endpoint
 * that keeps failing is ejected for longer each time). */
export function recordSuccess(state: OutlierState): OutlierState {
  return state.consecutiveFailures === 0 ? state : { ...state, consecutiveFailures: 0 };
}

export function isEjected(state: OutlierState | undefined, nowMs: number): boolean {
  return state !== undefined && state.ejectedUntilMs > nowMs;
}
