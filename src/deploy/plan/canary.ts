// Canary step progression: walks `setWeight` and `pause` steps, stores a pause's start time
// (never sleeps), applies promote/resume/abort, and says the traffic weight per revision. Pure.

export type CanaryStep =
  | { readonly setWeight: number }
  /** No durationMs: wait for `resume` or `promote`. */
  | { readonly pause: { readonly durationMs?: number | undefined } };

/** What the shell persists between plans, plus two observed/requested inputs. */
export interface CanaryState {
  readonly steps: readonly CanaryStep[];
  /** The step being executed; steps.length once all are done. */
  readonly stepIndex: number;
  readonly canaryWeightPercent: number;
  /** When the current pause step was first reached; undefined unless at a pause step. */
  readonly pauseStartedAtMs: number | undefined;
  readonly outcome: 'running' | 'succeeded' | 'aborted';
  /** A command stored by the admin API, consumed by the next plan. `resume` ends the current
   * pause; `promote` skips every remaining step (Argo's `promote --full`); `abort` sends the
   * canary weight back to 0 at once (a failed analysis aborts too). */
  readonly request?: 'promote' | 'resume' | 'abort' | undefined;
  /** Observed: every canary replica wanted now is available. A setWeight step completes only
   * then, so weight never moves onto replicas that cannot take it yet. */
  readonly canaryReady: boolean;
  /** Observed, finer than canaryReady when set: the highest weight the ready canary replicas can
   * take now (100 when all of them are up). A setWeight N step completes only when N <= this. */
  readonly canaryReadyPercent?: number | undefined;
  /** Present when an analysis runs: a timed pause ends only once an interval passed after the
   * pause began (an inconclusive run waits instead of passing). resume and promote skip it. */
  readonly analysisGate?: { readonly lastPassAtMs: number | undefined } | undefined;
}

export type CanaryStatus = 'progressing' | 'paused' | 'waiting-for-promote' | 'succeeded' | 'aborted';

export interface CanaryDecision {
  /** Persist this; planning again with it at the same nowMs gives the same decision. */
  readonly state: CanaryState;
  readonly status: CanaryStatus;
  readonly weights: { readonly canaryPercent: number; readonly stablePercent: number };
  /** A timed pause ends then: plan again. */
  readonly requeueAtMs?: number | undefined;
}

export function startCanary(steps: readonly CanaryStep[]): CanaryState {
  return { steps, stepIndex: 0, canaryWeightPercent: 0, pauseStartedAtMs: undefined, outcome: 'running', canaryReady: false };
}

/** Problems with a step list, empty when valid: weights are integers 0..100, durations >= 0. */
export function checkCanarySteps(steps: readonly CanaryStep[]): string[] {
  const problems: string[] = [];
  steps.forEach((step, i) => {
    if ('setWeight' in step) {
      if (!Number.isInteger(step.setWeight) || step.setWeight < 0 || step.setWeight > 100) problems.push(`steps[${i}].setWeight must be an integer from 0 to 100`);
    } else if (step.pause.durationMs !== undefined && (!Number.isFinite(step.pause.durationMs) || step.pause.durationMs < 0)) {
      problems.push(`steps[${i}].pause.durationMs must be a non-negative number`);
    }
  });
  return problems;
}

function decide(state: CanaryState, status: CanaryStatus, requeueAtMs?: number): CanaryDecision {
  const canaryPercent = state.canaryWeightPercent;
  return { state, status, weights: { canaryPercent, stablePercent: 100 - canaryPercent }, requeueAtMs };
}

/**
 * Advances as far as the state allows at nowMs (several steps in one call when they can complete),
 * like Argo Rollouts' canary reconcile: a setWeight step sets the weight and completes once the
 * canary is ready; a pause records its start time and completes when its duration has passed (or
 * on resume); past the last step the canary takes 100% and the rollout succeeds. Terminal states
 * stay terminal: a promote after an abort changes nothing.
 *
 * Worked examples (the tests reuse them), steps [setWeight 20, pause 60 s, setWeight 50, pause]:
 * - start, canary ready, t=0: weight 20/80, paused at step 1 since 0, requeue at 60 000.
 * - same state at t=30 000: unchanged (idempotent), requeue at 60 000.
 * - t=60 000: weight 50/50, step 3, waiting for promote (no requeue).
 * - there, `resume`: past the last step -> 100/0, succeeded.
 * - at step 1, `promote`: skip the rest -> 100/0, succeeded.
 * - at step 3 with weight 50, `abort`: weight 0/100, aborted.
 * - start, canary not ready: weight stays 0/100 at step 0, progressing.
 */
export function nextCanaryStep(state: CanaryState, nowMs: number): CanaryDecision {
  if (state.outcome !== 'running') return decide({ ...state, request: undefined }, state.outcome);
  const request = state.request;
  let s: CanaryState = { ...state, request: undefined };
  if (request === 'abort') {
    return decide({ ...s, canaryWeightPercent: 0, pauseStartedAtMs: undefined, outcome: 'aborted' }, 'aborted');
  }
  if (request === 'promote') s = { ...s, stepIndex: s.steps.length, pauseStartedAtMs: undefined };
  let resumed = request === 'resume';

  for (;;) {
    const step = s.steps[s.stepIndex];
    if (step === undefined) {
      return decide({ ...s, stepIndex: s.steps.length, canaryWeightPercent: 100, pauseStartedAtMs: undefined, outcome: 'succeeded' }, 'succeeded');
    }
    if ('setWeight' in step) {
      const ready = s.canaryReadyPercent !== undefined ? step.setWeight <= s.canaryReadyPercent : s.canaryReady;
      s = { ...s, canaryWeightPercent: ready ? step.setWeight : s.canaryWeightPercent };
      if (!ready) return decide(s, 'progressing');
      s = { ...s, stepIndex: s.stepIndex + 1 };
      continue;
    }
    const startedAtMs = s.pauseStartedAtMs ?? nowMs;
    const { durationMs } = step.pause;
    const gate = s.analysisGate;
    const analysisPassed = gate === undefined || (gate.lastPassAtMs !== undefined && gate.lastPassAtMs >= startedAtMs);
    const ended = resumed || (durationMs !== undefined && nowMs >= startedAtMs + durationMs && analysisPassed);
    if (ended) {
      resumed = false; // a resume ends one pause only
      s = { ...s, stepIndex: s.stepIndex + 1, pauseStartedAtMs: undefined };
      continue;
    }
    s = { ...s, pauseStartedAtMs: startedAtMs };
    if (durationMs === undefined) return decide(s, 'waiting-for-promote');
    // Past its duration but waiting for a passing analysis interval: the next interval requeues.
    return decide(s, 'paused', nowMs >= startedAtMs + durationMs ? undefined : startedAtMs + durationMs);
  }
}
