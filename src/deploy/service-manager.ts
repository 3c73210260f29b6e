// Holds one ServiceController per service of the applied spec set: creates, updates and removes
// them as the set changes, routes runtime events to them, and publishes the managed replicas'
// endpoints as one provider snapshot and their traffic splits as one map. I/O shell.
import type { ServiceSpec } from '../model/service.js';
import type { Endpoint } from '../model/endpoint.js';
import type { TrafficSplit } from '../model/traffic.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import { ServiceController, type ControllerCommandResult, type ControllerDeps, type RevisionView, type ServiceStatus } from './service-controller.js';
import type { CommandName } from './deploy-state.js';

export type RuntimeType = ServiceSpec['runtime']['type'];

export type ManagerDeps = Omit<ControllerDeps, 'onEndpoints' | 'onTraffic' | 'driver'> & {
  /** The drivers enabled in this gateway, by the runtime type a service names. */
  readonly drivers: ReadonlyMap<RuntimeType, RuntimeDriver>;
  /** The whole managed snapshot (service -> endpoints) after any change. */
  readonly onSnapshot: (snapshot: ReadonlyMap<string, readonly Endpoint[]>) => void;
  /** Every service's traffic split (services splitting by replica count are absent). */
  readonly onTraffic: (traffic: ReadonlyMap<string, TrafficSplit>) => void;
  /** Several instances (Consul leadership): whether this one drives `service` now. Absent: it
   * drives every service. A service it does not drive has no controller here; its replicas run
   * under the instance that leads it, and reach this one's routing table through Consul. */
  readonly leads?: ((service: string) => boolean) | undefined;
};

export type ManagerCommandResult = ControllerCommandResult | { readonly ok: false; readonly code: 'DM_ERR_SERVICE_UNKNOWN'; readonly message: string };

export class ServiceManager {
  private readonly controllers = new Map<string, ServiceController>();
  /** Controllers of removed services, still draining: their endpoints stay published. */
  private readonly removing = new Set<ServiceController>();
  /** Endpoints by controller: a service moving between runtimes has two for a while. */
  private readonly endpoints = new Map<ServiceController, readonly Endpoint[]>();
  private readonly traffic = new Map<string, TrafficSplit>();
  private readonly deps: ManagerDeps;
  private readonly unsubscribers: Array<() => void> = [];
  /** The last whole set applied, re-applied when leadership changes. */
  private lastSpecs: readonly ServiceSpec[] = [];
  /** Hosts being drained: every controller, new ones too, replaces its replicas there. */
  private readonly evacuating = new Set<string>();

  constructor(deps: ManagerDeps) {
    this.deps = deps;
    for (const [type, driver] of deps.drivers) {
      this.unsubscribers.push(
        driver.on((event) => {
          const service = event.kind === 'started' ? event.replica.service : event.kind === 'availability' ? undefined : event.ref.service;
          for (const c of this.controllers.values()) {
            if (c.runtimeType === type && (service === undefined || c.name === service)) c.onRuntimeEvent(event);
          }
        }),
      );
    }
  }

  /** Applies a whole validated set: new services start, changed ones update, missing ones go. */
  async apply(allSpecs: readonly ServiceSpec[]): Promise<void> {
    this.lastSpecs = allSpecs;
    const leads = this.deps.leads;
    const specs = leads === undefined ? allSpecs : allSpecs.filter((spec) => leads(spec.name));
    const wanted = new Map(specs.map((s) => [s.name, s]));
    const named = new Set(allSpecs.map((s) => s.name));
    const removals: Array<Promise<void>> = [];
    for (const [name, controller] of this.controllers) {
      if (!wanted.has(name) && named.has(name)) {
        // Another instance drives it now: stop driving, leave its replicas running (that
        // instance adopts them); this instance routes to them through Consul.
        this.controllers.delete(name);
        controller.close();
        this.endpoints.delete(controller);
        this.setTraffic(name, undefined);
        this.publish();
        this.deps.events.record({ type: 'service.follower', service: name, message: `${name} is driven by another instance now; its replicas keep running` });
        continue;
      }
      if (!wanted.has(name)) {
        this.controllers.delete(name);
        this.removing.add(controller);
        this.deps.events.record({ type: 'service.removed', service: name, message: `service ${name} removed` });
        this.setTraffic(name, undefined);
        removals.push(
          controller.remove().finally(() => {
            this.removing.delete(controller);
            this.endpoints.delete(controller);
            this.publish();
            void this.deps.stateStore?.remove(name);
          }),
        );
      }
    }
    for (const spec of specs) {
      const existing = this.controllers.get(spec.name);
      if (existing !== undefined && existing.runtimeType === spec.runtime.type) {
        existing.update(spec);
        continue;
      }
      if (existing !== undefined) {
        // Moving between runtimes: the old replicas drain while the new ones start.
        this.controllers.delete(spec.name);
        this.removing.add(existing);
        removals.push(
          existing.remove().finally(() => {
            this.removing.delete(existing);
            this.endpoints.delete(existing);
            this.publish();
          }),
        );
      }
      const driver = this.deps.drivers.get(spec.runtime.type);
      if (driver === undefined) {
        // The store validates runtimes against the enabled drivers; this is a programming error.
        throw new Error(`no ${spec.runtime.type} driver for service ${spec.name}`);
      }
      const controller = new ServiceController(spec, {
        ...this.deps,
        driver,
        onEndpoints: (_service, endpoints) => {
          if (this.controllers.get(spec.name) !== controller && !this.removing.has(controller)) return;
          this.endpoints.set(controller, endpoints);
          this.publish();
        },
        onTraffic: (service, traffic) => {
          if (this.controllers.get(spec.name) !== controller) return;
          this.setTraffic(service, traffic);
        },
      });
      this.controllers.set(spec.name, controller);
      for (const host of this.evacuating) controller.evacuate(host);
      this.deps.events.record({ type: 'service.applied', service: spec.name, message: `service ${spec.name} revision ${controller.revision}`, data: { revision: controller.revision, replicas: spec.replicas } });
      try {
        await controller.adopt();
      } catch (error) {
        this.deps.logger.error({ service: spec.name, err: (error as Error).message }, 'could not list the runtime to adopt replicas; starting fresh');
        controller.requestReconcile();
      }
    }
    await Promise.all(removals);
  }

