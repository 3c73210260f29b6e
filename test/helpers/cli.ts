// Runs the built `dockmaster` CLI (dist/src/main.js) as a real child process for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';

/** The built CLI; DOCKMASTER_TEST_CLI points the tests at another build (e.g. a private outDir
 * while others rebuild dist/ in the same checkout). */
export const CLI_PATH = process.env['DOCKMASTER_TEST_CLI'] ? resolve(process.env['DOCKMASTER_TEST_CLI']) : resolve(import.meta.dirname, '../../dist/src/main.js');

export function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run 'npm run build' first (npm test does)`);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A temporary config folder with routes/ and policies/ holding the given files. */
export function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dockmaster-test-'));
  mkdirSync(join(dir, 'routes'));
  mkdirSync(join(dir, 'policies'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly proxyUrl: string;
  readonly adminUrl: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

export interface StartCliOptions {
  /** Listen on these ports instead of fresh free ones, e.g. a restarted gateway on the same
   * addresses as the one before it. */
  readonly proxyPort?: number;
  readonly adminPort?: number;
}

/** How long startCli waits for the gateway to say it started before handing it over anyway. */
const STARTED_WAIT_MS = 15_000;
const PORT_ATTEMPTS = 3;

/**
 * Starts `dockmaster serve` on fresh loopback ports (or the given ones) and returns once it
 * logged that it started or exited. Fresh ports are picked, released and then bound by the
 * child, so another process (a replica, a container on the host network) can take one in
 * between: a start that fails with EADDRINUSE on ports picked here is retried on new ones.
 */
export async function startCli(dir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, options: StartCliOptions = {}): Promise<RunningCli> {
  const fixedPorts = options.proxyPort !== undefined || options.adminPort !== undefined;
  for (let attempt = 1; ; attempt++) {
    const cli = await spawnCli(dir, extraArgs, env, options);
    const outcome = await Promise.race([
      cli.exited.then(() => 'exited' as const),
      waitForOutput(cli, 'dockmaster started').then(() => 'started' as const),
      new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), STARTED_WAIT_MS).unref()),
    ]);
    const portTaken = outcome === 'exited' && /EADDRINUSE/.test(cli.stdout() + cli.stderr());
    if (!portTaken || fixedPorts || attempt >= PORT_ATTEMPTS) return cli;
  }
}

async function waitForOutput(cli: RunningCli, text: string): Promise<void> {
  while (!cli.stdout().includes(text)) {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) return new Promise(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function spawnCli(dir: string, extraArgs: string[], env: NodeJS.ProcessEnv, options: StartCliOptions): Promise<RunningCli> {
  assertBuilt();
  const proxyPort = options.proxyPort ?? (await freePort());
  const adminPort = options.adminPort ?? (await freePort());
  const child = spawn(
    process.execPath,
    [CLI_PATH, 'serve', '--config', dir, '--listen', `127.0.0.1:${proxyPort}`, '--admin', `127.0.0.1:${adminPort}`, ...extraArgs],
    { env: { ...process.env, DOCKMASTER_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? signal ?? -1)));
  return {
    child,
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    stdout: () => out,
    stderr: () => err,
    exited,
  };
}
