// Replica arithmetic shared by the autoscaler's steps: float-safe rounding, the tolerance test and
// the number format of reasons. Pure.

/** Float noise slack: 40 / 8 * 1.0000000001 must still round up to 5, not 6. */
const EPSILON = 1e-9;

/** ceil that ignores float noise and never returns -0 or a negative count. */
export function ceilReplicas(value: number): number {
  return Math.max(0, Math.ceil(value - EPSILON));
}

/** floor that ignores float noise (HPA truncates the percent scale-down limit). */
export function floorReplicas(value: number): number {
  return Math.max(0, Math.floor(value + EPSILON));
}

/** The HPA rule: a usage ratio within 1 +- tolerance changes nothing (bounds included). */
export function withinTolerance(ratio: number, tolerance: number): boolean {
  return Math.abs(1 - ratio) <= tolerance + EPSILON;
}

/** Numbers in reasons: integers as they are, others with at most 2 decimals (1.5, 0.83). */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
}

/** Durations in reasons: whole seconds when they are, milliseconds otherwise. */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
