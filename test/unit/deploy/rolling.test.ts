import { describe, expect, it } from 'vitest';
import {
  isAvailable,
  planRollingStep,
  resolveSurgeAndUnavailable,
  type IntOrPercent,
  type RollingReplica,
  type RollingView,
} from '../../../src/deploy/plan/rolling.js';

const NOW = 100_000;

function old(id: string): RollingReplica {
  return { replicaId: id, revision: 'r1', phase: 'serving', healthySinceMs: 0, startedAtMs: 0 };
}
/** A new-revision replica; 'starting' = not healthy yet. */
function fresh(id: string, healthySinceMs: number | 'starting' = 0): RollingReplica {
  if (healthySinceMs === 'starting') return { replicaId: id, revision: 'r2', phase: 'starting', healthySinceMs: undefined, startedAtMs: 1 };
  return { replicaId: id, revision: 'r2', phase: 'serving', healthySinceMs, startedAtMs: 1 };
}
function view(replicas: number, maxSurge: number, maxUnavailable: number, replicaViews: RollingReplica[], extra: Partial<RollingView> = {}): RollingView {
  const oldActive = replicaViews.filter((r) => r.revision === 'r1').length;
  return {
    revision: 'r2', replicas, maxSurge, maxUnavailable, minReadyMs: 5_000, progressDeadlineMs: 600_000,
    progress: { atMs: NOW, newAvailable: 0, oldActive }, replicaViews, nowMs: NOW, ...extra,
  };
}
const olds = (n: number): RollingReplica[] => Array.from({ length: n }, (_, i) => old(`o${i}`));
const news = (n: number, healthySinceMs: number | 'starting' = 0): RollingReplica[] => Array.from({ length: n }, (_, i) => fresh(`n${i}`, healthySinceMs));
const count = (actions: readonly { type: string }[], type: string): number => actions.filter((a) => a.type === type).length;

describe('resolveSurgeAndUnavailable (the worked examples of its doc comment)', () => {
  it.each<[number, IntOrPercent, IntOrPercent, number, number]>([
    [4, '25%', '25%', 1, 1],
    [10, '30%', '20%', 3, 2],
    [3, '25%', '25%', 1, 0],
    [1, '0%', '10%', 0, 1],
    [4, 1, 0, 1, 0],
    [5, 2, '50%', 2, 2],
  ])('%d replicas with surge %s and unavailable %s resolve to %d and %d', (replicas, surge, unavailable, s, u) => {
    expect(resolveSurgeAndUnavailable(replicas, surge, unavailable)).toEqual({ ok: true, maxSurge: s, maxUnavailable: u });
  });

  it.each<[IntOrPercent, IntOrPercent]>([[0, 0], [0, '0%'], ['0%', '0%']])('rejects surge %s with unavailable %s as both zero', (surge, unavailable) => {
    expect(resolveSurgeAndUnavailable(4, surge, unavailable)).toMatchObject({ ok: false, reason: 'both-zero' });
  });

  it.each<[IntOrPercent, IntOrPercent]>([[-1, 1], [1.5, 1], ['abc%' as IntOrPercent, 1], [1, '2.5%']])('rejects surge %s with unavailable %s as invalid', (surge, unavailable) => {
    expect(resolveSurgeAndUnavailable(4, surge, unavailable)).toMatchObject({ ok: false, reason: 'invalid-value' });
  });
});

