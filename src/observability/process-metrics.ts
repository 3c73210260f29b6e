// Node process metrics (CPU, memory, event-loop lag, handles, file descriptors) on the injected
// registry, prefixed `dockmaster_`. prom-client's collectDefaultMetrics also watches every
// garbage collection through a PerformanceObserver, a callback per GC that costs the proxy
// measurable CPU per request under load; this registers the same collectors without that one.
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';

const require = createRequire(import.meta.url);

/** prom-client's default collectors, minus `gc`. */
const COLLECTORS = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
] as const;

type Collector = (registry: Registry, config: Record<string, unknown>) => void;

export function registerProcessMetrics(registry: Registry): void {
  const config = { prefix: 'dockmaster_', eventLoopMonitoringPrecision: 10 };
  for (const name of COLLECTORS) {
    const collector = require(`prom-client/lib/metrics/${name}.js`) as Collector;
    collector(registry, config);
  }
}
