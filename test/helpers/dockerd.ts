// A private Docker daemon for tests that restart, kill or partition "a Docker host" without
// disturbing the shared one: its own socket, data root, exec root (hence its own managed
// containerd), pid file and config file, under one folder in /tmp. Started with
// `--live-restore`, so its containers outlive the daemon, and loopback-only networking
// (`--bridge=none --iptables=false --ip-masq=false --ip-forward=false`). Several may run at once
// beside the main daemon (one per simulated host; test/helpers/docker-hosts.ts starts a set).
// kill() is a machine losing power (daemon, shims and container processes SIGKILLed); pause()
// and resume() freeze the daemon with SIGSTOP/SIGCONT (it answers nothing, containers run on).
// Test helper; does I/O (child processes, sockets, files, mounts).
//
// Checked on Debian's docker.io 20.10 with containerd 1.6: each dockerd starts its own containerd
// under `<exec-root>/containerd` (no `--containerd` flag needed, no clash with the main one); on
// SIGTERM with live-restore the daemon stops its containerd and leaves the container shims
// running; on SIGKILL its containerd dies with it (parent-death signal) and the shims stay; a new
// dockerd on the same roots reconnects to them. The daemon leaves two mounts behind (the data
// root bound onto itself and `<exec-root>/netns/default`); destroy() unmounts them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import Dockerode from 'dockerode';
import { DEMO_IMAGE, dockerAvailable, dockerRequired } from './docker.js';

export interface PrivateDockerd {
  /** The name given to startDockerd. */
  readonly name: string;
  /** The folder holding everything of this daemon (sockets, roots, log). */
  readonly dir: string;
  /** DOCKER_HOST for this daemon: `unix://<dir>/docker.sock`. */
  readonly host: string;
  readonly socketPath: string;
  /** A client for this daemon (never pins an API version). */
  readonly docker: Dockerode;
  /** The daemon's pid while it runs. */
  readonly pid: number | undefined;
  running(): boolean;
  /** Sends the signal (default SIGTERM) and waits for the daemon to exit; SIGKILLs it when it
   * has not exited within timeoutMs (default 15 s). Containers keep running (live-restore). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
  /** Starts the daemon again on the same roots and waits until it answers. */
  start(): Promise<void>;
  /** A machine losing power: SIGKILLs the daemon (its containerd dies with it), every process of
   * its containers and their containerd shims (which would keep the containers running
   * otherwise) at once. Only this daemon's processes. start() brings the daemon back; it finds its
   * containers dead. Resolves with the time (epoch ms) the signals were sent. */
  kill(): Promise<number>;
  /** SIGSTOP: the daemon answers nothing (requests hang) while its containers keep running. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** True between pause() and resume(). */
  paused(): boolean;
  /** Copies an image from another daemon (default: the main one) into this one (save | load). */
  loadImage(image?: string, from?: Dockerode): Promise<void>;
  /** Everything the daemon wrote to stdout and stderr, over all its runs. */
  log(): string;
  /** Removes every container (starting the daemon for it when it is down), stops the daemon,
   * unmounts what it left mounted and deletes its folder. Idempotent. */
  destroy(): Promise<void>;
}

export interface StartDockerdOptions {
  /** How long to wait for the daemon to answer a ping. Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** Extra dockerd flags, e.g. `--label host=a`. */
  readonly extraArgs?: readonly string[];
}

/** Unix socket paths are limited to 107 bytes; containerd's ttrpc socket is the longest one
 * under the folder, so the folder lives directly in /tmp with a short name. */
const BASE_DIR = '/tmp';
const LONGEST_SUFFIX = '/exec/containerd/containerd.sock.ttrpc';
const MAX_SOCKET_PATH = 107;

const live = new Set<PrivateDockerd>();
let exitHookInstalled = false;

