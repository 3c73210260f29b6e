// When an open-loop generator sends each request of a rate shape (load-tests/shapes.ts): requests
// due by a time and the scheduled time of the n-th one, stages ramping linearly as in k6's
// arrival-rate executors; past the last stage its rate holds. Pure.
import type { RateShape } from '../../load-tests/shapes.js';

interface Segment {
  readonly fromMs: number;
  readonly durationMs: number;
  /** Requests per ms at the start of the segment and the change per ms. */
  readonly startPerMs: number;
  readonly slopePerMs2: number;
  /** Requests due before the segment. */
  readonly before: number;
  readonly total: number;
}

function segments(shape: RateShape): Segment[] {
  const out: Segment[] = [];
  let fromMs = 0;
  let before = 0;
  let rate = shape.startRate;
  for (const stage of shape.stages) {
    const startPerMs = rate / 1000;
    const slopePerMs2 = stage.durationMs > 0 ? (stage.targetRate - rate) / 1000 / stage.durationMs : 0;
    const total = startPerMs * stage.durationMs + (slopePerMs2 * stage.durationMs * stage.durationMs) / 2;
    out.push({ fromMs, durationMs: stage.durationMs, startPerMs, slopePerMs2, before, total });
    fromMs += stage.durationMs;
    before += total;
    rate = stage.targetRate;
  }
  return out;
}

/** The rate that holds after the last stage. */
function finalRate(shape: RateShape): number {
  return shape.stages[shape.stages.length - 1]?.targetRate ?? shape.startRate;
}

/** Requests due by `elapsedMs` (fractional; request n is due once this reaches n). */
export function requestsDue(shape: RateShape, elapsedMs: number): number {
  if (elapsedMs <= 0) return 0;
  let due = 0;
  for (const s of segments(shape)) {
    if (elapsedMs <= s.fromMs + s.durationMs) {
      const t = elapsedMs - s.fromMs;
      return s.before + s.startPerMs * t + (s.slopePerMs2 * t * t) / 2;
    }
    due = s.before + s.total;
  }
  const endMs = shape.stages.reduce((sum, stage) => sum + stage.durationMs, 0);
  return due + (finalRate(shape) / 1000) * (elapsedMs - endMs);
}

/**
 * When request `index` (from 0) is due, in ms from the start: the time at which `requestsDue`
 * reaches `index`. Infinity when the shape never gets there (its final rate is 0).
 * Example: constant 200 req/s -> request 0 at 0 ms, request 1 at 5 ms, request 200 at 1000 ms.
 */
export function scheduledAtMs(shape: RateShape, index: number): number {
  if (index <= 0) return 0;
  let endMs = 0;
  let due = 0;
  for (const s of segments(shape)) {
    endMs = s.fromMs + s.durationMs;
    due = s.before + s.total;
    if (index > due) continue;
    const n = index - s.before;
    // Solves startPerMs * t + slope * t^2 / 2 = n in the form that stays exact when the slope
    // is 0 (or negative), without subtracting nearly equal numbers.
    const root = Math.sqrt(Math.max(0, s.startPerMs * s.startPerMs + 2 * s.slopePerMs2 * n));
    const denominator = s.startPerMs + root;
    return denominator > 0 ? s.fromMs + (2 * n) / denominator : s.fromMs;
  }
  const rate = finalRate(shape);
  return rate > 0 ? endMs + ((index - due) * 1000) / rate : Number.POSITIVE_INFINITY;
}

/** The highest rate of the shape, req/s. */
export function peakRate(shape: RateShape): number {
  return Math.max(shape.startRate, ...shape.stages.map((s) => s.targetRate));
}
