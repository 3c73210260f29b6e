// The hosts of dockmaster.yaml as the admin API sees them: views from the multi-host driver, and
// cordon / uncordon / drain, where a drain cordons the host and has every service replace its
// replicas there (ServiceManager.evacuate). Records host events in the timeline. I/O shell.
import type { HostCommand, HostCommandResult, HostStatusView, HostsAdmin } from '../admin/admin-service.js';
import type { HostView } from '../model/host-view.js';
import type { EventLog } from '../observability/event-log.js';
import type { Logger } from '../observability/logger.js';

/** What the adapter needs of the multi-host driver. */
export interface HostsDriver {
  hosts(): HostView[];
  cordon(name: string): HostView;
  uncordon(name: string): HostView;
}

/** What the adapter needs of the service manager. */
export interface HostsEvacuator {
  evacuate(host: string): void;
  stopEvacuating(host: string): void;
  hostsChanged(): void;
}

export interface HostsAdminDeps {
  readonly driver: HostsDriver;
  readonly manager: HostsEvacuator;
  readonly events: EventLog;
  readonly logger: Logger;
  /** How often a draining host is checked for replicas left. Default 250. */
  readonly drainCheckMs?: number;
}

const DEFAULT_DRAIN_CHECK_MS = 250;

export function hostStatusView(view: HostView, draining: boolean): HostStatusView {
  return {
    name: view.name,
    address: view.address,
    dockerEndpoint: view.dockerEndpoint,
    reachable: view.reachable,
    lost: view.lost,
    sinceMs: view.sinceMs,
    cordoned: view.cordoned,
    draining,
    capacity: view.capacity,
    labels: view.labels,
    allocated: view.allocated,
    replicas: view.placed,
    ...(view.lastError === undefined ? {} : { lastError: view.lastError }),
  };
}

export class HostsAdminService implements HostsAdmin {
  private readonly deps: HostsAdminDeps;
  /** Hosts being drained, until uncordoned; `drained` once none of their replicas is left. */
  private readonly draining = new Map<string, { drained: boolean }>();
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(deps: HostsAdminDeps) {
    this.deps = deps;
  }

  list(): readonly HostStatusView[] {
    return this.deps.driver.hosts().map((v) => hostStatusView(v, this.draining.has(v.name)));
  }

  get(name: string): HostStatusView | undefined {
    return this.list().find((h) => h.name === name);
  }

  async command(name: string, command: HostCommand): Promise<HostCommandResult> {
    if (!this.deps.driver.hosts().some((h) => h.name === name)) {
      return { ok: false, code: 'DM_ERR_HOST_UNKNOWN', message: `no host named '${name}' in dockmaster.yaml` };
    }
    let view: HostView;
    let message: string;
    if (command === 'cordon') {
      view = this.deps.driver.cordon(name);
      message = `host ${name} cordoned: no new replica is placed on it`;
    } else if (command === 'uncordon') {
      view = this.deps.driver.uncordon(name);
      if (this.draining.delete(name)) this.deps.manager.stopEvacuating(name);
      this.deps.manager.hostsChanged();
      message = `host ${name} uncordoned: replicas may be placed on it again`;
    } else {
      view = this.deps.driver.cordon(name);
      if (!this.draining.has(name)) {
        this.draining.set(name, { drained: false });
        this.deps.manager.evacuate(name);
        this.watchDrains();
      }
      message = `host ${name} draining: its replicas move to other hosts one at a time`;
    }
    this.deps.logger.info({ host: name, command }, message);
    this.deps.events.record({ type: `host.${command === 'drain' ? 'draining' : `${command}ed`}`, message, data: { host: name } });
    return { ok: true, message, host: hostStatusView(view, this.draining.has(name)) };
  }

  close(): void {
    clearInterval(this.drainTimer);
    this.drainTimer = undefined;
  }

  /** Records `host.drained` once a draining host holds no replica. */
  private watchDrains(): void {
    if (this.drainTimer !== undefined) return;
    this.drainTimer = setInterval(() => {
      const views = new Map(this.deps.driver.hosts().map((v) => [v.name, v]));
      let watching = false;
      for (const [name, state] of this.draining) {
        if (state.drained) continue;
        if ((views.get(name)?.allocated.replicas ?? 0) === 0) {
          state.drained = true;
          this.deps.events.record({ type: 'host.drained', message: `host ${name} drained: no replica is left on it`, data: { host: name } });
          this.deps.logger.info({ host: name }, 'host drained');
        } else {
          watching = true;
        }
      }
      if (!watching) this.close();
    }, this.deps.drainCheckMs ?? DEFAULT_DRAIN_CHECK_MS);
    this.drainTimer.unref();
  }
}
