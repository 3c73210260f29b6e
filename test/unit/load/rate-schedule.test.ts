import { describe, expect, it } from 'vitest';
import { constantShape, spikeShape, type RateShape } from '../../../load-tests/shapes.js';
import { peakRate, requestsDue, scheduledAtMs } from '../../../test/load/rate-schedule.js';

describe('requestsDue and scheduledAtMs (open-loop schedule of a rate shape)', () => {
  it('schedules a constant 200 req/s every 5 ms: request 0 at 0 ms, 1 at 5 ms, 200 at 1000 ms', () => {
    const shape = constantShape(200, 10_000);
    expect(scheduledAtMs(shape, 0)).toBe(0);
    expect(scheduledAtMs(shape, 1)).toBeCloseTo(5, 9);
    expect(scheduledAtMs(shape, 200)).toBeCloseTo(1000, 9);
    expect(requestsDue(shape, 1000)).toBeCloseTo(200, 9);
    expect(requestsDue(shape, 10_000)).toBeCloseTo(2000, 9);
  });

  it('integrates a linear ramp: 0 -> 100 req/s over 2 s is 100 requests, the first half of the time holding a quarter', () => {
    const shape: RateShape = { startRate: 0, stages: [{ durationMs: 2000, targetRate: 100 }] };
    expect(requestsDue(shape, 2000)).toBeCloseTo(100, 9);
    expect(requestsDue(shape, 1000)).toBeCloseTo(25, 9);
    // Inverse of the quadratic: request 25 is due at 1 s, request 100 at 2 s.
    expect(scheduledAtMs(shape, 25)).toBeCloseTo(1000, 6);
    expect(scheduledAtMs(shape, 100)).toBeCloseTo(2000, 6);
  });

  it('is its own inverse on every stage of a spike, ramps down included', () => {
    const shape = spikeShape(50, 200, 20_000);
    const total = requestsDue(shape, 20_000);
    for (let index = 1; index < total; index += 37) {
      expect(requestsDue(shape, scheduledAtMs(shape, index))).toBeCloseTo(index, 6);
    }
    // 5 s at 50, 1 s ramp, 7 s at 200, 1 s ramp, 6 s at 50.
    expect(total).toBeCloseTo(250 + 125 + 1400 + 125 + 300, 6);
  });

  it('sends requests in order: scheduled times never go backwards', () => {
    const shape = spikeShape(10, 80, 8_000);
    let previous = -1;
    for (let index = 0; index < requestsDue(shape, 8_000); index++) {
      const atMs = scheduledAtMs(shape, index);
      expect(atMs).toBeGreaterThanOrEqual(previous);
      previous = atMs;
    }
  });

  it('holds the final rate past the last stage (a run that waits for a rollout keeps its load)', () => {
    const shape = constantShape(100, 1_000);
    expect(requestsDue(shape, 3_000)).toBeCloseTo(300, 9);
    expect(scheduledAtMs(shape, 250)).toBeCloseTo(2_500, 9);
  });

  it('never schedules a request after a shape that ends at rate 0', () => {
    const shape: RateShape = { startRate: 10, stages: [{ durationMs: 1_000, targetRate: 0 }] };
    expect(requestsDue(shape, 1_000)).toBeCloseTo(5, 9);
    expect(scheduledAtMs(shape, 6)).toBe(Number.POSITIVE_INFINITY);
  });

  it('names the peak rate of a shape', () => {
    expect(peakRate(spikeShape(50, 200, 10_000))).toBe(200);
    expect(peakRate(constantShape(30, 1_000))).toBe(30);
  });
});
