// Service types: what a validated `kind: Service` document says, with defaults filled in. Pure.
import type { AutoscalePolicy } from './autoscale.js';
import { DEFAULT_DEPLOY_POLICY, type DeployPolicy } from './deploy.js';

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
}

/** The deploy policy a service follows: its own, or the default when it sets none. */
export function deployPolicyOf(spec: Pick<ServiceSpec, 'deploy'>): DeployPolicy {
  return spec.deploy ?? DEFAULT_DEPLOY_POLICY;
}

/** The autoscale policy a service follows, or undefined: autoscaling is off without one. */
export function autoscalePolicyOf(spec: Pick<ServiceSpec, 'autoscale'>): AutoscalePolicy | undefined {
  return spec.autoscale;
}

export const SERVICE_DEFAULTS = {
  port: 8080,
  replicas: 1,
  stopGraceMs: 10_000,
  drainTimeoutMs: 30_000,
  health: { path: '/healthz', intervalMs: 1_000, timeoutMs: 1_000, healthyThreshold: 1, unhealthyThreshold: 3 },
  docker: { network: 'host', pull: 'if-missing' },
} as const;
