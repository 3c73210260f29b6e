// Least-request picker: power of two random choices by in-flight requests per weight. Pure.
import { isPickable, type Endpoint } from '../model/endpoint.js';
import type { Picker, PickerDeps } from './picker.js';

/**
 * Envoy's LEAST_REQUEST with choice count 2 (Mitzenmacher's "power of two choices"): sample
 * two distinct candidates at random and take the one with the lower score, where
 * score = (inFlight + 1) / weight, so a weight-2 endpoint is allowed twice the load. Sampling
 * two avoids the herd that "always the global minimum" causes when many pickers read the
 * same stale counts.
 *
 * Fast path: two random indices into the pool, O(1). If either is not a candidate (unpickable
 * or excluded), fall back to counting candidates and walking to two random ranks, O(n). With
 * two or fewer candidates, all are compared (ties broken at random).
 */
export class LeastRequestPicker implements Picker {
  constructor(private readonly deps: PickerDeps) {}

  pick(endpoints: readonly Endpoint[], exclude?: ReadonlySet<string>): Endpoint | undefined {
    const count = endpoints.length;
    if (count >= 2) {
      const first = this.randomIndex(count);
      // Second index drawn from the other count-1 slots, so the two are always distinct.
      const second = (first + 1 + this.randomIndex(count - 1)) % count;
      const a = endpoints[first];
      const b = endpoints[second];
      if (a !== undefined && b !== undefined && isCandidate(a, exclude) && isCandidate(b, exclude)) {
        return this.better(a, b);
      }
    }
    return this.pickByScan(endpoints, exclude);
  }

  private pickByScan(endpoints: readonly Endpoint[], exclude: ReadonlySet<string> | undefined): Endpoint | undefined {
    let candidateCount = 0;
    let onlyA: Endpoint | undefined;
    let onlyB: Endpoint | undefined;
    for (const endpoint of endpoints) {
      if (!isCandidate(endpoint, exclude)) continue;
      candidateCount++;
      if (onlyA === undefined) onlyA = endpoint;
      else if (onlyB === undefined) onlyB = endpoint;
    }
    if (onlyA === undefined) return undefined;
    if (onlyB === undefined) return onlyA;
    if (candidateCount === 2) return this.better(onlyA, onlyB);

    const firstRank = this.randomIndex(candidateCount);
    const secondRank = (firstRank + 1 + this.randomIndex(candidateCount - 1)) % candidateCount;
    let a: Endpoint | undefined;
    let b: Endpoint | undefined;
    let rank = 0;
    for (const endpoint of endpoints) {
      if (!isCandidate(endpoint, exclude)) continue;
      if (rank === firstRank) a = endpoint;
      if (rank === secondRank) b = endpoint;
      rank++;
    }
    // Both ranks are below candidateCount, so both were found; the fallbacks only satisfy types.
    return this.better(a ?? onlyA, b ?? onlyB);
  }

  /** The endpoint with the lower (inFlight + 1) / weight; a fair coin on a tie. */
  private better(a: Endpoint, b: Endpoint): Endpoint {
    const scoreA = (this.deps.load.inFlight(a.id) + 1) / a.weight;
    const scoreB = (this.deps.load.inFlight(b.id) + 1) / b.weight;
    if (scoreA < scoreB) return a;
    if (scoreB < scoreA) return b;
    return this.deps.random() < 0.5 ? a : b;
  }

  /** Uniform integer in [0, bound); clamped in case an injected random returns 1. */
  private randomIndex(bound: number): number {
    return Math.min(bound - 1, Math.floor(this.deps.random() * bound));
  }
}

function isCandidate(endpoint: Endpoint, exclude: ReadonlySet<string> | undefined): boolean {
  return isPickable(endpoint) && (exclude === undefined || !exclude.has(endpoint.id));
}
