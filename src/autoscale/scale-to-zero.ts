// The lower bound of the replica count: minReplicas, where 0 is reached only after
// scaleToZero.idleMs with no request and nothing held. Pure.

import type { AutoscaleInput, AutoscalePolicy } from '../model/autoscale.js';
import { formatMs } from './replica-math.js';

export type FloorPolicy = Pick<AutoscalePolicy, 'minReplicas' | 'scaleToZero'>;
export type FloorInput = Pick<AutoscaleInput, 'nowMs' | 'currentReplicas' | 'heldRequests' | 'lastRequestAtMs' | 'panic' | 'latest'>;

export interface ReplicaFloor {
  readonly floor: number;
  /** Idle long enough to drain to zero: decide then sets 0 at once. */
  readonly idle: boolean;
  readonly reason: string;
}

/**
 * The floor under the desired count.
 * - minReplicas >= 1: minReplicas.
 * - minReplicas 0: held requests, or a request in the short window, mean at least 1.
 *   Without a request for scaleToZero.idleMs, the service is idle: floor 0. The quiet time runs
 *   from lastRequestAtMs, or from the first sync when no request was seen since start, so a
 *   restart does not drop a service to zero at once. Quiet but not yet idle: min(1, current).
 *   That never starts a replica without traffic and never drops the last one early.
 *   With no scaleToZero, minReplicas 0 never drains to zero, but a service already at 0 stays
 *   there until traffic comes.
 *
 * Worked examples (minReplicas 0, idleMs 120 s, now 1000 s; the tests reuse them):
 * - minReplicas 2 -> 2.
 * - 3 held -> 1; 4 requests in the panic window -> 1.
 * - last request at 900 s (100 s ago), current 3 -> 1, not idle.
 * - last request at 880 s (120 s ago) -> 0, idle.
 * - no request since start, first sync at 950 s, current 0 -> 0, not idle (quiet for 50 s).
 * - no scaleToZero, last request an hour ago, current 2 -> 1, not idle.
 */
export function replicaFloor(policy: FloorPolicy, input: FloorInput, firstSyncAtMs: number): ReplicaFloor {
  if (policy.minReplicas >= 1) return { floor: policy.minReplicas, idle: false, reason: `floor: minReplicas ${policy.minReplicas}` };
  const recentRequests = Math.max(input.panic.requests, input.latest?.requests ?? 0);
  if (input.heldRequests > 0 || recentRequests > 0) {
    return { floor: 1, idle: false, reason: `floor: 1 (minReplicas 0, ${input.heldRequests} held, ${recentRequests} requests in the last ${formatMs(input.panic.windowMs)})` };
  }
  const quiet = Math.min(1, input.currentReplicas);
  if (policy.scaleToZero === undefined) {
    return { floor: quiet, idle: false, reason: `floor: ${quiet} (minReplicas 0 without scaleToZero: never drains to zero)` };
  }
  const { idleMs } = policy.scaleToZero;
  const quietForMs = input.nowMs - (input.lastRequestAtMs ?? firstSyncAtMs);
  if (quietForMs >= idleMs) {
    return { floor: 0, idle: true, reason: `floor: 0, idle: no request for ${formatMs(quietForMs)} (idleMs ${idleMs}), nothing held -> scale to zero` };
  }
  return { floor: quiet, idle: false, reason: `floor: ${quiet} (no request for ${formatMs(quietForMs)} of idleMs ${idleMs})` };
}
