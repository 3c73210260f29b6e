import { describe, expect, it } from 'vitest';
import { CALM, evaluatePanic, type PanicArgs, type PanicState } from '../../../src/autoscale/panic.js';

const S = 1000;
const panickingSince = (atS: number, maxPanicReplicas: number): PanicState => ({ lastOverThresholdAtMs: atS * S, maxPanicReplicas });
function args(state: PanicState, nowS: number, readyReplicas: number, demandReplicas: number | undefined, recommendedReplicas = Math.ceil(demandReplicas ?? 0)): PanicArgs {
  return { threshold: 2, exitAfterMs: 60 * S, state, demandReplicas, recommendedReplicas, readyReplicas, nowMs: nowS * S };
}

describe('evaluatePanic (the worked examples of its doc comment)', () => {
  it.each<[string, PanicArgs, boolean, number]>([
    ['1 ready with demand 5 panics at 5', args(CALM, 0, 1, 5), true, 5],
    ['4 ready with demand 7.9 stays calm (7.9 < 2 x 4)', args(CALM, 0, 4, 7.9), false, 0],
    ['4 ready with demand 8 panics (at the threshold counts)', args(CALM, 0, 4, 8), true, 8],
    ['0 ready with demand 2 panics: capacity counts as 1, as in Knative', args(CALM, 0, 0, 2), true, 2],
    ['0 ready with demand 1.5 stays calm', args(CALM, 0, 0, 1.5), false, 0],
    ['panicking at 5 since 0 s, at 30 s demand 3 keeps 5 (no scale-down while panicking)', args(panickingSince(0, 5), 30, 5, 3), true, 5],
    ['panicking, at 59 s under the threshold: still panicking', args(panickingSince(0, 5), 59, 5, 3), true, 5],
    ['panicking, at 60 s under the threshold for the stable window: calm', args(panickingSince(0, 5), 60, 5, 3), false, 0],
    ['no data is not over the threshold', args(CALM, 0, 1, undefined), false, 0],
  ])('%s', (_name, a, panicking, replicas) => {
    const decision = evaluatePanic(a);
    expect(decision.panicking).toBe(panicking);
    expect(decision.replicas).toBe(replicas);
  });
});

describe('evaluatePanic: the panic lifecycle', () => {
  it('ratchets up while over the threshold and restarts the exit clock each time', () => {
    let state: PanicState = CALM;
    const replicas: number[] = [];
    // demand 5 over 1 ready at 0 s, 12 over 5 ready at 1 s, then 6 over 12 ready from 2 s on.
    const script: [number, number, number][] = [[0, 1, 5], [1, 5, 12], [2, 12, 6], [61, 12, 6], [62, 12, 6]];
    const panicking: boolean[] = [];
    for (const [s, ready, demand] of script) {
      const d = evaluatePanic(args(state, s, ready, demand));
      state = d.state;
      replicas.push(d.replicas);
      panicking.push(d.panicking);
    }
    // Exit at 61 s: the last over-threshold sync was at 1 s, so the 60 s have passed.
    expect(replicas).toEqual([5, 12, 12, 0, 0]);
    expect(panicking).toEqual([true, true, true, false, false]);
  });

  it('leaves with a clean state (the next panic starts from its own count)', () => {
    const left = evaluatePanic(args(panickingSince(0, 9), 60, 5, 1));
    expect(left.state).toEqual(CALM);
    expect(evaluatePanic(args(left.state, 61, 1, 3)).replicas).toBe(3);
  });

  it('takes the recommended count, not just the demand, while panicking', () => {
    // demand 5 (short window) but the stable recommendation is larger.
    expect(evaluatePanic(args(CALM, 0, 1, 5, 7)).replicas).toBe(7);
  });

  it('explains entering, holding and leaving with numbers', () => {
    expect(evaluatePanic(args(CALM, 0, 1, 5)).reason).toBe('panic: entered, short-window demand 5 replicas vs 2 x 1 ready -> at least 5');
    expect(evaluatePanic(args(panickingSince(0, 5), 30, 5, 3)).reason).toBe('panic: holding, under the threshold for 30 s of 60 s, short-window demand 3 replicas vs 2 x 5 ready -> at least 5');
    expect(evaluatePanic(args(panickingSince(0, 5), 60, 5, 3)).reason).toBe('panic: left after 60 s under the threshold, short-window demand 3 replicas vs 2 x 5 ready');
  });
});
