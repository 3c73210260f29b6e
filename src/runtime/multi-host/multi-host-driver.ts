// MultiHostDriver: one RuntimeDriver over several Docker hosts, one DockerDriver per host. Places
// each replica with placeReplica, watches every host (HostWatcher), takes the replicas of a lost
// host out at once (exited events) and fences what a returning host still holds. Shell (Docker API
// through the host drivers, timers); placement, health, fencing choices are pure functions.
import type Dockerode from 'dockerode';
import { DockmasterError } from '../../errors.js';
import { HostWatcher, type HostChange } from '../../hosts/host-watcher.js';
import { placeReplica } from '../../hosts/placement.js';
import { PlacementInputError } from '../../hosts/placement-problems.js';
import { NO_PLACEMENT, NO_RESOURCES, type Allocation, type HostSpec } from '../../model/host.js';
import type { HostHealthState, HostView } from '../../model/host-view.js';
import type { Logger } from '../../observability/logger.js';
import { DockerDriver, type DockerDriverOptions } from '../docker/docker-driver.js';
import { DOCKER_LABEL, isLoopbackAddress } from '../docker/observe-container.js';
import { EventHub } from '../event-hub.js';
import type { ReplicaObservation, ReplicaRef, ReplicaTemplate, RuntimeDriver, RuntimeEvent, RuntimeEventListener } from '../runtime-driver.js';
import { dockerClientFor } from './docker-client.js';
import type { DockerHostEntry } from './docker-host-entry.js';
import { splitDuplicates } from './duplicates.js';
import { nextGeneration } from './generation.js';
import type { HostEvent, HostEventListener } from './host-events.js';
import { HostReplicaCache } from './host-replica-cache.js';
import { allocationsOf, hostView } from './host-usage.js';
import { delay, pingDocker, untilLost, withTimeout } from './host-calls.js';
import { parseQualifiedId, qualifiedId } from './qualified-id.js';

/** Options of every host's DockerDriver that the multi-host driver passes through. */
export type HostDriverOptions = Pick<DockerDriverOptions, 'bridgeNetwork' | 'startTimeoutMs' | 'portAttempts' | 'pullTimeoutMs' | 'reconnectInitialMs' | 'reconnectMaxMs' | 'findFreePort' | 'random'>;

export interface MultiHostDriverOptions {
  /** At least one; names unique, made of letters, digits, `_`, `.` and `-`. The config's
   * HostConfig list (gateway.hosts) fits as it is. */
  readonly hosts: readonly DockerHostEntry[];
  readonly logger: Logger;
  /** Extra labels on every container, required when listing (a test-run id, an instance name). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Ping every host this often (also the ping timeout). Default 1000 ms. */
  readonly hostCheckIntervalMs?: number;
  /** A host silent this long is lost. Default 5000 ms. */
  readonly hostDownAfterMs?: number;
  /** How long list() waits for a host before it answers from what it last knew of it. Default two
   * check intervals. */
  readonly listTimeoutMs?: number;
  readonly hostDriver?: HostDriverOptions;
  /** The client of a host; default from its endpoint and TLS files (dockerClientFor). */
  readonly dockerFor?: (entry: DockerHostEntry) => Dockerode;
  readonly nowMs?: () => number;
  /** A full list of a host at most this old answers list() for any service (events keep it
   * current in between), so S services re-listing every 5 s cost one list per host, not S.
   * Default 5000 (the controllers' resync interval); 0 lists on every call. */
  readonly listReuseMs?: number;
}

interface HostRecord {
  readonly spec: HostSpec;
  readonly driver: DockerDriver;
  cordoned: boolean;
  health: HostHealthState;
  sinceMs: number;
  /** Set while a host back from lost has its old containers fenced: it lists and takes nothing. */
  recovering: Promise<void> | undefined;
  readonly cache: HostReplicaCache;
  /** The full list in flight, shared by every caller meanwhile. */
  listing: Promise<boolean> | undefined;
  /** When the last full list of the host was applied (0: never, or forgotten since). */
  fullListAtMs: number;
  /** Container ids whose events are not passed on (fenced, or reported lost already). */
  readonly silenced: Set<string>;
  /** Aborted when the host is lost: starts and stops waiting on it give up; renewed on return. */
  lost: AbortController;
}

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DEFAULT_LIST_REUSE_MS = 5_000;

