// Starter and admin client of `npm run bench:hosts` (I/O): writes the config folder (dockmaster.yaml
// over the given Docker hosts, a catch-all route with retries, the docker demo service spread by
// zone), runs the built CLI (`dist/src/main.js serve --runtime docker`) with its output in a log
// file, and makes the few admin calls the bench needs (service view, hosts, events, scale, counters).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, isRunning, logTail, pollUntil, probe, stopChild, track, uncleanExitNote } from './children.js';
import { dockmasterEntry } from './dockmaster.js';
import { gatewayYaml, writeHostsConfig, type ConfigHost, type DockerServiceOptions, type HostTiming } from './hosts-config.js';
import { sumCounters } from './rollout-report.js';

export const SERVICE = 'web';
export const REPLICAS = 6;
const READY_TIMEOUT_MS = 60_000;
const GATEWAY_STOP_GRACE_MS = 20_000;
const ADMIN_TIMEOUT_MS = 5_000;

export interface ReplicaView {
  readonly id: string;
  readonly state: 'starting' | 'ready' | 'unhealthy' | 'draining';
  readonly address?: string | undefined;
  readonly host?: string | undefined;
}

export interface ServiceView {
  readonly replicas?: readonly ReplicaView[] | undefined;
}

export interface HostView {
  readonly name: string;
  readonly lost: boolean;
  readonly reachable: boolean;
  readonly replicas: ReadonlyArray<{ readonly service: string; readonly replicaId: string }>;
}

export interface BenchEvent {
  readonly seq: number;
  readonly atMs: number;
  readonly type: string;
  readonly service?: string | undefined;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>> | undefined;
}

export interface HostsGateway {
  readonly proxyUrl: string;
  readonly adminUrl: string;
  readonly child: ChildProcess;
  readonly logPath: string;
  service(): Promise<ServiceView>;
  hosts(): Promise<HostView[]>;
  events(sinceSeq: number): Promise<BenchEvent[]>;
  lastSeq(): Promise<number>;
  scale(replicas: number): Promise<void>;
  /** Sums of every series of each counter (optionally only series with label=value). */
  counter(name: string, label?: string): Promise<number>;
  stop(): Promise<string | undefined>;
}

async function adminJson<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** Replicas of the service per host, from the hosts view. */
export function replicasByHost(hosts: readonly HostView[]): Record<string, number> {
  return Object.fromEntries(hosts.map((h) => [h.name, h.replicas.filter((r) => r.service === SERVICE).length]));
}

export interface HostsGatewayOptions {
  readonly workDir: string;
  readonly hosts: readonly ConfigHost[];
  readonly timing: HostTiming;
  readonly service: DockerServiceOptions;
  readonly retries: number;
}

/** Starts the gateway and waits until the service's replicas are all ready. */
export async function startHostsGateway(options: HostsGatewayOptions): Promise<HostsGateway> {
  const configDir = join(options.workDir, 'config');
  writeHostsConfig(configDir, {
    gateway: gatewayYaml(options.hosts, options.timing),
    routes: [{ name: SERVICE, service: SERVICE, pathPrefix: '/', retries: options.retries, timeoutMs: 5_000 }],
    services: [options.service],
  });
  const [proxyPort, adminPort] = [await freePort(), await freePort()];
  const logPath = join(options.workDir, 'dockmaster.log');
  const logFd = openSync(logPath, 'a');
  const args = [dockmasterEntry(), 'serve', '--config', configDir, '--runtime', 'docker', '--listen', `127.0.0.1:${proxyPort}`, '--admin', `127.0.0.1:${adminPort}`];
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd], env: { ...process.env, DOCKMASTER_TOKEN: '' } }));
  closeSync(logFd);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const get = async <T>(path: string): Promise<T> => {
    const { status, body } = await adminJson<T>(`${adminUrl}${path}`);
    if (status !== 200) throw new Error(`GET ${path}: ${status} ${JSON.stringify(body)}`);
    return body;
  };
  const gateway: HostsGateway = {
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    adminUrl,
    child,
    logPath,
    service: () => get<ServiceView>(`/v1/services/${SERVICE}`),
    hosts: async () => (await get<{ hosts: HostView[] }>('/v1/hosts')).hosts,
    events: async (sinceSeq) => (await get<{ events: BenchEvent[] }>(`/v1/events?since=${sinceSeq}&limit=1000`)).events,
    lastSeq: async () => Math.max(0, ...(await get<{ events: BenchEvent[] }>('/v1/events?limit=1')).events.map((e) => e.seq)),
    async scale(replicas) {
      const { status, body } = await adminJson(`${adminUrl}/v1/services/${SERVICE}/scale`, { method: 'POST', body: JSON.stringify({ replicas }), headers: { 'content-type': 'application/json' } });
      if (status !== 200) throw new Error(`scale ${SERVICE} to ${replicas}: ${status} ${JSON.stringify(body)}`);
    },
    async counter(name, label) {
      const response = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
      const text = await response.text();
      if (label === undefined) return sumCounters(text, [name])[name] ?? 0;
      // Only the series carrying the label.
      return sumCounters(text.split('\n').filter((line) => line.startsWith('#') || line.includes(label)).join('\n'), [name])[name] ?? 0;
    },
    async stop() {
      const status = await stopChild(child, GATEWAY_STOP_GRACE_MS);
      if (status.code === 0) return undefined;
      return uncleanExitNote(status, GATEWAY_STOP_GRACE_MS) ?? `ended by ${status.signal} instead of exiting 0`;
    },
  };
  try {
    await pollUntil(`dockmaster serves ${options.service.replicas} ready replicas`, async () => {
      if (!isRunning(child)) throw new Error(`dockmaster exited (code ${child.exitCode}) before it was ready`);
      if ((await probe(`${adminUrl}/readyz`))?.status !== 200) return false;
      const view = await gateway.service().catch(() => undefined);
      return (view?.replicas ?? []).filter((r) => r.state === 'ready').length === options.service.replicas;
    }, READY_TIMEOUT_MS);
  } catch (err) {
    await gateway.stop();
    throw new Error(`${(err as Error).message}\n  log ${logPath}:\n${logTail(logPath)}`);
  }
  return gateway;
}
