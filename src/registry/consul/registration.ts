// What dockmaster registers in Consul for a replica it runs: the agent service definition with
// an HTTP check on the replica's health path, and its stable service id. Pure.
import type { ConsulRegisterConfig } from '../../model/gateway.js';
import { INSTANCE_META_KEY } from './translate-health.js';

/** What Consul's agent register endpoint takes (the subset dockmaster sends). */
export interface AgentServiceRegistration {
  readonly Name: string;
  readonly ID: string;
  readonly Address: string;
  readonly Port: number;
  readonly Tags: readonly string[];
  readonly Meta?: Readonly<Record<string, string>> | undefined;
  readonly Check: {
    readonly HTTP: string;
    readonly Interval: string;
    readonly Timeout: string;
    readonly DeregisterCriticalServiceAfter: string;
  };
}

export interface RegisteredReplica {
  readonly service: string;
  readonly replicaId: string;
  readonly revision: string;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** The service's health check path, `/healthz`. */
  readonly healthPath: string;
  /** Timeout of Consul's HTTP check; default the check interval. */
  readonly healthTimeoutMs?: number | undefined;
}

export interface RegistrationOptions {
  readonly tagPrefix: string;
  /** This dockmaster instance's id, put in Service.Meta so that its own provider can leave its
   * own replicas out (they are managed endpoints already). */
  readonly instanceId?: string | undefined;
  readonly register: Pick<ConsulRegisterConfig, 'checkIntervalMs' | 'deregisterCriticalAfterMs'>;
}

/** `dockmaster-<service>-<replicaId>`: one id per replica, the same on every re-registration. */
export function consulServiceId(service: string, replicaId: string): string {
  return `dockmaster-${service}-${replicaId}`;
}

function goDurationMs(ms: number): string {
  return `${Math.max(1, Math.round(ms))}ms`;
}

/**
 * The register body, or why there is none (an origin that is not `http://HOST:PORT`). Example:
 *   {service:'api', replicaId:'r1', revision:'abc', origin:'http://127.0.0.1:3001', healthPath:'/healthz'}
 *   -> {Name:'api', ID:'dockmaster-api-r1', Address:'127.0.0.1', Port:3001, Tags:['version=abc'],
 *       Check:{HTTP:'http://127.0.0.1:3001/healthz', Interval:'1000ms', Timeout:'1000ms',
 *              DeregisterCriticalServiceAfter:'60000ms'}}
 */
export function registrationFor(replica: RegisteredReplica, options: RegistrationOptions): { ok: true; registration: AgentServiceRegistration } | { ok: false; error: string } {
  let url: URL;
  try {
    url = new URL(replica.origin);
  } catch {
    return { ok: false, error: `origin ${JSON.stringify(replica.origin)} is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, error: `origin ${replica.origin} is not http(s)` };
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  // URL keeps IPv6 literals in brackets; Consul wants the bare address.
  const address = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const path = replica.healthPath.startsWith('/') ? replica.healthPath : `/${replica.healthPath}`;
  const intervalMs = options.register.checkIntervalMs;
  return {
    ok: true,
    registration: {
      Name: replica.service,
      ID: consulServiceId(replica.service, replica.replicaId),
      Address: address,
      Port: port,
      Tags: [`${options.tagPrefix}version=${replica.revision}`],
      Meta: { 'dockmaster-replica': replica.replicaId, ...(options.instanceId === undefined ? {} : { [INSTANCE_META_KEY]: options.instanceId }) },
      Check: {
        HTTP: `${url.origin}${path}`,
        Interval: goDurationMs(intervalMs),
        Timeout: goDurationMs(replica.healthTimeoutMs ?? intervalMs),
        DeregisterCriticalServiceAfter: goDurationMs(options.register.deregisterCriticalAfterMs),
      },
    },
  };
}
