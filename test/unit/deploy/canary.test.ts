import { describe, expect, it } from 'vitest';
import { checkCanarySteps, nextCanaryStep, startCanary, type CanaryState, type CanaryStep } from '../../../src/deploy/plan/canary.js';

const steps: CanaryStep[] = [{ setWeight: 20 }, { pause: { durationMs: 60_000 } }, { setWeight: 50 }, { pause: {} }];
const ready: CanaryState = { ...startCanary(steps), canaryReady: true };

describe('nextCanaryStep (the worked examples of its doc comment)', () => {
  it('sets 20% and pauses at step 1 from t=0, asking to be requeued at the end of the pause', () => {
    const d = nextCanaryStep(ready, 0);
    expect(d).toMatchObject({ status: 'paused', weights: { canaryPercent: 20, stablePercent: 80 }, requeueAtMs: 60_000 });
    expect(d.state).toMatchObject({ stepIndex: 1, pauseStartedAtMs: 0 });
  });

  it('is idempotent inside a pause: the stored start time is kept', () => {
    const paused = nextCanaryStep(ready, 0).state;
    const again = nextCanaryStep(paused, 30_000);
    expect(again.state).toEqual(paused);
    expect(again).toMatchObject({ status: 'paused', requeueAtMs: 60_000 });
  });

  it('after the pause sets 50% and waits for promote at the pause without duration', () => {
    const d = nextCanaryStep(nextCanaryStep(ready, 0).state, 60_000);
    expect(d).toMatchObject({ status: 'waiting-for-promote', weights: { canaryPercent: 50, stablePercent: 50 }, requeueAtMs: undefined });
    expect(d.state).toMatchObject({ stepIndex: 3, pauseStartedAtMs: 60_000 });
    expect(nextCanaryStep(d.state, 999_999).state).toEqual(d.state);
  });

  it('resume at the last pause finishes the steps: canary takes 100% and succeeds', () => {
    const waiting = nextCanaryStep(nextCanaryStep(ready, 0).state, 60_000).state;
    const d = nextCanaryStep({ ...waiting, request: 'resume' }, 70_000);
    expect(d).toMatchObject({ status: 'succeeded', weights: { canaryPercent: 100, stablePercent: 0 } });
    expect(d.state).toMatchObject({ outcome: 'succeeded', stepIndex: 4, request: undefined });
  });

  it('promote in the middle skips every remaining step', () => {
    const paused = nextCanaryStep(ready, 0).state;
    expect(nextCanaryStep({ ...paused, request: 'promote' }, 1_000)).toMatchObject({ status: 'succeeded', weights: { canaryPercent: 100, stablePercent: 0 } });
  });

  it('abort sends the canary weight back to 0 at once, and stays aborted', () => {
    const waiting = nextCanaryStep(nextCanaryStep(ready, 0).state, 60_000).state;
    const aborted = nextCanaryStep({ ...waiting, request: 'abort' }, 61_000);
    expect(aborted).toMatchObject({ status: 'aborted', weights: { canaryPercent: 0, stablePercent: 100 } });
    expect(nextCanaryStep({ ...aborted.state, request: 'promote' }, 62_000)).toMatchObject({ status: 'aborted', weights: { canaryPercent: 0 } });
  });

  it('keeps the weight where it is while the canary replicas are not ready', () => {
    expect(nextCanaryStep(startCanary(steps), 0)).toMatchObject({ status: 'progressing', weights: { canaryPercent: 0, stablePercent: 100 }, state: { stepIndex: 0 } });
    const at50 = { ...nextCanaryStep(nextCanaryStep(ready, 0).state, 60_000).state, stepIndex: 2, canaryWeightPercent: 20, canaryReady: false };
    expect(nextCanaryStep(at50, 60_000).weights.canaryPercent).toBe(20);
  });
});

describe('nextCanaryStep edges', () => {
  it('resume ends only the current pause, not the next one', () => {
    const twoPauses: CanaryStep[] = [{ pause: {} }, { pause: {} }, { setWeight: 10 }];
    const d = nextCanaryStep({ ...startCanary(twoPauses), canaryReady: true, request: 'resume' }, 5);
    expect(d).toMatchObject({ status: 'waiting-for-promote', state: { stepIndex: 1, pauseStartedAtMs: 5 } });
  });

  it('an empty step list promotes at once', () => {
    expect(nextCanaryStep({ ...startCanary([]), canaryReady: true }, 0).status).toBe('succeeded');
  });

  it('a zero-length pause passes through in the same plan', () => {
    const d = nextCanaryStep({ ...startCanary([{ setWeight: 5 }, { pause: { durationMs: 0 } }, { setWeight: 30 }, { pause: {} }]), canaryReady: true }, 0);
    expect(d).toMatchObject({ status: 'waiting-for-promote', weights: { canaryPercent: 30 } });
  });

  it('weights always sum to 100 along a whole run', () => {
    let state: CanaryState = ready;
    for (let t = 0; t <= 120_000; t += 10_000) {
      const d = nextCanaryStep(state, t);
      expect(d.weights.canaryPercent + d.weights.stablePercent).toBe(100);
      state = d.state;
    }
  });
});

describe('checkCanarySteps', () => {
  it('accepts valid steps and names the invalid ones', () => {
    expect(checkCanarySteps(steps)).toEqual([]);
    expect(checkCanarySteps([{ setWeight: 101 }, { setWeight: 2.5 }, { pause: { durationMs: -1 } }])).toEqual([
      'steps[0].setWeight must be an integer from 0 to 100',
      'steps[1].setWeight must be an integer from 0 to 100',
      'steps[2].pause.durationMs must be a non-negative number',
    ]);
  });
});

describe('nextCanaryStep with per-weight readiness and an analysis gate', () => {
  it('completes a setWeight step only when the ready canary replicas can take that weight', () => {
    const s = { ...startCanary([{ setWeight: 20 }, { setWeight: 50 }, { pause: {} }]), canaryReadyPercent: 25 };
    const d = nextCanaryStep(s, 0);
    expect(d).toMatchObject({ status: 'progressing', weights: { canaryPercent: 20 }, state: { stepIndex: 1 } });
    expect(nextCanaryStep({ ...d.state, canaryReadyPercent: 50 }, 1)).toMatchObject({ status: 'waiting-for-promote', weights: { canaryPercent: 50 } });
  });

  it('holds a timed pause past its duration until an interval passed after the pause began', () => {
    const s = { ...startCanary([{ setWeight: 20 }, { pause: { durationMs: 1_000 } }]), canaryReady: true, analysisGate: { lastPassAtMs: undefined } };
    const paused = nextCanaryStep(s, 0).state;
    expect(nextCanaryStep(paused, 5_000)).toMatchObject({ status: 'paused', requeueAtMs: undefined, state: { stepIndex: 1 } });
    expect(nextCanaryStep({ ...paused, analysisGate: { lastPassAtMs: 500 } }, 5_000)).toMatchObject({ status: 'succeeded' });
    // A pass from before the pause began does not count.
    expect(nextCanaryStep({ ...paused, analysisGate: { lastPassAtMs: -1 } }, 5_000).status).toBe('paused');
  });
});
