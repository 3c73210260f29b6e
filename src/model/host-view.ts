// What dockmaster shows of one Docker host (GET /v1/hosts, `dockmaster hosts`): whether it answers,
// its cordon state, its capacity and what is allocated on it. Pure types.
import type { HostCapacity } from './host.js';

/**
 * up: answered within the last two check intervals.
 * suspect: silent for longer (or not heard from yet), but for less than hostDownAfterMs: its
 *   replicas keep serving, no new replica is placed on it.
 * lost: silent for hostDownAfterMs: its replicas were taken out and replaced elsewhere; when it
 *   answers again its old containers are fenced (stopped and removed).
 */
export type HostHealthState = 'up' | 'suspect' | 'lost';

export interface HostAllocated {
  readonly cpus: number;
  readonly memoryMb: number;
  /** Replicas of every service placed on the host (starting, running or stopping). */
  readonly replicas: number;
}

/** One replica on a host. */
export interface HostReplica {
  readonly service: string;
  readonly replicaId: string;
  readonly revision: string;
}

export interface HostView {
  readonly name: string;
  /** The address its host-network replicas are reached on. */
  readonly address: string;
  /** `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`; undefined: DOCKER_HOST or the local
   * socket. */
  readonly dockerEndpoint: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: HostHealthState;
  /** state is up. */
  readonly reachable: boolean;
  /** state is lost. */
  readonly lost: boolean;
  /** Unix time in ms when the host entered its state. */
  readonly sinceMs: number;
  /** Unix time in ms of its last sign of life (a ping answered, an event); undefined: none yet. */
  readonly lastSeenMs: number | undefined;
  /** Why its last ping failed (`ping timed out after 1000 ms`, `connect ECONNREFUSED ...`), while
   * it is not up. */
  readonly lastError: string | undefined;
  readonly cordoned: boolean;
  readonly capacity: HostCapacity;
  readonly allocated: HostAllocated;
  /** Replica ids on the host, per service, sorted. */
  readonly replicas: Readonly<Record<string, readonly string[]>>;
  /** The same replicas with their revisions, sorted by service then replica id. */
  readonly placed: readonly HostReplica[];
}
