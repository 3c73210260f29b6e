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

export async function startCli(dir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, options: StartCliOptions = {}): Promise<RunningCli> {
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
