// Registers the replicas dockmaster runs as Consul agent services with an HTTP check, and
// deregisters them when they stop, so that instances on other hosts route to them. Never throws:
// failures are logged and retried a few times with backoff. I/O shell.
import type { Logger } from '../../observability/logger.js';
import type { ConsulProviderConfig } from '../../model/gateway.js';
import { ConsulApi, ConsulCallError } from './consul-client.js';
import { backoffDelayMs, type BackoffLimits } from './backoff.js';
import { consulServiceId, registrationFor, type RegisteredReplica } from './registration.js';
import { abortableSleep } from './abortable-sleep.js';

export type { RegisteredReplica } from './registration.js';

export interface ConsulRegistrarDeps {
  readonly logger: Logger;
  readonly random?: () => number;
  /** Tries per call, the first included. Default 4. */
  readonly attempts?: number;
  /** Delay between tries; default 250 ms doubling to 5 s, with jitter. */
  readonly backoff?: BackoffLimits;
  /** Limit per Consul request. Default 5000 ms. */
  readonly requestTimeoutMs?: number;
  /** This dockmaster instance's id (Service.Meta `dockmaster-instance`); give the provider the
   * same id so that it leaves this instance's own replicas out. */
  readonly instanceId?: string | undefined;
}

type RegistrarConfig = Pick<ConsulProviderConfig, 'address' | 'token' | 'datacenter' | 'tagPrefix' | 'register'>;

const DEFAULT_REGISTRAR_BACKOFF: BackoffLimits = { baseMs: 250, maxMs: 5_000 };

export class ConsulRegistrar {
  private readonly config: RegistrarConfig;
  private readonly deps: ConsulRegistrarDeps;
  private readonly api: ConsulApi;
  private readonly controller = new AbortController();
  /** The latest call per Consul service id: an older call still retrying gives up. */
  private readonly latest = new Map<string, number>();
  /** Calls for one id run one after the other, in call order. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Ids registered successfully and not deregistered since. */
  private readonly live = new Set<string>();
  private generation = 0;

  constructor(config: RegistrarConfig, deps: ConsulRegistrarDeps) {
    this.config = config;
    this.deps = deps;
    this.api = new ConsulApi({ address: config.address, token: config.token, datacenter: config.datacenter });
  }

  /** Registers (or re-registers) a replica. Resolves true once Consul took it; false when
   * registration is disabled, every try failed, or a later call for the same replica came. */
  register(replica: RegisteredReplica): Promise<boolean> {
    if (!this.config.register.enabled) return Promise.resolve(false);
    const built = registrationFor(replica, { tagPrefix: this.config.tagPrefix, register: this.config.register, instanceId: this.deps.instanceId });
    if (!built.ok) {
      this.deps.logger.error({ provider: 'consul', service: replica.service, replica: replica.replicaId, err: built.error }, 'consul registration skipped');
      return Promise.resolve(false);
    }
    const { registration } = built;
    return this.enqueue(registration.ID, 'register', async (signal) => {
      await this.api.registerService(registration, { timeoutMs: this.requestTimeoutMs(), signal });
      this.live.add(registration.ID);
    });
  }

  /** Deregisters a replica; an id Consul does not know counts as done. */
  deregister(service: string, replicaId: string): Promise<boolean> {
    if (!this.config.register.enabled) return Promise.resolve(false);
    const id = consulServiceId(service, replicaId);
    return this.enqueue(id, 'deregister', async (signal) => {
      try {
        await this.api.deregisterService(id, { timeoutMs: this.requestTimeoutMs(), signal });
      } catch (error) {
        if (!(error instanceof ConsulCallError && error.statusCode === 404)) throw error;
      }
      this.live.delete(id);
    });
  }

  /** Consul service ids this registrar registered and has not deregistered. */
  registeredIds(): string[] {
    return [...this.live].sort();
  }

  /** Stops retrying and closes connections; registrations stay in Consul (the replicas' checks
   * and DeregisterCriticalServiceAfter clean up after a crash). */
  async close(): Promise<void> {
    this.controller.abort();
    await Promise.allSettled([...this.chains.values()]);
    this.api.close();
  }

  private requestTimeoutMs(): number {
    return this.deps.requestTimeoutMs ?? 5_000;
  }

  private enqueue(id: string, what: 'register' | 'deregister', call: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
    const generation = ++this.generation;
    this.latest.set(id, generation);
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(() => this.attempt(id, what, generation, call));
    this.chains.set(id, next);
    void next.finally(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
    return next;
  }

  private async attempt(id: string, what: string, generation: number, call: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
    const { signal } = this.controller;
    const attempts = Math.max(1, this.deps.attempts ?? 4);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (signal.aborted || this.latest.get(id) !== generation) return false;
      try {
        await call(signal);
        this.deps.logger.info({ provider: 'consul', consulServiceId: id }, `consul ${what} done`);
        return true;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const last = attempt === attempts;
        this.deps.logger.warn({ provider: 'consul', consulServiceId: id, attempt, err: message }, last ? `consul ${what} failed: giving up` : `consul ${what} failed: retrying`);
        if (last) return false;
        await abortableSleep(backoffDelayMs(attempt, this.deps.backoff ?? DEFAULT_REGISTRAR_BACKOFF, this.deps.random ?? Math.random), signal);
      }
    }
    return false;
  }
}