export class MultiHostDriver implements RuntimeDriver {
  readonly kind = 'docker' as const;
  private readonly logger: Logger;
  private readonly hub: EventHub;
  private readonly hostListeners = new Set<HostEventListener>();
  private readonly records = new Map<string, HostRecord>();
  private readonly watcher: HostWatcher;
  private readonly listTimeoutMs: number;
  private readonly nowMs: () => number;
  private readonly listReuseMs: number;
  /** Starts placed but not finished, so concurrent starts count each other. */
  private readonly reservations = new Set<Allocation>();
  /** Replicas taken out with a lost host, by `service/replicaId`, to report where they moved. */
  private readonly lostFrom = new Map<string, string>();
  /** Containers being fenced, by qualified id (one fence each). */
  private readonly fencing = new Set<string>();
  private lastGeneration = 0;
  private available = true;
  private started = false;
  private closed = false;

  constructor(options: MultiHostDriverOptions) {
    this.logger = options.logger.child({ runtime: 'multi-host' });
    this.hub = new EventHub(this.logger);
    this.nowMs = options.nowMs ?? Date.now;
    this.listReuseMs = options.listReuseMs ?? DEFAULT_LIST_REUSE_MS;
    if (options.hosts.length === 0) throw new DockmasterError('DM_ERR_CONFIG_INVALID', 'multi-host driver: no hosts');
    const watched = [];
    for (const spec of options.hosts) {
      if (!HOST_NAME.test(spec.name)) throw new DockmasterError('DM_ERR_CONFIG_INVALID', `host name ${JSON.stringify(spec.name)} must be letters, digits, '_', '.' or '-'`, { host: spec.name });
      if (this.records.has(spec.name)) throw new DockmasterError('DM_ERR_CONFIG_INVALID', `host ${spec.name} is listed twice`, { host: spec.name });
      const docker = (options.dockerFor ?? dockerClientFor)(spec);
      const driver = new DockerDriver({
        ...options.hostDriver,
        logger: this.logger.child({ host: spec.name }),
        docker,
        address: spec.address,
        ...(options.labels === undefined ? {} : { labels: options.labels }),
        nowMs: this.nowMs,
      });
      this.records.set(spec.name, {
        spec,
        driver,
        cordoned: spec.cordoned,
        health: 'suspect',
        sinceMs: this.nowMs(),
        recovering: undefined,
        cache: new HostReplicaCache(),
        fullListAtMs: 0,
        listing: undefined,
        silenced: new Set(),
        lost: new AbortController(),
      });
      watched.push({ name: spec.name, ping: (signal: AbortSignal) => pingDocker(docker, signal) });
    }
    this.watcher = new HostWatcher({
      hosts: watched,
      logger: this.logger,
      ...(options.hostCheckIntervalMs === undefined ? {} : { checkIntervalMs: options.hostCheckIntervalMs }),
      ...(options.hostDownAfterMs === undefined ? {} : { hostDownAfterMs: options.hostDownAfterMs }),
      nowMs: this.nowMs,
    });
    this.listTimeoutMs = options.listTimeoutMs ?? 2 * this.watcher.checkIntervalMs;
  }

  // ---- RuntimeDriver ----

  on(listener: RuntimeEventListener): () => void {
    this.ensureStarted();
    return this.hub.on(listener);
  }

  /** Host events (suspect, lost, up, back, fenced, moved); returns the unsubscribe function. */
  onHostEvent(listener: HostEventListener): () => void {
    this.ensureStarted();
    this.hostListeners.add(listener);
    return () => {
      this.hostListeners.delete(listener);
    };
  }

