// Service types: what a validated `kind: Service` document says, with defaults filled in. Pure.

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
  readonly replicas: number;
  readonly health: HealthCheckSpec;
  /** SIGTERM, then SIGKILL after this long. */
  readonly stopGraceMs: number;
  /** How long a leaving replica may finish its in-flight requests before it is stopped. */
  readonly drainTimeoutMs: number;
}

export const SERVICE_DEFAULTS = {
  port: 8080,
  replicas: 1,
  stopGraceMs: 10_000,
  drainTimeoutMs: 30_000,
  health: { path: '/healthz', intervalMs: 1_000, timeoutMs: 1_000, healthyThreshold: 1, unhealthyThreshold: 3 },
  docker: { network: 'host', pull: 'if-missing' },
} as const;
