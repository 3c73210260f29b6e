// Per-service leadership among dockmaster instances (Consul's leader-election guide): one TTL
// session per instance, one KV lock per service, a blocking read on each lock key, fencing by
// time. I/O shell (HTTP to Consul, timers); every decision is decideLeadership's.
import { DockmasterError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { abortableSleep } from '../registry/consul/abortable-sleep.js';
import { backoffDelayMs, type BackoffLimits } from '../registry/consul/backoff.js';
import { BlockingWatch } from '../registry/consul/blocking-watch.js';
import { ConsulCallError } from '../registry/consul/consul-client.js';
import type { TokenBucketLimits } from '../registry/consul/token-bucket.js';
import { ConsulLockApi } from './consul-leadership-api.js';
import { DEFAULT_LEADER_KEY_PREFIX, encodeLeaderValue, isLeaderServiceName, leaderKey, readLockEntry, type LeaderInfo } from './leadership-key.js';
import { decideLeadership, leaderDeadlineMs, sameRole, type LeadershipObservation, type LeadershipRole, type LeadershipRoleName, type LockView, type SessionView } from './leadership-state.js';
import { leadershipTiming, renewDueInMs, sessionDurationText, type LeadershipTiming, type LeadershipTimingInput } from './leadership-timing.js';

export type { LeaderInfo } from './leadership-key.js';
export type { LeadershipRole, LeadershipRoleName } from './leadership-state.js';

export interface ConsulLeadershipConfig extends LeadershipTimingInput {
  /** `http://127.0.0.1:8500`. */
  readonly address: string;
  readonly token?: string | undefined;
  readonly datacenter?: string | undefined;
  /** Written into every lock this instance holds; `instanceId` must be unique per instance. */
  readonly instance: LeaderInfo;
  /** Keys are `<keyPrefix>/leader/<service>`. Default `dockmaster`. */
  readonly keyPrefix?: string | undefined;
  /** Blocking-read wait on a lock key. Default 30000. */
  readonly watchWaitMs?: number | undefined;
  /** Limit per acquire, release, create and destroy request. Default 5000. */
  readonly requestTimeoutMs?: number | undefined;
  /** How soon an acquire Consul refused on a key that reads free is tried again (the key's
   * lock-delay is running, or another instance was faster). Default 1000. */
  readonly acquireRetryMs?: number | undefined;
}

export interface ConsulLeadershipDeps {
  readonly logger: Logger;
  /** A monotonic clock: the step-down deadline must not move when the wall clock is set. */
  readonly nowMs?: () => number;
  readonly random?: () => number;
  /** Retries after failed reads, acquires, releases and session creates. */
  readonly backoff?: BackoffLimits;
  readonly watchBucket?: TokenBucketLimits;
}

/** A role change: the holder is this instance for `leader`, the other for `follower`. */
export type LeadershipListener = (service: string, role: LeadershipRoleName, holder: LeaderInfo | undefined) => void;

interface ServiceLock {
  readonly service: string;
  readonly key: string;
  lock: LockView;
  /** Raised by each of our own writes to the key: a read sent before it is older than what we know. */
  writeGeneration: number;
  watch: BlockingWatch | undefined;
  acquiring: Promise<void> | undefined;
  acquireFailures: number;
  nextAcquireAtMs: number;
  retryTimer: NodeJS.Timeout | undefined;
  emitted: LeadershipRole | undefined;
}

interface KeyReadBody {
  readonly generation: number;
  readonly entry: unknown;
}

const DEFAULT_BACKOFF: BackoffLimits = { baseMs: 250, maxMs: 10_000 };
const DEFAULT_BUCKET: TokenBucketLimits = { ratePerSecond: 5, burst: 10 };
/** Our own invalidated session ids kept to recognise a lock an old session of ours still holds. */
const INVALIDATED_KEPT = 16;

export class ConsulLeadership {
  private readonly config: ConsulLeadershipConfig;
  private readonly deps: ConsulLeadershipDeps;
  private readonly timing: LeadershipTiming;
  private readonly api: ConsulLockApi;
  private readonly value: string;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Aborts every loop, sleep and request in flight at close(). */
  private readonly loops = new AbortController();
  private readonly services = new Map<string, ServiceLock>();
  /** Services being released: no acquire for them until the release is through. */
  private readonly releasing = new Map<string, { readonly lock: ServiceLock; readonly done: Promise<void> }>();
  private readonly listeners = new Set<LeadershipListener>();
  private session: SessionView | undefined;
  private readonly invalidated: string[] = [];
  private sessionLoop: Promise<void> | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(config: ConsulLeadershipConfig, deps: ConsulLeadershipDeps) {
    const timing = leadershipTiming(config);
    if (!timing.ok) throw new DockmasterError('DM_ERR_CONFIG_INVALID', `leadership: ${timing.problem}`);
    if (config.instance.instanceId === '') throw new DockmasterError('DM_ERR_CONFIG_INVALID', 'leadership: instance.instanceId must not be empty');
    this.config = config;
    this.deps = deps;
    this.timing = timing.timing;
    this.api = new ConsulLockApi({ address: config.address, token: config.token, datacenter: config.datacenter });
    this.value = encodeLeaderValue(config.instance);
    this.now = deps.nowMs ?? (() => performance.now());
    this.random = deps.random ?? Math.random;
  }

  /** Listens to role changes (the first one per service comes right after lead()). */
  onChange(listener: LeadershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Competes for the service's lock from now on (idempotent). */
  lead(service: string): void {
    if (this.closed) throw new Error('ConsulLeadership is closed');
    if (!isLeaderServiceName(service)) throw new DockmasterError('DM_ERR_CONFIG_INVALID', `leadership: ${JSON.stringify(service)} is not a service name`);
    if (this.services.has(service)) return;
    const lock: ServiceLock = {
      service,
      key: this.keyOf(service),
      lock: { state: 'unknown' },
      writeGeneration: 0,
      watch: undefined,
      acquiring: undefined,
      acquireFailures: 0,
      nextAcquireAtMs: 0,
      retryTimer: undefined,
      emitted: undefined,
    };
    this.services.set(service, lock);
    lock.watch = this.watchKey(lock);
    this.sessionLoop ??= this.runSession();
    this.reconcile();
  }

  /**
   * The role right now, decided at the call (not when the last event came): a driver asks this
   * before each step, so a leader whose renew is overdue stops at its deadline even if a timer
   * runs late. Undefined for a service not led (or after release / close).
   */
  roleOf(service: string): LeadershipRole | undefined {
    const lock = this.services.get(service);
    if (lock === undefined || this.closed) return undefined;
    return decideLeadership(this.observe(lock));
  }

  isLeader(service: string): boolean {
    return this.roleOf(service)?.role === 'leader';
  }

  /** The key of a service's lock. */
  keyOf(service: string): string {
    return leaderKey(this.config.keyPrefix ?? DEFAULT_LEADER_KEY_PREFIX, service);
  }

  /** Our session's id, undefined while we have none. */
  get sessionId(): string | undefined {
    return this.session?.id;
  }

  /**
   * Stops competing for the service and gives its lock back (retrying until Consul takes the
   * release, our session goes, or close()). The role is gone at once, before the release is
   * sent: stop driving first, then let another instance take over.
   */
  async release(service: string): Promise<void> {
    const lock = this.services.get(service);
    if (lock === undefined) return;
    this.services.delete(service);
    if (lock.retryTimer !== undefined) clearTimeout(lock.retryTimer);
    const done = (async () => {
      await lock.watch?.stop();
      await lock.acquiring;
      await this.releaseLoop(lock);
    })();
    this.releasing.set(service, { lock, done });
    try {
      await done;
    } finally {
      if (this.releasing.get(service)?.done === done) this.releasing.delete(service);
      this.reconcile();
    }
  }

  /** Stops driving everything, releases the locks held, destroys the session. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    const locks = [...this.services.values(), ...[...this.releasing.values()].map((r) => r.lock)];
    for (const lock of locks) if (lock.retryTimer !== undefined) clearTimeout(lock.retryTimer);
    this.services.clear();
    this.loops.abort();
    await Promise.allSettled([this.sessionLoop, ...locks.map((l) => l.watch?.stop()), ...locks.map((l) => l.acquiring), ...[...this.releasing.values()].map((r) => r.done)]);
    const session = this.session;
    this.session = undefined;
    if (session !== undefined) {
      const options = { timeoutMs: this.requestTimeoutMs() };
      // Release before destroying: a released key has no lock-delay, so another instance takes
      // over at once; destroying alone would hold the keys back for the lock-delay.
      await Promise.allSettled(locks.map((l) => this.api.release(l.key, session.id, this.value, options)));
      try {
        await this.api.destroySession(session.id, options);
      } catch (error) {
        this.deps.logger.warn({ session: session.id, err: message(error) }, 'leadership: session destroy failed (it expires with its TTL)');
      }
    }
    this.api.close();
  }

  // ---- decisions -----------------------------------------------------------------------------

  private observe(lock: ServiceLock): LeadershipObservation {
    return {
      nowMs: this.now(),
      session: this.session,
      invalidatedSessionIds: this.invalidated,
      lock: lock.lock,
      ttlMs: this.timing.sessionTtlMs,
      safetyMarginMs: this.timing.safetyMarginMs,
    };
  }

  /** Re-decides every service: emits changes, starts acquires, arms the step-down timer. */
  private reconcile(): void {
    if (this.closed) return;
    let leading = false;
    for (const lock of this.services.values()) {
      const role = decideLeadership(this.observe(lock));
      if (role.role === 'leader') leading = true;
      if (!sameRole(role, lock.emitted)) {
        lock.emitted = role;
        this.emit(lock.service, role);
      }
      if (role.role === 'candidate') this.maybeAcquire(lock);
    }
    this.armDeadline(leading);
  }

  private emit(service: string, role: LeadershipRole): void {
    const holder = role.role === 'leader' ? this.config.instance : role.role === 'follower' ? role.holder : undefined;
    this.deps.logger.info({ service, role: role.role, holder: holder?.instanceId, reason: role.role === 'lost' ? role.reason : undefined }, `leadership: ${role.role}`);
    for (const listener of this.listeners) {
      try {
        listener(service, role.role, holder);
      } catch (error) {
        this.deps.logger.error({ service, err: message(error) }, 'leadership: a listener threw');
      }
    }
  }

  /** While we lead anything, wake at the deadline: without a renew by then, we step down. */
  private armDeadline(leading: boolean): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    const session = this.session;
    if (!leading || session === undefined) return;
    const inMs = leaderDeadlineMs(session, this.timing.sessionTtlMs, this.timing.safetyMarginMs) - this.now();
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      this.reconcile();
    }, Math.max(0, Math.ceil(inMs)) + 1);
  }

  // ---- the lock ------------------------------------------------------------------------------

  private watchKey(lock: ServiceLock): BlockingWatch {
    const waitMs = this.config.watchWaitMs ?? 30_000;
    return new BlockingWatch({
      query: async (index, signal) => {
        const generation = lock.writeGeneration;
        const answer = await this.api.readKey(lock.key, { index, waitMs, timeoutMs: waitMs + Math.ceil(waitMs / 16) + this.requestTimeoutMs(), signal });
        const body: KeyReadBody = { generation, entry: answer.entry };
        return { index: answer.index, body };
      },
      check: (body) => {
        const read = readLockEntry((body as KeyReadBody).entry);
        return read.ok ? undefined : read.problem;
      },
      onChange: (body) => {
        const { generation, entry } = body as KeyReadBody;
        // Sent before our own acquire or release answered: what that write told us is newer.
        if (generation !== lock.writeGeneration) return undefined;
        const read = readLockEntry(entry);
        if (!read.ok) return read.problem;
        lock.lock = read.lock;
        this.reconcile();
        return undefined;
      },
      onSuccess: () => undefined,
      onError: (error) => {
        // Stale is safe: the last view stays; a follower keeps following, a leader keeps leading
        // only while its renews succeed.
        this.deps.logger.warn({ service: lock.service, key: lock.key, err: error }, 'leadership: lock read failed; keeping the last view');
      },
      bucket: this.deps.watchBucket ?? DEFAULT_BUCKET,
      backoff: this.deps.backoff ?? DEFAULT_BACKOFF,
      nowMs: this.now,
      random: this.random,
    });
  }

  /** Tries to acquire a lock that reads free, with a session that is confirmed alive. */
  private maybeAcquire(lock: ServiceLock): void {
    if (lock.acquiring !== undefined || this.releasing.has(lock.service) || this.closed) return;
    const session = this.session;
    if (session === undefined || this.now() >= leaderDeadlineMs(session, this.timing.sessionTtlMs, this.timing.safetyMarginMs)) return;
    const waitMs = lock.nextAcquireAtMs - this.now();
    if (waitMs > 0) {
      if (lock.retryTimer === undefined) {
        lock.retryTimer = setTimeout(() => {
          lock.retryTimer = undefined;
          this.reconcile();
        }, Math.ceil(waitMs));
      }
      return;
    }
    lock.acquiring = this.acquire(lock, session.id).finally(() => {
      lock.acquiring = undefined;
      this.reconcile();
    });
  }

  private async acquire(lock: ServiceLock, sessionId: string): Promise<void> {
    try {
      const held = await this.api.acquire(lock.key, sessionId, this.value, { timeoutMs: this.requestTimeoutMs(), signal: this.loops.signal });
      lock.acquireFailures = 0;
      if (held) {
        lock.writeGeneration += 1;
        lock.lock = { state: 'held', sessionId, holder: this.config.instance };
      } else {
        // Held by someone the read has not shown yet, or the lock-delay of a session that just
        // died: the read tells who, the timer tries again.
        lock.nextAcquireAtMs = this.now() + (this.config.acquireRetryMs ?? 1_000);
      }
    } catch (error) {
      if (this.loops.signal.aborted) return;
      // The answer may be lost after Consul took the lock: the read shows our session then.
      lock.acquireFailures += 1;
      lock.nextAcquireAtMs = this.now() + backoffDelayMs(lock.acquireFailures, this.deps.backoff ?? DEFAULT_BACKOFF, this.random);
      this.deps.logger.warn({ service: lock.service, key: lock.key, err: message(error) }, 'leadership: acquire failed');
    }
  }

  private async releaseLoop(lock: ServiceLock): Promise<void> {
    const { signal } = this.loops;
    for (let attempt = 1; !signal.aborted; attempt += 1) {
      // Without a session nothing of ours holds the key (an invalidated one, Consul releases).
      const session = this.session;
      if (session === undefined || this.services.has(lock.service)) return;
      try {
        await this.api.release(lock.key, session.id, this.value, { timeoutMs: this.requestTimeoutMs(), signal });
        return;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ConsulCallError && error.statusCode === 404) return;
        this.deps.logger.warn({ service: lock.service, key: lock.key, attempt, err: message(error) }, 'leadership: release failed; retrying');
        await abortableSleep(backoffDelayMs(attempt, this.deps.backoff ?? DEFAULT_BACKOFF, this.random), signal);
      }
    }
  }

  // ---- the session ---------------------------------------------------------------------------

  /** Keeps one session alive while the instance runs: creates it, renews it every TTL / 2,
   * retries failed renews quickly, and replaces it once Consul says it is gone. */
  private async runSession(): Promise<void> {
    const { signal } = this.loops;
    let failures = 0;
    while (!signal.aborted) {
      const current = this.session;
      const sentAtMs = this.now();
      try {
        if (current === undefined) {
          const id = await this.api.createSession(
            {
              name: `dockmaster-leader ${this.config.instance.instanceId}`,
              ttl: sessionDurationText(this.timing.sessionTtlMs),
              lockDelay: sessionDurationText(this.timing.lockDelayMs),
              behavior: 'release',
            },
            { timeoutMs: this.requestTimeoutMs(), signal },
          );
          // Set even when closing: close() destroys it.
          this.session = { id, confirmedAtMs: sentAtMs };
          this.deps.logger.info({ session: id }, 'leadership: session created');
        } else {
          await this.api.renewSession(current.id, { timeoutMs: this.timing.renewTimeoutMs, signal });
          if (this.session?.id === current.id) this.session = { id: current.id, confirmedAtMs: sentAtMs };
        }
        if (signal.aborted) break;
        failures = 0;
        this.reconcile();
        await abortableSleep(renewDueInMs(sentAtMs, this.timing.renewIntervalMs, this.now()), signal);
      } catch (error) {
        if (signal.aborted) break;
        if (current !== undefined && error instanceof ConsulCallError && error.statusCode === 404) {
          this.deps.logger.warn({ session: current.id }, 'leadership: session gone (expired or destroyed); creating a new one');
          this.forgetSession(current.id);
          failures = 0;
          this.reconcile();
          continue;
        }
        failures += 1;
        this.deps.logger.warn({ session: current?.id, attempt: failures, err: message(error) }, current === undefined ? 'leadership: session create failed' : 'leadership: session renew failed');
        this.reconcile();
        const limits = current === undefined ? (this.deps.backoff ?? DEFAULT_BACKOFF) : this.timing.renewRetry;
        await abortableSleep(backoffDelayMs(failures, limits, this.random), signal);
      }
    }
  }

  private forgetSession(id: string): void {
    if (this.session?.id === id) this.session = undefined;
    this.invalidated.push(id);
    if (this.invalidated.length > INVALIDATED_KEPT) this.invalidated.splice(0, this.invalidated.length - INVALIDATED_KEPT);
  }

  private requestTimeoutMs(): number {
    return this.config.requestTimeoutMs ?? 5_000;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