function which(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin', '/usr/local/sbin']) {
    if (existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/** Why a private daemon cannot run here, or undefined when it can: dockerd must be installed and
 * this process must be root (dockerd is not run rootless here), and the main daemon must answer
 * (it holds the images that are copied in). */
export async function privateDockerdUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'a private dockerd needs Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'a private dockerd needs root';
  if (which('dockerd') === undefined) return 'dockerd is not installed';
  if (!(await dockerAvailable())) return 'no main Docker daemon answers (it holds the test images)';
  return undefined;
}

/** Like skipWithoutDocker: true to skip (after printing why); throws when
 * DOCKMASTER_REQUIRE_DOCKER=1, so CI fails instead of skipping. */
export async function skipWithoutPrivateDockerd(what: string): Promise<boolean> {
  const why = await privateDockerdUnavailable();
  if (why === undefined) return false;
  if (dockerRequired()) throw new Error(`${what}: DOCKMASTER_REQUIRE_DOCKER=1 but ${why}`);
  console.warn(`\n  [skip] ${what}: ${why}; private-daemon tests skipped (set DOCKMASTER_REQUIRE_DOCKER=1 to fail instead)\n`);
  return true;
}

function safeName(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 24);
  return cleaned || 'd';
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function pingWithin(docker: Dockerode, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      docker.ping().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** True while the process exists and is not a zombie. */
function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Pids whose /proc entry matches: for the last-resort cleanup when the daemon cannot start. */
function pidsWhere(match: (pid: number) => boolean): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      if (pid !== process.pid && match(pid)) pids.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** The processes of this daemon's containers (found by their cgroup, named after the container
 * id) and its containerd shims (found by their containerd address, which holds this daemon's
 * unique folder). Only this daemon's processes. */
function leftoverPids(dir: string): number[] {
  let ids: string[] = [];
  try {
    ids = readdirSync(join(dir, 'data', 'containers')).filter((id) => /^[0-9a-f]{64}$/.test(id));
  } catch {
    // No containers were ever created.
  }
  const address = join(dir, 'exec', 'containerd', 'containerd.sock');
  const inContainer = (pid: number): boolean => {
    if (ids.length === 0) return false;
    const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    return ids.some((id) => cgroup.includes(`docker/${id}`) || cgroup.includes(`docker-${id}.scope`));
  };
  const isShim = (pid: number): boolean => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(address);
  return [...pidsWhere(inContainer), ...pidsWhere(isShim)];
}

/** SIGKILL to every pid (gone ones skipped), then wait (bounded) until none runs. */
async function killPids(pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  for (let i = 0; pids.some(pidRunning) && i < 100; i++) await delay(20);
}

/** When the daemon cannot be started to remove its containers, or after a kill: SIGKILL whatever
 * of its containers and shims still runs. */
async function killLeftovers(dir: string): Promise<void> {
  await killPids(leftoverPids(dir));
}

/** Mount points at or under dir, deepest first (from /proc/self/mountinfo; octal escapes decoded). */
function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = new Set<string>();
  for (const line of text.split('\n')) {
    const raw = line.split(' ')[4];
    if (raw === undefined) continue;
    const point = raw.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
    if (point === dir || point.startsWith(`${dir}/`)) points.add(point);
  }
  return [...points].sort((a, b) => b.length - a.length);
}

function unmountAll(dir: string): void {
  // A mount can be stacked more than once; a few rounds clear it.
  for (let round = 0; round < 5; round++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const point of points) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if a run dies without destroy() (a bench stopped by Ctrl-C, a crash): synchronous,
  // as 'exit' handlers must be. Kills each daemon with its shims and containers' processes,
  // waits for them (at most 3 s), unmounts what they left and removes their folders.
  process.once('exit', () => {
    const daemons = [...live];
    const victims: number[] = [];
    for (const d of daemons) {
      if (d.pid !== undefined) victims.push(d.pid);
      victims.push(...leftoverPids(d.dir));
    }
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (let i = 0; victims.some(pidRunning) && i < 150; i++) sleepSync(20);
    for (const d of daemons) {
      unmountAll(d.dir);
      rmSync(d.dir, { recursive: true, force: true });
    }
  });
}

/**
 * Starts a private dockerd named `name` and waits until it answers. The returned handle can stop
 * it (any signal), start it again on the same roots, and destroy it with its containers.
 */
