// Fencing by generation: of several live containers of one replica id (a host came back holding
// a copy that was replaced meanwhile), the one with the highest generation stays and the others
// are fenced. Pure.
import type { ReplicaObservation } from '../runtime-driver.js';

export interface DuplicateSplit {
  /** Every observation that stays, in input order (exited ones included). */
  readonly keep: readonly ReplicaObservation[];
  /** Live copies that lost to a newer one of the same service and replica id. */
  readonly fence: readonly ReplicaObservation[];
}

/** Newer first: higher generation (none counts lowest), then later start, then id (so the answer
 * does not depend on input order). */
function newer(a: ReplicaObservation, b: ReplicaObservation): boolean {
  const ga = a.generation ?? -1;
  const gb = b.generation ?? -1;
  if (ga !== gb) return ga > gb;
  const sa = a.startedAtMs ?? -1;
  const sb = b.startedAtMs ?? -1;
  if (sa !== sb) return sa > sb;
  return a.id > b.id;
}

/**
 * Groups live (not exited) observations by service and replica id and keeps the newest of each
 * group. Example: web/r1 generation 7 on h3 and web/r1 generation 9 on h1: h1's stays, h3's is
 * fenced; an exited web/r1 on h2 is kept (it is listed until stopped, and runs nothing).
 */
export function splitDuplicates(observations: readonly ReplicaObservation[]): DuplicateSplit {
  const winners = new Map<string, ReplicaObservation>();
  for (const o of observations) {
    if (o.state === 'exited') continue;
    const key = `${o.service}\u0000${o.replicaId}`;
    const best = winners.get(key);
    if (best === undefined || newer(o, best)) winners.set(key, o);
  }
  const keep: ReplicaObservation[] = [];
  const fence: ReplicaObservation[] = [];
  for (const o of observations) {
    if (o.state === 'exited' || winners.get(`${o.service}\u0000${o.replicaId}`) === o) keep.push(o);
    else fence.push(o);
  }
  return { keep, fence };
}
