import { describe, expect, it } from 'vitest';
import {
  checkBlueGreenOptions,
  planBlueGreenStep,
  startBlueGreen,
  type BlueGreenAction,
  type BlueGreenOptions,
  type BlueGreenReplica,
  type BlueGreenState,
} from '../../../src/deploy/plan/blue-green.js';

const T = 1_000_000;
const opts: BlueGreenOptions = { blueRevision: 'r1', greenRevision: 'r2', replicas: 3 };
const manual = startBlueGreen(opts);

const replica = (replicaId: string, revision: string, ready = true, startedAtMs = 0): BlueGreenReplica =>
  ({ replicaId, revision, phase: ready ? 'serving' : 'starting', ready, startedAtMs });
const blues = (n = 3): BlueGreenReplica[] => Array.from({ length: n }, (_, i) => replica(`b${i}`, 'r1'));
const greens = (n = 3, ready = true, startedAtMs = T): BlueGreenReplica[] => Array.from({ length: n }, (_, i) => replica(`g${i}`, 'r2', ready, startedAtMs));
const drains = (ids: string[], reason: 'replaced' | 'aborted'): BlueGreenAction[] => ids.map((replicaId) => ({ type: 'drain', replicaId, reason }));
const switchedAt = (t: number): BlueGreenState => ({ ...manual, activeRevision: 'r2', greenReadySinceMs: t, switchedAtMs: t });

describe('planBlueGreenStep (the worked examples of its doc comment)', () => {
  it('at the start starts the full green set next to blue, keeps traffic on blue and requeues at the progress deadline', () => {
    const plan = planBlueGreenStep({ state: manual, replicaViews: blues() }, T);
    expect(plan.actions).toEqual([{ type: 'start', revision: 'r2' }, { type: 'start', revision: 'r2' }, { type: 'start', revision: 'r2' }]);
    expect(plan).toMatchObject({ status: 'progressing', activeRevision: 'r1', previewActive: false, condition: { type: 'Progressing' } });
    // No green replica exists yet; once they do, the deadline counts from their start.
    expect(planBlueGreenStep({ state: manual, replicaViews: [...blues(), ...greens(3, false)] }, T).requeueAtMs).toBe(T + 600_000);
  });

  it('with blue and green fully ready and manual promote waits for promote, the preview open and traffic on blue', () => {
    const plan = planBlueGreenStep({ state: { ...manual, preview: true }, replicaViews: [...blues(), ...greens()] }, T);
    expect(plan).toMatchObject({ status: 'waiting-for-promote', activeRevision: 'r1', previewActive: true, actions: [], requeueAtMs: undefined });
  });

  it('promote switches the active revision at once and keeps blue warm until the scale-down delay', () => {
    const waiting = planBlueGreenStep({ state: manual, replicaViews: [...blues(), ...greens()] }, T).state;
    const plan = planBlueGreenStep({ state: { ...waiting, request: 'promote' }, replicaViews: [...blues(), ...greens()] }, T + 1);
    expect(plan).toMatchObject({ status: 'scale-down-delay', activeRevision: 'r2', actions: [], requeueAtMs: T + 1 + 30_000, previewActive: false });
    expect(plan.state).toMatchObject({ switchedAtMs: T + 1, request: undefined });
  });

  it('promote while green is still starting is kept and switches on the first plan where green is ready', () => {
    const plan = planBlueGreenStep({ state: { ...manual, request: 'promote' }, replicaViews: [...blues(), ...greens(2), ...greens(1, false).map((r) => ({ ...r, replicaId: 'g9' }))] }, T);
    expect(plan).toMatchObject({ status: 'progressing', activeRevision: 'r1', state: { request: 'promote' } });
    expect(planBlueGreenStep({ state: plan.state, replicaViews: [...blues(), ...greens()] }, T + 5)).toMatchObject({ activeRevision: 'r2', state: { switchedAtMs: T + 5 } });
  });

  it('autoPromote with a 10 s delay waits from when green became fully ready, then switches', () => {
    const auto = startBlueGreen({ ...opts, autoPromote: true, autoPromoteDelayMs: 10_000 });
    const replicaViews = [...blues(), ...greens()];
    const first = planBlueGreenStep({ state: auto, replicaViews }, T);
    expect(first).toMatchObject({ status: 'promote-delay', activeRevision: 'r1', requeueAtMs: T + 10_000, state: { greenReadySinceMs: T } });
    expect(planBlueGreenStep({ state: first.state, replicaViews }, T + 9_999)).toMatchObject({ activeRevision: 'r1', state: first.state });
    expect(planBlueGreenStep({ state: first.state, replicaViews }, T + 10_000)).toMatchObject({ activeRevision: 'r2', status: 'scale-down-delay' });
  });

  it('autoPromote restarts its delay when green stops being fully ready', () => {
    const auto = { ...startBlueGreen({ ...opts, autoPromote: true, autoPromoteDelayMs: 10_000 }), greenReadySinceMs: T };
    const dipped = planBlueGreenStep({ state: auto, replicaViews: [...blues(), ...greens(2), replica('g9', 'r2', false, T)] }, T + 5_000);
    expect(dipped.state.greenReadySinceMs).toBeUndefined();
    expect(planBlueGreenStep({ state: dipped.state, replicaViews: [...blues(), ...greens()] }, T + 12_000)).toMatchObject({ activeRevision: 'r1', requeueAtMs: T + 22_000 });
  });

  it('after the scale-down delay drains the whole blue set and succeeds', () => {
    const plan = planBlueGreenStep({ state: switchedAt(T), replicaViews: [...blues(), ...greens()] }, T + 30_000);
    expect(plan).toMatchObject({ status: 'succeeded', activeRevision: 'r2', condition: { type: 'Complete' } });
    expect(plan.actions).toEqual(drains(['b0', 'b1', 'b2'], 'replaced'));
  });

  it('abort within the scale-down delay sets the active revision back to blue at once and drains green', () => {
    const plan = planBlueGreenStep({ state: { ...switchedAt(T), request: 'abort' }, replicaViews: [...blues(), ...greens()] }, T + 5_000);
    expect(plan).toMatchObject({ status: 'aborted', activeRevision: 'r1', condition: { type: 'Aborted' } });
    expect(plan.actions).toEqual(drains(['g0', 'g1', 'g2'], 'aborted'));
  });

  it('abort before the switch keeps traffic on blue and drains green', () => {
    const plan = planBlueGreenStep({ state: { ...manual, request: 'abort' }, replicaViews: [...blues(), ...greens(2, false)] }, T);
    expect(plan).toMatchObject({ status: 'aborted', activeRevision: 'r1', actions: drains(['g0', 'g1'], 'aborted') });
  });

  it('a green replica not ready by its progress deadline fails the rollout, drains green and leaves traffic on blue', () => {
    const replicaViews = [...blues(), ...greens(2), replica('g9', 'r2', false, T)];
    expect(planBlueGreenStep({ state: manual, replicaViews }, T + 599_999).status).toBe('progressing');
    const plan = planBlueGreenStep({ state: manual, replicaViews }, T + 600_000);
    expect(plan).toMatchObject({
      status: 'failed', activeRevision: 'r1',
      condition: { type: 'ProgressDeadlineExceeded', replicaId: 'g9', startedAtMs: T, progressDeadlineMs: 600_000 },
    });
    expect(plan.actions).toEqual(drains(['g0', 'g1', 'g9'], 'aborted'));
  });
});

