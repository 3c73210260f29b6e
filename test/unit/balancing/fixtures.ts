// Test helpers for pickers: endpoint builder, seeded random, fixed load. Pure.
import type { Endpoint } from '../../../src/model/endpoint.js';
import type { EndpointLoad, PickerDeps } from '../../../src/balancing/picker.js';

export function endpoint(id: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    id,
    origin: `http://127.0.0.1:${3000 + id.charCodeAt(0)}`,
    weight: 1,
    source: 'static',
    healthy: true,
    draining: false,
    ...overrides,
  };
}

/** mulberry32: a small deterministic PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fixedLoad(inFlightById: Record<string, number>): EndpointLoad {
  return { inFlight: (id) => inFlightById[id] ?? 0 };
}

export function deps(inFlightById: Record<string, number> = {}, seed = 1): PickerDeps {
  return { load: fixedLoad(inFlightById), random: seededRandom(seed) };
}

export function countPicks(pickOnce: () => Endpoint | undefined, picks: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const chosen = pickOnce();
    const key = chosen?.id ?? '(none)';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
