// Rolling update arithmetic: resolves maxSurge/maxUnavailable and plans one level-triggered step
// (which new replicas to start, which old ones to drain) plus the progress deadline. Pure.

/** A count, or a percentage of the desired replicas written as `'25%'`. */
export type IntOrPercent = number | `${number}%`;

export type SurgeAndUnavailable =
  | { readonly ok: true; readonly maxSurge: number; readonly maxUnavailable: number }
  | { readonly ok: false; readonly reason: 'invalid-value' | 'both-zero'; readonly message: string };

function parseIntOrPercent(value: IntOrPercent): { readonly count: number; readonly percent: boolean } | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? { count: value, percent: false } : undefined;
  const match = /^(\d+)%$/.exec(value);
  return match ? { count: Number(match[1]), percent: true } : undefined;
}

/**
 * Resolves both limits to replica counts with Kubernetes' rounding: a surge percentage rounds up,
 * an unavailable percentage rounds down (both err on the side of availability).
 *
 * Decision: raw inputs that are both zero (`0`, `'0%'`) are a spec error, returned as a value
 * (`both-zero`), as Kubernetes' validation rejects them: such a rollout could never move. If only
 * the rounding makes both zero (e.g. 1 replica, `'0%'` / `'10%'`), maxUnavailable becomes 1, as
 * Kubernetes' ResolveFenceposts does.
 *
 * Worked examples (the tests reuse them):
 * - 4 replicas, `'25%'` / `'25%'` -> surge 1, unavailable 1.
 * - 10 replicas, `'30%'` / `'20%'` -> surge 3, unavailable 2.
 * - 3 replicas, `'25%'` / `'25%'` -> surge 1 (0.75 up), unavailable 0 (0.75 down).
 * - 1 replica, `'0%'` / `'10%'` -> both round to 0 -> surge 0, unavailable 1.
 * - any replicas, `0` / `'0%'` -> error `both-zero`.
 * - `-1`, `1.5` or `'abc%'` -> error `invalid-value`.
 */
export function resolveSurgeAndUnavailable(replicas: number, maxSurge: IntOrPercent, maxUnavailable: IntOrPercent): SurgeAndUnavailable {
  const surge = parseIntOrPercent(maxSurge);
  const unavailable = parseIntOrPercent(maxUnavailable);
  if (!surge || !unavailable || !Number.isInteger(replicas) || replicas < 0) {
    return { ok: false, reason: 'invalid-value', message: 'maxSurge and maxUnavailable must be non-negative integers or integer percentages, replicas a non-negative integer' };
  }
  if (surge.count === 0 && unavailable.count === 0) {
    return { ok: false, reason: 'both-zero', message: 'maxSurge and maxUnavailable may not both be 0' };
  }
  const surgeCount = surge.percent ? Math.ceil((surge.count * replicas) / 100) : surge.count;
  const unavailableCount = unavailable.percent ? Math.floor((unavailable.count * replicas) / 100) : unavailable.count;
  if (surgeCount === 0 && unavailableCount === 0) return { ok: true, maxSurge: 0, maxUnavailable: 1 };
  return { ok: true, maxSurge: surgeCount, maxUnavailable: unavailableCount };
}

/** The controller's view of one replica during a rolling update. */
export interface RollingReplica {
  readonly replicaId: string;
  readonly revision: string;
  /** leaving: draining or stopping, already out of rotation; it counts toward nothing. */
  readonly phase: 'starting' | 'serving' | 'leaving';
  /** Start of the current unbroken healthy stretch; undefined while unhealthy. */
  readonly healthySinceMs: number | undefined;
  readonly startedAtMs: number;
}

/** What the last observed progress was; the shell persists the `progress` each plan returns. */
export interface RollingProgress {
  readonly atMs: number;
  readonly newAvailable: number;
  readonly oldActive: number;
}

export interface RollingView {
  /** The revision being rolled out. */
  readonly revision: string;
  readonly replicas: number;
  /** Resolved counts (see resolveSurgeAndUnavailable). */
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  readonly minReadyMs: number;
  readonly progressDeadlineMs: number;
  /** At the start of a rollout: `{ atMs: startMs, newAvailable: 0, oldActive: <old count> }`. */
  readonly progress: RollingProgress;
  readonly replicaViews: readonly RollingReplica[];
  readonly nowMs: number;
}

export type RollingAction =
  | { readonly type: 'start'; readonly revision: string }
  | { readonly type: 'drain'; readonly replicaId: string; readonly reason: 'replaced' | 'scale-down' };

export type RollingCondition =
  | { readonly type: 'Progressing' }
  | { readonly type: 'Complete' }
  | { readonly type: 'ProgressDeadlineExceeded'; readonly lastProgressAtMs: number; readonly progressDeadlineMs: number };

export interface RollingPlan {
  readonly actions: readonly RollingAction[];
  readonly condition: RollingCondition;
  readonly progress: RollingProgress;
  /** Plan again then even if nothing else changes (a replica ends its minReady wait, or the deadline). */
  readonly requeueAtMs?: number | undefined;
  /** Counts after the actions, for status and for the tests' invariants. */
  readonly availableAfter: number;
  readonly activeAfter: number;
}

/** Healthy without a break for minReadyMs (Kubernetes' minReadySeconds, applied to every revision). */
export function isAvailable(replica: RollingReplica, minReadyMs: number, nowMs: number): boolean {
  return replica.phase !== 'leaving' && replica.healthySinceMs !== undefined && nowMs - replica.healthySinceMs >= minReadyMs;
}

