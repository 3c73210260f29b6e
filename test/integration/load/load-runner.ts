// Runs the built load runner (`run-load.js`, built next to the CLI) as a child process for the
// load tests, bounded in time, and reads its report. Test helper; I/O (child process, files).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CLI_PATH } from '../../helpers/cli.js';

/** The built runner: DOCKMASTER_TEST_LOAD_RUNNER, else next to the CLI the tests use (so
 * DOCKMASTER_TEST_CLI=.build-x/src/main.js picks .build-x/test/load/run-load.js, and the
 * default dist/src/main.js picks dist/test/load/run-load.js). */
export const LOAD_RUNNER = process.env['DOCKMASTER_TEST_LOAD_RUNNER']
  ? resolve(process.env['DOCKMASTER_TEST_LOAD_RUNNER'])
  : resolve(dirname(CLI_PATH), '../test/load/run-load.js');

export interface LoadRun {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `run-load.js ...args`; SIGINT after `timeoutMs` (the runner then stops and restores),
 * SIGKILL 10 s later. */
/** The tests share 2 cores with every other test file: latency bounds are stretched 4x
 * (LATENCY_SCALE), so a busy machine cannot fail a run that answers everything. The thresholds
 * themselves are checked unscaled in test/unit/load. */
export const TEST_LATENCY_SCALE = 4;

export async function runLoad(args: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<LoadRun> {
  if (!existsSync(LOAD_RUNNER)) throw new Error(`${LOAD_RUNNER} is missing: run 'npm run build' first (npm test does)`);
  const child = spawn(process.execPath, [LOAD_RUNNER, ...args], { env: { ...process.env, DOCKMASTER_TOKEN: '', LATENCY_SCALE: String(TEST_LATENCY_SCALE), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const interrupt = setTimeout(() => child.kill('SIGINT'), timeoutMs);
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 10_000);
  const code = await new Promise<number | string>((resolveExit) => child.once('exit', (exitCode, signal) => resolveExit(exitCode ?? signal ?? -1)));
  clearTimeout(interrupt);
  clearTimeout(kill);
  return { code, stdout, stderr };
}

/** A fresh folder for reports. */
export function reportDir(): string {
  return mkdtempSync(join(tmpdir(), 'dockmaster-load-'));
}

export function readReport(path: string): string {
  if (!existsSync(path)) throw new Error(`the runner wrote no report at ${path}`);
  return readFileSync(path, 'utf8');
}

/** How often `text` occurs in `html`. */
export function count(html: string, text: string): number {
  return html.split(text).length - 1;
}

/** The runner's URLs for a gateway started by the test helpers, and a fast admin poll. */
export function targetArgs(cli: { readonly proxyUrl: string; readonly adminUrl: string }): string[] {
  return ['--proxy-url', cli.proxyUrl, '--admin-url', cli.adminUrl, '--poll', '100ms'];
}