  /**
   * The union over the hosts: hosts that answer are listed (within listTimeoutMs); a host that
   * does not answer (yet) contributes what was last known of it, so a blip changes nothing; a
   * lost host contributes nothing (its replicas were reported exited). Of two live copies of one
   * replica id the newer generation is kept and the other fenced. Rejects with
   * DM_ERR_RUNTIME_UNAVAILABLE when no host answers.
   */
  async list(service?: string): Promise<ReplicaObservation[]> {
    this.ensureStarted();
    if (this.closed) throw new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', 'multi-host driver is closed');
    const records = [...this.records.values()];
    const answered = await Promise.all(records.map((h) => this.refresh(h, service)));
    const known = records.some((h) => h.health !== 'lost' && h.recovering === undefined && h.cache.listed);
    if (!answered.includes(true) && !known) {
      throw new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', `no docker host answers (${this.describeHosts()})`);
    }
    const all: ReplicaObservation[] = [];
    for (const h of records) {
      if (h.health === 'lost' || h.recovering !== undefined) continue;
      for (const o of h.cache.values()) if (service === undefined || o.service === service) all.push(this.outer(h, o));
    }
    const { keep, fence } = splitDuplicates(all);
    for (const copy of fence) this.fenceDuplicate(copy, keep);
    return [...keep];
  }

  async start(template: ReplicaTemplate, replicaId: string): Promise<ReplicaObservation> {
    this.ensureStarted();
    if (this.closed) throw new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', 'multi-host driver is closed');
    if (template.runtime.kind !== 'docker') {
      throw new DockmasterError('DM_ERR_RUNTIME_START', `docker hosts cannot run a ${template.runtime.kind} template`);
    }
    // Every reachable host listed at least once, so replicas adopted there count in placement.
    await Promise.all([...this.records.values()].filter((h) => !h.cache.listed && h.health !== 'lost').map((h) => this.listOnce(h)));
    // From here to the reservation nothing awaits: concurrent starts see each other's placement.
    const running = this.liveCopy(template.service, replicaId);
    if (running !== undefined) {
      throw new DockmasterError('DM_ERR_RUNTIME_START', `replica ${template.service}/${replicaId} already runs as ${running}`, { reason: 'duplicate', id: running });
    }
    const host = this.place(template, replicaId);
    const reservation: Allocation = { service: template.service, replicaId, host: host.spec.name, resources: template.resources ?? NO_RESOURCES };
    this.reservations.add(reservation);
    this.lastGeneration = nextGeneration(this.lastGeneration, this.nowMs());
    const generation = this.lastGeneration;
    const labels = { [DOCKER_LABEL.host]: host.spec.name, [DOCKER_LABEL.generation]: String(generation) };
    const lostSignal = host.lost.signal;
    const starting = host.driver.start(template, replicaId, { labels });
    try {
      const inner = await untilLost(starting, lostSignal, () => `host ${host.spec.name} was lost while ${template.service}/${replicaId} started there`);
      this.watcher.signOfLife(host.spec.name);
      host.cache.put(inner);
      this.reportMoved(template.service, replicaId, host.spec.name);
      return this.outer(host, inner);
    } catch (err) {
      if (lostSignal.aborted) {
        // The start may still complete once the host answers again: that copy must not stay.
        void starting.then(
          (late) => this.fenceLate(host, late),
          () => undefined,
        );
      }
      throw err;
    } finally {
      this.reservations.delete(reservation);
    }
  }

  /** Unknown ids resolve at once. A replica of a lost host resolves at once too: it was reported
   * exited, and is fenced when the host comes back. */
  async stop(id: string, graceMs: number): Promise<void> {
    this.ensureStarted();
    const parsed = parseQualifiedId(id);
    const host = parsed === undefined ? undefined : this.records.get(parsed.host);
    if (parsed === undefined || host === undefined) return;
    if (host.health === 'lost' || host.recovering !== undefined) {
      host.cache.remove(parsed.innerId);
      return;
    }
    const lostSignal = host.lost.signal;
    // Docker sends no event for "stop asked": the cache says so itself, so a list answered
    // from it (listReuseMs) shows the replica stopping, as a fresh list would.
    host.cache.update(parsed.innerId, (o) => (o.state === 'exited' ? o : { ...o, state: 'stopping' }));
    try {
      await untilLost(host.driver.stop(parsed.innerId, graceMs), lostSignal, () => `host ${host.spec.name} was lost`);
    } catch (err) {
      if (lostSignal.aborted) return;
      throw err;
    }
    this.watcher.signOfLife(host.spec.name);
    host.cache.remove(parsed.innerId);
  }

