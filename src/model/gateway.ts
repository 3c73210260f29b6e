// Gateway-wide settings from `dockmaster.yaml` at the root of the config folder (all optional),
// with defaults filled in. Pure types.
import type { HostSpec } from './host.js';

export interface DockerProviderConfig {
  /** Docker Engine endpoint: `unix:///path` or `tcp://host:port`; default DOCKER_HOST or the
   * local socket. */
  readonly host?: string | undefined;
  /** Label namespace: `<prefix>.service`, `<prefix>.port`, `<prefix>.weight`, `<prefix>.version`. */
  readonly labelPrefix: string;
}

export interface ConsulRegisterConfig {
  /** Register the replicas dockmaster runs as Consul services with an HTTP check. */
  readonly enabled: boolean;
  /** Check interval Consul uses for the registered HTTP check. */
  readonly checkIntervalMs: number;
  /** Consul deregisters a service whose check stays critical this long. */
  readonly deregisterCriticalAfterMs: number;
}

export interface ConsulProviderConfig {
  /** `http://127.0.0.1:8500` */
  readonly address: string;
  readonly token?: string | undefined;
  readonly datacenter?: string | undefined;
  /** Services carrying this tag are watched too, besides those routes name. */
  readonly tag?: string | undefined;
  /** Tags `<prefix>version=X` and `<prefix>weight=N` map to the endpoint's version and weight. */
  readonly tagPrefix: string;
  /** Blocking query wait. */
  readonly waitMs: number;
  /** Token bucket: queries per second per watched service (a burst of `burst`). */
  readonly maxQueriesPerSecond: number;
  readonly burst: number;
  readonly register: ConsulRegisterConfig;
  readonly leadership: ConsulLeadershipSettings;
}

/**
 * Several dockmaster instances in front of one fleet: each service is driven (controller and
 * autoscaler) by the one instance holding its Consul lock; every instance routes. Enabling it
 * enables `register` too, so the instances that do not drive a service route to its replicas
 * through Consul.
 */
export interface ConsulLeadershipSettings {
  readonly enabled: boolean;
  /** TTL of the instance's Consul session: a crashed leader's services move after this. */
  readonly sessionTtlMs: number;
  /** Consul's lock-delay after a session is invalidated (0: off). */
  readonly lockDelayMs: number;
  /** Locks are `<keyPrefix>/leader/<service>`. */
  readonly keyPrefix: string;
}

export interface PassiveHealthConfig {
  /** Consecutive failures (connect errors, resets, timeouts; 5xx on routes that ask) that eject. */
  readonly consecutiveFailures: number;
  /** The n-th ejection of an endpoint lasts n x this, capped by maxEjectionMs. */
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  /** At most this share of a pool is ejected at once. */
  readonly maxEjectionPercent: number;
}

/** TLS files of a `tcp://` Docker endpoint, as absolute paths (written relative to the config
 * folder). `ca` verifies the daemon; `cert` and `key` (always both) authenticate dockmaster. */
export interface DockerTlsFiles {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

/** One host of `dockmaster.yaml`'s `hosts:` list: what placement needs (HostSpec, never cordoned
 * in the file: cordon is a runtime command) and how to reach its Docker engine. */
export interface HostConfig extends HostSpec {
  /** `unix:///var/run/docker.sock` or `tcp://10.0.0.5:2376`. */
  readonly dockerEndpoint: string;
  /** Only with a `tcp://` endpoint. */
  readonly tls?: DockerTlsFiles | undefined;
}

export interface GatewayConfig {
  readonly providers: {
    readonly docker?: DockerProviderConfig | undefined;
    readonly consul?: ConsulProviderConfig | undefined;
  };
  readonly passiveHealth: PassiveHealthConfig;
  /** When fewer than this share of a pool's endpoints are healthy, route to all of them. */
  readonly panicThresholdPercent: number;
  /** A newly healthy endpoint's weight ramps from 10% to full over this window (0: off). */
  readonly slowStartMs: number;
  /** Where the deployment controller keeps rollout state and revision history (relative to the
   * config folder); default `.dockmaster/state` in the config folder. */
  readonly stateDir?: string | undefined;
  /** Docker hosts replicas are placed on. Empty: the local daemon is the only host (and process
   * replicas run on this machine), as before several hosts existed. */
  readonly hosts: readonly HostConfig[];
  /** Each host's engine is pinged this often. */
  readonly hostCheckIntervalMs: number;
  /** A host that answers nothing for this long is lost: its replicas are replaced elsewhere.
   * Always more than hostCheckIntervalMs. */
  readonly hostDownAfterMs: number;
}

/** State folder, relative to the config folder, when neither the file nor --state-dir names one. */
export const DEFAULT_STATE_DIR = '.dockmaster/state';

export const GATEWAY_DEFAULTS: GatewayConfig = {
  providers: {},
  passiveHealth: { consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 },
  panicThresholdPercent: 50,
  slowStartMs: 0,
  hosts: [],
  hostCheckIntervalMs: 1_000,
  hostDownAfterMs: 5_000,
};

export const CONSUL_DEFAULTS = {
  tagPrefix: '',
  waitMs: 30_000,
  maxQueriesPerSecond: 5,
  burst: 10,
  register: { enabled: false, checkIntervalMs: 1_000, deregisterCriticalAfterMs: 60_000 },
  leadership: { enabled: false, sessionTtlMs: 10_000, lockDelayMs: 15_000, keyPrefix: 'dockmaster' },
} as const;

export const DOCKER_PROVIDER_DEFAULTS = { labelPrefix: 'dockmaster' } as const;
