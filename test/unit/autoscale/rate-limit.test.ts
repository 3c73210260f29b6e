import { describe, expect, it } from 'vitest';
import { limitScaleRate, recordScaleEvent, scaleDownLimit, scaleUpLimit, type ScaleEvent } from '../../../src/autoscale/rate-limit.js';
import { AUTOSCALE_DEFAULTS, type ScalingBehavior, type ScalingRule } from '../../../src/model/autoscale.js';

const S = 1000;
const percent = (value: number, periodS: number): ScalingRule => ({ type: 'percent', value, periodMs: periodS * S });
const replicas = (value: number, periodS: number): ScalingRule => ({ type: 'replicas', value, periodMs: periodS * S });
const behavior = (selectPolicy: ScalingBehavior['selectPolicy'], ...policies: ScalingRule[]): ScalingBehavior => ({ stabilizationWindowMs: 0, policies, selectPolicy });
const event = (atS: number, fromReplicas: number, toReplicas: number): ScaleEvent => ({ atMs: atS * S, fromReplicas, toReplicas });

// The HPA docs' examples: scale-up 100% and 4 pods per 15 s (the default); scale-down 4 pods and 10% per 60 s.
const defaultUp: ScalingBehavior = AUTOSCALE_DEFAULTS.scaleUp;
const docsDown = (selectPolicy: ScalingBehavior['selectPolicy']): ScalingBehavior => behavior(selectPolicy, replicas(4, 60), percent(10, 60));

describe('scaleUpLimit (the worked examples of its doc comment)', () => {
  it.each<[string, ScalingBehavior, ScaleEvent[], number, number, number]>([
    ['max of 100% and 4 per 15 s from 1: max(2, 5) = 5', defaultUp, [], 1, 100, 5],
    ['max of 100% and 4 per 15 s from 10: max(20, 14) = 20 (doubles at most)', defaultUp, [], 10, 100, 20],
    ['min of 100% and 4 per 15 s from 1: min(2, 5) = 2', { ...defaultUp, selectPolicy: 'min' }, [], 1, 100, 2],
    ['min of 100% and 4 per 15 s from 10: min(20, 14) = 14', { ...defaultUp, selectPolicy: 'min' }, [], 10, 100, 14],
    ['100% per 15 s, scaled 1 -> 2 at 0 s: at 10 s the period started at 1, so 2 is the limit', behavior('max', percent(100, 15)), [event(0, 1, 2)], 2, 10, 2],
    ['100% per 15 s, scaled 1 -> 2 at 0 s: at 15 s the event has left the period, so 4', behavior('max', percent(100, 15)), [event(0, 1, 2)], 2, 15, 4],
    ['4 replicas per 15 s from 3: 7', behavior('max', replicas(4, 15)), [], 3, 100, 7],
    ['4 replicas per 15 s after 3 -> 7 at 5 s: at 10 s still 7', behavior('max', replicas(4, 15)), [event(5, 3, 7)], 7, 10, 7],
    ['disabled holds current', behavior('disabled', percent(100, 15)), [], 3, 100, 3],
    ['no rules means no limit', behavior('max'), [], 3, 100, Number.POSITIVE_INFINITY],
    ['percent rounds up: 50% of 3 is 4.5 -> 5', behavior('max', percent(50, 15)), [], 3, 100, 5],
  ])('%s', (_name, b, events, current, nowS, expected) => {
    expect(scaleUpLimit(b, events, current, nowS * S)).toBe(expected);
  });
});

describe('scaleDownLimit (the worked examples of its doc comment)', () => {
  it.each<[string, ScalingBehavior, ScaleEvent[], number, number, number]>([
    ['max of 4 and 10% per 60 s from 80: min(76, 72) = 72 (the larger change)', docsDown('max'), [], 80, 100, 72],
    ['max of 4 and 10% per 60 s from 30: min(26, 27) = 26 (4 replicas is now the larger change)', docsDown('max'), [], 30, 100, 26],
    ['min of 4 and 10% per 60 s from 80: max(76, 72) = 76', docsDown('min'), [], 80, 100, 76],
    ['the default 100% per 15 s from 7 allows 0', AUTOSCALE_DEFAULTS.scaleDown, [], 7, 100, 0],
    ['10% per 60 s, scaled 10 -> 9 at 0 s: at 30 s the period started at 10, so 9', behavior('max', percent(10, 60)), [event(0, 10, 9)], 9, 30, 9],
    ['percent truncates: 10% of 15 -> 13.5 -> 13', behavior('max', percent(10, 60)), [], 15, 100, 13],
    ['disabled holds current', behavior('disabled', percent(100, 15)), [], 7, 100, 7],
    ['no rules means no limit', behavior('max'), [], 7, 100, 0],
  ])('%s', (_name, b, events, current, nowS, expected) => {
    expect(scaleDownLimit(b, events, current, nowS * S)).toBe(expected);
  });

  it('a scale-up inside the period raises nothing for scale-down, but it counts toward the start', () => {
    // 10% per 60 s; 8 -> 10 at 0 s, then at 30 s from 10: the period started at 8 -> floor(7.2) = 7.
    expect(scaleDownLimit(behavior('max', percent(10, 60)), [event(0, 8, 10)], 10, 30 * S)).toBe(7);
  });
});

describe('limitScaleRate', () => {
  const args = { scaleUp: defaultUp, scaleDown: docsDown('max'), events: [] as ScaleEvent[], nowMs: 100 * S };

  it.each<[string, number, number, number, boolean]>([
    ['lets 10 -> 18 through (limit 20)', 10, 18, 18, false],
    ['holds 10 -> 30 at 20', 10, 30, 20, true],
    ['holds 80 -> 10 at 72', 80, 10, 72, true],
    ['lets 80 -> 75 through (limit 72)', 80, 75, 75, false],
    ['no change is no change', 5, 5, 5, false],
  ])('%s', (_name, currentReplicas, desiredReplicas, expected, limited) => {
    const result = limitScaleRate({ ...args, currentReplicas, desiredReplicas });
    expect(result.replicas).toBe(expected);
    expect(result.limited).toBe(limited);
  });

  it('says which rules held the count', () => {
    expect(limitScaleRate({ ...args, currentReplicas: 10, desiredReplicas: 30 }).reason).toBe('rate: up to 20 instead of 30 (max of 100% per 15 s, 4 replicas per 15 s)');
  });

  it('steps a large scale-up over successive periods: 1 -> 5 -> 10 -> 20 with the defaults', () => {
    let events: readonly ScaleEvent[] = [];
    let current = 1;
    const steps: number[] = [];
    for (let s = 0; s <= 45; s++) {
      const result = limitScaleRate({ ...args, events, currentReplicas: current, desiredReplicas: 20, nowMs: s * S });
      if (result.replicas !== current) {
        events = recordScaleEvent(events, { atMs: s * S, fromReplicas: current, toReplicas: result.replicas }, [defaultUp]);
        current = result.replicas;
        steps.push(s, current);
      }
    }
    expect(steps).toEqual([0, 5, 15, 10, 30, 20]);
  });
});

describe('recordScaleEvent', () => {
  it('appends changes, skips non-changes and forgets events older than the longest period', () => {
    const behaviors = [defaultUp, docsDown('max')]; // longest period 60 s
    let events = recordScaleEvent([], event(0, 1, 5), behaviors);
    events = recordScaleEvent(events, event(10, 5, 5), behaviors);
    expect(events).toEqual([event(0, 1, 5)]);
    events = recordScaleEvent(events, event(60, 5, 10), behaviors);
    expect(events).toEqual([event(60, 5, 10)]);
  });
});
