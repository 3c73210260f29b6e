// The RuntimeDriver interface: how dockmaster runs replicas (processes, containers, fakes). Pure types.
// Every driver maps its native data to ReplicaObservation; supervisors see nothing else.
import type { PlacementSpec, ReplicaResources } from '../model/host.js';

/** How a replica runs. */
export type RuntimeSpec = ProcessRuntimeSpec | DockerRuntimeSpec;

export interface ProcessRuntimeSpec {
  readonly kind: 'process';
  /** argv, no shell: `['node', 'src/demo/demo-app.mjs']`; looked up on PATH. */
  readonly command: readonly string[];
  /** Working directory; default: dockmaster's own. */
  readonly cwd?: string | undefined;
}

export type DockerNetworkMode = 'host' | 'bridge';
export type PullPolicy = 'never' | 'if-missing' | 'always';

export interface DockerRuntimeSpec {
  readonly kind: 'docker';
  readonly image: string;
  /** host: the driver picks a free 127.0.0.1 port and passes it in PORT. bridge: the container
   * listens on `port`, published on 127.0.0.1 with a host port Docker picks. */
  readonly network: DockerNetworkMode;
  readonly pull: PullPolicy;
}

/** Everything needed to start one replica of one revision of a service. */
export interface ReplicaTemplate {
  readonly service: string;
  /** Stable hash of the rest of the template: see templateRevision (revision.ts). */
  readonly revision: string;
  readonly runtime: RuntimeSpec;
  /** The port the app listens on inside a bridge-network container. Ignored for processes and
   * host-network containers: the driver assigns a free 127.0.0.1 port and passes it in PORT. */
  readonly port: number;
  /** Extra environment. The driver always sets PORT, DOCKMASTER_SERVICE, DOCKMASTER_REVISION and
   * DOCKMASTER_REPLICA (and DOCKMASTER_VERSION when `version` is set), overriding keys of the same
   * name here. */
  readonly env: Readonly<Record<string, string>>;
  /** Default grace period between SIGTERM and SIGKILL for this template's replicas. */
  readonly stopGraceMs: number;
  /** The service's free version label (`1.4.2`), when it sets one: part of the revision, and
   * passed to replicas in DOCKMASTER_VERSION. */
  readonly version?: string | undefined;
  /** What one replica reserves: placement counts it against a host's capacity, and the Docker
   * driver passes it as limits (HostConfig.NanoCpus, HostConfig.Memory). The process driver
   * ignores it (no limits for child processes). Part of the revision only when set. */
  readonly resources?: ReplicaResources | undefined;
  /** Where replicas may go among several Docker hosts (constraints on host labels, spread).
   * Read by the multi-host driver only; not part of the revision (it says where, not what runs). */
  readonly placement?: PlacementSpec | undefined;
}

/**
 * starting: being created, not yet accepting connections on its origin.
 * running: the process runs (for replicas returned by start(): and its origin accepted a TCP
 *   connection). Whether it answers health checks is the prober's business, not the driver's.
 * stopping: stop() was called and the replica has not exited yet.
 * exited: it ended; the observation stays listed (with exitCode) until stop(id) removes it.
 */
export type ReplicaState = 'starting' | 'running' | 'stopping' | 'exited';

/** Health as the runtime itself reports it (Docker HEALTHCHECK); undefined where it has none. */
export type RuntimeHealth = 'healthy' | 'unhealthy' | 'starting';

export interface ReplicaObservation {
  /** The driver's handle for this replica: pass it to stop(). Opaque, unique within the runtime. */
  readonly id: string;
  readonly service: string;
  readonly revision: string;
  /** The replica id the supervisor passed to start(). */
  readonly replicaId: string;
  readonly state: ReplicaState;
  /** `http://127.0.0.1:PORT`; undefined when not known (yet), e.g. a created container. */
  readonly origin?: string | undefined;
  /** Set once exited: the exit status, or 128 + signal number when a signal ended it (137 for
   * SIGKILL), the shell and Docker convention, so every driver reports the same number. */
  readonly exitCode?: number | undefined;
  /** The signal that ended it, where the runtime says so (processes); Docker reports only codes. */
  readonly signal?: string | undefined;
  /** Unix time in ms when the runtime started it. */
  readonly startedAtMs?: number | undefined;
  readonly runtimeHealth?: RuntimeHealth | undefined;
  /** Process id (as a string) or full container id. */
  readonly nativeId: string;
  /** The host it runs on, for a driver over several hosts (the multi-host driver). */
  readonly host?: string | undefined;
  /** Docker: the `dockmaster.generation` label, higher for a later start of the same replica id
   * (the multi-host driver fences the lower ones). Undefined where the runtime has none. */
  readonly generation?: number | undefined;
  /** Docker: what the replica reserves, from its labels (set when its template had resources). */
  readonly resources?: ReplicaResources | undefined;
}

