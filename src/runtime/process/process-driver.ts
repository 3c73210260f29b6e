// ProcessDriver: runs replicas as local child processes, the embedded default runtime. Does I/O
// (spawns processes, opens sockets). Each replica leads its own process group, on its own free
// 127.0.0.1 port; a watchdog kills every group if dockmaster dies (see watchdog.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { DockmasterError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { EventHub } from '../event-hub.js';
import { splitLines } from '../json-lines.js';
import { portOwnedBy } from '../port-owner.js';
import { canConnect, delayMs, findFreePort, isPortTaken } from '../ports.js';
import { replicaEnv } from '../replica-env.js';
import type {
  ProcessRuntimeSpec,
  ReplicaObservation,
  ReplicaRef,
  ReplicaTemplate,
  RuntimeDriver,
  RuntimeEventListener,
} from '../runtime-driver.js';
import { exitCodeOf, observeProcess, processReplicaHandle, type ProcessRecord } from './observe-process.js';
import { Watchdog } from './watchdog.js';

export interface ProcessDriverOptions {
  readonly logger: Logger;
  /** Upper bound for a start: spawn until the port accepts a connection. Default 15 s. */
  readonly startTimeoutMs?: number;
  /** Ports tried when another process takes the chosen port first. Default 3. */
  readonly portAttempts?: number;
  /** Grace the watchdog gives replicas between SIGTERM and SIGKILL once dockmaster died. Default 2 s. */
  readonly orphanGraceMs?: number;
  /** Exited replicas kept in list() until stop(id); the oldest beyond this are forgotten. Default 100. */
  readonly maxExitedReplicas?: number;
  /** Longer log lines from a replica are cut into pieces. Default 16 KiB. */
  readonly maxLogLineChars?: number;
  readonly nowMs?: () => number;
  /** Picks the port for a replica that gets one from the driver. Default: findFreePort. Tests
   * inject a taken port to exercise the retry. */
  readonly findFreePort?: () => Promise<number>;
}

/** The last stderr lines of a replica, quoted when it fails to start. */
const STDERR_TAIL_LINES = 10;
const PORT_POLL_INTERVAL_MS = 25;
const CONNECT_TIMEOUT_MS = 250;

interface Child {
  record: ProcessRecord;
  readonly template: ReplicaTemplate;
  proc: ChildProcess | undefined;
  /** Resolves once the current process has exited (or never spawned). */
  exited: Promise<void>;
  stopRequested: boolean;
  /** 'started' was emitted, so an 'exited' event is owed. */
  announced: boolean;
  stderrTail: string[];
}

type StartOutcome =
  | { readonly kind: 'listening' }
  | { readonly kind: 'exited' }
  | { readonly kind: 'timeout' }
  /** Another process listens on the port: ours cannot bind it. */
  | { readonly kind: 'port-taken' };

export class ProcessDriver implements RuntimeDriver {
  readonly kind = 'process' as const;
  private readonly children = new Map<string, Child>();
  private readonly hub: EventHub;
  private readonly watchdog: Watchdog;
  private readonly logger: Logger;
  private readonly startTimeoutMs: number;
  private readonly portAttempts: number;
  private readonly maxExitedReplicas: number;
  private readonly maxLogLineChars: number;
  private readonly nowMs: () => number;
  private readonly findFreePort: () => Promise<number>;
  private closed = false;

  constructor(options: ProcessDriverOptions) {
    this.logger = options.logger.child({ runtime: 'process' });
    this.hub = new EventHub(this.logger);
    this.watchdog = new Watchdog({ logger: this.logger, orphanGraceMs: options.orphanGraceMs ?? 2_000 });
    this.startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.portAttempts = Math.max(1, options.portAttempts ?? 3);
    this.maxExitedReplicas = options.maxExitedReplicas ?? 100;
    this.maxLogLineChars = options.maxLogLineChars ?? 16_384;
    this.nowMs = options.nowMs ?? Date.now;
    this.findFreePort = options.findFreePort ?? findFreePort;
  }

  /** Pid of the orphan watchdog, once one runs (tests kill it to check it comes back). */
  get watchdogPid(): number | undefined {
    return this.watchdog.pid;
  }

  async list(service?: string): Promise<ReplicaObservation[]> {
    const out: ReplicaObservation[] = [];
    for (const child of this.children.values()) {
      if (service === undefined || child.record.service === service) out.push(observeProcess(child.record));
    }
    return out;
  }

  on(listener: RuntimeEventListener): () => void {
    return this.hub.on(listener);
  }

