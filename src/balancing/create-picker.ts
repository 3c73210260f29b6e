// Builds the picker for a route's load-balancer kind. Pure.
import type { LoadBalancerKind } from '../model/route.js';
import { LeastRequestPicker } from './least-request.js';
import type { Picker, PickerDeps } from './picker.js';
import { RoundRobinPicker } from './round-robin.js';
import { WeightedPicker } from './weighted.js';

/** A new picker with its own state; create one per pool and keep it across table versions. */
export function createPicker(kind: LoadBalancerKind, deps: PickerDeps): Picker {
  switch (kind) {
    case 'round-robin':
      return new RoundRobinPicker();
    case 'weighted':
      return new WeightedPicker();
    case 'least-request':
      return new LeastRequestPicker(deps);
    default: {
      const unknownKind: never = kind;
      throw new Error(`unknown load balancer kind: ${String(unknownKind)}`);
    }
  }
}
