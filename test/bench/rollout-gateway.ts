// Rollout bench starter and admin client (I/O): the built CLI (`dist/src/main.js serve`, process
// runtime) with one demo service of 4 replicas behind a catch-all route, and the few admin calls
// the bench makes (service view, PUT of a changed document, events since a sequence number,
// counters from /metrics). Ready once every replica of the first revision is ready.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockmasterEntry } from './dockmaster.js';
import { freePort, isRunning, logTail, pollUntil, probe, stopChild, track, uncleanExitNote } from './children.js';
import { sumCounters } from './rollout-report.js';
import type { Scenario } from './rollout-settings.js';

export const SERVICE = 'demo';
export const REPLICAS = 4;
/** Health checks as the issue asks: every 100 ms, one pass makes a replica ready. */
export const HEALTH = { path: '/healthz', intervalMs: 100, timeoutMs: 100, healthyThreshold: 1, unhealthyThreshold: 3 } as const;
const STOP_GRACE_MS = 2_000;
const DRAIN_TIMEOUT_MS = 5_000;
const READY_TIMEOUT_MS = 30_000;
/** The gateway's own SIGTERM drain: replicas' stop grace plus slack; SIGKILL after that. */
const GATEWAY_STOP_GRACE_MS = 15_000;
const ADMIN_TIMEOUT_MS = 5_000;

/** The repo's demo app (src/demo/demo-app.mjs), from dist/test/bench or any other outDir. */
export function demoAppPath(): string {
  return fileURLToPath(new URL('../../../src/demo/demo-app.mjs', import.meta.url));
}

export interface ReplicaView {
  readonly id: string;
  readonly revision: string;
  readonly state: 'starting' | 'ready' | 'unhealthy' | 'draining';
  readonly startedAtMs: number;
}

export interface RolloutView {
  readonly id: string;
  readonly phase: string;
  readonly message: string;
  readonly fromRevision: string;
  readonly toRevision: string;
  readonly startedAtMs: number;
  readonly finishedAtMs?: number | undefined;
}

/** The part of GET /v1/services/:name the bench reads. */
export interface ServiceView {
  readonly revision?: string | undefined;
  readonly stableRevision?: string | undefined;
  readonly document?: Record<string, unknown> | undefined;
  readonly rollout?: RolloutView | undefined;
  readonly replicas?: readonly ReplicaView[] | undefined;
}

export interface TimelineEvent {
  readonly seq: number;
  readonly atMs: number;
  readonly type: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>> | undefined;
}

export interface Gateway {
  readonly proxyUrl: string;
  readonly adminUrl: string;
  readonly child: ChildProcess;
  readonly logPath: string;
  service(): Promise<ServiceView>;
  /** PUTs a service document; resolves with the status and the answer. */
  put(document: Record<string, unknown>): Promise<{ status: number; body: ServiceView & { error?: { code: string; message: string } } }>;
  /** Events of the service newer than `sinceSeq`, oldest first. */
  events(sinceSeq: number): Promise<TimelineEvent[]>;
  /** The sum of every series of each named counter in /metrics. */
  counters(names: readonly string[]): Promise<Record<string, number>>;
  /** SIGTERM, bounded; a note when the gateway did not exit 0. */
  stop(): Promise<string | undefined>;
}

function serviceYaml(scenario: Scenario): string {
  return [
    '# The rollout benchmark\'s service (test/bench/rollout-gateway.ts).',
    'kind: Service',
    `name: ${SERVICE}`,
    'runtime:',
    '  type: process',
    `  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(demoAppPath())}]`,
    `replicas: ${REPLICAS}`,
    'version: "1"',
    'env: {DEMO_LATENCY_MS: "0"}',
    `health: ${JSON.stringify(HEALTH)}`,
    `stopGraceMs: ${STOP_GRACE_MS}`,
    `drainTimeoutMs: ${DRAIN_TIMEOUT_MS}`,
    `deploy: ${JSON.stringify(scenario.deploy)}`,
    '',
  ].join('\n');
}

function writeConfig(configDir: string, scenario: Scenario): void {
  mkdirSync(join(configDir, 'routes'), { recursive: true });
  mkdirSync(join(configDir, 'policies'), { recursive: true });
  // Route defaults (timeoutMs, retries: 2) as a user gets them; the bench also reports the retries.
  writeFileSync(join(configDir, 'routes', 'demo.yaml'), `kind: Route\nname: ${SERVICE}\nmatch: {pathPrefix: /}\nservice: ${SERVICE}\n`);
  writeFileSync(join(configDir, 'policies', 'demo.yaml'), serviceYaml(scenario));
}

async function adminJson<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** Starts the gateway with the demo service deployed by `scenario`'s policy and waits until its
 * REPLICAS replicas of one revision are ready. */
export async function startGateway(workDir: string, scenario: Scenario): Promise<Gateway> {
  const configDir = join(workDir, 'config');
  writeConfig(configDir, scenario);
  const [proxyPort, adminPort] = [await freePort(), await freePort()];
  const logPath = join(workDir, 'dockmaster.log');
  const logFd = openSync(logPath, 'a');
  const args = [dockmasterEntry(), 'serve', '--config', configDir, '--runtime', 'process',
    '--listen', `127.0.0.1:${proxyPort}`, '--admin', `127.0.0.1:${adminPort}`];
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd], env: { ...process.env, DOCKMASTER_TOKEN: '' } }));
  closeSync(logFd);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const servicePath = `${adminUrl}/v1/services/${SERVICE}`;
  const gateway: Gateway = {
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    adminUrl,
    child,
    logPath,
    async service() {
      const { status, body } = await adminJson<ServiceView>(servicePath);
      if (status !== 200) throw new Error(`GET /v1/services/${SERVICE}: ${status}`);
      return body;
    },
    put(document) {
      return adminJson(servicePath, { method: 'PUT', body: JSON.stringify(document), headers: { 'content-type': 'application/json' } });
    },
    async events(sinceSeq) {
      const { status, body } = await adminJson<{ events: TimelineEvent[] }>(`${adminUrl}/v1/events?service=${SERVICE}&since=${sinceSeq}&limit=1000`);
      if (status !== 200) throw new Error(`GET /v1/events: ${status}`);
      return body.events;
    },
    async counters(names) {
      const response = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
      return sumCounters(await response.text(), names);
    },
    async stop() {
      const status = await stopChild(child, GATEWAY_STOP_GRACE_MS);
      if (status.code === 0) return undefined;
      return uncleanExitNote(status, GATEWAY_STOP_GRACE_MS) ?? `ended by ${status.signal} instead of exiting 0`;
    },
  };
  try {
    await pollUntil(`dockmaster serves ${REPLICAS} ready replicas`, async () => {
      if (!isRunning(child)) throw new Error(`dockmaster exited (code ${child.exitCode}) before it was ready`);
      if ((await probe(`${adminUrl}/readyz`))?.status !== 200) return false;
      const view = await gateway.service().catch(() => undefined);
      const ready = (view?.replicas ?? []).filter((r) => r.state === 'ready' && r.revision === view?.stableRevision);
      return ready.length === REPLICAS;
    }, READY_TIMEOUT_MS);
  } catch (err) {
    await gateway.stop();
    throw new Error(`${(err as Error).message}\n  log ${logPath}:\n${logTail(logPath)}`);
  }
  return gateway;
}
