// Host views shared by the host CLI and admin API tests, and FakeHosts: an in-memory HostsAdmin
// whose drain moves one replica off per read of the host, so a waiting client sees progress
// without timers. Pure (no sockets, no clock).
import type { HostCommand, HostCommandResult, HostsAdmin, HostStatusView } from '../../../src/admin/admin-service.js';

export const NOW_MS = 1_750_000_000_000;

export const NODE_A: HostStatusView = {
  name: 'node-a',
  address: '127.0.0.1',
  dockerEndpoint: 'unix:///run/dockmaster/a.sock',
  reachable: true,
  lost: false,
  sinceMs: NOW_MS - 5 * 60_000,
  cordoned: false,
  draining: false,
  capacity: { cpus: 4, memoryMb: 8192, maxReplicas: 20 },
  labels: { zone: 'a', disk: 'ssd' },
  allocated: { cpus: 1.5, memoryMb: 1536, replicas: 3 },
  replicas: [
    { service: 'web', replicaId: 'web-2b', revision: 'a1b2c3d4e5' },
    { service: 'api', replicaId: 'api-7f', revision: 'f6a7b8c9d0' },
    { service: 'web', replicaId: 'web-1a', revision: 'a1b2c3d4e5' },
  ],
};

export const NODE_B: HostStatusView = {
  name: 'node-b',
  address: '127.0.0.1',
  dockerEndpoint: 'tcp://127.0.0.1:2376',
  reachable: false,
  lost: true,
  sinceMs: NOW_MS - 12_000,
  cordoned: true,
  draining: false,
  capacity: { cpus: 2.5, memoryMb: 4096 },
  labels: { zone: 'b' },
  allocated: { cpus: 0, memoryMb: 0, replicas: 0 },
  replicas: [],
  lastError: 'connect ECONNREFUSED /run/dockmaster/b.sock',
};

export const NODE_C: HostStatusView = {
  name: 'node-c',
  address: '::1',
  dockerEndpoint: 'unix:///run/dockmaster/c.sock',
  reachable: false,
  lost: false,
  sinceMs: NOW_MS - 3_000,
  cordoned: true,
  draining: true,
  capacity: { cpus: 1, memoryMb: 1024 },
  labels: {},
  allocated: { cpus: 0.25, memoryMb: 128, replicas: 1 },
  replicas: [{ service: 'api', replicaId: 'api-9c', revision: 'f6a7b8c9d0' }],
  lastError: 'ping timed out after 1000 ms',
};

interface FakeHost {
  view: HostStatusView;
}

/** The views' hosts, changed by commands. A drain leaves the host draining; each get() of a
 * draining host then removes one replica (stepsPerRead), as if it had moved elsewhere. */
export class FakeHosts implements HostsAdmin {
  private readonly hosts = new Map<string, FakeHost>();
  readonly commands: Array<{ name: string; command: HostCommand }> = [];
  /** When set, every command answers this error instead. */
  failWith: { code: 'DM_ERR_HOST_NOT_ALLOWED'; message: string } | undefined;
  /** Replicas moved off per read of a draining host; 0 models a drain that makes no progress. */
  stepsPerRead = 1;

  constructor(views: readonly HostStatusView[] = [NODE_A, NODE_B, NODE_C]) {
    for (const view of views) this.hosts.set(view.name, { view: structuredClone(view) });
  }

  list(): readonly HostStatusView[] {
    return [...this.hosts.values()].map((h) => h.view);
  }

  get(name: string): HostStatusView | undefined {
    const host = this.hosts.get(name);
    if (host === undefined) return undefined;
    if (host.view.draining && host.view.replicas.length > 0 && this.stepsPerRead > 0) {
      const replicas = host.view.replicas.slice(this.stepsPerRead);
      host.view = { ...host.view, replicas, allocated: { ...host.view.allocated, replicas: replicas.length } };
    }
    return host.view;
  }

  async command(name: string, command: HostCommand): Promise<HostCommandResult> {
    this.commands.push({ name, command });
    const host = this.hosts.get(name);
    if (host === undefined) return { ok: false, code: 'DM_ERR_HOST_UNKNOWN', message: `no host named '${name}'` };
    if (this.failWith !== undefined) return { ok: false, ...this.failWith };
    const was = host.view;
    if (command === 'cordon') {
      host.view = { ...was, cordoned: true };
      return { ok: true, message: was.cordoned ? 'already cordoned' : 'cordoned', host: host.view };
    }
    if (command === 'uncordon') {
      host.view = { ...was, cordoned: false, draining: false };
      return { ok: true, message: was.cordoned ? 'uncordoned' : 'not cordoned', host: host.view };
    }
    host.view = { ...was, cordoned: true, draining: was.replicas.length > 0 };
    return { ok: true, message: was.replicas.length > 0 ? 'draining' : 'drained: no replicas here', host: host.view };
  }
}