  /** Stops watching and closes every host driver; containers keep running, for the next
   * dockmaster to adopt. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    await Promise.all([...this.records.values()].map((h) => h.driver.close()));
    this.hub.clear();
    this.hostListeners.clear();
  }

  // ---- hosts ----

  hosts(): HostView[] {
    this.ensureStarted();
    return [...this.records.values()].map((h) => {
      const snapshot = this.watcher.snapshot(h.spec.name);
      return hostView({
        spec: h.spec,
        state: h.health,
        sinceMs: h.sinceMs,
        lastSeenMs: snapshot?.lastSeenMs,
        lastError: h.health === 'up' ? undefined : snapshot?.lastError,
        cordoned: h.cordoned,
        replicas: h.health === 'lost' ? [] : h.cache.live(),
        starting: [...this.reservations].filter((r) => r.host === h.spec.name),
      });
    });
  }

  /** No new replica is placed on the host; its replicas keep running. */
  cordon(name: string): HostView {
    this.record(name).cordoned = true;
    this.logger.info({ host: name }, 'host cordoned');
    return this.view(name);
  }

  uncordon(name: string): HostView {
    this.record(name).cordoned = false;
    this.logger.info({ host: name }, 'host uncordoned');
    return this.view(name);
  }

  // ---- placement ----

  private place(template: ReplicaTemplate, replicaId: string): HostRecord {
    const records = [...this.records.values()];
    const candidates = records.filter((h) => this.placeable(h));
    const elsewhere = records.filter((h) => !this.placeable(h)).map((h) => `${h.spec.name} ${this.unplaceableReason(h)}`);
    if (candidates.length === 0) {
      throw new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', `no docker host answers: ${elsewhere.join('; ')}`, { service: template.service, replicaId });
    }
    const hosts: HostSpec[] = candidates.map((h) => ({ ...h.spec, cordoned: h.cordoned }));
    const allocations = records.filter((h) => h.health !== 'lost').flatMap((h) => this.allocationsOn(h));
    const demand = { name: template.service, resources: template.resources ?? NO_RESOURCES, placement: template.placement ?? NO_PLACEMENT };
    let result;
    try {
      result = placeReplica(demand, hosts, allocations);
    } catch (err) {
      if (err instanceof PlacementInputError) throw new DockmasterError('DM_ERR_RUNTIME_START', `cannot place ${template.service}/${replicaId}: ${err.message}`, { problems: err.problems });
      throw err;
    }
    if (!result.ok) {
      const reason = [result.reason, ...elsewhere].join('; ');
      throw new DockmasterError('DM_ERR_RUNTIME_NO_HOST', reason, { service: template.service, replicaId, reason, excluded: result.excluded });
    }
    const chosen = this.records.get(result.host.name) as HostRecord;
    if (template.runtime.kind === 'docker' && template.runtime.network === 'bridge' && !isLoopbackAddress(chosen.spec.address)) {
      throw new DockmasterError('DM_ERR_RUNTIME_START', `host ${chosen.spec.name} (${chosen.spec.address}) is not this machine: bridge replicas publish on its 127.0.0.1 only; use network host`, {
        host: chosen.spec.name,
      });
    }
    return chosen;
  }

  private placeable(h: HostRecord): boolean {
    return h.health === 'up' && h.recovering === undefined;
  }

  private unplaceableReason(h: HostRecord): string {
    if (h.health === 'lost') return 'lost';
    if (h.recovering !== undefined) return 'fencing after it came back';
    return 'not answering';
  }

  /** What the host holds and what is being started there. */
  private allocationsOn(h: HostRecord): Allocation[] {
    const held = h.health === 'lost' ? [] : allocationsOf(h.spec.name, h.cache.values());
    return [...held, ...[...this.reservations].filter((r) => r.host === h.spec.name)];
  }

  /** The qualified id of a live copy of the replica on a host that is not lost, or a start of it
   * in progress. */
  private liveCopy(service: string, replicaId: string): string | undefined {
    for (const r of this.reservations) if (r.service === service && r.replicaId === replicaId) return `a start in progress on ${r.host}`;
    for (const h of this.records.values()) {
      if (h.health === 'lost') continue;
      const copy = h.cache.live().find((o) => o.service === service && o.replicaId === replicaId);
      if (copy !== undefined) return qualifiedId(h.spec.name, copy.id);
    }
    return undefined;
  }

  // ---- listing ----

