import { describe, expect, it } from 'vitest';
import {
  canaryReadyPercent,
  canaryReplicasFor,
  newRollout,
  planRollout,
  type RolloutEvent,
  type RolloutInput,
  type RolloutPlan,
  type RolloutReplica,
} from '../../../src/deploy/plan/plan-rollout.js';
import type { RevisionMeasurement } from '../../../src/deploy/plan/analysis.js';
import type { DeployPolicy } from '../../../src/model/deploy.js';
import { isRunning, type Rollout } from '../../../src/model/rollout.js';
import { PlanWorld, countActions, policyWith, ready, readySet, starting, startingSet } from './rollout-fixtures.js';

const DESIRED = 4;

function rolloutOf(policy: DeployPolicy, nowMs = 0, oldActive = DESIRED): Rollout {
  return newRollout({ service: 'svc', number: 1, kind: 'deploy', policy, fromRevision: 'r1', toRevision: 'r2', desiredReplicas: DESIRED, oldActive, nowMs });
}

function plan(rollout: Rollout, replicas: readonly RolloutReplica[], nowMs: number, extra: Partial<RolloutInput> = {}): RolloutPlan {
  return planRollout({ rollout, desiredReplicas: DESIRED, replicas, nowMs, ...extra });
}

const types = (events: readonly RolloutEvent[]): string[] => events.map((e) => e.type);
const weightsOf = (p: RolloutPlan): Record<string, number> => Object.fromEntries((p.traffic?.weights ?? []).map((w) => [w.revision, w.percent]));
const m = (requests: number, errors5xx: number, p99Ms = 100): RevisionMeasurement => ({ requests, errors5xx, p95Ms: p99Ms, p99Ms });