  async start(template: ReplicaTemplate, replicaId: string): Promise<ReplicaObservation> {
    if (this.closed) throw new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', 'process driver is closed');
    if (template.runtime.kind !== 'process') {
      throw new DockmasterError('DM_ERR_RUNTIME_START', `process driver cannot run a ${template.runtime.kind} template`);
    }
    const runtime = template.runtime;
    if (runtime.command.length === 0) throw new DockmasterError('DM_ERR_RUNTIME_START', 'command is empty');
    const id = processReplicaHandle(template.service, replicaId);
    const existing = this.children.get(id);
    if (existing && existing.record.state !== 'exited') {
      throw new DockmasterError('DM_ERR_RUNTIME_START', `replica ${id} already runs`, { reason: 'duplicate', id });
    }
    this.children.delete(id);
    const child: Child = {
      record: {
        id,
        service: template.service,
        revision: template.revision,
        replicaId,
        state: 'starting',
        pid: undefined,
        port: undefined,
        startedAtMs: undefined,
      },
      template,
      proc: undefined,
      exited: Promise.resolve(),
      stopRequested: false,
      announced: false,
      stderrTail: [],
    };
    this.children.set(id, child);
    try {
      const deadlineMs = Date.now() + this.startTimeoutMs;
      for (let attempt = 1; ; attempt += 1) {
        const port = await this.findFreePort();
        const outcome = await this.spawnOnce(child, runtime, port, deadlineMs);
        if (outcome.kind === 'listening' && this.closed) {
          await this.killNow(child);
          throw new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', 'process driver closed during start');
        }
        if (outcome.kind === 'listening') {
          child.record = { ...child.record, state: 'running' };
          child.announced = true;
          const observation = observeProcess(child.record);
          this.hub.emit({ kind: 'started', atMs: this.nowMs(), replica: observation });
          return observation;
        }
        if (outcome.kind === 'timeout') {
          await this.killNow(child);
          throw this.startError(child, `did not accept connections on port ${port} within ${this.startTimeoutMs} ms`);
        }
        if (outcome.kind === 'port-taken') await this.killAttempt(child);
        if (child.stopRequested) throw this.startError(child, 'stopped while starting');
        const lostPortRace = outcome.kind === 'port-taken' || (await isPortTaken(port));
        if (!lostPortRace || attempt >= this.portAttempts || Date.now() >= deadlineMs) {
          throw this.startError(child, lostPortRace ? `lost port ${port} to another process ${attempt} time(s)` : 'exited before accepting connections');
        }
        this.logger.warn({ service: template.service, replica: replicaId, port }, 'port was taken before the replica bound it; retrying on another');
      }
    } catch (err) {
      this.children.delete(id);
      throw err;
    }
  }

  async stop(id: string, graceMs: number): Promise<void> {
    const child = this.children.get(id);
    if (!child) return;
    child.stopRequested = true;
    if (child.record.state === 'exited') {
      // Not yet announced means a start is between two port attempts: it sees stopRequested and fails.
      if (child.announced) this.children.delete(id);
      return;
    }
    if (child.record.state !== 'stopping') child.record = { ...child.record, state: 'stopping' };
    const pgid = child.proc?.pid;
    if (pgid !== undefined) {
      signalGroup(pgid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace-over'>((resolve) => {
        timer = setTimeout(() => resolve('grace-over'), Math.max(0, graceMs));
      });
      const first = await Promise.race([child.exited.then(() => 'exited' as const), graceOver]);
      clearTimeout(timer);
      if (first === 'grace-over') signalGroup(pgid, 'SIGKILL');
    }
    await child.exited;
    // A start in progress removes the record itself when it fails.
    if (this.children.get(id) === child && child.record.state === 'exited') this.children.delete(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const live = [...this.children.values()].filter((c) => c.record.state !== 'exited');
    await Promise.all(live.map((c) => this.stop(c.record.id, c.template.stopGraceMs)));
    this.watchdog.close();
    this.hub.clear();
  }

