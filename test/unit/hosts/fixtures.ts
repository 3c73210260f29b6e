// Builders for placement tests: the example cluster of placeReplica's doc comment, allocations,
// services, and a seeded PRNG for the property checks. Test helper; pure.
import type { Allocation, HostSpec, PlacementConstraint, ReplicaResources, ServiceDemand } from '../../../src/model/host.js';

export function host(name: string, cpus: number, memoryMb: number, labels: Record<string, string> = {}, extra: { cordoned?: boolean; maxReplicas?: number } = {}): HostSpec {
  return { name, address: '127.0.0.1', capacity: { cpus, memoryMb, maxReplicas: extra.maxReplicas }, labels, cordoned: extra.cordoned ?? false };
}

/** The cluster of the doc comment: h1/h2 in zone a, h3/h4 in zone b, h4 cordoned. */
export function exampleCluster(): HostSpec[] {
  return [host('h1', 2, 4096, { zone: 'a' }), host('h2', 4, 8192, { zone: 'a' }), host('h3', 2, 4096, { zone: 'b' }), host('h4', 2, 4096, { zone: 'b' }, { cordoned: true })];
}

export function service(name: string, resources: ReplicaResources, constraints: PlacementConstraint[] = [], spread?: string): ServiceDemand {
  return { name, resources, placement: { constraints, spread } };
}

/** web: 0.5 cpus, 512 MB, spread by zone. */
export const web = service('web', { cpus: 0.5, memoryMb: 512 }, [], 'zone');

let counter = 0;
export function alloc(svc: ServiceDemand | string, hostName: string, resources?: ReplicaResources): Allocation {
  counter += 1;
  const name = typeof svc === 'string' ? svc : svc.name;
  const res = resources ?? (typeof svc === 'string' ? { cpus: 0, memoryMb: 0 } : svc.resources);
  return { service: name, replicaId: `${name}-x${counter}`, host: hostName, resources: res };
}

/** mulberry32: a small seeded PRNG, so every generated case replays exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Fisher-Yates on a copy. */
export function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
