// Holds one ServiceController per service of the applied spec set: creates, updates and removes
// them as the set changes, routes runtime events to them, and publishes the managed replicas'
// endpoints as one provider snapshot. I/O shell.
import type { ServiceSpec } from '../model/service.js';
import type { Endpoint } from '../model/endpoint.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import { ServiceController, type ControllerDeps, type ServiceStatus } from './service-controller.js';

export type ManagerDeps = Omit<ControllerDeps, 'onEndpoints'> & {
  /** The whole managed snapshot (service -> endpoints) after any change. */
  readonly onSnapshot: (snapshot: ReadonlyMap<string, readonly Endpoint[]>) => void;
};

export class ServiceManager {
  private readonly controllers = new Map<string, ServiceController>();
  /** Controllers of removed services, still draining: their endpoints stay published. */
  private readonly removing = new Set<ServiceController>();
  private readonly endpoints = new Map<string, readonly Endpoint[]>();
  private readonly deps: ManagerDeps;
  private readonly unsubscribe: () => void;

  constructor(deps: ManagerDeps) {
    this.deps = deps;
    this.unsubscribe = deps.driver.on((event) => {
      const service = event.kind === 'started' ? event.replica.service : event.kind === 'availability' ? undefined : event.ref.service;
      if (service === undefined) for (const c of this.controllers.values()) c.onRuntimeEvent(event);
      else this.controllers.get(service)?.onRuntimeEvent(event);
    });
  }

  get driver(): RuntimeDriver {
    return this.deps.driver;
  }

  /** Applies a whole validated set: new services start, changed ones update, missing ones go. */
  async apply(specs: readonly ServiceSpec[]): Promise<void> {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    const removals: Array<Promise<void>> = [];
    for (const [name, controller] of this.controllers) {
      if (!wanted.has(name)) {
        this.controllers.delete(name);
        this.removing.add(controller);
        this.deps.events.record({ type: 'service.removed', service: name, message: `service ${name} removed` });
        removals.push(
          controller.remove().finally(() => {
            this.removing.delete(controller);
            if (this.controllers.has(name)) return; // re-added meanwhile: its new controller owns the entry
            this.endpoints.delete(name);
            this.deps.onSnapshot(new Map(this.endpoints));
          }),
        );
      }
    }
    for (const spec of specs) {
      const existing = this.controllers.get(spec.name);
      if (existing !== undefined) {
        existing.update(spec);
        continue;
      }
      const controller = new ServiceController(spec, {
        ...this.deps,
        onEndpoints: (service, endpoints) => {
          if (this.controllers.get(service) !== controller && !this.removing.has(controller)) return;
          this.endpoints.set(service, endpoints);
          this.deps.onSnapshot(new Map(this.endpoints));
        },
      });
      this.controllers.set(spec.name, controller);
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

  status(name: string): ServiceStatus | undefined {
    return this.controllers.get(name)?.status();
  }

  list(): ServiceStatus[] {
    return [...this.controllers.values()].map((c) => c.status()).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** dockmaster is stopping: controllers stop; the driver decides what outlives it. */
  async close(): Promise<void> {
    this.unsubscribe();
    for (const c of this.controllers.values()) c.close();
    this.controllers.clear();
    await this.deps.driver.close();
  }
}
