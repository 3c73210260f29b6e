// From the replicas the multi-host driver holds on each host: the placement allocations, and the
// view of a host (capacity, what is allocated, replica ids per service). Pure.
import { NO_RESOURCES, type Allocation, type HostSpec } from '../../model/host.js';
import type { HostHealthState, HostView } from '../../model/host-view.js';
import { formatMilli, toMilli } from '../../hosts/placement-usage.js';
import type { ReplicaObservation } from '../runtime-driver.js';

/** One allocation per live replica on `host` (exited ones reserve nothing); a replica without
 * resource labels reserves nothing but still counts against maxReplicas. */
export function allocationsOf(host: string, observations: readonly ReplicaObservation[]): Allocation[] {
  return observations
    .filter((o) => o.state !== 'exited')
    .map((o) => ({ service: o.service, replicaId: o.replicaId, host, resources: o.resources ?? NO_RESOURCES }));
}

export interface HostViewInput {
  readonly spec: HostSpec;
  readonly state: HostHealthState;
  readonly sinceMs: number;
  readonly lastSeenMs: number | undefined;
  readonly lastError: string | undefined;
  readonly cordoned: boolean;
  /** The live replicas held on the host (none for a lost host). */
  readonly replicas: readonly ReplicaObservation[];
  /** Starts placed on the host and still in progress. */
  readonly starting: readonly Allocation[];
}

/** Sums in milli-units, like placement, so 0.1 + 0.2 cpus shows as 0.3. Starts in progress count
 * in `allocated` (they reserve) but are listed only once they run. */
export function hostView(input: HostViewInput): HostView {
  const allocations = [...allocationsOf(input.spec.name, input.replicas), ...input.starting];
  let cpusMilli = 0;
  let memoryMilli = 0;
  for (const a of allocations) {
    cpusMilli += toMilli(a.resources.cpus);
    memoryMilli += toMilli(a.resources.memoryMb);
  }
  const live = input.replicas.filter((o) => o.state !== 'exited');
  const byService: Record<string, string[]> = {};
  for (const o of live) (byService[o.service] ??= []).push(o.replicaId);
  for (const ids of Object.values(byService)) ids.sort();
  const placed = live
    .map((o) => ({ service: o.service, replicaId: o.replicaId, revision: o.revision }))
    .sort((a, b) => (a.service === b.service ? compareText(a.replicaId, b.replicaId) : compareText(a.service, b.service)));
  return {
    name: input.spec.name,
    address: input.spec.address,
    dockerEndpoint: input.spec.dockerEndpoint,
    labels: input.spec.labels,
    state: input.state,
    reachable: input.state === 'up',
    lost: input.state === 'lost',
    sinceMs: input.sinceMs,
    lastSeenMs: input.lastSeenMs,
    lastError: input.lastError,
    cordoned: input.cordoned,
    capacity: input.spec.capacity,
    allocated: { cpus: Number(formatMilli(cpusMilli)), memoryMb: Number(formatMilli(memoryMilli)), replicas: allocations.length },
    replicas: byService,
    placed,
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
