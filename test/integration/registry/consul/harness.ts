// Shared set-up for the Consul provider integration tests: a ConsulDouble, a provider pointed at
// it, and a sink that records every snapshot and status. Test helper; I/O (sockets on 127.0.0.1).
import { pino } from 'pino';
import { ConsulDouble, type ConsulDoubleOptions } from '../../../helpers/consul-double.js';
import { ConsulProvider, type ConsulProviderDeps } from '../../../../src/registry/consul/consul-provider.js';
import { CONSUL_DEFAULTS, type ConsulProviderConfig } from '../../../../src/model/gateway.js';
import type { EndpointSnapshot } from '../../../../src/endpoints/endpoint-set.js';
import type { ProviderSink, ProviderStatus } from '../../../../src/registry/provider.js';
import type { Endpoint } from '../../../../src/model/endpoint.js';

export class RecordingSink implements ProviderSink {
  readonly snapshots: EndpointSnapshot[] = [];
  readonly statuses: ProviderStatus[] = [];

  publish(snapshot: EndpointSnapshot): void {
    this.snapshots.push(snapshot);
  }

  status(status: ProviderStatus): void {
    this.statuses.push(status);
  }

  /** The latest snapshot's endpoints of a service (undefined when the service is not in it). */
  endpoints(service: string): readonly Endpoint[] | undefined {
    return this.snapshots.at(-1)?.get(service);
  }

  origins(service: string): string[] {
    return (this.endpoints(service) ?? []).map((e) => e.origin).sort();
  }

  get lastStatus(): ProviderStatus | undefined {
    return this.statuses.at(-1);
  }
}

export interface Harness {
  readonly double: ConsulDouble;
  readonly provider: ConsulProvider;
  readonly sink: RecordingSink;
  readonly config: ConsulProviderConfig;
  close(): Promise<void>;
}

/** Silent unless DOCKMASTER_TEST_LOG is set. */
export const testLogger = pino({ level: process.env['DOCKMASTER_TEST_LOG'] ?? 'silent' });

export function providerConfig(address: string, overrides: Partial<ConsulProviderConfig> = {}): ConsulProviderConfig {
  return { ...CONSUL_DEFAULTS, address, waitMs: 1_000, ...overrides };
}

/** A double and a provider for it; the provider is not started (call `provider.start(sink)`). */
export async function harness(
  options: { double?: ConsulDoubleOptions; config?: Partial<ConsulProviderConfig>; deps?: Partial<ConsulProviderDeps> } = {},
): Promise<Harness> {
  const double = await ConsulDouble.start(options.double);
  const config = providerConfig(double.address, options.config);
  const provider = new ConsulProvider(config, { logger: testLogger, timeoutMarginMs: 500, backoff: { baseMs: 100, maxMs: 1_000 }, ...options.deps });
  const sink = new RecordingSink();
  return {
    double,
    provider,
    sink,
    config,
    close: async () => {
      await provider.close();
      await double.close();
    },
  };
}