describe('planRollout: rolling', () => {
  const quarter = policyWith({ rolling: { maxSurge: '25%', maxUnavailable: '25%', minReadyMs: 0 } });
  const surgeOnly = policyWith({ rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 }, progressDeadlineMs: 60_000 });

  it('4 -> 4 at 25%/25% first drains one old replica (ties by id) and starts two new ones', () => {
    const p = plan(rolloutOf(quarter), readySet('o', 'r1', 4), 0);
    expect(p.actions).toEqual([
      { type: 'drain', replicaId: 'o0', reason: 'replaced' },
      { type: 'start', revision: 'r2' },
      { type: 'start', revision: 'r2' },
    ]);
    expect(p.rollout).toMatchObject({ phase: 'Progressing', step: { index: 0, total: 4 } });
    expect(p.traffic).toBeUndefined();
  });

  it('4 -> 4 at 25%/25% steps to Succeeded, never under 3 ready nor over 5 active', () => {
    const world = new PlanWorld(readySet('o', 'r1', 4));
    let rollout = rolloutOf(quarter);
    const events: RolloutEvent[] = [];
    for (let t = 1; t <= 20 && isRunning(rollout.phase); t++) {
      const nowMs = t * 1_000;
      const p = plan(rollout, world.replicas, nowMs);
      rollout = p.rollout;
      events.push(...p.events);
      world.apply(p.actions, nowMs);
      expect(world.readyCount, `ready at t=${nowMs}`).toBeGreaterThanOrEqual(3);
      expect(world.active, `active at t=${nowMs}`).toBeLessThanOrEqual(5);
      world.becomeReady(nowMs);
    }
    expect(rollout).toMatchObject({ phase: 'Succeeded', message: 'all 4 replicas run r2', step: { index: 4, description: 'complete' } });
    expect(rollout.finishedAtMs).toBeDefined();
    expect(world.count('r2')).toBe(4);
    expect(world.count('r1')).toBe(0);
    expect(types(events).filter((t) => t === 'rollout.succeeded')).toHaveLength(1);
    expect(types(events)).not.toContain('rollout.weights');
  });

  it('4 -> 4 with surge 1 / unavailable 0 starts one new replica and waits for it', () => {
    const rollout = rolloutOf(surgeOnly);
    const first = plan(rollout, readySet('o', 'r1', 4), 0);
    expect(first.actions).toEqual([{ type: 'start', revision: 'r2' }]);
    const waiting = plan(first.rollout, [...readySet('o', 'r1', 4), starting('n0', 'r2', 0)], 1_000);
    expect(waiting.actions).toEqual([]);
    expect(waiting.requeueAtMs).toBe(60_000);
  });

  it.each<[string, boolean, string]>([
    ['rolls back when autoRollback is on', true, 'RolledBack'],
    ['freezes as Failed when autoRollback is off', false, 'Failed'],
  ])('no progress until the deadline %s', (_name, autoRollback, phase) => {
    const policy = policyWith({ ...surgeOnly, autoRollback });
    const stuck = [...readySet('o', 'r1', 4), starting('n0', 'r2', 0)];
    const started = plan(rolloutOf(policy), readySet('o', 'r1', 4), 0).rollout;
    expect(plan(started, stuck, 59_999).rollout.phase).toBe('Progressing');
    const p = plan(started, stuck, 60_000);
    expect(p.rollout.phase).toBe(phase);
    expect(p.rollout.message).toBe(autoRollback ? 'no progress for 60000 ms; rolled back to r1' : 'no progress for 60000 ms');
    expect(p.rollout.conditions.at(-1)).toMatchObject({ type: 'ProgressDeadlineExceeded', atMs: 60_000 });
    expect(p).toMatchObject({ actions: [], traffic: undefined });
    expect(types(p.events)).toContain(`rollout.${phase.toLowerCase()}`);
  });

  it('a new replica that crashed fails the rollout', () => {
    const crashed = { ...rolloutOf(quarter), newReplicaCrashes: 1 };
    const p = plan(crashed, readySet('o', 'r1', 4), 5_000);
    expect(p.rollout).toMatchObject({ phase: 'RolledBack', message: 'a replica of r2 exited while the rollout ran; rolled back to r1', finishedAtMs: 5_000 });
    expect(p.rollout.conditions.at(-1)?.type).toBe('ReplicaCrashed');
    expect(p.actions).toEqual([]);
    const frozen = plan({ ...crashed, policy: { ...crashed.policy, autoRollback: false } }, readySet('o', 'r1', 4), 5_000);
    expect(frozen.rollout.phase).toBe('Failed');
  });

  it('an abort request ends the rollout Aborted and is consumed', () => {
    const p = plan({ ...rolloutOf(quarter), request: 'abort' }, [...readySet('o', 'r1', 3), ...readySet('n', 'r2', 2)], 7_000);
    expect(p.rollout).toMatchObject({ phase: 'Aborted', request: undefined, paused: false, message: 'aborted; traffic back on r1', finishedAtMs: 7_000 });
    expect(p).toMatchObject({ actions: [], traffic: undefined });
    expect(types(p.events)).toContain('rollout.aborted');
  });

  it('pause holds every action; lifting it moves on', () => {
    const paused = plan({ ...rolloutOf(quarter), paused: true }, readySet('o', 'r1', 4), 0);
    expect(paused.rollout).toMatchObject({ phase: 'Paused', message: 'paused' });
    expect(paused.actions).toEqual([]);
    expect(types(paused.events)).toContain('rollout.paused');
    const resumed = plan({ ...paused.rollout, paused: false }, readySet('o', 'r1', 4), 1_000);
    expect(resumed.rollout.phase).toBe('Progressing');
    expect(countActions(resumed.actions, 'start')).toBe(2);
    expect(types(resumed.events)).toContain('rollout.progressing');
  });

  it('a terminal rollout plans nothing', () => {
    const done = { ...rolloutOf(quarter), phase: 'Succeeded' as const };
    expect(plan(done, readySet('o', 'r1', 4), 0)).toEqual({ rollout: done, actions: [], traffic: undefined, events: [], analysisBaseline: false });
  });

  it('emits step and phase events on changes only', () => {
    const first = plan(rolloutOf(quarter), readySet('o', 'r1', 4), 0);
    const view = [...readySet('o', 'r1', 3), ...startingSet('n', 'r2', 2)];
    const second = plan(first.rollout, view, 1_000);
    expect(plan(second.rollout, view, 1_000).events).toEqual([]);
    expect(plan(second.rollout, view, 2_000).events).toEqual([]);
    const progressed = plan(second.rollout, [...readySet('o', 'r1', 3), ...readySet('n', 'r2', 2, 1_000)], 3_000);
    expect(types(progressed.events)).toEqual(['rollout.step']);
    expect(progressed.events[0]).toMatchObject({ message: 'svc#1 step 2/4: 2 of 4 new replicas available', data: { rollout: 'svc#1', step: 2, total: 4 } });
  });
});

