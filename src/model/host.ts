// Host types for several Docker hosts: what a host offers (capacity, labels, cordon state), what
// a service asks for (resources, placement constraints and spread) and where replicas sit. Pure.

/** What a host can hold. cpus are cores (0.5 = half a core, counted to 1/1000); memory in MB. */
export interface HostCapacity {
  readonly cpus: number;
  readonly memoryMb: number;
  /** At most this many replicas (of every service) on the host; no limit when undefined. */
  readonly maxReplicas?: number | undefined;
}

/** One host of `dockmaster.yaml`. */
export interface HostSpec {
  /** Unique among the hosts; allocations refer to it. */
  readonly name: string;
  /** How dockmaster reaches the host's Docker engine (`unix:///var/run/docker.sock`,
   * `tcp://10.0.0.5:2375`); not used by placement. */
  readonly dockerEndpoint?: string | undefined;
  /** The address its host-network containers are reached on (`10.0.0.5`, `127.0.0.1`). */
  readonly address: string;
  readonly capacity: HostCapacity;
  /** Free labels placement constraints and spread refer to, e.g. `{ zone: 'a' }`. */
  readonly labels: Readonly<Record<string, string>>;
  /** `dockmaster host cordon NAME`: no new replica is placed here; running ones stay. */
  readonly cordoned: boolean;
}

/** What one replica of a service reserves on its host. */
export interface ReplicaResources {
  readonly cpus: number;
  readonly memoryMb: number;
}

/** A replica reserving nothing (a service that sets no `resources`). */
export const NO_RESOURCES: ReplicaResources = { cpus: 0, memoryMb: 0 };

/**
 * A condition on one host label, written the way Kubernetes node affinity writes its match
 * expressions:
 * - `{ label: zone, op: in, values: [a, b] }`: the host has label `zone` with value a or b;
 * - `{ label: zone, op: notIn, values: [c] }`: the host has no label `zone`, or one not valued c;
 * - `{ label: gpu, op: exists }`: the host has label `gpu`, whatever its value;
 * - `{ label: gpu, op: notExists }`: the host has no label `gpu`.
 */
export type PlacementConstraint =
  | { readonly label: string; readonly op: 'in' | 'notIn'; readonly values: readonly string[] }
  | { readonly label: string; readonly op: 'exists' | 'notExists' };

export interface PlacementSpec {
  /** Every constraint must hold for a host to take a replica. */
  readonly constraints: readonly PlacementConstraint[];
  /** Spread the service's replicas evenly over the values of this label (e.g. `zone`). */
  readonly spread?: string | undefined;
}

/** No constraint, no spread. */
export const NO_PLACEMENT: PlacementSpec = { constraints: [] };

/** What placement needs to know of a service: its name, what each replica reserves, where it
 * may go. */
export interface ServiceDemand {
  readonly name: string;
  readonly resources: ReplicaResources;
  readonly placement: PlacementSpec;
}

/** One replica placed on a host, reserving its resources there. */
export interface Allocation {
  readonly service: string;
  readonly replicaId: string;
  /** A HostSpec name. */
  readonly host: string;
  readonly resources: ReplicaResources;
}
