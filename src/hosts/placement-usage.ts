// What the allocations already take on each host (cpus, memory, replicas, replicas of the service
// being placed), summed in milli-units so that capacity arithmetic is exact. Pure.
import type { Allocation, HostSpec, ReplicaResources } from '../model/host.js';

/** Amounts times 1000, rounded: 0.1 + 0.2 cpus is exactly 300 milli-cpus (Kubernetes counts
 * cpus in millicores for the same reason). */
export function toMilli(amount: number): number {
  return Math.round(amount * 1000);
}

/** 250 -> "0.25", 3000 -> "3". */
export function formatMilli(milli: number): string {
  return String(milli / 1000);
}

export interface HostUsage {
  cpusMilli: number;
  memoryMilli: number;
  /** Replicas of every service. */
  replicas: number;
  /** Replicas of the service being placed. */
  serviceReplicas: number;
}

/** Usage of every listed host; allocations on hosts not listed are ignored. */
export function usageByHost(hosts: readonly HostSpec[], allocations: readonly Allocation[], serviceName: string): Map<string, HostUsage> {
  const usage = new Map<string, HostUsage>();
  for (const host of hosts) usage.set(host.name, { cpusMilli: 0, memoryMilli: 0, replicas: 0, serviceReplicas: 0 });
  for (const allocation of allocations) addToUsage(usage, allocation.host, allocation.resources, allocation.service === serviceName);
  return usage;
}

/** Counts one more replica on a host (no-op for a host not in the map). Mutates `usage`. */
export function addToUsage(usage: Map<string, HostUsage>, host: string, resources: ReplicaResources, ofService: boolean): void {
  const used = usage.get(host);
  if (used === undefined) return;
  used.cpusMilli += toMilli(resources.cpus);
  used.memoryMilli += toMilli(resources.memoryMb);
  used.replicas += 1;
  if (ofService) used.serviceReplicas += 1;
}

/** Replicas of the service per value of the spread label; hosts without the label count under ''. */
export function serviceReplicasByLabelValue(hosts: readonly HostSpec[], usage: ReadonlyMap<string, HostUsage>, label: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const host of hosts) {
    const value = spreadValue(host, label);
    counts.set(value, (counts.get(value) ?? 0) + (usage.get(host.name)?.serviceReplicas ?? 0));
  }
  return counts;
}

/** The host's value of the spread label, '' when it has none (those hosts form one group). */
export function spreadValue(host: HostSpec, label: string): string {
  return Object.hasOwn(host.labels, label) ? (host.labels[label] as string) : '';
}