describe('planRollingStep (the worked examples of its doc comment)', () => {
  it('4 replicas at 25%/25%: drains one old and starts two new', () => {
    const plan = planRollingStep(view(4, 1, 1, olds(4)));
    expect(plan.actions).toEqual([
      { type: 'drain', replicaId: 'o0', reason: 'replaced' },
      { type: 'start', revision: 'r2' },
      { type: 'start', revision: 'r2' },
    ]);
    expect(plan).toMatchObject({ availableAfter: 3, activeAfter: 5, condition: { type: 'Progressing' } });
  });

  it('4 replicas at 25%/25% with 3 old and 2 new available: drains two old and starts two new', () => {
    const plan = planRollingStep(view(4, 1, 1, [...olds(3), ...news(2)]));
    expect(count(plan.actions, 'drain')).toBe(2);
    expect(count(plan.actions, 'start')).toBe(2);
    expect(plan).toMatchObject({ availableAfter: 3, activeAfter: 5 });
  });

  it('4 -> 4 with surge 1 and unavailable 0: starts one new and drains nothing', () => {
    expect(planRollingStep(view(4, 1, 0, olds(4))).actions).toEqual([{ type: 'start', revision: 'r2' }]);
  });

  it('4 -> 4 with surge 1 and unavailable 0: waits while the new replica starts', () => {
    expect(planRollingStep(view(4, 1, 0, [...olds(4), ...news(1, 'starting')])).actions).toEqual([]);
  });

  it('4 -> 4 with surge 1 and unavailable 0: drains one old and starts the next once the new one is available', () => {
    expect(planRollingStep(view(4, 1, 0, [...olds(4), ...news(1)])).actions).toEqual([
      { type: 'drain', replicaId: 'o0', reason: 'replaced' },
      { type: 'start', revision: 'r2' },
    ]);
  });

  it('does not count a new replica healthy for less than minReadyMs, and requeues when it will count', () => {
    const plan = planRollingStep(view(4, 1, 0, [...olds(4), fresh('n0', NOW - 2_000)]));
    expect(plan.actions).toEqual([]);
    expect(plan.requeueAtMs).toBe(NOW + 3_000);
  });

  it('10 replicas at 30%/20%: drains two old and starts five new', () => {
    const plan = planRollingStep(view(10, 3, 2, olds(10)));
    expect(count(plan.actions, 'drain')).toBe(2);
    expect(count(plan.actions, 'start')).toBe(5);
    expect(plan).toMatchObject({ availableAfter: 8, activeAfter: 13 });
  });

  it('10 replicas at 30%/20% with 8 old and 5 new available: drains five old and starts five new', () => {
    const plan = planRollingStep(view(10, 3, 2, [...olds(8), ...news(5)]));
    expect(count(plan.actions, 'drain')).toBe(5);
    expect(count(plan.actions, 'start')).toBe(5);
  });

  it('10 replicas at 30%/20% with all 10 new available: drains the last three old, then is complete', () => {
    const plan = planRollingStep(view(10, 3, 2, [...olds(3), ...news(10)]));
    expect(plan.actions).toEqual(['o0', 'o1', 'o2'].map((replicaId) => ({ type: 'drain', replicaId, reason: 'replaced' })));
    expect(planRollingStep(view(10, 3, 2, news(10))).condition).toEqual({ type: 'Complete' });
  });

  it('drains unhealthy old replicas at once: they serve nobody', () => {
    const sick: RollingReplica = { ...old('sick'), healthySinceMs: undefined };
    const plan = planRollingStep(view(4, 1, 0, [sick, ...olds(3)]));
    expect(plan.actions).toEqual([{ type: 'drain', replicaId: 'sick', reason: 'replaced' }, { type: 'start', revision: 'r2' }, { type: 'start', revision: 'r2' }]);
  });

  it('ignores leaving replicas in both the floor and the ceiling', () => {
    const leaving: RollingReplica = { ...old('gone'), phase: 'leaving' };
    expect(planRollingStep(view(4, 1, 0, [leaving, ...olds(4)])).actions).toEqual([{ type: 'start', revision: 'r2' }]);
  });

  it('counts availability by continuous health for minReadyMs', () => {
    expect(isAvailable(fresh('a', 1_000), 5_000, 5_999)).toBe(false);
    expect(isAvailable(fresh('a', 1_000), 5_000, 6_000)).toBe(true);
    expect(isAvailable(fresh('a', 'starting'), 0, 6_000)).toBe(false);
  });
});

describe('planRollingStep progress deadline', () => {
  it('reports ProgressDeadlineExceeded with no actions after the deadline without progress', () => {
    const replicas = [...olds(4), ...news(1, 'starting')];
    const plan = planRollingStep(view(4, 1, 0, replicas, { progress: { atMs: NOW - 600_000, newAvailable: 0, oldActive: 4 } }));
    expect(plan.actions).toEqual([]);
    expect(plan.condition).toEqual({ type: 'ProgressDeadlineExceeded', lastProgressAtMs: NOW - 600_000, progressDeadlineMs: 600_000 });
  });

  it('keeps going one millisecond before the deadline, and requeues at it', () => {
    const plan = planRollingStep(view(4, 1, 0, [...olds(4), ...news(1, 'starting')], { progress: { atMs: NOW - 599_999, newAvailable: 0, oldActive: 4 } }));
    expect(plan.condition).toEqual({ type: 'Progressing' });
    expect(plan.requeueAtMs).toBe(NOW + 1);
  });

  it('restarts the deadline when a new replica becomes available', () => {
    const plan = planRollingStep(view(4, 1, 0, [...olds(4), ...news(1)], { progress: { atMs: NOW - 600_000, newAvailable: 0, oldActive: 4 } }));
    expect(plan.condition).toEqual({ type: 'Progressing' });
    expect(plan.progress).toEqual({ atMs: NOW, newAvailable: 1, oldActive: 4 });
  });
});

