// The orphan watchdog: a tiny detached Node process that kills every replica process group when
// dockmaster dies, SIGKILL included. Does I/O (spawns a process, writes to its pipe).
//
// Node has no prctl(PR_SET_PDEATHSIG), so the signal of our death is a pipe: the watchdog reads
// its stdin, which only dockmaster holds open. Whatever way dockmaster ends, the kernel closes the
// write end, the watchdog reads EOF, sends SIGTERM to each registered group, and SIGKILL to what
// is left after graceMs. One watchdog serves all replicas; dockmaster tells it "+PGID" when a
// replica starts and "-PGID" once it is gone. The watchdog runs in its own session so a signal to
// dockmaster's process group (Ctrl-C, a supervisor killing the group) cannot take it down first.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Logger } from '../../observability/logger.js';

/** Runs with `node -e`: no file to find, in src/ or dist/ alike. argv[1] is the grace in ms. */
const WATCHDOG_SOURCE = String.raw`
'use strict';
const graceMs = Number(process.argv[1]) >= 0 ? Number(process.argv[1]) : 2000;
const groups = new Set();
let buffered = '';
let reaping = false;
const signalAll = (signal) => {
  for (const pgid of groups) {
    try { process.kill(-pgid, signal); } catch (err) { if (err.code === 'ESRCH') groups.delete(pgid); }
  }
};
const reap = () => {
  if (reaping) return;
  reaping = true;
  signalAll('SIGTERM');
  const deadline = Date.now() + graceMs;
  setInterval(() => {
    signalAll(0);
    if (groups.size === 0 || Date.now() >= deadline) {
      signalAll('SIGKILL');
      process.exit(0);
    }
  }, 50);
};
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    const pgid = Number(line.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    if (line[0] === '+') groups.add(pgid);
    else if (line[0] === '-') groups.delete(pgid);
  }
});
process.stdin.on('end', reap);
process.stdin.on('error', reap);
`;

export interface WatchdogOptions {
  readonly logger: Logger;
  /** How long the watchdog lets replicas finish after SIGTERM once dockmaster is gone. */
  readonly orphanGraceMs: number;
}

/** Keeps one watchdog alive and tells it which process groups to kill. */
export class Watchdog {
  private child: ChildProcess | undefined;
  private readonly groups = new Set<number>();
  private closed = false;

  constructor(private readonly options: WatchdogOptions) {}

  /** Registers a replica process group (its leader's pid). Starts the watchdog on first use. */
  add(pgid: number): void {
    this.groups.add(pgid);
    this.ensureRunning();
    this.write(`+${pgid}\n`);
  }

  remove(pgid: number): void {
    if (!this.groups.delete(pgid)) return;
    this.write(`-${pgid}\n`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Ends the watchdog: closing its pipe is the same signal as our death, so it kills whatever is
   * still registered (nothing, after a clean shutdown) and exits. */
  close(): void {
    this.closed = true;
    this.child?.stdin?.end();
    this.child = undefined;
  }

  private ensureRunning(): void {
    if (this.child || this.closed) return;
    const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(this.options.orphanGraceMs)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.child = child;
    child.on('error', (err) => {
      this.options.logger.error({ err }, 'replica watchdog failed');
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.closed) return;
      // Someone killed it: start a new one and hand it every live group, or replicas could outlive us.
      this.options.logger.error({ code, signal }, 'replica watchdog exited; starting a new one');
      if (this.groups.size > 0) {
        this.ensureRunning();
        for (const pgid of this.groups) this.write(`+${pgid}\n`);
      }
    });
    child.stdin?.on('error', () => {
      // EPIPE when the watchdog died; its exit handler starts a new one.
    });
    // Neither the watchdog nor its pipe may keep dockmaster's event loop alive.
    child.unref();
    (child.stdin as Socket | null)?.unref();
  }

  private write(line: string): void {
    const stdin = this.child?.stdin;
    if (stdin && !stdin.destroyed) stdin.write(line);
  }
}
