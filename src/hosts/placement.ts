// Replica placement over several hosts: picks the host for one new replica of a service from the
// hosts' labels, cordon state and free capacity and where the service's replicas already run, or
// says why no host fits. Pure (the hosts and allocations are arguments; no clock, no I/O).
import type { Allocation, HostSpec, ServiceDemand } from '../model/host.js';
import { describeUnmet, firstUnmetConstraint } from './placement-constraints.js';
import { assertPlacementInput } from './placement-problems.js';
import { formatMilli, serviceReplicasByLabelValue, spreadValue, toMilli, usageByHost, type HostUsage } from './placement-usage.js';

/** Why one host cannot take the replica. */
export interface HostExclusion {
  readonly host: string;
  /** `cordoned`, `constraint zone=b not met (zone=a)`, `full (4 of 4 replicas)`,
   * `needs 0.5 cpus (0.25 free)`, `needs 0.5 cpus (0.25 free) and 512 MB memory (256 free)`. */
  readonly reason: string;
}

export type PlacementResult =
  | { readonly ok: true; readonly host: HostSpec }
  /** The replica stays pending with `reason`: `no host fits: ` and every host's exclusion. */
  | { readonly ok: false; readonly reason: string; readonly excluded: readonly HostExclusion[] };

/** Free-share differences below this are ties (float noise of the averaged fractions). */
const SHARE_EPSILON = 1e-9;

/**
 * Where the next replica of `service` goes.
 *
 * 1. Filter. A host is out when it is cordoned; when a constraint of `service.placement` does not
 *    hold on its labels (constraints are Kubernetes node-affinity expressions: `in`, `notIn`,
 *    `exists`, `notExists`, see PlacementConstraint); when it already holds `maxReplicas` replicas
 *    (of every service); or when its free cpus or memory (capacity minus what the allocations
 *    reserve, counted in 1/1000) are below what one replica reserves. A replica that reserves
 *    nothing fits any host that is not filtered otherwise.
 * 2. Spread. With `placement.spread: zone`, keep the hosts whose zone value holds the fewest
 *    replicas of this service (hosts without the label form one more group).
 * 3. Free capacity. Prefer the host that keeps the largest share of its capacity free once the
 *    replica is on it (cpu and memory shares averaged, like Kubernetes' LeastAllocated score).
 * 4. Ties: fewer replicas of this service on the host, then fewer replicas in all, then the host
 *    name. The answer does not depend on the order of `hosts` or `allocations`.
 *
 * Worked examples (the unit tests reuse them), on this cluster:
 *
 *     h1  zone=a  2 cpus  4096 MB
 *     h2  zone=a  4 cpus  8192 MB
 *     h3  zone=b  2 cpus  4096 MB
 *     h4  zone=b  2 cpus  4096 MB  cordoned
 *     service web: 0.5 cpus, 512 MB per replica, spread by zone
 *
 * - Nothing placed yet: h2. Both zones hold 0 web replicas; h2 keeps 91% free (3.5/4 cpus,
 *   7680/8192 MB), h1 and h3 81%.
 * - web runs on h2: h3. Zone b holds 0 web replicas, zone a 1; spread wins over free capacity.
 * - web runs on h2 and h3: h1. Zones tie at 1; h1 and h2 would both keep 81% free
 *   ((1.5/2 + 3584/4096) / 2 = (3/4 + 7168/8192) / 2); h1 holds no web replica yet.
 * - web with constraint `{ label: zone, op: in, values: [b] }`: h3 (h4 is cordoned).
 * - web with constraint `{ label: ssd, op: exists }`: none of the hosts has the label:
 *   `no host fits: h1 constraint ssd exists not met (no ssd label); h2 ...; h3 ...; h4 cordoned`.
 * - service batch, 3 cpus and 1024 MB with constraint zone in [b]:
 *   `no host fits: h1 constraint zone=b not met (zone=a); h2 constraint zone=b not met (zone=a);
 *   h3 needs 3 cpus (2 free); h4 cordoned`.
 * - web runs on h2 and h3, and service db reserves 1.75 cpus and 3840 MB on h1: h1 is out
 *   (`needs 0.5 cpus (0.25 free) and 512 MB memory (256 free)`); zones tie at 1 and h2 keeps
 *   81% free against 62% on h3: h2.
 * - h3 has `maxReplicas: 2` and holds 2 replicas of service cache, web runs on h2: zone b has no
 *   host left (`full (2 of 2 replicas)`, h4 cordoned), so zone a takes the replica although it
 *   holds more web replicas; h1 and h2 would both keep 81% free and h1 holds no web yet: h1.
 */