describe('planRollingStep over a whole rollout, tick by tick', () => {
  const TICK_MS = 1_000;
  it.each<[number, IntOrPercent, IntOrPercent]>([
    [4, '25%', '25%'],
    [4, 1, 0],
    [10, '30%', '20%'],
    [5, 0, 1],
    [3, '100%', 0],
    [1, 0, '10%'],
  ])('%d replicas with surge %s and unavailable %s keep the floor and the ceiling at every tick and end all new', (replicas, surgeIn, unavailableIn) => {
    const resolved = resolveSurgeAndUnavailable(replicas, surgeIn, unavailableIn);
    if (!resolved.ok) throw new Error(resolved.message);
    const { maxSurge, maxUnavailable } = resolved;
    const minReadyMs = 1_500;
    let set: RollingReplica[] = olds(replicas);
    let progress = { atMs: NOW, newAvailable: 0, oldActive: replicas };
    let nextId = 0;
    let done = false;
    for (let tick = 1; tick <= 100 && !done; tick++) {
      const nowMs = NOW + tick * TICK_MS;
      // The world moves: leaving replicas are gone; a new replica turns healthy 2 ticks after starting.
      set = set
        .filter((r) => r.phase !== 'leaving')
        .map((r) => (r.phase === 'starting' && nowMs - r.startedAtMs >= 2 * TICK_MS ? { ...r, phase: 'serving' as const, healthySinceMs: nowMs } : r));
      const plan = planRollingStep({
        revision: 'r2', replicas, maxSurge, maxUnavailable, minReadyMs, progressDeadlineMs: 60_000, progress, replicaViews: set, nowMs,
      });
      expect(plan.condition.type).not.toBe('ProgressDeadlineExceeded');
      progress = plan.progress;
      if (plan.condition.type === 'Complete') done = true;
      for (const action of plan.actions) {
        if (action.type === 'start') set.push({ replicaId: `n${nextId++}`, revision: 'r2', phase: 'starting', healthySinceMs: undefined, startedAtMs: nowMs });
        else set = set.map((r) => (r.replicaId === action.replicaId ? { ...r, phase: 'leaving' as const } : r));
      }
      const active = set.filter((r) => r.phase !== 'leaving');
      const available = active.filter((r) => isAvailable(r, minReadyMs, nowMs)).length;
      expect(available, `tick ${tick}`).toBeGreaterThanOrEqual(replicas - maxUnavailable);
      expect(active.length, `tick ${tick}`).toBeLessThanOrEqual(replicas + maxSurge);
      expect(plan).toMatchObject({ availableAfter: available, activeAfter: active.length });
    }
    expect(done).toBe(true);
    const remaining = set.filter((r) => r.phase !== 'leaving');
    expect(remaining).toHaveLength(replicas);
    expect(remaining.every((r) => r.revision === 'r2')).toBe(true);
  });
});

describe('planRollingStep: healthy replicas inside their minReady wait still count for the floor', () => {
  it('4 -> 4, surge 1, unavailable 0, minReady 1000, 4 old replicas healthy for 100 ms: start 1, drain none', () => {
    const old = [0, 1, 2, 3].map((i) => ({ replicaId: `o${i}`, revision: 'r1', phase: 'serving' as const, healthySinceMs: 900, startedAtMs: 800 }));
    const plan = planRollingStep({
      revision: 'r2',
      replicas: 4,
      maxSurge: 1,
      maxUnavailable: 0,
      minReadyMs: 1_000,
      progressDeadlineMs: 600_000,
      progress: { atMs: 1_000, newAvailable: 0, oldActive: 4 },
      replicaViews: old,
      nowMs: 1_000,
    });
    expect(plan.actions).toEqual([{ type: 'start', revision: 'r2' }]);
  });
});
