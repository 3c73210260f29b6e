// Service types: what a validated `kind: Service` document says, with defaults filled in. Pure.
import type { AutoscalePolicy } from './autoscale.js';
import { DEFAULT_DEPLOY_POLICY, type DeployPolicy } from './deploy.js';
import { NO_PLACEMENT, NO_RESOURCES, type PlacementSpec, type ReplicaResources } from './host.js';

export type ServiceRuntime =
  | {
      readonly type: 'process';
      /** argv, no shell: `[node, app.mjs]`. */
      readonly command: readonly string[];
      /** Working folder, relative to the config folder; default the config folder. */
      readonly cwd?: string | undefined;
    }
  | {
      readonly type: 'docker';
      readonly image: string;
      /** `host`: the replica listens on 127.0.0.1:$PORT; `bridge`: `port` is published on 127.0.0.1. */
      readonly network: 'host' | 'bridge';
      readonly pull: 'never' | 'if-missing' | 'always';
    };

export interface HealthCheckSpec {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

export interface ServiceSpec {
  readonly kind: 'Service';
  readonly name: string;
  readonly runtime: ServiceRuntime;
  /** Port the app listens on inside a bridge-network container; process and host-network
   * replicas get a free 127.0.0.1 port in PORT instead. */
  readonly port: number;
  readonly env: Readonly<Record<string, string>>;
  /** How many replicas to run. With `autoscale` only the starting count: from its first sync the
   * autoscaler sets the count, between autoscale.minReplicas and autoscale.maxReplicas. */
  readonly replicas: number;
  readonly health: HealthCheckSpec;
  /** SIGTERM, then SIGKILL after this long. */
  readonly stopGraceMs: number;
  /** How long a leaving replica may finish its in-flight requests before it is stopped. */
  readonly drainTimeoutMs: number;
  /** How a changed template replaces the replicas, a named policy already resolved; undefined
   * means DEFAULT_DEPLOY_POLICY (read it through deployPolicyOf). */
  readonly deploy?: DeployPolicy | undefined;
  /** A free label of what runs, e.g. `1.4.2`: part of the replica template (a new version is a
   * new revision) and passed to replicas as DOCKMASTER_VERSION. */
  readonly version?: string | undefined;
  /** How the replica count follows the load, a named policy already resolved; undefined means no
   * autoscaling: `replicas` stays as written (read it through autoscalePolicyOf). */
  readonly autoscale?: AutoscalePolicy | undefined;
  /** What each replica reserves on its host (placement counts it against the host's capacity)
   * and, for docker services, the container's cpu and memory limits; undefined means
   * NO_RESOURCES (read it through resourcesOf). A process service may set it: its replicas are
   * not limited. */
  readonly resources?: ReplicaResources | undefined;
  /** Where replicas may go among several Docker hosts (docker services only); undefined means
   * NO_PLACEMENT (read it through placementOf). */
  readonly placement?: PlacementSpec | undefined;
}

/** The deploy policy a service follows: its own, or the default when it sets none. */
export function deployPolicyOf(spec: Pick<ServiceSpec, 'deploy'>): DeployPolicy {
  return spec.deploy ?? DEFAULT_DEPLOY_POLICY;
}

/** The autoscale policy a service follows, or undefined: autoscaling is off without one. */
export function autoscalePolicyOf(spec: Pick<ServiceSpec, 'autoscale'>): AutoscalePolicy | undefined {
  return spec.autoscale;
}

/** What each replica of the service reserves: its own `resources`, or nothing. */
export function resourcesOf(spec: Pick<ServiceSpec, 'resources'>): ReplicaResources {
  return spec.resources ?? NO_RESOURCES;
}

/** Where the service's replicas may go: its own `placement`, or anywhere. */
export function placementOf(spec: Pick<ServiceSpec, 'placement'>): PlacementSpec {
  return spec.placement ?? NO_PLACEMENT;
}

export const SERVICE_DEFAULTS = {
  port: 8080,
  replicas: 1,
  stopGraceMs: 10_000,
  drainTimeoutMs: 30_000,
  health: { path: '/healthz', intervalMs: 1_000, timeoutMs: 1_000, healthyThreshold: 1, unhealthyThreshold: 3 },
  docker: { network: 'host', pull: 'if-missing' },
} as const;
