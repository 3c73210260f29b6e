import { describe, expect, it } from 'vitest';
import { decide, initialAutoscalerState, type AutoscalerState } from '../../../src/autoscale/decide.js';
import type { AutoscaleInput, AutoscalePolicy } from '../../../src/model/autoscale.js';
import { inputWith, policyWith, type LoadSpec } from './fixtures.js';

const S = 1000;
const T0 = 1_000 * S;

/** Runs syncs in order, feeding each decision's state into the next. */
function run(policy: AutoscalePolicy, inputs: AutoscaleInput[], state: AutoscalerState = initialAutoscalerState()): ReturnType<typeof decide>[] {
  const out: ReturnType<typeof decide>[] = [];
  for (const input of inputs) {
    const decision = decide(policy, state, input);
    state = decision.state;
    out.push(decision);
  }
  return out;
}
const at = (seconds: number, spec: LoadSpec): AutoscaleInput => inputWith({ ...spec, nowMs: T0 + seconds * S });
/** A state whose first sync happened long ago (no start-up seeding in the way). */
function warmState(policy: AutoscalePolicy, spec: LoadSpec): AutoscalerState {
  return decide(policy, initialAutoscalerState(), at(-1_000, spec)).state;
}

describe('decide (the worked examples of its doc comment)', () => {
  const policy = policyWith();

  it('1 of 1 ready at 8 rps everywhere stays at 1', () => {
    const d = decide(policy, initialAutoscalerState(), at(0, { current: 1, rps: 8 }));
    expect(d).toMatchObject({ desiredReplicas: 1, recommendation: 1, panicking: false });
  });

  it('1 of 1 ready, stable 8 rps, panic window 13.3 rps, latest 40 rps: panic, 5 at once', () => {
    const d = decide(policy, warmState(policy, { current: 1, rps: 8 }), at(0, { current: 1, rps: { stable: 8, panic: 13.33, latest: 40 } }));
    expect(d.desiredReplicas).toBe(5);
    expect(d.panicking).toBe(true);
    expect(d.recommendation).toBe(1);
    expect(d.panicRecommendation.replicas).toBe(5);
  });

  it('5 of 5 ready at 8 rps after 40 rps within the last 300 s stays at 5', () => {
    const [, later] = run(policy, [at(0, { current: 5, rps: 40 }), at(200, { current: 5, rps: 8 })], warmState(policy, { current: 5, rps: 40 }));
    expect(later?.recommendation).toBe(1);
    expect(later?.desiredReplicas).toBe(5);
  });

  it('2 of 2 ready at 28 rps: 4 without panic (demand 3.5 < 4), the rate limit allows 6', () => {
    const d = decide(policy, warmState(policy, { current: 2, rps: 16 }), at(0, { current: 2, rps: 28 }));
    expect(d).toMatchObject({ desiredReplicas: 4, panicking: false });
  });

  it('8 of 8 ready at 120 rps after scaling 4 -> 8 at 0 s: 8 at 5 s (rate limit), 15 at 15 s', () => {
    // 60 rps over 4 ready: ceil(7.5) = 8, demand 7.5 < 2 x 4 (no panic).
    const scaledUp = decide(policy, warmState(policy, { current: 4, rps: 32 }), at(0, { current: 4, rps: 60 }));
    expect(scaledUp).toMatchObject({ desiredReplicas: 8, panicking: false });
    const [at5, at15] = run(policy, [at(5, { current: 8, rps: 120 }), at(15, { current: 8, rps: 120 })], scaledUp.state);
    expect(at5?.desiredReplicas).toBe(8);
    expect(at5?.reasons).toContain('rate: up to 8 instead of 15 (max of 100% per 15 s, 4 replicas per 15 s)');
    expect(at15?.desiredReplicas).toBe(15);
  });

  it('minReplicas 0, idleMs 60 s, 3 ready, no request for 60 s: 0', () => {
    const toZero = policyWith({ minReplicas: 0, scaleToZero: { idleMs: 60 * S } });
    const d = decide(toZero, warmState(toZero, { current: 3, rps: 20 }), at(0, { current: 3, rps: 0, lastRequestAtMs: T0 - 60 * S }));
    expect(d.desiredReplicas).toBe(0);
  });
});

