// Bench starter (I/O): dockmaster itself, the built CLI (`dist/src/main.js serve`), with a config
// folder holding one static route to the backend and no policies; ready when /readyz answers 200.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, isRunning, logTail, pollUntil, probe, stopChild, track, uncleanExitNote } from './children.js';
import type { Target } from './target.js';

const READY_TIMEOUT_MS = 30_000;
/** Longer than the drain of an idle gateway; SIGKILL after that. */
const STOP_GRACE_MS = 10_000;

/** The compiled CLI, next to this file in dist/ (dist/test/bench -> dist/src/main.js). */
export function dockmasterEntry(): string {
  return fileURLToPath(new URL('../../src/main.js', import.meta.url));
}

export function dockmasterAvailable(): boolean {
  return existsSync(dockmasterEntry());
}

function writeConfig(configDir: string, backendPort: number): void {
  mkdirSync(join(configDir, 'routes'), { recursive: true });
  mkdirSync(join(configDir, 'policies'), { recursive: true });
  writeFileSync(join(configDir, 'routes', 'bench.yaml'), [
    '# One static route for the proxy benchmark (test/bench/dockmaster.ts).',
    'kind: Route',
    'name: bench',
    'match:',
    '  pathPrefix: /',
    'upstreams:',
    `  - url: http://127.0.0.1:${backendPort}`,
    '',
  ].join('\n'));
}

export async function startDockmaster(backendPort: number, workDir: string): Promise<Target> {
  const configDir = join(workDir, 'dockmaster');
  writeConfig(configDir, backendPort);
  const [proxyPort, adminPort] = [await freePort(), await freePort()];
  const logPath = join(workDir, 'dockmaster.log');
  const logFd = openSync(logPath, 'a');
  const args = [dockmasterEntry(), 'serve', '--config', configDir,
    '--listen', `127.0.0.1:${proxyPort}`, '--admin', `127.0.0.1:${adminPort}`];
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd] }));
  closeSync(logFd);
  const target: Target = {
    name: 'dockmaster',
    description: 'dockmaster serve, one static route (routing, header policy, metrics on)',
    url: `http://127.0.0.1:${proxyPort}/`,
    child,
    logPath,
    async stop() {
      // The contract: SIGTERM drains and exits 0.
      const status = await stopChild(child, STOP_GRACE_MS);
      if (status.code === 0) return undefined;
      return uncleanExitNote(status, STOP_GRACE_MS) ?? `ended by ${status.signal} instead of exiting 0`;
    },
  };
  try {
    await pollUntil('dockmaster /readyz', async () => {
      if (!isRunning(child)) throw new Error(`dockmaster exited (code ${child.exitCode}) before it was ready`);
      return (await probe(`http://127.0.0.1:${adminPort}/readyz`))?.status === 200;
    }, READY_TIMEOUT_MS);
  } catch (err) {
    await target.stop();
    throw new Error(`${(err as Error).message}\n  log ${logPath}:\n${logTail(logPath)}`);
  }
  return target;
}
