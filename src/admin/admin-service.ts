// What the admin API can do, as one interface; the fastify routes call only this. Pure types.
import type { Registry } from 'prom-client';
import type { ConfigProblem, ErrorCode } from '../errors.js';
import type { HostReplica, HostView } from '../model/host-view.js';
import type { RouteSpec } from '../model/route.js';
import type { ServiceSpec } from '../model/service.js';
import type { RevisionView, ServiceStatus } from '../deploy/service-controller.js';
import type { ManagerCommandResult } from '../deploy/service-manager.js';
import type { CommandName } from '../deploy/deploy-state.js';
import type { EventLog } from '../observability/event-log.js';

export type PutResult =
  | { readonly ok: true; readonly created: boolean }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Routes as the admin API sees them; implemented by the route store (config/route-store.ts). */
export interface RoutesAdmin {
  list(): readonly RouteSpec[];
  get(name: string): RouteSpec | undefined;
  /** Validates `body` as a whole route named `name` together with the rest of the set; on
   * success it is persisted and served at once, on failure nothing changes. */
  put(name: string, body: unknown): Promise<PutResult>;
  /** False when no route has that name. */
  delete(name: string): Promise<boolean>;
}

/** Service specs as stored in policies/ (implemented by the service store). */
export interface ServiceSpecsAdmin {
  get(name: string): ServiceSpec | undefined;
  put(name: string, body: unknown): Promise<PutResult>;
  delete(name: string): Promise<boolean>;
  /** Persists only the replica count of an existing service. */
  setReplicas(name: string, replicas: number): Promise<PutResult>;
}

/** One endpoint of a service as the routing table has it now, from any provider. */
export interface EndpointView {
  readonly id: string;
  readonly origin: string;
  readonly source: string;
  readonly revision?: string | undefined;
  readonly weight: number;
  /** Takes new requests (healthy, not ejected, not draining). */
  readonly pickable: boolean;
  readonly healthy: boolean;
  readonly draining: boolean;
  readonly ejected: boolean;
  readonly inFlight: number;
}

export interface ProviderView {
  readonly provider: string;
  readonly up: boolean;
  /** True while the provider serves its last good snapshot because its source failed. */
  readonly stale: boolean;
  readonly lastSyncMs?: number | undefined;
  readonly lastError?: string | undefined;
}

/** A service as the admin API shows it: the managed part (spec, replicas) when dockmaster runs
 * it, and the endpoints every provider contributes, with the providers' freshness. */
export type ServiceView = Partial<ServiceStatus> & {
  readonly name: string;
  /** The service document as written in policies/ (a `deploy: {policy: NAME}` reference kept,
   * no defaults added): what a client edits and PUTs back. `spec` is what runs, resolved. */
  readonly document?: unknown;
  readonly endpoints: readonly EndpointView[];
  readonly providers: readonly ProviderView[];
};

/** Services: their stored specs, and what the controllers and providers observe of them. */
export interface ServicesAdmin {
  readonly specs: ServiceSpecsAdmin;
  list(): readonly ServiceView[];
  status(name: string): ServiceView | undefined;
  /** pause | resume | promote | abort on the service's running rollout; answers once applied. */
  rollout(name: string, command: CommandName): Promise<ManagerCommandResult>;
  rollback(name: string, toRevision: string | undefined): Promise<ManagerCommandResult>;
  /** The revision history (newest first); undefined when the service is not managed here. */
  revisions(name: string): readonly RevisionView[] | undefined;
  /** Why PUTting `body` as service `name` would supersede a running rollout (answered 409 unless
   * the request says `supersede=true`); undefined when it would not, or the body is invalid
   * (then the PUT itself reports the problems). */
  conflict(name: string, body: unknown): string | undefined;
}

/** One replica placed on a host. */
export type HostReplicaView = HostReplica;

/**
 * A Docker host of dockmaster.yaml as `GET /v1/hosts` shows it: the runtime's HostView (whether
 * it answers, since when, capacity, what is allocated) with the admin layer's drain state, its
 * replicas listed with their revisions. `dockerEndpoint` undefined: the local daemon.
 */
export type HostStatusView = Pick<HostView, 'name' | 'address' | 'reachable' | 'lost' | 'sinceMs' | 'cordoned' | 'capacity' | 'labels' | 'allocated'> & {
  readonly dockerEndpoint?: string | undefined;
  /** Its replicas are being moved off (a drain cordons the host too). */
  readonly draining: boolean;
  readonly replicas: readonly HostReplicaView[];
  /** Why the host is unreachable (the last ping's error), when it is not. */
  readonly lastError?: string | undefined;
};

export type HostCommand = 'cordon' | 'uncordon' | 'drain';

export type HostCommandResult =
  | { readonly ok: true; readonly message: string; readonly host: HostStatusView }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/**
 * The Docker hosts of dockmaster.yaml (present only when it lists hosts). Commands answer once
 * they took effect: cordon and uncordon at once; drain once the host is cordoned and draining
 * (replicas then move one at a time, the way a rolling update replaces them: a new one healthy
 * elsewhere first, then the old one drained and stopped). Each is idempotent: cordoning a
 * cordoned host answers ok. Uncordon ends a drain. An unknown name is DM_ERR_HOST_UNKNOWN.
 */
export interface HostsAdmin {
  list(): readonly HostStatusView[];
  get(name: string): HostStatusView | undefined;
  command(name: string, command: HostCommand): Promise<HostCommandResult>;
}

export interface AdminService {
  readonly routes: RoutesAdmin;
  readonly services: ServicesAdmin;
  /** Absent without hosts in dockmaster.yaml (one machine): GET /v1/hosts answers an empty list
   * with a note, and the host commands DM_ERR_HOSTS_NOT_CONFIGURED. */
  readonly hosts?: HostsAdmin | undefined;
  readonly events: EventLog;
  readonly registry: Registry;
  /** False once shutdown began or before the first config loaded: /readyz answers 503. */
  isReady(): boolean;
}