describe('planRollout: blue-green', () => {
  const manual = policyWith({ strategy: 'blue-green', blueGreen: { autoPromote: false, autoPromoteDelayMs: 0, scaleDownDelayMs: 30_000 } });
  const withPreview = policyWith({ ...manual, blueGreen: { ...manual.blueGreen, preview: { header: 'x-dockmaster-preview', value: '1' } } });
  const blue = readySet('b', 'r1', 4);
  const green = readySet('g', 'r2', 4, 1_000);

  it('starts with all traffic on blue and the full green set starting', () => {
    const rollout = rolloutOf(manual);
    expect(rollout.weights).toEqual([{ revision: 'r1', percent: 100 }, { revision: 'r2', percent: 0 }]);
    expect(rollout.blueGreen).toMatchObject({ replicas: 4, activeRevision: 'r1', autoPromote: false });
    const p = plan(rollout, blue, 0);
    expect(p.actions).toEqual(Array.from({ length: 4 }, () => ({ type: 'start', revision: 'r2' })));
    expect(p.traffic).toEqual({ weights: [{ revision: 'r1', percent: 100 }, { revision: 'r2', percent: 0 }] });
    expect(p.rollout.phase).toBe('Progressing');
  });

  it('waits for promote once green is fully ready, Paused, traffic still on blue', () => {
    const p = plan(plan(rolloutOf(manual), blue, 0).rollout, [...blue, ...green], 2_000);
    expect(p.rollout).toMatchObject({ phase: 'Paused', paused: false, message: 'new set ready: waiting for promote', step: { index: 1 } });
    expect(weightsOf(p)).toEqual({ r1: 100, r2: 0 });
    expect(p.actions).toEqual([]);
  });

  it.each<[string, DeployPolicy, RolloutReplica[], boolean]>([
    ['opens the preview when green is fully ready and the policy has one', withPreview, green, true],
    ['keeps the preview closed while green is not fully ready', withPreview, [...readySet('g', 'r2', 3, 1_000), starting('g3', 'r2', 1_000)], false],
    ['has no preview when the policy has none', manual, green, false],
  ])('%s', (_name, policy, greens, open) => {
    const p = plan(plan(rolloutOf(policy), blue, 0).rollout, [...blue, ...greens], 2_000);
    if (open) expect(p.traffic?.preview).toEqual({ header: 'x-dockmaster-preview', value: '1', revision: 'r2' });
    else expect(p.traffic?.preview).toBeUndefined();
    expect(weightsOf(p)).toEqual({ r1: 100, r2: 0 });
  });

  const waiting = (): Rollout => plan(plan(rolloutOf(manual), blue, 0).rollout, [...blue, ...green], 2_000).rollout;
  const switched = (): RolloutPlan => plan({ ...waiting(), request: 'promote' }, [...blue, ...green], 10_000);

  it('promote switches 100/0 to 0/100 in one plan and keeps blue warm', () => {
    const p = switched();
    expect(p.rollout.weights).toEqual([{ revision: 'r1', percent: 0 }, { revision: 'r2', percent: 100 }]);
    expect(p.traffic).toEqual({ weights: [{ revision: 'r1', percent: 0 }, { revision: 'r2', percent: 100 }] });
    expect(p.rollout).toMatchObject({ phase: 'Progressing', request: undefined, step: { index: 2 } });
    expect(p.actions).toEqual([]);
    expect(p.requeueAtMs).toBe(40_000);
    expect(types(p.events)).toEqual(['rollout.step', 'rollout.weights', 'rollout.progressing']);
    expect(p.events[1]?.data).toMatchObject({ weights: [{ revision: 'r1', percent: 0 }, { revision: 'r2', percent: 100 }] });
  });

  it('pause holds the traffic where it is', () => {
    const p = plan({ ...waiting(), paused: true }, [...blue, ...green], 3_000);
    expect(p.rollout.phase).toBe('Paused');
    expect(p.actions).toEqual([]);
    expect(weightsOf(p)).toEqual({ r1: 100, r2: 0 });
  });

  it('keeps both sets during the scale-down delay', () => {
    const p = plan(switched().rollout, [...blue, ...green], 39_999);
    expect(p.rollout.phase).toBe('Progressing');
    expect(p.actions).toEqual([]);
    expect(weightsOf(p)).toEqual({ r1: 0, r2: 100 });
  });

  it('abort during the scale-down delay ends the rollout Aborted at once', () => {
    const p = plan({ ...switched().rollout, request: 'abort' }, [...blue, ...green], 15_000);
    expect(p.rollout).toMatchObject({ phase: 'Aborted', message: 'aborted; traffic back on r1', finishedAtMs: 15_000 });
    expect(p.actions).toEqual([]);
  });

  it('an aborted rollout records the traffic it leaves: all on the old revision', () => {
    // The admin API shows rollout.weights; after the abort the shell sends everything to r1.
    const p = plan({ ...switched().rollout, request: 'abort' }, [...blue, ...green], 15_000);
    expect(p.rollout.weights).toEqual([{ revision: 'r1', percent: 100 }, { revision: 'r2', percent: 0 }]);
  });

  it('succeeds when the scale-down delay ends (the shell then drains blue)', () => {
    const p = plan(switched().rollout, [...blue, ...green], 40_000);
    expect(p.rollout).toMatchObject({ phase: 'Succeeded', message: 'r2 serves; old set drained', finishedAtMs: 40_000 });
    expect(p.rollout.weights).toEqual([{ revision: 'r1', percent: 0 }, { revision: 'r2', percent: 100 }]);
    expect(p).toMatchObject({ actions: [], traffic: undefined });
    expect(types(p.events)).toContain('rollout.succeeded');
  });
});

