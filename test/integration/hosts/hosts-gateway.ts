// A gateway over three private Docker daemons for the multi-host end-to-end test: the daemons
// (zones a/b/c, demo image loaded), a config folder whose dockmaster.yaml lists them, `dockmaster
// serve --runtime docker` (the built CLI) on free loopback ports, and typed admin calls (hosts,
// services, events, metrics, host commands, scale). Everything is removed by destroy(), which is
// safe after a partial start. Test helper; I/O (daemons, child process, HTTP).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { HostStatusView, ServiceView } from '../../../src/admin/admin-service.js';
import type { TimelineEvent } from '../../../src/observability/event-log.js';
import { gatewayYaml, writeHostsConfig, type ConfigHost, type DockerServiceOptions, type HostTiming, type RouteOptions } from '../../bench/hosts-config.js';
import { startCli, type RunningCli } from '../../helpers/cli.js';
import { ensureDemoImage } from '../../helpers/docker.js';
import { startDockerHosts, type DockerHosts } from '../../helpers/docker-hosts.js';

export interface HostsGatewayOptions {
  /** Host name -> zone label. */
  readonly zones: Readonly<Record<string, string>>;
  readonly capacity: { readonly cpus: number; readonly memoryMb: number };
  readonly timing: HostTiming;
  readonly routes: readonly RouteOptions[];
  readonly services: readonly DockerServiceOptions[];
}

export interface Json<T> {
  readonly status: number;
  readonly body: T;
}

export interface HostsGateway {
  readonly hosts: DockerHosts;
  readonly cli: RunningCli;
  readonly dir: string;
  admin<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Json<T>>;
  hostViews(): Promise<HostStatusView[]>;
  service(name: string): Promise<ServiceView>;
  /** Every event after `sinceSeq` (all services and hosts). */
  events(sinceSeq?: number): Promise<TimelineEvent[]>;
  lastSeq(): Promise<number>;
  /** The sum over every series of a counter in /metrics, optionally only series with a label value. */
  counter(name: string, label?: { readonly name: string; readonly value: string }): Promise<number>;
  /** A note with the gateway's last output, for assertion messages. */
  output(): string;
  destroy(): Promise<void>;
}

const ADMIN_TIMEOUT_MS = 10_000;

/** Sums the series of `name` in Prometheus text (optionally those carrying label=value). */
export function sumCounter(text: string, name: string, label?: { readonly name: string; readonly value: string }): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (label !== undefined && !rest.includes(`${label.name}="${label.value}"`)) continue;
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** Starts the daemons, writes the config and starts the gateway; on failure removes what it started. */
export async function startHostsGateway(options: HostsGatewayOptions): Promise<HostsGateway> {
  await ensureDemoImage();
  const names = Object.keys(options.zones);
  const hosts = await startDockerHosts(names);
  const dir = mkdtempSync(join(tmpdir(), 'dockmaster-hosts-e2e-'));
  let cli: RunningCli | undefined;
  const destroy = async (): Promise<void> => {
    if (cli !== undefined && cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill('SIGTERM');
      const exited = await Promise.race([cli.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000).unref())]);
      if (!exited) {
        cli.child.kill('SIGKILL');
        await cli.exited;
      }
    }
    // The gateway leaves its containers running (a later one would adopt them): the daemons'
    // destroy removes them.
    await hosts.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const configHosts: ConfigHost[] = names.map((name) => ({ name, endpoint: hosts.get(name).endpoint, zone: options.zones[name] ?? name, ...options.capacity }));
    writeHostsConfig(dir, { gateway: gatewayYaml(configHosts, options.timing), routes: options.routes, services: options.services });
    cli = await startCli(dir, ['--runtime', 'docker']);
    if (cli.child.exitCode !== null) throw new Error(`dockmaster exited at start (${cli.child.exitCode}):\n${cli.stderr()}\n${cli.stdout().slice(-3000)}`);
  } catch (err) {
    await destroy();
    throw err;
  }
  const running = cli;
  const admin = async <T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Json<T>> => {
    const res = await request(`${running.adminUrl}${path}`, {
      method,
      headersTimeout: ADMIN_TIMEOUT_MS,
      bodyTimeout: ADMIN_TIMEOUT_MS,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
  const ok = async <T>(path: string): Promise<T> => {
    const res = await admin<T>('GET', path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  return {
    hosts,
    cli: running,
    dir,
    admin,
    hostViews: async () => (await ok<{ hosts: HostStatusView[] }>('/v1/hosts')).hosts,
    service: (name) => ok<ServiceView>(`/v1/services/${name}`),
    events: async (sinceSeq = 0) => (await ok<{ events: TimelineEvent[] }>(`/v1/events?since=${sinceSeq}&limit=1000`)).events,
    lastSeq: async () => Math.max(0, ...(await ok<{ events: TimelineEvent[] }>('/v1/events?limit=1')).events.map((e) => e.seq)),
    counter: async (name, label) => {
      const res = await request(`${running.adminUrl}/metrics`, { headersTimeout: ADMIN_TIMEOUT_MS, bodyTimeout: ADMIN_TIMEOUT_MS });
      return sumCounter(await res.body.text(), name, label);
    },
    output: () => `gateway stderr:\n${running.stderr().slice(-2000)}\ngateway stdout (end):\n${running.stdout().slice(-4000)}`,
    destroy,
  };
}

/** Which host each container of `service` sits on, by replica id, over every daemon that answers
 * (all states): from the containers' own labels, not from the gateway. */
export async function containersByReplica(hosts: DockerHosts, service: string): Promise<Array<{ host: string; label: string | undefined; replica: string; state: string; id: string }>> {
  const out: Array<{ host: string; label: string | undefined; replica: string; state: string; id: string }> = [];
  for (const h of hosts.hosts) {
    if (!h.daemon.running()) continue;
    for (const c of await hosts.containers(h.name, [`dockmaster.service=${service}`])) {
      out.push({ host: h.name, label: c.Labels['dockmaster.host'], replica: c.Labels['dockmaster.replica'] ?? '?', state: c.State, id: c.Id });
    }
  }
  return out;
}
