// Round-robin picker: the next pickable, not-excluded endpoint after the last one chosen. Pure.
import { isPickable, type Endpoint } from '../model/endpoint.js';
import type { Picker } from './picker.js';

/**
 * Plain rotation that ignores weights. The cursor is an array index, so when the pool changes
 * shape the rotation simply continues from the same position (at worst one endpoint gets one
 * extra request): cheaper than tracking ids, and fair over any run where the pool is stable.
 * One instance per pool: sharing one across pools would interleave their cursors.
 */
export class RoundRobinPicker implements Picker {
  private nextIndex = 0;

  pick(endpoints: readonly Endpoint[], exclude?: ReadonlySet<string>): Endpoint | undefined {
    const count = endpoints.length;
    if (count === 0) return undefined;
    const start = this.nextIndex % count;
    for (let step = 0; step < count; step++) {
      const index = (start + step) % count;
      const endpoint = endpoints[index];
      if (endpoint === undefined || !isPickable(endpoint)) continue;
      if (exclude !== undefined && exclude.has(endpoint.id)) continue;
      // Kept below `count` so the cursor never grows without bound.
      this.nextIndex = (index + 1) % count;
      return endpoint;
    }
    return undefined;
  }
}