  /**
   * The host's replicas, current, into its cache: answered from a full list at most listReuseMs
   * old, else by one full list shared by every caller meanwhile. True when the host answered.
   */
  private refresh(h: HostRecord, _service: string | undefined): Promise<boolean> {
    if (h.health === 'up' && h.recovering === undefined && h.cache.listed && this.nowMs() - h.fullListAtMs < this.listReuseMs) return Promise.resolve(true);
    h.listing ??= this.listHost(h, undefined).finally(() => {
      h.listing = undefined;
    });
    return h.listing;
  }

  /** Lists the host when it may answer, into its cache. True when it answered. */
  private async listHost(h: HostRecord, service: string | undefined): Promise<boolean> {
    if (h.health === 'lost' || h.recovering !== undefined) return false;
    // A host not answering keeps its last list; one never listed is tried (at startup every host
    // is not yet heard from).
    if (h.health !== 'up' && h.cache.listed) return false;
    const token = h.cache.beginList();
    const listedFromMs = this.nowMs();
    const result = await withTimeout(h.driver.list(service), this.listTimeoutMs).catch((err: unknown) => {
      this.logger.debug({ host: h.spec.name, err: (err as Error).message }, 'host list failed; using what was known');
      return undefined;
    });
    if (result === undefined || (h.health as HostHealthState) === 'lost' || h.recovering !== undefined) return false;
    // Containers being fenced stay out; once a full list no longer shows one, it is gone for good.
    if (service === undefined) for (const id of h.silenced) if (!result.some((o) => o.id === id)) h.silenced.delete(id);
    if (h.cache.applyList(token, result.filter((o) => !h.silenced.has(o.id)), service) && service === undefined) h.fullListAtMs = listedFromMs;
    this.watcher.signOfLife(h.spec.name);
    return true;
  }

  private listOnce(h: HostRecord): Promise<void> {
    return this.refresh(h, undefined).then(() => undefined);
  }

  // ---- host changes ----

  private ensureStarted(): void {
    if (this.started || this.closed) return;
    this.started = true;
    for (const h of this.records.values()) h.driver.on((event) => this.onHostDriverEvent(h, event));
    this.watcher.on((change) => this.onHostChange(change));
    this.watcher.start();
  }

  private onHostChange(change: HostChange): void {
    const h = this.records.get(change.host);
    if (h === undefined || this.closed) return;
    const lostForMs = change.atMs - h.sinceMs;
    h.health = change.to;
    h.sinceMs = change.atMs;
    switch (change.kind) {
      case 'host.lost':
        this.hostLost(h, change);
        break;
      case 'host.back':
        this.hostBack(h, lostForMs);
        break;
      case 'host.suspect':
        this.emitHostEvent({ type: 'host.suspect', atMs: change.atMs, host: h.spec.name, message: `${h.spec.name} silent for ${change.silentMs} ms`, data: { silentMs: change.silentMs } });
        break;
      case 'host.up':
        this.emitHostEvent({ type: 'host.up', atMs: change.atMs, host: h.spec.name, message: `${h.spec.name} answers`, data: {} });
        break;
    }
    this.updateAvailability();
  }

  /** Every replica of the host is reported exited at once (so it leaves the routing table) and
   * forgotten; starts and stops waiting on the host give up. */
  private hostLost(h: HostRecord, change: HostChange): void {
    h.lost.abort();
    const lost = h.cache.live();
    h.cache.clear();
    for (const o of lost) {
      h.silenced.add(o.id);
      this.lostFrom.set(`${o.service}/${o.replicaId}`, h.spec.name);
    }
    const names = lost.map((o) => `${o.service}/${o.replicaId}`).sort();
    this.logger.error({ host: h.spec.name, silentMs: change.silentMs, replicas: names }, 'docker host lost; its replicas are replaced elsewhere');
    this.emitHostEvent({
      type: 'host.lost',
      atMs: change.atMs,
      host: h.spec.name,
      message: `${h.spec.name} silent for ${change.silentMs} ms: ${names.length} replica(s) taken out${names.length > 0 ? ` (${names.join(', ')})` : ''}`,
      data: { silentMs: change.silentMs, replicas: names },
    });
    for (const o of lost) {
      this.hub.emit({ kind: 'exited', atMs: change.atMs, ref: this.outerRef(h, o), exitCode: undefined, signal: undefined, expected: false, reason: 'host-lost' });
    }
  }