export function placeReplica(service: ServiceDemand, hosts: readonly HostSpec[], allocations: readonly Allocation[]): PlacementResult {
  assertPlacementInput(service, hosts, allocations);
  return chooseHost(service, hosts, usageByHost(hosts, allocations, service.name));
}

/** The decision of placeReplica on input already checked and usage already summed (so that a
 * sequence of placements can update the usage instead of summing it again). */
export function chooseHost(service: ServiceDemand, hosts: readonly HostSpec[], usage: ReadonlyMap<string, HostUsage>): PlacementResult {
  const byName = [...hosts].sort((a, b) => compareText(a.name, b.name));
  const excluded: HostExclusion[] = [];
  const fitting: HostSpec[] = [];
  for (const host of byName) {
    const reason = exclusionOf(host, service, usageOf(usage, host));
    if (reason === undefined) fitting.push(host);
    else excluded.push({ host: host.name, reason });
  }
  if (fitting.length === 0) {
    const detail = excluded.length === 0 ? 'no hosts are configured' : excluded.map((e) => `${e.host} ${e.reason}`).join('; ');
    return { ok: false, reason: `no host fits: ${detail}`, excluded };
  }

  const spread = service.placement.spread;
  const groupCounts = spread === undefined ? undefined : serviceReplicasByLabelValue(hosts, usage, spread);
  const groupCount = (host: HostSpec): number => (spread === undefined || groupCounts === undefined ? 0 : (groupCounts.get(spreadValue(host, spread)) ?? 0));
  let best = fitting[0] as HostSpec;
  for (const host of fitting.slice(1)) {
    if (isBetter(host, best, service, usage, groupCount)) best = host;
  }
  return { ok: true, host: best };
}

function usageOf(usage: ReadonlyMap<string, HostUsage>, host: HostSpec): HostUsage {
  return usage.get(host.name) ?? { cpusMilli: 0, memoryMilli: 0, replicas: 0, serviceReplicas: 0 };
}

/** Why the host cannot take one more replica, or undefined when it can. */
function exclusionOf(host: HostSpec, service: ServiceDemand, used: HostUsage): string | undefined {
  if (host.cordoned) return 'cordoned';
  const unmet = firstUnmetConstraint(service.placement.constraints, host.labels);
  if (unmet !== undefined) return describeUnmet(unmet, host.labels);
  const max = host.capacity.maxReplicas;
  if (max !== undefined && used.replicas >= max) return `full (${used.replicas} of ${max} replicas)`;
  const short: string[] = [];
  const needCpus = toMilli(service.resources.cpus);
  const freeCpus = Math.max(0, toMilli(host.capacity.cpus) - used.cpusMilli);
  if (needCpus > 0 && needCpus > freeCpus) short.push(`${formatMilli(needCpus)} cpus (${formatMilli(freeCpus)} free)`);
  const needMemory = toMilli(service.resources.memoryMb);
  const freeMemory = Math.max(0, toMilli(host.capacity.memoryMb) - used.memoryMilli);
  if (needMemory > 0 && needMemory > freeMemory) short.push(`${formatMilli(needMemory)} MB memory (${formatMilli(freeMemory)} free)`);
  return short.length === 0 ? undefined : `needs ${short.join(' and ')}`;
}

/** The share of the host's capacity still free with the replica on it: cpu and memory shares
 * averaged over the dimensions the host has (0 for a host with no capacity at all). */
function freeShareAfter(host: HostSpec, service: ServiceDemand, used: HostUsage): number {
  const shares: number[] = [];
  const cpus = toMilli(host.capacity.cpus);
  if (cpus > 0) shares.push((cpus - used.cpusMilli - toMilli(service.resources.cpus)) / cpus);
  const memory = toMilli(host.capacity.memoryMb);
  if (memory > 0) shares.push((memory - used.memoryMilli - toMilli(service.resources.memoryMb)) / memory);
  return shares.length === 0 ? 0 : shares.reduce((a, b) => a + b, 0) / shares.length;
}

function isBetter(candidate: HostSpec, best: HostSpec, service: ServiceDemand, usage: ReadonlyMap<string, HostUsage>, groupCount: (host: HostSpec) => number): boolean {
  const groupDiff = groupCount(candidate) - groupCount(best);
  if (groupDiff !== 0) return groupDiff < 0;
  const c = usageOf(usage, candidate);
  const b = usageOf(usage, best);
  const shareDiff = freeShareAfter(candidate, service, c) - freeShareAfter(best, service, b);
  if (Math.abs(shareDiff) > SHARE_EPSILON) return shareDiff > 0;
  if (c.serviceReplicas !== b.serviceReplicas) return c.serviceReplicas < b.serviceReplicas;
  if (c.replicas !== b.replicas) return c.replicas < b.replicas;
  return compareText(candidate.name, best.name) < 0;
}

/** Code-unit order, the same on every machine and locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