describe('decide: the pipeline', () => {
  it('never goes above maxReplicas, even in panic', () => {
    const d = decide(policyWith({ maxReplicas: 3 }), warmState(policyWith(), { current: 1, rps: 8 }), at(0, { current: 1, rps: 80 }));
    expect(d.panicking).toBe(true);
    expect(d.desiredReplicas).toBe(3);
    expect(d.reasons).toContain('clamp: 3 within [1, 3] instead of 10');
  });

  it('never goes below minReplicas on a real scale-down', () => {
    const policy = policyWith({ minReplicas: 2, scaleDown: { stabilizationWindowMs: 0, policies: [], selectPolicy: 'max' } });
    expect(decide(policy, warmState(policy, { current: 6, rps: 40 }), at(0, { current: 6, rps: 0 })).desiredReplicas).toBe(2);
  });

  it('panic skips a scale-up stabilization window and the rate limits', () => {
    const policy = policyWith({ scaleUp: { stabilizationWindowMs: 60 * S, policies: [{ type: 'replicas', value: 1, periodMs: 60 * S }], selectPolicy: 'max' } });
    const d = decide(policy, warmState(policy, { current: 1, rps: 8 }), at(0, { current: 1, rps: { stable: 8, panic: 13.33, latest: 40 } }));
    expect(d.desiredReplicas).toBe(5);
  });

  it('without panic the same policy holds a rise back: stabilization first, then the rate limit', () => {
    const policy = policyWith({ scaleUp: { stabilizationWindowMs: 60 * S, policies: [{ type: 'replicas', value: 1, periodMs: 60 * S }], selectPolicy: 'max' } });
    // 3 recommended at -30 s; from 0 s 3 ready at 40 rps recommend 5 (demand 5 < 6: no panic).
    // At 0 s the 3 is the lowest in the up window; at 31 s it has left, and 1 replica per 60 s allows 4.
    const decisions = run(policy, [at(-30, { current: 3, rps: 24 }), at(0, { current: 3, rps: 40 }), at(31, { current: 3, rps: 40 })], warmState(policy, { current: 3, rps: 24 }));
    expect(decisions.map((d) => d.desiredReplicas)).toEqual([3, 3, 4]);
    expect(decisions.some((d) => d.panicking)).toBe(false);
  });

  it('does not scale down during panic, then follows the stable recommendation once panic ends', () => {
    const policy = policyWith({ scaleDown: { stabilizationWindowMs: 0, policies: [{ type: 'percent', value: 100, periodMs: 15 * S }], selectPolicy: 'max' } });
    const entered = decide(policy, warmState(policy, { current: 1, rps: 8 }), at(0, { current: 1, rps: { stable: 8, panic: 40, latest: 40 } }));
    expect(entered.desiredReplicas).toBe(5);
    // The burst ends: 8 rps everywhere, 5 ready. Held at 5 for the stable window (60 s), then 1.
    const after = run(policy, [at(30, { current: 5, rps: 8 }), at(59, { current: 5, rps: 8 }), at(60, { current: 5, rps: 8 })], entered.state);
    expect(after.map((d) => [d.panicking, d.desiredReplicas])).toEqual([[true, 5], [true, 5], [false, 1]]);
  });

  it('records every change as a scale event, and the state stays bounded', () => {
    const policy = policyWith();
    let state = initialAutoscalerState();
    let current = 1;
    let changes = 0;
    // 40 rps and 8 rps in turns of 200 s, for 2000 s: up at once, down after 300 s of no 40.
    for (let s = 0; s < 2_000; s++) {
      const d = decide(policy, state, at(s, { current, rps: s % 800 < 200 ? 40 : 8 }));
      if (d.desiredReplicas !== current) {
        changes += 1;
        expect(d.state.scaleEvents.at(-1)).toEqual({ atMs: T0 + s * S, fromReplicas: current, toReplicas: d.desiredReplicas });
      }
      state = d.state;
      current = d.desiredReplicas;
    }
    expect(changes).toBeGreaterThanOrEqual(4);
    expect(state.recommendations.length).toBeLessThanOrEqual(301);
    expect(state.scaleEvents.every((e) => e.atMs > T0 + 1_999 * S - 15 * S)).toBe(true);
  });

  it('the first sync does not shed replicas: it counts the current count as recommended', () => {
    const policy = policyWith();
    const [first, later] = run(policy, [at(0, { current: 5, rps: 8 }), at(300, { current: 5, rps: 8 })]);
    expect(first?.desiredReplicas).toBe(5);
    expect(later?.desiredReplicas).toBe(1);
  });

  it('a service at zero with held requests wakes to 1 (scale-to-zero floor)', () => {
    const policy = policyWith({ minReplicas: 0, scaleToZero: { idleMs: 60 * S } });
    const d = decide(policy, warmState(policy, { current: 0, rps: 0 }), at(0, { current: 0, rps: 0, held: 3, lastRequestAtMs: T0 }));
    expect(d.desiredReplicas).toBe(1);
  });

  it('a burst into a service at zero panics straight to the needed count', () => {
    const policy = policyWith({ minReplicas: 0, scaleToZero: { idleMs: 60 * S } });
    const d = decide(policy, warmState(policy, { current: 0, rps: 0 }), at(0, { current: 0, rps: { stable: 4, panic: 40, latest: 40 }, held: 40 }));
    expect(d.panicking).toBe(true);
    expect(d.desiredReplicas).toBe(5);
  });

  it('idle does not drop to zero while panicking', () => {
    const policy = policyWith({ minReplicas: 0, scaleToZero: { idleMs: 10 * S } });
    const entered = decide(policy, warmState(policy, { current: 1, rps: 8 }), at(0, { current: 1, rps: 40 }));
    const quiet = decide(policy, entered.state, at(20, { current: 5, rps: 0, lastRequestAtMs: T0 }));
    expect(quiet).toMatchObject({ panicking: true, desiredReplicas: 5 });
  });

  it('tracks since when the ready count has had its value (latency windows straddling it are missing data)', () => {
    const policy = policyWith({ targetRps: undefined, targetLatencyP95Ms: 200 });
    // The stable and panic windows still hold 400 ms measured on 1 ready; the newest second shows 100 ms.
    const fresh = (input: AutoscaleInput): AutoscaleInput => ({ ...input, latest: input.latest && { ...input.latest, p95Ms: 100 } });
    const first = decide(policy, initialAutoscalerState(), at(0, { current: 5, ready: 1, rps: 40, p95Ms: 300 }));
    expect(first.state).toMatchObject({ lastReadyReplicas: 1, readySinceMs: undefined });
    // 5 ready from 1 s. At 1 s every window predates the change. At 5 s the newest second does
    // not: 100 ms on 5 ready is a demand of 2.5, and the stale 400 ms never asks 5 ready for 10.
    const later = run(policy, [fresh(at(1, { current: 5, rps: 40, p95Ms: 400 })), fresh(at(5, { current: 5, rps: 40, p95Ms: 400 }))], first.state);
    expect(later.map((d) => [d.desiredReplicas, d.panicking, d.panicRecommendation.demandReplicas])).toEqual([[5, false, undefined], [5, false, 2.5]]);
    expect(later[1]?.state).toMatchObject({ lastReadyReplicas: 5, readySinceMs: T0 + 1 * S });
    // At 61 s every window is newer than the change: 400 ms on 5 ready is real, and asks for 10.
    expect(decide(policy, later[1]?.state ?? first.state, at(61, { current: 5, rps: 40, p95Ms: 400 })).desiredReplicas).toBe(10);
  });

  it('tells the whole story in its reasons, in pipeline order', () => {
    const d = decide(policyWith(), warmState(policyWith(), { current: 1, rps: 8 }), at(0, { current: 1, rps: 40 }));
    expect(d.reasons).toEqual([
      'stable 60 s: rps: 40 rps / 8 per replica = 5 replicas, 5 x target over 1 ready -> 5',
      'stable 60 s: recommends 5: rps: 40 rps / 8 per replica = 5 replicas, 5 x target over 1 ready -> 5',
      'panic: entered, short-window demand 5 replicas vs 2 x 1 ready -> at least 5',
      'stabilized: up to 5',
      'rate: up to 5 allowed (limit 5)',
      'floor: minReplicas 1',
      'desired 5 (current 1, ready 1)',
    ]);
  });
});