  /** A lost host answers again: none of its containers are adopted back (their replicas were
   * reported exited and replaced), so every container of ours there is fenced first; until then
   * the host lists nothing and takes no replica. */
  private hostBack(h: HostRecord, lostForMs: number): void {
    h.lost = new AbortController();
    const recovering = this.fenceReturned(h, lostForMs).finally(() => {
      if (h.recovering === recovering) h.recovering = undefined;
      this.updateAvailability();
    });
    h.recovering = recovering;
  }

  private async fenceReturned(h: HostRecord, lostForMs: number): Promise<void> {
    while (!this.closed && h.health !== 'lost') {
      let found: ReplicaObservation[];
      try {
        found = await h.driver.list();
      } catch (err) {
        this.logger.warn({ host: h.spec.name, err: (err as Error).message }, 'listing a returned host failed; retrying');
        await delay(this.watcher.checkIntervalMs);
        continue;
      }
      for (const o of found) h.silenced.add(o.id);
      const results = await Promise.all(
        found.map((o) =>
          h.driver.stop(o.id, 0).then(
            () => true,
            (err: unknown) => {
              this.logger.warn({ host: h.spec.name, id: o.id, err: (err as Error).message }, 'fencing a container failed; retrying');
              return false;
            },
          ),
        ),
      );
      const fenced = found.filter((_, i) => results[i] === true);
      const live = fenced.filter((o) => o.state !== 'exited');
      if (found.length > 0) {
        this.logger.warn({ host: h.spec.name, containers: found.map((o) => ({ id: o.id, service: o.service, replica: o.replicaId, generation: o.generation, state: o.state })) }, 'fenced the containers of a returned host');
      }
      for (const o of fenced) {
        this.emitHostEvent({
          type: 'host.fenced',
          atMs: this.nowMs(),
          host: h.spec.name,
          service: o.service,
          message: `${o.service}/${o.replicaId} on ${h.spec.name} stopped and removed (${o.state === 'exited' ? 'had exited' : 'still ran'}; replaced while the host was lost)`,
          data: { replica: o.replicaId, container: o.id, generation: o.generation, state: o.state },
        });
      }
      if (results.includes(false)) {
        await delay(this.watcher.checkIntervalMs);
        continue;
      }
      h.cache.clear();
      this.emitHostEvent({
        type: 'host.back',
        atMs: this.nowMs(),
        host: h.spec.name,
        message: `${h.spec.name} answers again after ${lostForMs} ms lost; ${fenced.length} old container(s) fenced (${live.length} still ran)`,
        data: { lostForMs, fenced: fenced.length, stillRunning: live.length },
      });
      return;
    }
  }

  /** A start abandoned when its host was lost completed later: that container must not stay. */
  private async fenceLate(h: HostRecord, late: ReplicaObservation): Promise<void> {
    h.silenced.add(late.id);
    h.cache.remove(late.id);
    if (h.health === 'lost') return; // fenceReturned removes it with the rest
    await h.driver.stop(late.id, 0).catch((err: unknown) => this.logger.warn({ host: h.spec.name, id: late.id, err: (err as Error).message }, 'could not fence a late start'));
    this.logger.warn({ host: h.spec.name, service: late.service, replica: late.replicaId }, 'fenced a start that completed after its host was lost');
  }

  /** An older live copy of a replica id that runs newer elsewhere: stopped and removed. */
  private fenceDuplicate(copy: ReplicaObservation, keep: readonly ReplicaObservation[]): void {
    if (this.fencing.has(copy.id)) return;
    const parsed = parseQualifiedId(copy.id);
    const h = parsed === undefined ? undefined : this.records.get(parsed.host);
    if (parsed === undefined || h === undefined) return;
    const winner = keep.find((o) => o.state !== 'exited' && o.service === copy.service && o.replicaId === copy.replicaId);
    this.fencing.add(copy.id);
    h.silenced.add(parsed.innerId);
    h.cache.remove(parsed.innerId);
    this.logger.warn({ service: copy.service, replica: copy.replicaId, fenced: copy.id, generation: copy.generation, kept: winner?.id, keptGeneration: winner?.generation }, 'fencing an older copy of a replica');
    this.hub.emit({ kind: 'exited', atMs: this.nowMs(), ref: refOf(copy), exitCode: undefined, signal: undefined, expected: false, reason: 'fenced' });
    this.emitHostEvent({
      type: 'host.fenced',
      atMs: this.nowMs(),
      host: h.spec.name,
      service: copy.service,
      message: `${copy.service}/${copy.replicaId} on ${h.spec.name} (generation ${copy.generation ?? 'none'}) stopped and removed: generation ${winner?.generation ?? '?'} runs on ${winner?.host ?? '?'}`,
      data: { replica: copy.replicaId, container: parsed.innerId, generation: copy.generation, keptOn: winner?.host, keptGeneration: winner?.generation },
    });
    void h.driver
      .stop(parsed.innerId, 0)
      .catch((err: unknown) => this.logger.warn({ id: copy.id, err: (err as Error).message }, 'could not fence an older copy; the next list tries again'))
      .finally(() => this.fencing.delete(copy.id));
  }