/**
 * One step of a rolling update. Drains first (they free surge room), then starts, so one plan
 * reaches what Kubernetes' deployment controller reaches over two syncs. Guarantees, judged on the
 * view: available replicas after the step >= replicas - maxUnavailable (or what was available, if
 * already below), and active (not leaving) replicas <= replicas + maxSurge.
 *
 * Drain order for old replicas: unhealthy ones first (they serve nobody, so always allowed), then
 * healthy but not yet available, then available ones (newest first), the healthy ones only while
 * both floors hold: healthy (serving) replicas and available ones each stay >= replicas -
 * maxUnavailable (a replica inside its minReady wait still serves traffic).
 * Leaving replicas count neither as available nor toward the surge (as terminating pods in
 * Kubernetes).
 *
 * Progress means more new replicas available or fewer old ones active than in `view.progress`;
 * after progressDeadlineMs without progress the plan returns ProgressDeadlineExceeded and no
 * actions: the shell fails the rollout (and rolls back if autoRollback).
 *
 * Worked examples (the tests reuse them; all old replicas available, new ones past minReady):
 * - 4 replicas, 25%/25% (surge 1, unavailable 1; floor 3, ceiling 5), 4 old: drain 1 old, start 2
 *   new -> 3 old + 2 new starting.
 * - same, 3 old + 2 new available: drain 2 old, start 2 -> 1 old + 2 new + 2 new starting.
 * - 4 -> 4 with surge 1, unavailable 0 (floor 4, ceiling 5), 4 old: start 1, drain none.
 * - same, 4 old + 1 new starting: wait. With the new one available: drain 1 old, start 1.
 * - same, new one healthy for less than minReadyMs: wait, requeue when it will have been.
 * - same with minReadyMs 1000, 4 old replicas healthy for only 100 ms (just started): start 1,
 *   drain none (they serve traffic even though not yet available).
 * - 10 replicas, 30%/20% (surge 3, unavailable 2; floor 8, ceiling 13), 10 old: drain 2 old,
 *   start 5 -> 8 old + 5 new starting. With the 5 available: drain 5 old, start 5. With all 10
 *   new available: drain the last 3 old -> Complete once they are gone.
 */
export function planRollingStep(view: RollingView): RollingPlan {
  const { nowMs, minReadyMs, replicas: desired } = view;
  const active = view.replicaViews.filter((r) => r.phase !== 'leaving');
  const current = active.filter((r) => r.revision === view.revision);
  const old = active.filter((r) => r.revision !== view.revision);
  const available = (r: RollingReplica): boolean => isAvailable(r, minReadyMs, nowMs);
  const newAvailable = current.filter(available).length;
  const availableNow = active.filter(available).length;

  const progressed = newAvailable > view.progress.newAvailable || old.length < view.progress.oldActive;
  const progress: RollingProgress = progressed ? { atMs: nowMs, newAvailable, oldActive: old.length } : view.progress;

  if (old.length === 0 && current.length === desired && newAvailable === desired) {
    return { actions: [], condition: { type: 'Complete' }, progress, availableAfter: availableNow, activeAfter: active.length };
  }
  const deadlineAtMs = progress.atMs + view.progressDeadlineMs;
  if (nowMs >= deadlineAtMs) {
    return {
      actions: [],
      condition: { type: 'ProgressDeadlineExceeded', lastProgressAtMs: progress.atMs, progressDeadlineMs: view.progressDeadlineMs },
      progress,
      availableAfter: availableNow,
      activeAfter: active.length,
    };
  }

  const actions: RollingAction[] = [];
  const minAvailable = Math.max(0, desired - view.maxUnavailable);
  let availableAfter = availableNow;
  // Healthy replicas serve traffic even inside their minReady wait: the same floor holds for them.
  let healthyAfter = active.filter((r) => r.healthySinceMs !== undefined).length;
  let activeAfter = active.length;
  /** Only replicas that serve nobody (not healthy) leave without a floor check. */
  const mayDrain = (r: RollingReplica): boolean => {
    if (r.healthySinceMs === undefined) return true;
    if (healthyAfter - 1 < minAvailable) return false;
    if (available(r) && availableAfter - 1 < minAvailable) return false;
    healthyAfter--;
    if (available(r)) availableAfter--;
    return true;
  };

  // Surplus new replicas (desired lowered mid-rollout): the least useful go first.
  let newActive = current.length;
  for (const r of [...current].sort(removalOrder(available)).slice(0, Math.max(0, current.length - desired))) {
    if (!mayDrain(r)) continue;
    actions.push({ type: 'drain', replicaId: r.replicaId, reason: 'scale-down' });
    activeAfter--;
    newActive--;
  }

  for (const r of [...old].sort(removalOrder(available))) {
    if (!mayDrain(r)) continue;
    actions.push({ type: 'drain', replicaId: r.replicaId, reason: 'replaced' });
    activeAfter--;
  }

  const startCount = Math.max(0, Math.min(desired + view.maxSurge - activeAfter, desired - newActive));
  for (let i = 0; i < startCount; i++) actions.push({ type: 'start', revision: view.revision });
  activeAfter += startCount;

  // Replicas inside their minReady wait become available without any observable event.
  const readyAts = current
    .filter((r) => r.healthySinceMs !== undefined && !available(r))
    .map((r) => (r.healthySinceMs as number) + minReadyMs);
  const requeueAtMs = Math.min(deadlineAtMs, ...readyAts);
  return { actions, condition: { type: 'Progressing' }, progress, requeueAtMs, availableAfter, activeAfter };
}

/** Unhealthy first, then healthy but not yet available, then available; newest first among equals. */
function removalOrder(available: (r: RollingReplica) => boolean) {
  const rank = (r: RollingReplica): number => (r.healthySinceMs === undefined ? 0 : available(r) ? 2 : 1);
  return (a: RollingReplica, b: RollingReplica): number =>
    rank(a) - rank(b) || b.startedAtMs - a.startedAtMs || (a.replicaId < b.replicaId ? -1 : 1);
}
