// Smooth weighted round-robin (nginx's upstream algorithm) over pickable endpoints. Pure.
import { isPickable, type Endpoint } from '../model/endpoint.js';
import type { Picker } from './picker.js';

/** Per-endpoint running state; allocated once per endpoint id, then mutated in place. */
interface WeightState {
  currentWeight: number;
  /** The pick number that last saw this id in the pool; older entries are gone endpoints. */
  lastSeenPick: number;
}

/**
 * Same algorithm as nginx's `ngx_http_upstream_get_peer` (without its failure-driven
 * effective weight): each pick adds every candidate's weight to its current weight, takes the
 * largest, and subtracts the sum of weights from the winner. Over any window of `total` picks
 * each endpoint is chosen exactly `weight` times, and the choices are spread out (weights
 * 5,1,1 give a a b a c a a, never a a a a a b c).
 *
 * State is keyed by endpoint id, so replacing the pool array (a new routing table) keeps the
 * rotation going; ids missing from the pool are forgotten on a later pick. Unpickable and
 * excluded endpoints are left out of the round without touching their state, as nginx skips
 * peers that are down or already tried.
 * One instance per pool: state of ids outside the current pool is pruned.
 */
export class WeightedPicker implements Picker {
  private readonly states = new Map<string, WeightState>();
  private pickNumber = 0;

  pick(endpoints: readonly Endpoint[], exclude?: ReadonlySet<string>): Endpoint | undefined {
    const pickNumber = ++this.pickNumber;
    let totalWeight = 0;
    let best: Endpoint | undefined;
    let bestState: WeightState | undefined;

    for (const endpoint of endpoints) {
      let state = this.states.get(endpoint.id);
      if (state === undefined) {
        state = { currentWeight: 0, lastSeenPick: pickNumber };
        this.states.set(endpoint.id, state);
      } else {
        state.lastSeenPick = pickNumber;
      }
      if (!isPickable(endpoint)) continue;
      if (exclude !== undefined && exclude.has(endpoint.id)) continue;
      state.currentWeight += endpoint.weight;
      totalWeight += endpoint.weight;
      // Strictly greater: ties go to the earlier endpoint, as in nginx.
      if (bestState === undefined || state.currentWeight > bestState.currentWeight) {
        best = endpoint;
        bestState = state;
      }
    }

    if (bestState !== undefined) bestState.currentWeight -= totalWeight;
    // More states than endpoints means some ids left the pool (ids are unique within a pool).
    if (this.states.size > endpoints.length) this.prune(pickNumber);
    return best;
  }

  private prune(pickNumber: number): void {
    for (const [id, state] of this.states) {
      if (state.lastSeenPick !== pickNumber) this.states.delete(id);
    }
  }
}