describe('planBlueGreenStep edges', () => {
  it('is idempotent: planning again with its own state gives the same plan', () => {
    const cases: [BlueGreenState, BlueGreenReplica[], number][] = [
      [manual, blues(), T],
      [{ ...manual, request: 'promote' }, [...blues(), ...greens()], T],
      [switchedAt(T), [...blues(), ...greens()], T + 30_000],
      [{ ...switchedAt(T), request: 'abort' }, [...blues(), ...greens()], T + 1],
      [manual, [...blues(), replica('g9', 'r2', false, 0)], 600_000],
    ];
    for (const [state, replicaViews, nowMs] of cases) {
      const first = planBlueGreenStep({ state, replicaViews }, nowMs);
      expect(planBlueGreenStep({ state: first.state, replicaViews }, nowMs)).toEqual(first);
    }
  });

  it('terminal outcomes stay terminal: promote after an abort changes nothing', () => {
    const aborted = planBlueGreenStep({ state: { ...manual, request: 'abort' }, replicaViews: blues() }, T).state;
    expect(planBlueGreenStep({ state: { ...aborted, request: 'promote' }, replicaViews: [...blues(), ...greens()] }, T + 1)).toMatchObject({ status: 'aborted', activeRevision: 'r1' });
  });

  it('abort after the switch waits for a replacement when a warm blue replica died', () => {
    const plan = planBlueGreenStep({ state: { ...switchedAt(T), request: 'abort' }, replicaViews: [...blues(2), ...greens()] }, T + 40_000);
    expect(plan).toMatchObject({ status: 'scale-down-delay', activeRevision: 'r2', actions: [{ type: 'start', revision: 'r1' }], state: { request: 'abort' } });
  });

  it('drains replicas of a third revision and surplus green replicas', () => {
    const plan = planBlueGreenStep({ state: manual, replicaViews: [replica('x', 'r0'), ...blues(), ...greens(), replica('g9', 'r2', false, T)] }, T);
    expect(plan.actions).toEqual([{ type: 'drain', replicaId: 'x', reason: 'replaced' }, { type: 'drain', replicaId: 'g9', reason: 'scale-down' }]);
  });

  it('checks its options', () => {
    expect(checkBlueGreenOptions(opts)).toEqual([]);
    expect(checkBlueGreenOptions({ ...opts, replicas: 0, scaleDownDelayMs: -1, greenRevision: 'r1' })).toEqual([
      'replicas must be a positive integer',
      'scaleDownDelayMs must be a non-negative number',
      'greenRevision must differ from blueRevision',
    ]);
  });
});