/** Identity fields every event carries. */
export interface ReplicaRef {
  readonly id: string;
  readonly service: string;
  readonly revision: string;
  readonly replicaId: string;
}

/**
 * Lifecycle events. They are hints in the level-triggered sense ("look again now"): a supervisor
 * reacts by re-reading list(), and must not rely on seeing every event (a listener subscribed late,
 * or a runtime that was unreachable for a while, misses some; after reconnecting, a driver emits
 * events for the differences it finds, so the last event per replica matches list()).
 */
export type RuntimeEvent =
  | { readonly kind: 'started'; readonly atMs: number; readonly replica: ReplicaObservation }
  | {
      readonly kind: 'exited';
      readonly atMs: number;
      readonly ref: ReplicaRef;
      /** As ReplicaObservation.exitCode; undefined when the runtime lost it. */
      readonly exitCode: number | undefined;
      readonly signal: string | undefined;
      /** True when this driver's stop() ended it; false for crashes and outside kills. */
      readonly expected: boolean;
      /** Set by the multi-host driver when the replica did not exit by itself: `host-lost`, its
       * host stopped answering for hostDownAfterMs (the replica may still run there, unreachable,
       * and is fenced when the host comes back); `fenced`, a newer start of the same replica id
       * runs on another host, so this copy was stopped and removed. Undefined for real exits. */
      readonly reason?: 'host-lost' | 'fenced' | undefined;
    }
  | { readonly kind: 'health'; readonly atMs: number; readonly ref: ReplicaRef; readonly health: RuntimeHealth }
  /** The runtime stopped or resumed answering (Docker daemon gone or back). While unavailable,
   * list/start/stop reject with DM_ERR_RUNTIME_UNAVAILABLE; after `available: true` the driver
   * has re-listed and emitted the differences. */
  | { readonly kind: 'availability'; readonly atMs: number; readonly available: boolean };

export type RuntimeEventListener = (event: RuntimeEvent) => void;

export type RuntimeKind = 'process' | 'docker' | 'fake';

/**
 * Runs replicas. All methods are safe to call concurrently for different replicas.
 *
 * Events are a subscription, not an async iterator: several consumers (supervisor, admin
 * timeline, metrics) can listen without sharing a cursor, and a slow consumer cannot hold the
 * driver back. Listeners run synchronously in subscription order; a listener that throws is
 * logged and skipped.
 */
export interface RuntimeDriver {
  readonly kind: RuntimeKind;
  /**
   * Replicas this runtime holds, for one service or all: starting, running, stopping and exited
   * ones (until stop(id) removes them). A Docker driver lists containers carrying its labels,
   * including those a previous dockmaster started, so a supervisor adopts them instead of starting
   * duplicates. Process replicas cannot outlive dockmaster, so a new process driver lists none.
   */
  list(service?: string): Promise<ReplicaObservation[]>;
  /**
   * Starts one replica and resolves once it runs and its origin accepts TCP connections (bounded
   * by the driver's start timeout). Rejects with DM_ERR_RUNTIME_START (the replica exited early,
   * never opened its port, or `service`+`replicaId` already runs), DM_ERR_RUNTIME_IMAGE_MISSING or
   * DM_ERR_RUNTIME_UNAVAILABLE; a failed start leaves nothing behind.
   */
  start(template: ReplicaTemplate, replicaId: string): Promise<ReplicaObservation>;
  /**
   * SIGTERM, then SIGKILL after graceMs (Docker: container stop with t = ceil(graceMs / 1000) s),
   * then forgets it (Docker: removes the container). Resolves when it is gone. Idempotent: an
   * unknown id resolves at once, an exited replica is just removed.
   */
  stop(id: string, graceMs: number): Promise<void>;
  /** Subscribes; returns the unsubscribe function. */
  on(listener: RuntimeEventListener): () => void;
  /**
   * Releases the driver. Replicas that can outlive it keep running (Docker containers, for the
   * next dockmaster to adopt); process replicas cannot, so the process driver stops them (with
   * their template's stopGraceMs).
   */
  close(): Promise<void>;
}

/** Environment keys every replica receives from its driver (`version` only when its template
 * has one). */
export const REPLICA_ENV = {
  port: 'PORT',
  service: 'DOCKMASTER_SERVICE',
  revision: 'DOCKMASTER_REVISION',
  replica: 'DOCKMASTER_REPLICA',
  version: 'DOCKMASTER_VERSION',
} as const;
