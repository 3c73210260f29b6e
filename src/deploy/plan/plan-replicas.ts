// Decides the next replica actions of one service from what is observed: scale to the desired
// count, and replace replicas of an old revision one at a time (start new, then drain old).
// Level-triggered: the same view always gives the same actions; the shell applies them and
// plans again. Pure.

/** The controller's view of one replica. */
export interface ReplicaView {
  readonly replicaId: string;
  readonly revision: string;
  /** starting: asked to start, not yet passing health checks; serving: running (healthy or
   * not); leaving: draining or stopping, already out of rotation. */
  readonly phase: 'starting' | 'serving' | 'leaving';
  readonly healthy: boolean;
  readonly startedAtMs: number;
}

export interface ServiceView {
  /** The revision every replica should run. */
  readonly revision: string;
  readonly desiredReplicas: number;
  readonly replicas: readonly ReplicaView[];
  /** Replacements for crashed replicas wait until then. */
  readonly nextStartAtMs: number;
  readonly nowMs: number;
}

export type ReplicaAction =
  | { readonly type: 'start'; readonly revision: string }
  | { readonly type: 'drain'; readonly replicaId: string; readonly reason: 'scale-down' | 'replaced' };

export interface ReplicaPlan {
  readonly actions: readonly ReplicaAction[];
  /** When to plan again even if nothing is observed to change (backoff end). */
  readonly requeueAtMs?: number | undefined;
}

/** Order of preference for removal: unhealthy first, then not yet ready, then the newest. */
function removalOrder(a: ReplicaView, b: ReplicaView): number {
  if (a.healthy !== b.healthy) return a.healthy ? 1 : -1;
  if (a.phase !== b.phase) return a.phase === 'starting' ? -1 : 1;
  return b.startedAtMs - a.startedAtMs || (a.replicaId < b.replicaId ? -1 : 1);
}

/**
 * Worked examples (the tests reuse them):
 * - desired 3, none running: start 3 at once (scaling is not a rollout).
 * - desired 3, 4 current: drain the least useful one (unhealthy, else starting, else newest).
 * - desired 3, 3 old healthy, 0 new: start 1 new (surge 1); nothing drains yet.
 * - desired 3, 3 old + 1 new starting: wait (the new one is not healthy).
 * - desired 3, 3 old + 1 new healthy: drain 1 old (never fewer than 3 healthy).
 * - desired 3, 1 old + 3 new healthy: drain the last old.
 * - a crashed replica was dropped and the backoff runs until T: no start before T; requeue at T.
 */
export function planReplicas(view: ServiceView): ReplicaPlan {
  const active = view.replicas.filter((r) => r.phase !== 'leaving');
  const current = active.filter((r) => r.revision === view.revision);
  const old = active.filter((r) => r.revision !== view.revision);
  const desired = view.desiredReplicas;
  const canStart = view.nowMs >= view.nextStartAtMs;
  const waitForBackoff = canStart ? undefined : view.nextStartAtMs;
  const actions: ReplicaAction[] = [];

  if (old.length === 0) {
    if (current.length < desired) {
      if (!canStart) return { actions, requeueAtMs: waitForBackoff };
      for (let i = current.length; i < desired; i++) actions.push({ type: 'start', revision: view.revision });
    } else if (current.length > desired) {
      const extra = [...current].sort(removalOrder).slice(0, current.length - desired);
      for (const r of extra) actions.push({ type: 'drain', replicaId: r.replicaId, reason: 'scale-down' });
    }
    return { actions };
  }

  // Replacing an old revision: at most one replica above desired, never fewer healthy ones.
  if (desired === 0) {
    for (const r of active) actions.push({ type: 'drain', replicaId: r.replicaId, reason: 'scale-down' });
    return { actions };
  }
  const currentHealthy = current.filter((r) => r.phase === 'serving' && r.healthy).length;
  if (current.length > currentHealthy) return { actions }; // a new one is still coming up
  if (current.length > desired) {
    const extra = [...current].sort(removalOrder).slice(0, current.length - desired);
    for (const r of extra) actions.push({ type: 'drain', replicaId: r.replicaId, reason: 'scale-down' });
  }
  const oldByPreference = [...old].sort(removalOrder);
  // Old replicas that are not healthy serve nobody: drain them at once.
  for (const r of oldByPreference) if (!r.healthy) actions.push({ type: 'drain', replicaId: r.replicaId, reason: 'replaced' });
  const oldHealthy = oldByPreference.filter((r) => r.healthy);
  const healthyTotal = Math.min(currentHealthy, desired) + oldHealthy.length;
  const surplus = healthyTotal - desired;
  for (let i = 0; i < Math.min(surplus, oldHealthy.length); i++) {
    actions.push({ type: 'drain', replicaId: (oldHealthy[i] as ReplicaView).replicaId, reason: 'replaced' });
  }
  const remainingOld = oldHealthy.length - Math.max(0, Math.min(surplus, oldHealthy.length));
  if (current.length < desired && current.length + remainingOld <= desired) {
    if (!canStart) return { actions, requeueAtMs: waitForBackoff };
    actions.push({ type: 'start', revision: view.revision });
  }
  return { actions };
}