  private reportMoved(service: string, replicaId: string, to: string): void {
    const key = `${service}/${replicaId}`;
    const from = this.lostFrom.get(key);
    if (from === undefined) return;
    this.lostFrom.delete(key);
    this.emitHostEvent({ type: 'host.moved', atMs: this.nowMs(), host: to, service, message: `${key} moved from ${from} to ${to}`, data: { replica: replicaId, from, to } });
  }

  // ---- events ----

  /** A host driver's event: a sign of life; passed on with a qualified id unless the host is lost
   * or being fenced, or the container was reported already. */
  private onHostDriverEvent(h: HostRecord, event: RuntimeEvent): void {
    if (event.kind === 'availability') {
      if (event.available) this.watcher.signOfLife(h.spec.name);
      return;
    }
    this.watcher.signOfLife(h.spec.name);
    if (h.health === 'lost' || h.recovering !== undefined) return;
    const innerId = event.kind === 'started' ? event.replica.id : event.ref.id;
    if (h.silenced.has(innerId)) return;
    switch (event.kind) {
      case 'started':
        h.cache.put(event.replica);
        this.hub.emit({ ...event, replica: this.outer(h, event.replica) });
        return;
      case 'exited':
        h.cache.update(innerId, (o) => ({ ...o, state: 'exited', origin: undefined, exitCode: event.exitCode }));
        this.hub.emit({ ...event, ref: this.outerRef(h, event.ref) });
        return;
      case 'health':
        h.cache.update(innerId, (o) => ({ ...o, runtimeHealth: event.health }));
        this.hub.emit({ ...event, ref: this.outerRef(h, event.ref) });
        return;
    }
  }

  private updateAvailability(): void {
    const available = [...this.records.values()].some((h) => this.placeable(h));
    if (available === this.available) return;
    this.available = available;
    if (!available) this.logger.error({ hosts: this.describeHosts() }, 'no docker host answers');
    this.hub.emit({ kind: 'availability', atMs: this.nowMs(), available });
  }

  private emitHostEvent(event: HostEvent): void {
    for (const listener of [...this.hostListeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, event: event.type }, 'host event listener threw');
      }
    }
  }

  // ---- helpers ----

  private outer(h: HostRecord, o: ReplicaObservation): ReplicaObservation {
    return { ...o, id: qualifiedId(h.spec.name, o.id), host: h.spec.name };
  }

  private outerRef(h: HostRecord, ref: ReplicaRef): ReplicaRef {
    return { id: qualifiedId(h.spec.name, ref.id), service: ref.service, revision: ref.revision, replicaId: ref.replicaId };
  }

  private record(name: string): HostRecord {
    const h = this.records.get(name);
    if (h === undefined) throw new DockmasterError('DM_ERR_HOST_UNKNOWN', `no host named ${name} (hosts: ${[...this.records.keys()].join(', ')})`, { host: name });
    return h;
  }

  private view(name: string): HostView {
    return this.hosts().find((v) => v.name === name) as HostView;
  }

  private describeHosts(): string {
    return [...this.records.values()].map((h) => `${h.spec.name} ${h.recovering !== undefined ? 'fencing' : h.health}`).join(', ');
  }
}

function refOf(o: ReplicaRef): ReplicaRef {
  return { id: o.id, service: o.service, revision: o.revision, replicaId: o.replicaId };
}
