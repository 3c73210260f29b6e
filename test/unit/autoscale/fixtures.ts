// Builders for autoscale policies, measurement windows and sync inputs used by the unit tests.
import { AUTOSCALE_DEFAULTS, type AutoscaleInput, type AutoscalePolicy, type MetricWindow } from '../../../src/model/autoscale.js';

/** AUTOSCALE_DEFAULTS with min 1, max 20 and targetRps 8 unless overridden. */
export function policyWith(overrides: Partial<AutoscalePolicy> = {}): AutoscalePolicy {
  return { ...AUTOSCALE_DEFAULTS, minReplicas: 1, maxReplicas: 20, targetRps: 8, ...overrides };
}

/** A window with a steady rate: requests = rps x seconds; p95 100 ms when there are requests. */
export function steadyWindow(windowMs: number, rps: number, extra: Partial<MetricWindow> = {}): MetricWindow {
  const requests = Math.round((rps * windowMs) / 1000);
  return { windowMs, requests, requestsPerSecond: rps, p95Ms: requests > 0 ? 100 : undefined, concurrency: 0, ...extra };
}

export interface LoadSpec {
  readonly nowMs?: number;
  readonly current: number;
  readonly ready?: number;
  /** rps in the stable, panic and latest windows (one number for all three). */
  readonly rps: number | { readonly stable: number; readonly panic: number; readonly latest?: number };
  readonly p95Ms?: number;
  readonly held?: number;
  readonly lastRequestAtMs?: number;
}

/** One sync's input with the default windows (60 s stable, 6 s panic, 1 s latest). */
export function inputWith(spec: LoadSpec): AutoscaleInput {
  const nowMs = spec.nowMs ?? 1_000_000;
  const rps = typeof spec.rps === 'number' ? { stable: spec.rps, panic: spec.rps, latest: spec.rps } : spec.rps;
  const p95 = spec.p95Ms === undefined ? {} : { p95Ms: spec.p95Ms };
  const anyRequest = rps.stable > 0 || rps.panic > 0 || (rps.latest ?? 0) > 0;
  return {
    nowMs,
    currentReplicas: spec.current,
    readyReplicas: spec.ready ?? spec.current,
    stable: steadyWindow(60_000, rps.stable, p95),
    panic: steadyWindow(6_000, rps.panic, p95),
    ...(rps.latest === undefined ? {} : { latest: steadyWindow(1_000, rps.latest, p95) }),
    lastRequestAtMs: spec.lastRequestAtMs ?? (anyRequest ? nowMs : undefined),
    heldRequests: spec.held ?? 0,
  };
}
