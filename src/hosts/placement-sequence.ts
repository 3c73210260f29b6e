// Places N replicas of a service one after another, each placement counting the ones before it,
// the way a controller scaling up would; for tests, simulations and benchmarks. Pure.
import type { Allocation, HostSpec, ServiceDemand } from '../model/host.js';
import { chooseHost } from './placement.js';
import { assertPlacementInput } from './placement-problems.js';
import { addToUsage, usageByHost } from './placement-usage.js';

export interface PlacementSequence {
  /** The new allocations, in placement order (`allocations` given are not repeated). */
  readonly placed: readonly Allocation[];
  /** Replicas no host could take, each with the reason (placement stops at the first: nothing
   * changes after it, so the rest wait for the same reason). */
  readonly pending: readonly { readonly replicaId: string; readonly reason: string }[];
}

/**
 * Places `count` replicas of `service` as placeReplica would, one at a time. Replica ids are
 * `<service>-<n>`, n counting on from the service's replicas already in `allocations`.
 * Example (the cluster of placeReplica's doc comment, nothing placed): 4 web replicas go to
 * h2, h3, h1, h3: zone a and b alternate, and zone b has h3 only.
 */
export function placeReplicas(service: ServiceDemand, hosts: readonly HostSpec[], allocations: readonly Allocation[], count: number): PlacementSequence {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`placeReplicas: count must be an integer >= 0, got ${count}`);
  assertPlacementInput(service, hosts, allocations);
  const usage = usageByHost(hosts, allocations, service.name);
  const existing = allocations.filter((a) => a.service === service.name).length;
  const placed: Allocation[] = [];
  for (let i = 0; i < count; i++) {
    const replicaId = `${service.name}-${existing + i + 1}`;
    const result = chooseHost(service, hosts, usage);
    if (!result.ok) {
      const pending = [];
      for (let j = i; j < count; j++) pending.push({ replicaId: `${service.name}-${existing + j + 1}`, reason: result.reason });
      return { placed, pending };
    }
    const allocation: Allocation = { service: service.name, replicaId, host: result.host.name, resources: service.resources };
    placed.push(allocation);
    addToUsage(usage, allocation.host, allocation.resources, true);
  }
  return { placed, pending: [] };
}