describe('planBlueGreenStep over a whole rollout, tick by tick', () => {
  const TICK_MS = 1_000;
  type Script = { name: string; options: Partial<BlueGreenOptions>; requests?: Record<number, 'promote' | 'abort'>; expected: 'succeeded' | 'aborted' | 'failed'; neverReady?: boolean };
  const scripts: Script[] = [
    { name: 'autoPromote without delay', options: { autoPromote: true }, expected: 'succeeded' },
    { name: 'autoPromote with a 5 s delay and a preview route', options: { autoPromote: true, autoPromoteDelayMs: 5_000, preview: true }, expected: 'succeeded' },
    { name: 'manual promote requested before green is ready', options: {}, requests: { 2: 'promote' }, expected: 'succeeded' },
    { name: 'abort after the switch, within the scale-down delay', options: { autoPromote: true, scaleDownDelayMs: 20_000 }, requests: { 10: 'abort' }, expected: 'aborted' },
    { name: 'abort before the switch', options: { preview: true }, requests: { 3: 'abort' }, expected: 'aborted' },
    { name: 'green never ready', options: { autoPromote: true, progressDeadlineMs: 10_000 }, expected: 'failed', neverReady: true },
  ];

  it.each(scripts)('$name: the active revision has all replicas ready at every tick, and the loser ends drained', (script) => {
    const replicas = 4;
    let state = startBlueGreen({ ...opts, replicas, ...script.options });
    let set: BlueGreenReplica[] = Array.from({ length: replicas }, (_, i) => replica(`b${i}`, 'r1'));
    let nextId = 0;
    let status = '';
    for (let tick = 1; tick <= 120; tick++) {
      const nowMs = T + tick * TICK_MS;
      // The world moves: leaving replicas are gone; a green replica turns ready 3 ticks after starting.
      set = set
        .filter((r) => r.phase !== 'leaving')
        .map((r) => (r.phase === 'starting' && !script.neverReady && nowMs - r.startedAtMs >= 3 * TICK_MS ? { ...r, phase: 'serving' as const, ready: true } : r));
      const request = script.requests?.[tick];
      if (request) state = { ...state, request };
      const plan = planBlueGreenStep({ state, replicaViews: set }, nowMs);
      state = plan.state;
      status = plan.status;
      for (const action of plan.actions) {
        if (action.type === 'start') set.push({ replicaId: `n${nextId++}`, revision: action.revision, phase: 'starting', ready: false, startedAtMs: nowMs });
        else set = set.map((r) => (r.replicaId === action.replicaId ? { ...r, phase: 'leaving' as const } : r));
      }
      const readyOf = (revision: string): number => set.filter((r) => r.revision === revision && r.phase !== 'leaving' && r.ready).length;
      expect(plan.activeRevision, `tick ${tick}`).toBe(state.activeRevision);
      expect(readyOf(plan.activeRevision), `tick ${tick}: active ${plan.activeRevision}`).toBe(replicas);
      if (plan.previewActive) expect(readyOf('r2'), `tick ${tick}: preview`).toBe(replicas);
      if (status === script.expected) break;
    }
    expect(status).toBe(script.expected);
    const winner = script.expected === 'succeeded' ? 'r2' : 'r1';
    const remaining = set.filter((r) => r.phase !== 'leaving');
    expect(remaining).toHaveLength(replicas);
    expect(remaining.every((r) => r.revision === winner)).toBe(true);
  });
});
