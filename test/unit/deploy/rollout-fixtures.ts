// Builders shared by the rollout tests: deploy policies on top of the defaults, replica views for
// planRollout, and a tiny pure "world" that applies a plan's actions the way the shell would.
import { DEFAULT_DEPLOY_POLICY, type BlueGreenParams, type CanaryParams, type DeployPolicy, type RollingParams } from '../../../src/model/deploy.js';
import type { RolloutAction, RolloutReplica } from '../../../src/deploy/plan/plan-rollout.js';

export interface PolicyOverrides extends Partial<Omit<DeployPolicy, 'rolling' | 'blueGreen' | 'canary'>> {
  readonly rolling?: Partial<RollingParams>;
  readonly blueGreen?: Partial<BlueGreenParams>;
  readonly canary?: Partial<CanaryParams>;
}

/** DEFAULT_DEPLOY_POLICY with some fields replaced (sections merged one level deep). */
export function policyWith(overrides: PolicyOverrides = {}): DeployPolicy {
  const d = DEFAULT_DEPLOY_POLICY;
  return {
    ...d,
    ...overrides,
    rolling: { ...d.rolling, ...overrides.rolling },
    blueGreen: { ...d.blueGreen, ...overrides.blueGreen },
    canary: { ...d.canary, ...overrides.canary },
  };
}

/** A serving, healthy replica (healthy since `healthySinceMs`). */
export function ready(replicaId: string, revision: string, startedAtMs = 0, healthySinceMs = startedAtMs): RolloutReplica {
  return { replicaId, revision, phase: 'serving', healthy: true, healthySinceMs, startedAtMs };
}

/** A replica that started and has not passed a health check yet. */
export function starting(replicaId: string, revision: string, startedAtMs = 0): RolloutReplica {
  return { replicaId, revision, phase: 'starting', healthy: false, healthySinceMs: undefined, startedAtMs };
}

export function leaving(replica: RolloutReplica): RolloutReplica {
  return { ...replica, phase: 'leaving' };
}

/** n ready replicas of one revision, ids `<prefix>0..`. */
export function readySet(prefix: string, revision: string, n: number, startedAtMs = 0): RolloutReplica[] {
  return Array.from({ length: n }, (_, i) => ready(`${prefix}${i}`, revision, startedAtMs));
}

export function startingSet(prefix: string, revision: string, n: number, startedAtMs = 0): RolloutReplica[] {
  return Array.from({ length: n }, (_, i) => starting(`${prefix}${i}`, revision, startedAtMs));
}

export const countActions = (actions: readonly RolloutAction[], type: RolloutAction['type'], revision?: string): number =>
  actions.filter((a) => a.type === type && (revision === undefined || a.type !== 'start' || a.revision === revision)).length;

/**
 * Applies actions as the shell would, in one idealised step: drains leave at once (their
 * requests finish instantly), starts appear as starting replicas. `becomeReady` then turns every
 * starting replica healthy (the next health check passed).
 */
export class PlanWorld {
  replicas: RolloutReplica[];
  private nextId = 0;

  constructor(replicas: readonly RolloutReplica[]) {
    this.replicas = [...replicas];
  }

  apply(actions: readonly RolloutAction[], nowMs: number): void {
    for (const a of actions) {
      if (a.type === 'drain') this.replicas = this.replicas.filter((r) => r.replicaId !== a.replicaId);
      else this.replicas.push(starting(`w${this.nextId++}`, a.revision, nowMs));
    }
  }

  becomeReady(nowMs: number): void {
    this.replicas = this.replicas.map((r) => (r.phase === 'starting' ? { ...r, phase: 'serving', healthy: true, healthySinceMs: nowMs } : r));
  }

  count(revision: string, which: 'active' | 'ready' = 'active'): number {
    return this.replicas.filter((r) => r.revision === revision && r.phase !== 'leaving' && (which === 'active' || (r.phase === 'serving' && r.healthy))).length;
  }

  get active(): number {
    return this.replicas.filter((r) => r.phase !== 'leaving').length;
  }

  get readyCount(): number {
    return this.replicas.filter((r) => r.phase === 'serving' && r.healthy).length;
  }
}
