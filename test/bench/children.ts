// Bench helper (I/O): every child process the bench starts, killed on exit and on Ctrl-C;
// plus free loopback ports, polling with a deadline and log tails for error messages.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { treePids } from './proc-cpu.js';

const live = new Set<ChildProcess>();

/** Registers a child so that it is killed whatever way the bench ends. */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves true once the child has exited, false if it still runs after `timeoutMs`. */
export async function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!isRunning(child)) return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** SIGKILL had to be sent after the grace period. */
  forced: boolean;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<ExitStatus> {
  let forced = false;
  if (isRunning(child)) {
    child.kill('SIGTERM');
    if (!(await waitExit(child, graceMs))) {
      forced = true;
      child.kill('SIGKILL');
      await waitExit(child, graceMs);
    }
  }
  return { code: child.exitCode, signal: child.signalCode, forced };
}

/** A note when a stop was not clean (exit code 0, or the given signal), undefined otherwise. */
export function uncleanExitNote(status: ExitStatus, graceMs: number): string | undefined {
  if (status.forced) return `did not exit within ${graceMs} ms of SIGTERM (killed)`;
  if (status.code === 0 || status.signal === 'SIGTERM') return undefined;
  return status.code === null ? `ended by ${status.signal}` : `exited with code ${status.code}`;
}

const exitHooks: (() => void)[] = [];

/** Runs `hook` (synchronous) when the bench exits, whatever the way. */
export function atExit(hook: () => void): void {
  exitHooks.push(hook);
}

/** SIGKILL to every tracked child and its descendants (nginx's worker outlives a killed master). */
function killAllNow(): void {
  for (const child of live) {
    if (!isRunning(child) || child.pid === undefined) continue;
    for (const pid of treePids(child.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const hook of exitHooks.splice(0)) hook();
}

/** Installs the last-resort cleanup: any exit, Ctrl-C, SIGTERM, and a hard deadline. */
export function installCleanup(hardDeadlineMs: number): () => void {
  process.once('exit', killAllNow);
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nbench: ${signal}, stopping children\n`);
    killAllNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: hard deadline of ${Math.round(hardDeadlineMs / 1000)} s passed, aborting\n`);
    killAllNow();
    process.exit(1);
  }, hardDeadlineMs);
  watchdog.unref();
  return () => clearTimeout(watchdog);
}

/** A port that was free on 127.0.0.1 a moment ago (for programs that cannot report theirs). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from the kernel');
  return address.port;
}

/** Calls `check` until it returns true, failing after `timeoutMs`. `check` may throw to abort early. */
export async function pollUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** GET over loopback with a short timeout; resolves with status and body, or undefined if unreachable. */
export async function probe(url: string, timeoutMs = 1000): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

/** The last lines of a log file, indented, for error messages. */
export function logTail(path: string, lines = 20): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).map((line) => `    ${line}`).join('\n');
  } catch {
    return '    (no log)';
  }
}