describe('canaryReplicasFor and canaryReadyPercent', () => {
  it.each<[number, number, number]>([
    [20, 4, 1],
    [50, 4, 2],
    [25, 4, 1],
    [30, 4, 2],
    [100, 4, 4],
    [1, 10, 1],
    [0, 4, 0],
    [50, 0, 0],
  ])('a canary at %d percent of %d replicas needs %d', (percent, desired, replicas) => {
    expect(canaryReplicasFor(percent, desired)).toBe(replicas);
  });

  it.each<[number, number, number]>([
    [1, 4, 25],
    [2, 4, 50],
    [0, 4, 0],
    [1, 3, 33],
    [4, 4, 100],
    [5, 4, 100],
    [0, 0, 100],
  ])('%d ready canary replicas of %d can take %d percent', (readyCount, desired, percent) => {
    expect(canaryReadyPercent(readyCount, desired)).toBe(percent);
  });

  it('the two agree: the replicas a weight needs can take that weight', () => {
    for (let percent = 1; percent <= 100; percent++) expect(canaryReadyPercent(canaryReplicasFor(percent, 4), 4)).toBeGreaterThanOrEqual(percent);
  });
});

describe('planRollout: canary', () => {
  const steps = [{ setWeight: 20 }, { pause: { durationMs: 10_000 } }, { setWeight: 50 }, { pause: {} }] as const;
  const canaryPolicy = policyWith({ strategy: 'canary', canary: { steps, stickySessions: false } });
  const analysed = policyWith({
    strategy: 'canary',
    canary: { steps, stickySessions: false, analysis: { intervalMs: 10_000, minRequests: 50, failureLimit: 0, minSuccessRate: 0.99 } },
  });
  const stable = readySet('s', 'r1', 4);
  const canaries = (n: number, startedAtMs = 0): RolloutReplica[] => readySet('c', 'r2', n, startedAtMs);

  it('starts one canary replica for 20% of 4 and keeps the weight at 0 until it is ready', () => {
    const first = plan(rolloutOf(canaryPolicy), stable, 0);
    expect(first.actions).toEqual([{ type: 'start', revision: 'r2' }]);
    expect(weightsOf(first)).toEqual({ r1: 100, r2: 0 });
    const stillStarting = plan(first.rollout, [...stable, starting('c0', 'r2', 0)], 500);
    expect(stillStarting.actions).toEqual([]);
    expect(weightsOf(stillStarting)).toEqual({ r1: 100, r2: 0 });
    expect(stillStarting.rollout.phase).toBe('Progressing');
  });

  it('moves the weight to 20 once the canary is ready and starts the timed pause', () => {
    const first = plan(rolloutOf(canaryPolicy), stable, 0);
    const p = plan(first.rollout, [...stable, ...canaries(1)], 1_000);
    expect(weightsOf(p)).toEqual({ r1: 80, r2: 20 });
    expect(p.rollout.canary?.state).toMatchObject({ stepIndex: 1, pauseStartedAtMs: 1_000, canaryWeightPercent: 20 });
    expect(p.requeueAtMs).toBe(11_000);
    expect(p.actions).toEqual([]);
    expect(types(p.events)).toContain('rollout.weights');
  });

  it('grows the canary for the next weight but moves the weight only when it is ready', () => {
    const at20 = plan(plan(rolloutOf(canaryPolicy), stable, 0).rollout, [...stable, ...canaries(1)], 1_000).rollout;
    const growing = plan(at20, [...stable, ...canaries(1)], 11_000);
    expect(weightsOf(growing)).toEqual({ r1: 80, r2: 20 });
    expect(growing.actions).toEqual([{ type: 'start', revision: 'r2' }]);
    const halfReady = plan(growing.rollout, [...stable, ...canaries(1), starting('c1', 'r2', 11_000)], 11_500);
    expect(weightsOf(halfReady)).toEqual({ r1: 80, r2: 20 });
    const at50 = plan(halfReady.rollout, [...stable, ...canaries(2)], 12_000);
    expect(weightsOf(at50)).toEqual({ r1: 50, r2: 50 });
    expect(at50.rollout).toMatchObject({ phase: 'Paused', paused: false, step: { index: 3, description: 'pause until promote' } });
  });

  it('planning the same state again emits no events', () => {
    const at20 = plan(plan(rolloutOf(canaryPolicy), stable, 0).rollout, [...stable, ...canaries(1)], 1_000);
    expect(types(at20.events)).toEqual(['rollout.step', 'rollout.weights']);
    expect(plan(at20.rollout, [...stable, ...canaries(1)], 5_000).events).toEqual([]);
  });

  it('sets the sticky cookie in the traffic split when stickySessions is on', () => {
    const sticky = policyWith({ strategy: 'canary', canary: { steps, stickySessions: true } });
    expect(plan(rolloutOf(sticky), stable, 0).traffic?.stickyCookie).toBe('dm-rev-svc');
    expect(plan(rolloutOf(canaryPolicy), stable, 0).traffic?.stickyCookie).toBeUndefined();
  });

  it('promotion grows the canary to full size before it takes 100%, then succeeds', () => {
    const at20 = plan(plan(rolloutOf(canaryPolicy), stable, 0).rollout, [...stable, ...canaries(1)], 1_000).rollout;
    const promoting = plan({ ...at20, request: 'promote' }, [...stable, ...canaries(1)], 2_000);
    expect(weightsOf(promoting)).toEqual({ r1: 80, r2: 20 });
    expect(countActions(promoting.actions, 'start', 'r2')).toBe(3);
    expect(countActions(promoting.actions, 'drain')).toBe(0);
    expect(promoting.rollout).toMatchObject({ phase: 'Progressing', request: undefined, step: { description: 'promoting: 1 of 4 canary replicas ready' } });
    const threeReady = plan(promoting.rollout, [...stable, ...canaries(3)], 3_000);
    expect(weightsOf(threeReady)).toEqual({ r1: 80, r2: 20 });
    const done = plan(threeReady.rollout, [...stable, ...canaries(4)], 4_000);
    expect(done.rollout).toMatchObject({ phase: 'Succeeded', message: 'r2 takes all traffic', weights: [{ revision: 'r1', percent: 0 }, { revision: 'r2', percent: 100 }] });
    expect(done).toMatchObject({ actions: [], traffic: undefined });
  });

  it('pause holds the weight and the sets', () => {
    const at20 = plan(plan(rolloutOf(canaryPolicy), stable, 0).rollout, [...stable, ...canaries(1)], 1_000).rollout;
    const p = plan({ ...at20, paused: true }, [...stable, ...canaries(1)], 50_000);
    expect(p.rollout.phase).toBe('Paused');
    expect(p.actions).toEqual([]);
    expect(weightsOf(p)).toEqual({ r1: 80, r2: 20 });
    expect(p.rollout.canary?.state.stepIndex).toBe(1);
  });

  it('a canary replica not ready by its progress deadline fails the rollout', () => {
    const policy = policyWith({ ...canaryPolicy, progressDeadlineMs: 30_000 });
    const p = plan(plan(rolloutOf(policy), stable, 0).rollout, [...stable, starting('c0', 'r2', 0)], 30_000);
    expect(p.rollout).toMatchObject({ phase: 'RolledBack', message: 'replica c0 not ready 30000 ms after its start; rolled back to r1' });
  });

  describe('analysis', () => {
    const at20 = (): RolloutPlan => plan(plan(rolloutOf(analysed), stable, 0).rollout, [...stable, ...canaries(1)], 1_000);
    /** The plan after the weight first moved: the interval runs from 1 000. */
    const measuring = (): RolloutPlan => plan(at20().rollout, [...stable, ...canaries(1)], 1_000);

    it('takes a baseline once the canary has weight, and requeues at the interval end', () => {
      // By the plan after the weight moved at the latest (see the next test for "at once").
      expect(at20().analysisBaseline || measuring().analysisBaseline).toBe(true);
      const p = measuring();
      expect(p.rollout.canary?.analysis).toMatchObject({ intervalStartedAtMs: 1_000, state: { intervals: 0 } });
      expect(p.requeueAtMs).toBe(11_000);
      expect(plan(p.rollout, [...stable, ...canaries(1)], 5_000).analysisBaseline).toBe(false);
    });

    it('the plan that first gives the canary traffic starts the interval at once (baseline now, or a requeue now)', () => {
      // Otherwise the first interval starts only when something else makes the shell plan again.
      const p = at20();
      expect(p.analysisBaseline || p.requeueAtMs === 1_000).toBe(true);
    });

    it('ignores a sample before the interval ends', () => {
      const p = plan(measuring().rollout, [...stable, ...canaries(1)], 5_000, { analysisSample: m(1000, 500) });
      expect(p.rollout.canary?.analysis?.state.intervals).toBe(0);
      expect(p.rollout.phase).toBe('Progressing');
      expect(types(p.events)).not.toContain('rollout.analysis');
    });

    it('folds the sample at the interval end, starts the next interval, and a pass ends the timed pause', () => {
      const p = plan(measuring().rollout, [...stable, ...canaries(1)], 11_000, { analysisSample: m(1000, 0) });
      expect(p.rollout.canary?.analysis).toMatchObject({ state: { intervals: 1, passes: 1 }, intervalStartedAtMs: 11_000, lastPassAtMs: 11_000, last: { verdict: 'pass', atMs: 11_000 } });
      expect(p.analysisBaseline).toBe(true);
      expect(p.events.find((e) => e.type === 'rollout.analysis')).toMatchObject({ data: { verdict: 'pass', requests: 1000, errors5xx: 0, successRate: 1 } });
      // The pause (10 s from 1 000) is over and an interval passed since it began: on to setWeight 50.
      expect(p.rollout.canary?.state.stepIndex).toBe(2);
      expect(countActions(p.actions, 'start', 'r2')).toBe(1);
    });

    it('restarts the interval when the shell had no sample for it', () => {
      const p = plan(measuring().rollout, [...stable, ...canaries(1)], 11_000);
      expect(p.analysisBaseline).toBe(true);
      expect(p.rollout.canary?.analysis).toMatchObject({ intervalStartedAtMs: 11_000, state: { intervals: 0 } });
    });

    it('a failed interval aborts at once with an analysis event carrying the numbers', () => {
      const p = plan(measuring().rollout, [...stable, ...canaries(1)], 11_000, { analysisSample: m(1000, 200, 150) });
      expect(p.rollout).toMatchObject({ phase: 'Aborted', message: 'analysis failed: success rate 0.8 < 0.99 (1 failed intervals > failureLimit 0)', finishedAtMs: 11_000 });
      expect(p.rollout.conditions.at(-1)?.type).toBe('AnalysisFailed');
      expect(p).toMatchObject({ actions: [], traffic: undefined });
      expect(types(p.events)[0]).toBe('rollout.analysis');
      expect(types(p.events)).toContain('rollout.aborted');
      expect(p.events[0]).toMatchObject({
        data: { revision: 'r2', verdict: 'fail', runVerdict: 'fail', requests: 1000, errors5xx: 200, successRate: 0.8, latencyMs: 150, failures: 1, failureLimit: 0 },
      });
      expect(p.events[0]?.message).toContain('1000 requests, 200 5xx, success 0.8000');
    });

    it('a failed interval aborts even while the rollout is paused', () => {
      const p = plan({ ...measuring().rollout, paused: true }, [...stable, ...canaries(1)], 11_000, { analysisSample: m(1000, 200) });
      expect(p.rollout.phase).toBe('Aborted');
    });

    it('an inconclusive interval holds the timed pause past its duration, saying it waits', () => {
      const p = plan(measuring().rollout, [...stable, ...canaries(1)], 11_000, { analysisSample: m(10, 0) });
      expect(p.rollout.phase).toBe('Progressing');
      expect(p.rollout.message).toBe('pause 10000 ms: waiting for a passing analysis interval');
      expect(p.rollout.canary?.state.stepIndex).toBe(1);
      expect(weightsOf(p)).toEqual({ r1: 80, r2: 20 });
      expect(p.requeueAtMs).toBe(21_000);
      const passed = plan(p.rollout, [...stable, ...canaries(1)], 21_000, { analysisSample: m(1000, 1) });
      expect(passed.rollout.canary?.state.stepIndex).toBe(2);
    });
  });

  it('a ready canary replica that was drained does not count as ready', () => {
    const at20 = plan(plan(rolloutOf(canaryPolicy), stable, 0).rollout, [...stable, ...canaries(1)], 1_000).rollout;
    const p = plan(at20, [...stable, { ...ready('c0', 'r2', 0), phase: 'leaving' }], 2_000);
    expect(countActions(p.actions, 'start', 'r2')).toBe(1);
  });
});
