import { describe, expect, it } from 'vitest';
import { INITIAL_HEALTH, nextHealth, type HealthState } from '../../../src/health/thresholds.js';

function run(results: boolean[], healthyThreshold: number, unhealthyThreshold: number): HealthState[] {
  const states: HealthState[] = [];
  let state = INITIAL_HEALTH;
  for (const passed of results) {
    state = nextHealth(state, passed, { healthyThreshold, unhealthyThreshold });
    states.push(state);
  }
  return states;
}

describe('nextHealth', () => {
  it('becomes healthy only after healthyThreshold passes in a row', () => {
    expect(run([true, false, true, true], 2, 3).map((s) => s.healthy)).toEqual([false, false, false, true]);
  });

  it('becomes unhealthy only after unhealthyThreshold failures in a row', () => {
    expect(run([true, false, false, true, false, false, false], 1, 3).map((s) => s.healthy)).toEqual([true, true, true, true, true, true, false]);
  });

  it('flags exactly the checks that flip the state', () => {
    expect(run([true, true, false, false], 1, 2).map((s) => s.changed)).toEqual([true, false, false, true]);
  });

  it('keeps the last error of a failing check', () => {
    expect(nextHealth(INITIAL_HEALTH, false, { healthyThreshold: 1, unhealthyThreshold: 1 }, 'status 503').lastError).toBe('status 503');
  });
});
