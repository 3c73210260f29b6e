// DockerDriver: runs replicas as Docker containers through dockerode. Does I/O (Docker API,
// sockets). Containers carry dockmaster's labels, so they outlive dockmaster and a later one adopts
// them through list(); /events keeps observations fresh and is re-listed after every reconnect.
import Dockerode from 'dockerode';
import { DockmasterError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { EventHub } from '../event-hub.js';
import { portOwnedBy } from '../port-owner.js';
import { canConnectTo, delayMs, findFreePort, isPortTaken } from '../ports.js';
import { envList, replicaEnv } from '../replica-env.js';
import type {
  DockerRuntimeSpec,
  PullPolicy,
  ReplicaObservation,
  ReplicaRef,
  ReplicaTemplate,
  RuntimeDriver,
  RuntimeEventListener,
} from '../runtime-driver.js';
import { DockerEventFollower } from './docker-events.js';
import { demuxDockerLogs } from './docker-logs.js';
import { dockerLimits } from './container-limits.js';
import {
  DOCKER_LABEL,
  containerName,
  interpretContainerEvent,
  isLoopbackAddress,
  observeContainerInspect,
  observeContainerSummary,
  type ContainerInspectLike,
  type DockerEventLike,
} from './observe-container.js';

export interface DockerDriverOptions {
  readonly logger: Logger;
  /** Default: `new Dockerode()` (DOCKER_HOST or /var/run/docker.sock). Never pins an API version. */
  readonly docker?: Dockerode;
  /** Extra labels put on every container and required by list() and the event filter, e.g. a
   * test-run id or a dockmaster instance name, so two drivers on one daemon keep apart. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The address host-network replicas are reached on: their origins and the readiness check use
   * it. Default 127.0.0.1 (the local daemon). For another machine's daemon (the multi-host
   * driver's `address`), the free port is still picked on this machine, a guess that a clash
   * corrects only by failing the start; bridge replicas publish on the daemon's 127.0.0.1 and are
   * reachable from this machine only when the daemon is local. */
  readonly address?: string;
  /** Network of `network: bridge` replicas. Default 'bridge' (Docker's default network). */
  readonly bridgeNetwork?: string;
  /** Upper bound for a start: container start until its origin accepts a connection. Default 30 s. */
  readonly startTimeoutMs?: number;
  /** Host network: ports tried when another process takes the chosen port first. Default 3. */
  readonly portAttempts?: number;
  readonly pullTimeoutMs?: number;
  /** Event stream reconnect backoff: doubles from initial to max, with jitter. */
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  readonly nowMs?: () => number;
  /** Picks the port for a replica that gets one from the driver. Default: findFreePort. Tests
   * inject a taken port to exercise the retry. */
  readonly findFreePort?: () => Promise<number>;
  readonly random?: () => number;
}

const READY_POLL_INTERVAL_MS = 25;
const CONNECT_TIMEOUT_MS = 250;
const LOG_TAIL_LINES = 10;
/** Remember stop() targets this long, so a late die event is still reported as expected. */
const EXPECTED_EXIT_MEMORY_MS = 60_000;

/** Per start: what the multi-host driver adds to one container. */
export interface DockerStartOptions {
  /** Extra labels on this container only (`dockmaster.host`, `dockmaster.generation`); they
   * cannot replace dockmaster's own labels (service, revision, replica, port, network). */
  readonly labels?: Readonly<Record<string, string>>;
}

type ReadyOutcome =
  | { readonly kind: 'ready'; readonly info: ContainerInspectLike }
  | { readonly kind: 'exited' }
  | { readonly kind: 'timeout' }
  /** Host network: another process listens on the port, so the container cannot. */
  | { readonly kind: 'port-taken' };

interface DockerApiError {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
  readonly json?: { readonly message?: string } | null;
}

export class DockerDriver implements RuntimeDriver {
  readonly kind = 'docker' as const;
  private readonly docker: Dockerode;
  private readonly logger: Logger;
  private readonly hub: EventHub;
  private readonly extraLabels: Readonly<Record<string, string>>;
  private readonly address: string;
  private readonly bridgeNetwork: string;
  private readonly startTimeoutMs: number;
  private readonly portAttempts: number;
  private readonly pullTimeoutMs: number;
  private readonly nowMs: () => number;
  private readonly findFreePort: () => Promise<number>;

  /** Last state seen per container id: events are emitted only for changes against it. */
  private readonly known = new Map<string, ReplicaObservation>();
  /** Containers being started by start(): their start and die events are start()'s to report. */
  private readonly pending = new Set<string>();
  /** Containers stop() was asked to end, with the time it was asked. */
  private readonly expectedExits = new Map<string, number>();
  /** /events follower (shared with the Docker label provider); started by ensureWatching(). */
  private readonly events: DockerEventFollower;
  private watching = false;
  private lastEventTimeNano = 0;
  /** Set while resync() lists: events wait here. */
  private resyncQueue: DockerEventLike[] | undefined;
  private available = true;
  private closed = false;

  constructor(options: DockerDriverOptions) {
    this.docker = options.docker ?? new Dockerode();
    this.logger = options.logger.child({ runtime: 'docker' });
    this.hub = new EventHub(this.logger);
    this.extraLabels = options.labels ?? {};
    this.address = options.address ?? '127.0.0.1';
    this.bridgeNetwork = options.bridgeNetwork ?? 'bridge';
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.portAttempts = Math.max(1, options.portAttempts ?? 3);
    this.pullTimeoutMs = options.pullTimeoutMs ?? 300_000;
    this.nowMs = options.nowMs ?? Date.now;
    this.findFreePort = options.findFreePort ?? findFreePort;
    // The stream is opened before listing (resync), so no change falls between the two; events
    // that arrive while listing wait in resyncQueue. A reconnect resumes with `since`.
    this.events = new DockerEventFollower({
      docker: this.docker,
      logger: this.logger,
      filters: { type: ['container'], label: this.labelFilters() },
      since: () => (this.lastEventTimeNano > 0 ? this.lastEventTimeNano / 1e9 : undefined),
      onEvent: (event) => {
        if (this.resyncQueue) this.resyncQueue.push(event);
        else this.onDockerEvent(event);
      },
      onConnected: (reconnected) => this.resync(reconnected),
      onDisconnected: () => this.setAvailable(false),
      reconnectInitialMs: options.reconnectInitialMs ?? 200,
      reconnectMaxMs: options.reconnectMaxMs ?? 5_000,
      random: options.random ?? Math.random,
    });
  }

  on(listener: RuntimeEventListener): () => void {
    this.ensureWatching();
    return this.hub.on(listener);
  }

  async list(service?: string): Promise<ReplicaObservation[]> {
    this.ensureWatching();
    return this.listNow(service);
  }

  /** RuntimeDriver.start; `options` adds per-container labels (the multi-host driver's host and
   * generation). A template's `resources` become limits (NanoCpus, Memory) and labels. */
  async start(template: ReplicaTemplate, replicaId: string, options: DockerStartOptions = {}): Promise<ReplicaObservation> {
    if (this.closed) throw new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', 'docker driver is closed');
    if (template.runtime.kind !== 'docker') {
      throw new DockmasterError('DM_ERR_RUNTIME_START', `docker driver cannot run a ${template.runtime.kind} template`);
    }
    this.ensureWatching();
    const runtime = template.runtime;
    await this.ensureImage(runtime.image, runtime.pull);
    const deadlineMs = Date.now() + this.startTimeoutMs;
    for (let attempt = 1; ; attempt += 1) {
      const hostPort = runtime.network === 'host' ? await this.findFreePort() : undefined;
      const container = await this.create(template, runtime, replicaId, hostPort, options.labels ?? {});
      this.pending.add(container.id);
      try {
        await container.start().catch((err: unknown) => {
          throw this.apiError(err, 'DM_ERR_RUNTIME_START', `container for ${template.service}/${replicaId} did not start`);
        });
        const outcome = await this.waitReady(container, deadlineMs);
        if (outcome.kind === 'ready') {
          const observation = observeContainerInspect(outcome.info, this.address);
          if (!observation) throw new DockmasterError('DM_ERR_RUNTIME_START', 'started container lost its labels');
          this.known.set(container.id, observation);
          this.hub.emit({ kind: 'started', atMs: this.nowMs(), replica: observation });
          return observation;
        }
        const why =
          outcome.kind === 'timeout'
            ? `did not accept connections within ${this.startTimeoutMs} ms`
            : outcome.kind === 'port-taken'
              ? `lost port ${hostPort} to another process`
              : 'exited before accepting connections';
        const lostPortRace =
          hostPort !== undefined &&
          attempt < this.portAttempts &&
          Date.now() < deadlineMs &&
          (outcome.kind === 'port-taken' || (outcome.kind === 'exited' && (await isPortTaken(hostPort))));
        if (lostPortRace) {
          this.logger.warn({ service: template.service, replica: replicaId, port: hostPort }, 'port was taken before the container bound it; retrying on another');
          await this.removeQuietly(container.id);
          continue;
        }
        const detail = await this.failureDetail(container.id);
        await this.removeQuietly(container.id);
        throw new DockmasterError(
          'DM_ERR_RUNTIME_START',
          `container for ${template.service}/${replicaId} (image ${runtime.image}) ${why}${detail.text}`,
          { service: template.service, replicaId, image: runtime.image, exitCode: detail.exitCode, logs: detail.logs },
        );
      } catch (err) {
        // A failed start leaves nothing behind.
        if (!this.known.has(container.id)) await this.removeQuietly(container.id);
        throw err instanceof DockmasterError ? err : this.apiError(err, 'DM_ERR_RUNTIME_START', `container for ${template.service}/${replicaId} failed`);
      } finally {
        this.pending.delete(container.id);
      }
    }
  }

  async stop(id: string, graceMs: number): Promise<void> {
    this.ensureWatching();
    this.rememberExpectedExit(id);
    const known = this.known.get(id);
    if (known && known.state !== 'exited') this.known.set(id, { ...known, state: 'stopping' });
    const container = this.docker.getContainer(id);
    try {
      await container.stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) });
    } catch (err) {
      // 304: already stopped; 404: already gone.
      const status = (err as DockerApiError).statusCode;
      if (status === 404) {
        this.forget(id, undefined);
        return;
      }
      if (status !== 304) throw this.apiError(err, 'DM_ERR_RUNTIME_UNAVAILABLE', `could not stop container ${id}`);
    }
    // Report the exit now instead of waiting for the event stream, like the process driver does.
    const info = await this.inspectOrUndefined(id);
    this.forget(id, info ? (observeContainerInspect(info, this.address) ?? undefined) : undefined);
    await this.removeQuietly(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.events.close();
    this.hub.clear();
  }

  // ---- listing ----

  private labelFilters(service?: string): string[] {
    const filters = [service === undefined ? DOCKER_LABEL.service : `${DOCKER_LABEL.service}=${service}`];
    for (const [key, value] of Object.entries(this.extraLabels)) filters.push(`${key}=${value}`);
    return filters;
  }

  private async listNow(service?: string): Promise<ReplicaObservation[]> {
    let rows: Dockerode.ContainerInfo[];
    try {
      rows = await this.docker.listContainers({ all: true, filters: { label: this.labelFilters(service) } });
    } catch (err) {
      throw this.apiError(err, 'DM_ERR_RUNTIME_UNAVAILABLE', 'could not list containers');
    }
    // Inspect each row for its start time and exact health; a row removed meanwhile is skipped.
    const observed = await Promise.all(
      rows.map(async (row) => {
        const info = await this.inspectOrUndefined(row.Id).catch(() => undefined);
        return info ? observeContainerInspect(info, this.address) : observeContainerSummary(row, this.address);
      }),
    );
    return observed
      .filter((o): o is ReplicaObservation => o !== undefined)
      .map((o) => (this.expectedExits.has(o.id) && o.state === 'running' ? { ...o, state: 'stopping' as const } : o));
  }

  private async inspectOrUndefined(id: string): Promise<ContainerInspectLike | undefined> {
    try {
      return await this.docker.getContainer(id).inspect();
    } catch (err) {
      if ((err as DockerApiError).statusCode === 404) return undefined;
      throw err;
    }
  }

  // ---- starting ----

  private async ensureImage(image: string, pull: PullPolicy): Promise<void> {
    let present: boolean;
    try {
      await this.docker.getImage(image).inspect();
      present = true;
    } catch (err) {
      if ((err as DockerApiError).statusCode !== 404) throw this.apiError(err, 'DM_ERR_RUNTIME_UNAVAILABLE', `could not inspect image ${image}`);
      present = false;
    }
    if (pull === 'never' && !present) {
      throw new DockmasterError('DM_ERR_RUNTIME_IMAGE_MISSING', `image ${image} is not present and pull policy is never`, { image, pull });
    }
    if (pull === 'never' || (pull === 'if-missing' && present)) return;
    try {
      await this.pullImage(image);
    } catch (err) {
      const reason = errorText(err);
      if (!present) {
        throw new DockmasterError('DM_ERR_RUNTIME_IMAGE_MISSING', `image ${image} is not present and could not be pulled: ${reason}`, { image, pull, reason });
      }
      throw new DockmasterError('DM_ERR_RUNTIME_START', `image ${image} could not be pulled (pull policy always): ${reason}`, { image, pull, reason });
    }
  }

  private async pullImage(image: string): Promise<void> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.pullTimeoutMs);
    try {
      this.logger.info({ image }, 'pulling image');
      const stream = await this.docker.pull(image, { abortSignal: abort.signal });
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
          const failed = err ?? output.find((o) => o.error);
          if (failed) reject(failed instanceof Error ? failed : new Error(failed.error));
          else resolve();
        });
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private async create(
    template: ReplicaTemplate,
    runtime: DockerRuntimeSpec,
    replicaId: string,
    hostPort: number | undefined,
    startLabels: Readonly<Record<string, string>>,
  ): Promise<Dockerode.Container> {
    const bridge = runtime.network === 'bridge';
    const envPort = bridge ? template.port : (hostPort ?? 0);
    const portKey = `${template.port}/tcp`;
    const resources = template.resources;
    const options: Dockerode.ContainerCreateOptions = {
      name: containerName(template.service, replicaId),
      Image: runtime.image,
      Env: envList(replicaEnv(template, replicaId, envPort)),
      Labels: {
        ...startLabels,
        ...this.extraLabels,
        ...(resources === undefined ? {} : { [DOCKER_LABEL.cpus]: String(resources.cpus), [DOCKER_LABEL.memoryMb]: String(resources.memoryMb) }),
        [DOCKER_LABEL.service]: template.service,
        [DOCKER_LABEL.revision]: template.revision,
        [DOCKER_LABEL.replica]: replicaId,
        [DOCKER_LABEL.port]: String(envPort),
        [DOCKER_LABEL.network]: runtime.network,
      },
      // The default for a plain `docker stop` by an operator, too.
      StopTimeout: Math.ceil(template.stopGraceMs / 1000),
      ...(bridge ? { ExposedPorts: { [portKey]: {} } } : {}),
      HostConfig: {
        NetworkMode: bridge ? this.bridgeNetwork : 'host',
        // Published on loopback only, host port chosen by Docker.
        ...(bridge ? { PortBindings: { [portKey]: [{ HostIp: '127.0.0.1', HostPort: '' }] } } : {}),
        RestartPolicy: { Name: 'no' },
        ...dockerLimits(resources),
      },
    };
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.docker.createContainer(options);
      } catch (err) {
        if ((err as DockerApiError).statusCode !== 409 || attempt > 1) {
          throw this.apiError(err, 'DM_ERR_RUNTIME_START', `could not create container for ${template.service}/${replicaId}`);
        }
        // Name taken: a leftover of this replica id. A live one is a duplicate; a dead one is cleared.
        const existing = await this.inspectOrUndefined(options.name ?? '');
        const observation = existing ? observeContainerInspect(existing, this.address) : undefined;
        if (observation && observation.state !== 'exited') {
          throw new DockmasterError('DM_ERR_RUNTIME_START', `replica ${template.service}/${replicaId} already runs as container ${observation.id}`, {
            reason: 'duplicate',
            id: observation.id,
          });
        }
        if (existing) {
          this.forget(existing.Id, observation);
          await this.removeQuietly(existing.Id);
        }
      }
    }
  }

  /** Polls until the container runs and its 127.0.0.1 port accepts a connection, it exits, or the
   * deadline passes. For bridge replicas Docker's proxy accepts before the app listens, so this
   * proves only that the port is published; health checks cover the rest. */
  private async waitReady(container: Dockerode.Container, deadlineMs: number): Promise<ReadyOutcome> {
    while (Date.now() < deadlineMs) {
      const info = await this.inspectOrUndefined(container.id);
      if (!info) return { kind: 'exited' };
      const observation = observeContainerInspect(info, this.address);
      if (!observation || observation.state === 'exited') return { kind: 'exited' };
      const url = observation.origin === undefined ? undefined : new URL(observation.origin);
      const port = url === undefined ? undefined : Number(url.port);
      const target = url?.hostname.replace(/^\[|\]$/g, '') ?? '127.0.0.1';
      if (observation.state === 'running' && port !== undefined && (await canConnectTo(target, port, CONNECT_TIMEOUT_MS))) {
        // Something accepts: make sure it is not another process while ours died of EADDRINUSE.
        const after = await this.inspectOrUndefined(container.id);
        const confirmed = after ? observeContainerInspect(after, this.address) : undefined;
        if (!after || confirmed?.state !== 'running') return { kind: 'exited' };
        const pid = after.State.Pid;
        const hostNetwork = after.Config.Labels?.[DOCKER_LABEL.network] !== 'bridge';
        // /proc tells only about this machine's sockets: skipped for another machine's daemon.
        const local = isLoopbackAddress(this.address);
        if (local && hostNetwork && pid !== undefined && pid > 0 && (await portOwnedBy(port, { pidNamespaceOf: pid })) === false) {
          return { kind: 'port-taken' };
        }
        return { kind: 'ready', info: after };
      }
      await delayMs(READY_POLL_INTERVAL_MS);
    }
    return { kind: 'timeout' };
  }

  private async failureDetail(id: string): Promise<{ text: string; exitCode: number | undefined; logs: string }> {
    const info = await this.inspectOrUndefined(id).catch(() => undefined);
    const exitCode = info && info.State.Status === 'exited' ? info.State.ExitCode : undefined;
    let logs = '';
    try {
      const raw = await this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail: LOG_TAIL_LINES, follow: false });
      logs = demuxDockerLogs(raw).trim();
    } catch {
      // Logs are a courtesy in the error message.
    }
    const text = (exitCode === undefined ? '' : ` (exit code ${exitCode})`) + (logs ? `; last output:\n${logs}` : '');
    return { text, exitCode, logs };
  }

  private async removeQuietly(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      const status = (err as DockerApiError).statusCode;
      // 404 gone, 409 removal already in progress.
      if (status !== 404 && status !== 409) this.logger.warn({ err: errorText(err), id }, 'could not remove container');
    }
  }

  // ---- state and events ----

  private rememberExpectedExit(id: string): void {
    const now = Date.now();
    for (const [other, atMs] of this.expectedExits) if (now - atMs > EXPECTED_EXIT_MEMORY_MS) this.expectedExits.delete(other);
    this.expectedExits.set(id, now);
  }

  /** Records that a container is gone or exited and emits 'exited' once per run. */
  private forget(id: string, last: ReplicaObservation | undefined): void {
    const known = this.known.get(id);
    const ref = known ?? last;
    if (ref && known?.state !== 'exited' && !this.pending.has(id)) {
      this.emitExited(refOf(ref), last?.state === 'exited' ? last.exitCode : undefined);
    }
    // Keep an exited tombstone until the destroy event (or a re-list) so late events dedupe.
    if (ref) this.known.set(id, { ...ref, ...(last ?? {}), state: 'exited', origin: undefined });
  }

  private emitExited(ref: ReplicaRef, exitCode: number | undefined): void {
    this.hub.emit({
      kind: 'exited',
      atMs: this.nowMs(),
      ref,
      exitCode,
      signal: undefined,
      expected: this.expectedExits.has(ref.id),
    });
  }

  private ensureWatching(): void {
    if (this.watching || this.closed) return;
    this.watching = true;
    this.events.start();
  }

  /** Re-lists and emits the differences against what was known: what happened while the stream
   * was down (containers gone, died or started) becomes events, so listeners catch up. */
  private async resync(reconnected: boolean): Promise<void> {
    // Events arriving while listing wait, then apply on top of the list (they are as new or newer).
    this.resyncQueue = [];
    let observed: ReplicaObservation[];
    try {
      observed = await this.listNow();
    } catch (err) {
      this.resyncQueue = undefined;
      throw err;
    }
    const seen = new Set<string>();
    for (const now of observed) {
      seen.add(now.id);
      if (this.pending.has(now.id)) continue;
      const before = this.known.get(now.id);
      this.known.set(now.id, now);
      if (now.state === 'exited') {
        if (before && before.state !== 'exited') this.emitExited(refOf(now), now.exitCode);
      } else if (now.state === 'running' && (!before || before.state === 'exited')) {
        this.hub.emit({ kind: 'started', atMs: this.nowMs(), replica: now });
      }
      if (now.runtimeHealth && before?.runtimeHealth !== now.runtimeHealth && before) {
        this.hub.emit({ kind: 'health', atMs: this.nowMs(), ref: refOf(now), health: now.runtimeHealth });
      }
    }
    for (const [id, before] of this.known) {
      if (seen.has(id) || this.pending.has(id)) continue;
      this.known.delete(id);
      if (before.state !== 'exited') this.emitExited(refOf(before), undefined);
    }
    const queued = this.resyncQueue;
    this.resyncQueue = undefined;
    for (const event of queued) this.onDockerEvent(event);
    if (reconnected) this.logger.info({ containers: observed.length }, 'docker event stream reconnected; re-listed');
    this.setAvailable(true);
  }

  private setAvailable(available: boolean): void {
    if (this.available === available) return;
    this.available = available;
    this.hub.emit({ kind: 'availability', atMs: this.nowMs(), available });
  }

  private onDockerEvent(event: DockerEventLike): void {
    const meaning = interpretContainerEvent(event);
    if (meaning.timeNano > this.lastEventTimeNano) this.lastEventTimeNano = meaning.timeNano;
    if (meaning.kind === 'other' || this.pending.has(meaning.ref.id)) return;
    const id = meaning.ref.id;
    const before = this.known.get(id);
    switch (meaning.kind) {
      case 'start':
        if (before && before.state !== 'exited') return;
        void this.reportStarted(id, before);
        return;
      case 'die':
        if (before?.state === 'exited') return;
        this.known.set(id, { ...(before ?? { ...meaning.ref, nativeId: id }), state: 'exited', origin: undefined, exitCode: meaning.exitCode });
        // Only replicas that were announced (or listed) get an 'exited': a failed start is start()'s.
        if (before) this.emitExited(meaning.ref, meaning.exitCode);
        return;
      case 'destroy':
        this.known.delete(id);
        if (before && before.state !== 'exited') this.emitExited(meaning.ref, undefined);
        return;
      case 'health':
        if (before?.runtimeHealth === meaning.health) return;
        if (before) this.known.set(id, { ...before, runtimeHealth: meaning.health });
        this.hub.emit({ kind: 'health', atMs: this.nowMs(), ref: meaning.ref, health: meaning.health });
        return;
    }
  }

  /** A container started outside start() (docker start, a restart policy): inspect, then report. */
  private async reportStarted(id: string, before: ReplicaObservation | undefined): Promise<void> {
    try {
      const info = await this.inspectOrUndefined(id);
      const observation = info ? observeContainerInspect(info, this.address) : undefined;
      // Anything seen meanwhile (a die event, a re-list) is newer than this inspect.
      if (!observation || observation.state !== 'running' || this.known.get(id) !== before) return;
      this.known.set(id, observation);
      this.hub.emit({ kind: 'started', atMs: this.nowMs(), replica: observation });
    } catch (err) {
      this.logger.warn({ err: errorText(err), id }, 'could not inspect a started container');
    }
  }

  private apiError(err: unknown, fallback: 'DM_ERR_RUNTIME_START' | 'DM_ERR_RUNTIME_UNAVAILABLE', what: string): DockmasterError {
    if (err instanceof DockmasterError) return err;
    const code = isConnectionError(err) ? 'DM_ERR_RUNTIME_UNAVAILABLE' : fallback;
    return new DockmasterError(code, `${what}: ${errorText(err)}`, { reason: errorText(err) });
  }
}

function refOf(o: ReplicaRef): ReplicaRef {
  return { id: o.id, service: o.service, revision: o.revision, replicaId: o.replicaId };
}

function isConnectionError(err: unknown): boolean {
  const code = (err as DockerApiError | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'EACCES';
}

function errorText(err: unknown): string {
  const apiMessage = (err as DockerApiError | undefined)?.json?.message;
  if (typeof apiMessage === 'string' && apiMessage) return apiMessage;
  if (err instanceof Error) return err.message;
  return String(err);
}
