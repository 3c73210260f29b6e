// Autoscale bench starter and admin client (I/O): the built CLI (process runtime) with two demo
// services behind prefix routes: `step` (autoscaled, takes the load step, route /) and `cold`
// (scales to zero, route /cold). Ready once each has one ready replica.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockmasterEntry } from './dockmaster.js';
import { freePort, isRunning, logTail, pollUntil, probe, stopChild, track, uncleanExitNote } from './children.js';
import { demoAppPath, HEALTH, type TimelineEvent } from './rollout-gateway.js';
import { sumCounters } from './rollout-report.js';

export const STEP_SERVICE = 'step';
export const COLD_SERVICE = 'cold';
const READY_TIMEOUT_MS = 30_000;
const GATEWAY_STOP_GRACE_MS = 15_000;
const ADMIN_TIMEOUT_MS = 5_000;

/** The part of GET /v1/services/:name the bench reads. */
export interface ScaledView {
  readonly desiredReplicas?: number | undefined;
  readonly readyReplicas?: number | undefined;
  readonly replicas?: readonly { readonly id: string; readonly state: string }[] | undefined;
}

export interface AutoscaleGateway {
  readonly proxyUrl: string;
  readonly logPath: string;
  readonly child: ChildProcess;
  service(name: string): Promise<ScaledView>;
  /** Events of one service newer than `sinceSeq`, oldest first. */
  events(service: string, sinceSeq: number): Promise<TimelineEvent[]>;
  /** The sum over label sets of each named sample in /metrics, of the lines holding every one of `labels`. */
  metrics(names: readonly string[], labels: readonly string[]): Promise<Record<string, number>>;
  stop(): Promise<string | undefined>;
}

function serviceYaml(name: string, latencyMs: number, autoscale: Readonly<Record<string, unknown>>): string {
  return [
    `# Written by the autoscale bench (test/bench/autoscale-gateway.ts).`,
    'kind: Service',
    `name: ${name}`,
    'runtime:',
    '  type: process',
    `  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(demoAppPath())}]`,
    'replicas: 1',
    `env: {DEMO_LATENCY_MS: "${latencyMs}"}`,
    `health: ${JSON.stringify(HEALTH)}`,
    'stopGraceMs: 2000',
    'drainTimeoutMs: 3000',
    `autoscale: ${JSON.stringify(autoscale)}`,
    '',
  ].join('\n');
}

async function adminJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

export interface GatewayServices {
  readonly latencyMs: number;
  readonly step: Readonly<Record<string, unknown>>;
  readonly cold: Readonly<Record<string, unknown>>;
}

export async function startAutoscaleGateway(workDir: string, services: GatewayServices): Promise<AutoscaleGateway> {
  const configDir = join(workDir, 'config');
  mkdirSync(join(configDir, 'routes'), { recursive: true });
  mkdirSync(join(configDir, 'policies'), { recursive: true });
  for (const [name, prefix] of [[STEP_SERVICE, '/'], [COLD_SERVICE, '/cold']] as const) {
    writeFileSync(join(configDir, 'routes', `${name}.yaml`), `kind: Route\nname: ${name}\nmatch: {pathPrefix: ${prefix}}\nservice: ${name}\n`);
  }
  writeFileSync(join(configDir, 'policies', `${STEP_SERVICE}.yaml`), serviceYaml(STEP_SERVICE, services.latencyMs, services.step));
  writeFileSync(join(configDir, 'policies', `${COLD_SERVICE}.yaml`), serviceYaml(COLD_SERVICE, services.latencyMs, services.cold));
  const [proxyPort, adminPort] = [await freePort(), await freePort()];
  const logPath = join(workDir, 'dockmaster.log');
  const logFd = openSync(logPath, 'a');
  const args = [dockmasterEntry(), 'serve', '--config', configDir, '--runtime', 'process', '--listen', `127.0.0.1:${proxyPort}`, '--admin', `127.0.0.1:${adminPort}`];
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd], env: { ...process.env, DOCKMASTER_TOKEN: '' } }));
  closeSync(logFd);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const gateway: AutoscaleGateway = {
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    logPath,
    child,
    service: (name) => adminJson<ScaledView>(`${adminUrl}/v1/services/${name}`),
    async events(service, sinceSeq) {
      return (await adminJson<{ events: TimelineEvent[] }>(`${adminUrl}/v1/events?service=${service}&since=${sinceSeq}&limit=1000`)).events;
    },
    async metrics(names, labels) {
      const response = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
      const lines = (await response.text()).split('\n').filter((line) => labels.every((label) => line.includes(label)));
      return sumCounters(lines.join('\n'), names);
    },
    async stop() {
      const status = await stopChild(child, GATEWAY_STOP_GRACE_MS);
      if (status.code === 0) return undefined;
      return uncleanExitNote(status, GATEWAY_STOP_GRACE_MS) ?? `ended by ${status.signal} instead of exiting 0`;
    },
  };
  try {
    await pollUntil('dockmaster serves one ready replica of each service', async () => {
      if (!isRunning(child)) throw new Error(`dockmaster exited (code ${child.exitCode}) before it was ready`);
      if ((await probe(`${adminUrl}/readyz`))?.status !== 200) return false;
      const views = await Promise.all([STEP_SERVICE, COLD_SERVICE].map((name) => gateway.service(name).catch(() => undefined)));
      return views.every((view) => (view?.readyReplicas ?? 0) >= 1);
    }, READY_TIMEOUT_MS);
  } catch (err) {
    await gateway.stop();
    throw new Error(`${(err as Error).message}\n  log ${logPath}:\n${logTail(logPath)}`);
  }
  return gateway;
}