  /** Spawns the command on `port` and waits until it listens, exits, or the deadline passes. */
  private async spawnOnce(child: Child, runtime: ProcessRuntimeSpec, port: number, deadlineMs: number): Promise<StartOutcome> {
    const { template, record } = child;
    const [file, ...args] = runtime.command as [string, ...string[]];
    const proc = spawn(file, args, {
      cwd: runtime.cwd,
      env: { ...inheritedEnv(), ...replicaEnv(template, record.replicaId, port) },
      // Own session and process group: stop and the watchdog signal the whole group.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.proc = proc;
    child.stderrTail = [];
    child.record = { ...record, state: 'starting', exit: undefined };
    let hasExited = false;
    child.exited = new Promise<void>((resolve) => {
      proc.once('error', (err) => {
        // Spawn failed (ENOENT, EACCES): there will be no exit event.
        if (proc.pid !== undefined) return;
        hasExited = true;
        child.stderrTail.push(err.message);
        this.onExit(child, proc, null, null, err.message);
        resolve();
      });
      proc.once('exit', (code, signal) => {
        hasExited = true;
        this.onExit(child, proc, code, signal, undefined);
        resolve();
      });
    });
    if (proc.pid !== undefined) {
      this.watchdog.add(proc.pid);
      child.record = { ...child.record, pid: proc.pid, port, startedAtMs: this.nowMs() };
    }
    this.pipeLines(child, proc, 'stdout');
    this.pipeLines(child, proc, 'stderr');

    while (Date.now() < deadlineMs) {
      if (hasExited) return { kind: 'exited' };
      if (await canConnect(port, CONNECT_TIMEOUT_MS)) {
        // Something accepts on the port: our replica, or another process that took the port first.
        if (hasExited) return { kind: 'exited' };
        const owned = proc.pid === undefined ? undefined : await portOwnedBy(port, { processGroup: proc.pid });
        return owned === false ? { kind: 'port-taken' } : { kind: 'listening' };
      }
      if (hasExited) return { kind: 'exited' };
      await Promise.race([delayMs(PORT_POLL_INTERVAL_MS), child.exited]);
    }
    return hasExited ? { kind: 'exited' } : { kind: 'timeout' };
  }

  private onExit(child: Child, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null, spawnError: string | undefined): void {
    if (child.proc !== proc) return;
    const pgid = proc.pid;
    if (pgid !== undefined) {
      // Grandchildren of a dead replica would keep its port and pipes: end the whole group.
      signalGroup(pgid, 'SIGKILL');
      this.watchdog.remove(pgid);
    }
    child.record = { ...child.record, state: 'exited', exit: { code, signal } };
    const { service, replicaId } = child.record;
    const exitCode = exitCodeOf(code, signal);
    const fields = { service, replica: replicaId, exitCode, signal, expected: child.stopRequested };
    if (spawnError) this.logger.error({ ...fields, err: spawnError }, 'replica could not be spawned');
    else if (child.stopRequested) this.logger.info(fields, 'replica stopped');
    else if (child.announced) this.logger.warn(fields, 'replica exited');
    else this.logger.warn(fields, 'replica exited while starting');
    if (child.announced) {
      this.hub.emit({
        kind: 'exited',
        atMs: this.nowMs(),
        ref: refOf(child.record),
        exitCode,
        signal: signal ?? undefined,
        expected: child.stopRequested,
      });
      this.trimExited();
    }
  }

  private pipeLines(child: Child, proc: ChildProcess, stream: 'stdout' | 'stderr'): void {
    const source = proc[stream];
    if (!source) return;
    const log = this.logger.child({ service: child.record.service, replica: child.record.replicaId, stream });
    let rest = '';
    const emit = (line: string): void => {
      if (stream === 'stderr') {
        child.stderrTail.push(line);
        if (child.stderrTail.length > STDERR_TAIL_LINES) child.stderrTail.shift();
        log.warn(line);
      } else {
        log.info(line);
      }
    };
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      const split = splitLines(rest, chunk, this.maxLogLineChars);
      rest = split.rest;
      for (const line of split.lines) emit(line);
    });
    source.on('end', () => {
      if (rest !== '') emit(rest);
      rest = '';
    });
    source.on('error', () => {
      // The pipe breaks when the process dies; its exit is reported by the exit handler.
    });
  }

  private async killNow(child: Child): Promise<void> {
    child.stopRequested = true;
    await this.killAttempt(child);
  }

  /** Ends the current attempt's process group (a failed start), whatever it is doing. */
  private async killAttempt(child: Child): Promise<void> {
    const pgid = child.proc?.pid;
    if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
    await child.exited;
  }

  private startError(child: Child, why: string): DockmasterError {
    const { service, replicaId, exit } = child.record;
    const exitCode = exit ? exitCodeOf(exit.code, exit.signal) : undefined;
    const tail = child.stderrTail.join('\n');
    const message =
      `replica ${service}/${replicaId} ${why}` +
      (exitCode === undefined ? '' : ` (exit code ${exitCode})`) +
      (tail ? `; stderr:\n${tail}` : '');
    return new DockmasterError('DM_ERR_RUNTIME_START', message, { service, replicaId, exitCode, stderr: child.stderrTail });
  }

  private trimExited(): void {
    const exited = [...this.children.values()].filter((c) => c.record.state === 'exited' && c.announced);
    for (let i = 0; i < exited.length - this.maxExitedReplicas; i += 1) {
      const oldest = exited[i];
      if (oldest) this.children.delete(oldest.record.id);
    }
  }
}

function refOf(record: ProcessRecord): ReplicaRef {
  return { id: record.id, service: record.service, revision: record.revision, replicaId: record.replicaId };
}

/** dockmaster's environment minus its own DOCKMASTER_* settings (the admin token among them). */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('DOCKMASTER_')) env[key] = value;
  }
  return env;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