  private publish(): void {
    const snapshot = new Map<string, Endpoint[]>();
    for (const [controller, endpoints] of this.endpoints) {
      snapshot.set(controller.name, [...(snapshot.get(controller.name) ?? []), ...endpoints]);
    }
    this.deps.onSnapshot(snapshot);
  }

  private setTraffic(service: string, traffic: TrafficSplit | undefined): void {
    if (traffic === undefined && !this.traffic.has(service)) return;
    if (traffic === undefined) this.traffic.delete(service);
    else this.traffic.set(service, traffic);
    this.deps.onTraffic(new Map(this.traffic));
  }

  /** pause | resume | promote | abort on a service's running rollout. */
  async command(name: string, command: CommandName): Promise<ManagerCommandResult> {
    const controller = this.controllers.get(name);
    if (controller === undefined) return { ok: false, code: 'DM_ERR_SERVICE_UNKNOWN', message: `no service named '${name}' is managed here` };
    return controller.command(command);
  }

  async rollback(name: string, toRevision: string | undefined): Promise<ManagerCommandResult> {
    const controller = this.controllers.get(name);
    if (controller === undefined) return { ok: false, code: 'DM_ERR_SERVICE_UNKNOWN', message: `no service named '${name}' is managed here` };
    return controller.rollback(toRevision);
  }

  /** The controller of a managed service (the autoscaler drives its replica count). */
  controller(name: string): ServiceController | undefined {
    return this.controllers.get(name);
  }

  revisions(name: string): RevisionView[] | undefined {
    return this.controllers.get(name)?.revisions();
  }

  /** Why applying `spec` now would supersede a running rollout (a 409), or undefined. */
  conflictWith(spec: ServiceSpec): string | undefined {
    const controller = this.controllers.get(spec.name);
    if (controller === undefined || controller.runtimeType !== spec.runtime.type) return undefined;
    return controller.conflictWith(spec);
  }

  status(name: string): ServiceStatus | undefined {
    return this.controllers.get(name)?.status();
  }

  list(): ServiceStatus[] {
    return [...this.controllers.values()].map((c) => c.status()).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Leadership of some service changed: drive the services this instance leads now, stop
   * driving the others (their replicas stay). */
  async leadershipChanged(): Promise<void> {
    await this.apply(this.lastSpecs);
  }

  /** Moves every replica off `host` (already cordoned): each service replaces its replicas
   * there one at a time, a new one healthy elsewhere before the old one drains. */
  evacuate(host: string): void {
    this.evacuating.add(host);
    for (const c of this.controllers.values()) c.evacuate(host);
  }

  /** Ends a drain of `host` (uncordon): replicas still on it stay. */
  stopEvacuating(host: string): void {
    this.evacuating.delete(host);
    for (const c of this.controllers.values()) c.stopEvacuating(host);
  }

  /** A host came back, was uncordoned or freed capacity: replicas waiting for a host retry now. */
  hostsChanged(): void {
    for (const c of this.controllers.values()) c.hostsChanged();
  }

  /** dockmaster is stopping: controllers stop; the driver decides what outlives it. */
  async close(): Promise<void> {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    for (const c of this.controllers.values()) c.close();
    this.controllers.clear();
    await this.deps.stateStore?.flush();
    await Promise.all([...this.deps.drivers.values()].map((d) => d.close()));
  }
}