export async function startDockerd(name: string, options: StartDockerdOptions = {}): Promise<PrivateDockerd> {
  const dockerd = which('dockerd');
  if (dockerd === undefined) throw new Error('startDockerd: dockerd is not installed');
  const dir = mkdtempSync(join(BASE_DIR, `dmd-${safeName(name)}-`));
  if (dir.length + LONGEST_SUFFIX.length > MAX_SOCKET_PATH) throw new Error(`startDockerd: folder ${dir} is too long for unix sockets`);
  const socketPath = join(dir, 'docker.sock');
  const logPath = join(dir, 'dockerd.log');
  const configFile = join(dir, 'daemon.json');
  // Its own (empty) config file, so /etc/docker/daemon.json of the main daemon does not apply.
  writeFileSync(configFile, '{}\n');
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'exec'));
  const args = [
    '-H', `unix://${socketPath}`,
    '--data-root', join(dir, 'data'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'),
    '--config-file', configFile,
    '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip-forward=false',
    '--live-restore',
    ...(options.extraArgs ?? []),
  ];
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const docker = new Dockerode({ socketPath });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let destroyed = false;
  let pausedNow = false;
  /** Set when the first start failed: destroy() then does not try again. */
  let neverStarted = false;

  const log = (): string => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  const tail = (): string => log().trim().split('\n').slice(-15).join('\n');

  const start = async (): Promise<void> => {
    if (destroyed) throw new Error(`dockerd ${name}: destroyed`);
    if (child !== undefined) return;
    const fd = openSync(logPath, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn(dockerd, args, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    child = proc;
    let exitedEarly: string | undefined;
    exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        exitedEarly = `exited with ${code ?? signal}`;
        if (child === proc) child = undefined;
        resolve();
      });
      proc.once('error', (err) => {
        exitedEarly = err.message;
        if (child === proc) child = undefined;
        resolve();
      });
    });
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (exitedEarly !== undefined) throw new Error(`dockerd ${name} ${exitedEarly} before it answered; last log lines:\n${tail()}`);
      if (await pingWithin(docker, 1_000)) return;
      await delay(50);
    }
    proc.kill('SIGKILL');
    await exited;
    throw new Error(`dockerd ${name} did not answer within ${readyTimeoutMs} ms; last log lines:\n${tail()}`);
  };

  const resume = (): void => {
    if (!pausedNow) return;
    pausedNow = false;
    child?.kill('SIGCONT');
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    // A stopped process does not act on SIGTERM until it runs again.
    if (signal !== 'SIGKILL') resume();
    proc.kill(signal);
    pausedNow = false;
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      proc.kill('SIGKILL');
      await exited;
    }
    // Its managed containerd goes with it (stopped and reaped on SIGTERM; on SIGKILL killed by its
    // parent-death signal and left a zombie until init reaps it, which took about a second here).
    // A new dockerd that finds the pid file and a pid that still answers kill(0), zombies
    // included, waits for that containerd instead of starting its own, and gives up after 10 s
    // ("timeout waiting for containerd to start"). So wait until it is dead, then drop the pid file.
    const pidFile = join(dir, 'exec', 'containerd', 'containerd.pid');
    const containerdPid = readPid(pidFile);
    if (containerdPid !== undefined) {
      for (let i = 0; pidRunning(containerdPid) && i < 200; i++) await delay(25);
      if (!pidRunning(containerdPid)) rmSync(pidFile, { force: true });
    }
  };

  const handle: PrivateDockerd = {
    name,
    dir,
    host: `unix://${socketPath}`,
    socketPath,
    docker,
    get pid() {
      return child?.pid;
    },
    running: () => child !== undefined,
    stop,
    start,
    async kill() {
      // Power lost: the daemon, its shims and its containers' processes die together (found
      // first, then one SIGKILL each), so the containers stop answering when the engine does.
      const victims = leftoverPids(dir);
      const killedAtMs = Date.now();
      child?.kill('SIGKILL');
      const shimsAndContainers = killPids(victims);
      // The daemon's exit is reported later, so stop() still sees it and waits for its containerd.
      await stop('SIGKILL');
      await shimsAndContainers;
      // A container started while the pids were listed.
      await killLeftovers(dir);
      return killedAtMs;
    },
    pause() {
      if (child === undefined || pausedNow) return;
      pausedNow = true;
      child.kill('SIGSTOP');
    },
    resume,
    paused: () => pausedNow,
    log,
    async loadImage(image = DEMO_IMAGE, from = new Dockerode()) {
      const tar = await from.getImage(image).get();
      const response = await docker.loadImage(tar);
      const text = await new Promise<string>((resolve, reject) => {
        let out = '';
        response.on('data', (d: Buffer) => (out += d.toString()));
        response.on('end', () => resolve(out));
        response.on('error', reject);
      });
      if (/"error"/.test(text)) throw new Error(`loading ${image} into dockerd ${name} failed: ${text}`);
      await docker.getImage(image).inspect();
    },
    async destroy() {
      if (destroyed) return;
      try {
        resume();
        if (child === undefined && !neverStarted) await start().catch(() => undefined);
        if (child !== undefined) {
          const containers = await docker.listContainers({ all: true }).catch(() => []);
          await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
          await stop('SIGTERM');
        }
        // Whatever is still running (the daemon did not come up, or a removal failed).
        await killLeftovers(dir);
      } finally {
        destroyed = true;
        live.delete(handle);
        unmountAll(dir);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  installExitHook();
  live.add(handle);
  try {
    await start();
  } catch (err) {
    neverStarted = true;
    await handle.destroy();
    throw err;
  }
  return handle;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
