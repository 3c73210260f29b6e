// Placement at scale (part of `npm run bench:hosts`): how long one placeReplica call takes as the
// hosts and the replicas already placed grow, as a ratio to a small cluster measured in the same
// run. Clusters are generated (3 zones, equal hosts, replicas of 20-replica services spread by
// zone). CPU only: no daemon, no socket.
import { performance } from 'node:perf_hooks';
import { placeReplica } from '../../src/hosts/placement.js';
import { placeReplicas } from '../../src/hosts/placement-sequence.js';
import type { Allocation, HostSpec, ServiceDemand } from '../../src/model/host.js';

export interface PlacementCase {
  readonly hosts: number;
  readonly replicas: number;
}

export interface PlacementMeasurement extends PlacementCase {
  /** Median of the timed calls, in microseconds. */
  readonly medianUs: number;
  readonly p95Us: number;
  readonly calls: number;
}

/** The cases of the table: the first is the baseline every ratio is to. */
export const PLACEMENT_CASES: readonly PlacementCase[] = [
  { hosts: 10, replicas: 100 },
  { hosts: 100, replicas: 1_000 },
  { hosts: 300, replicas: 3_000 },
  { hosts: 1_000, replicas: 10_000 },
];

const SERVICE_REPLICAS = 20;
const ZONES = ['a', 'b', 'c'] as const;

function demand(name: string): ServiceDemand {
  return { name, resources: { cpus: 0.25, memoryMb: 256 }, placement: { constraints: [], spread: 'zone' } };
}

/** `count` equal hosts over three zones, big enough that nothing is ever full. */
export function generatedHosts(count: number): HostSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `h${String(i).padStart(4, '0')}`,
    address: '127.0.0.1',
    capacity: { cpus: 64, memoryMb: 262_144 },
    labels: { zone: ZONES[i % ZONES.length] ?? 'a' },
    cordoned: false,
  }));
}

/** `replicas` allocations of 20-replica services, placed the way dockmaster would place them. */
export function generatedAllocations(hosts: readonly HostSpec[], replicas: number): Allocation[] {
  const allocations: Allocation[] = [];
  for (let s = 0; allocations.length < replicas; s++) {
    const count = Math.min(SERVICE_REPLICAS, replicas - allocations.length);
    allocations.push(...placeReplicas(demand(`svc${s}`), hosts, allocations, count).placed);
  }
  return allocations;
}

/** Times placeReplica for one more replica of a new service, `calls` times after a warm-up. */
export function measurePlacement(c: PlacementCase, budgetMs: number): PlacementMeasurement {
  const hosts = generatedHosts(c.hosts);
  const allocations = generatedAllocations(hosts, c.replicas);
  const service = demand('bench');
  const timesUs: number[] = [];
  const warmupEnd = performance.now() + Math.min(200, budgetMs / 5);
  while (performance.now() < warmupEnd) placeReplica(service, hosts, allocations);
  const end = performance.now() + budgetMs;
  while (performance.now() < end || timesUs.length < 5) {
    const t0 = performance.now();
    const result = placeReplica(service, hosts, allocations);
    timesUs.push((performance.now() - t0) * 1000);
    if (!result.ok) throw new Error(`bench cluster ${c.hosts} hosts / ${c.replicas} replicas: ${result.reason}`);
  }
  timesUs.sort((a, b) => a - b);
  const at = (q: number): number => timesUs[Math.min(timesUs.length - 1, Math.floor(q * timesUs.length))] ?? NaN;
  return { ...c, medianUs: at(0.5), p95Us: at(0.95), calls: timesUs.length };
}

/** Markdown table: each case's median and p95, and the median as a ratio to the first case. */
export function renderPlacementTable(rows: readonly PlacementMeasurement[]): string {
  const base = rows[0]?.medianUs ?? NaN;
  const lines = ['| hosts | replicas placed | one placement, median | p95 | ratio to the first row | calls |', '|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.hosts} | ${r.replicas} | ${formatUs(r.medianUs)} | ${formatUs(r.p95Us)} | ${(r.medianUs / base).toFixed(1)}x | ${r.calls} |`);
  }
  return lines.join('\n');
}

function formatUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`;
}
