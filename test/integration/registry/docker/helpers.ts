// Test helpers for the Docker provider: a sink that records what the provider publishes, and
// labelled containers in the shape the runtime tests' Docker API double serves. Test code; no I/O.
import type { EndpointSnapshot } from '../../../../src/endpoints/endpoint-set.js';
import type { Endpoint } from '../../../../src/model/endpoint.js';
import type { ProviderSink, ProviderStatus } from '../../../../src/registry/provider.js';
import type { ContainerInspect } from '../../../../src/registry/docker/translate-containers.js';
import type { DoubleContainer } from '../../runtime/docker-api-double.js';

export class RecordingSink implements ProviderSink {
  readonly snapshots: EndpointSnapshot[] = [];
  readonly statuses: ProviderStatus[] = [];

  publish(snapshot: EndpointSnapshot): void {
    this.snapshots.push(snapshot);
  }

  status(status: ProviderStatus): void {
    this.statuses.push(status);
  }

  get snapshot(): EndpointSnapshot | undefined {
    return this.snapshots.at(-1);
  }

  get lastStatus(): ProviderStatus | undefined {
    return this.statuses.at(-1);
  }

  /** Every endpoint of a service in the latest snapshot. */
  endpoints(service: string): readonly Endpoint[] {
    return this.snapshot?.get(service) ?? [];
  }

  /** True when any snapshot published so far held this endpoint id. */
  everPublished(id: string): boolean {
    return this.snapshots.some((s) => [...s.values()].some((list) => list.some((e) => e.id === id)));
  }
}

export interface LabelledOptions {
  readonly service?: string;
  readonly port?: string;
  readonly name?: string;
  readonly health?: 'healthy' | 'unhealthy' | 'starting';
  readonly labels?: Readonly<Record<string, string>>;
}

/** A labelled, running, host-network container as the double's list row and inspect result. */
export function labelledContainer(id: string, options: LabelledOptions = {}): DoubleContainer {
  const labels: Record<string, string> = {
    'dockmaster.service': options.service ?? 'shop',
    'dockmaster.port': options.port ?? '18700',
    ...options.labels,
  };
  const name = options.name ?? `shop-${id.slice(0, 4)}`;
  const inspect: ContainerInspect & DoubleContainer['inspect'] = {
    Id: id,
    Name: `/${name}`,
    State: { Status: 'running', Running: true, Pid: 1234, ExitCode: 0, StartedAt: '2026-01-02T03:04:05.678Z', Health: options.health ? { Status: options.health } : null },
    Config: { Labels: labels },
    HostConfig: { NetworkMode: 'host' },
    NetworkSettings: { Ports: {} },
  };
  return {
    summary: { Id: id, Names: [`/${name}`], State: 'running', Status: `Up 2 seconds${options.health ? ` (${options.health})` : ''}`, Labels: labels, Ports: [] },
    inspect,
  };
}

/** A 64-hex container id from one repeated hex digit, e.g. hexId('a'). */
export function hexId(digit: string): string {
  return digit.repeat(64);
}
