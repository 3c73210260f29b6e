// Renders the Docker hosts for `dockmaster hosts` (a table, or one host with its replicas) and the
// answers of `dockmaster host cordon|uncordon|drain`, as plain text. Pure.
import type { HostCommand, HostStatusView } from '../admin/admin-service.js';
import { formatDuration, table } from './text-table.js';

/** cpus to at most three decimals, without trailing zeros: 1.5, 0.25, 4. */
export function formatCpus(cpus: number): string {
  return String(Math.round(cpus * 1000) / 1000);
}

/** `reachable 5m`, `unreachable 3s`, `LOST 12s`: the state and how long it has lasted. */
export function stateCell(host: HostStatusView, nowMs: number): string {
  const since = formatDuration(nowMs - host.sinceMs);
  if (host.lost) return `LOST ${since}`;
  return host.reachable ? `reachable ${since}` : `unreachable ${since}`;
}

/** Whether new replicas may land here: `ready`, `cordoned`, or `draining`. */
export function schedulingCell(host: HostStatusView): string {
  if (host.draining) return 'draining';
  return host.cordoned ? 'cordoned' : 'ready';
}

function replicasCell(host: HostStatusView): string {
  const count = String(host.allocated.replicas);
  return host.capacity.maxReplicas === undefined ? count : `${count}/${host.capacity.maxReplicas}`;
}

function labelsCell(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length === 0 ? '-' : pairs.map(([key, value]) => `${key}=${value}`).join(',');
}

/** Every host in one table, in the order given; `note` (why there are none) when the list is empty. */
export function formatHosts(hosts: readonly HostStatusView[], nowMs: number, note?: string): string {
  if (hosts.length === 0) return note ?? 'no hosts';
  const rows = [['HOST', 'ADDRESS', 'STATE', 'SCHEDULING', 'CPUS', 'MEMORY MB', 'REPLICAS', 'LABELS']];
  for (const host of hosts) {
    rows.push([
      host.name,
      host.address,
      stateCell(host, nowMs),
      schedulingCell(host),
      `${formatCpus(host.allocated.cpus)}/${formatCpus(host.capacity.cpus)}`,
      `${host.allocated.memoryMb}/${host.capacity.memoryMb}`,
      replicasCell(host),
      labelsCell(host.labels),
    ]);
  }
  return table(rows);
}

function stateLine(host: HostStatusView, nowMs: number): string {
  const since = formatDuration(nowMs - host.sinceMs);
  const error = host.lastError === undefined ? '' : ` (last error: ${host.lastError})`;
  if (host.lost) return `LOST for ${since}: its replicas are replaced on other hosts${error}`;
  if (!host.reachable) return `unreachable for ${since}${error}`;
  return `reachable for ${since}`;
}

/** One host with its settings, allocations and the replicas it holds. */
export function formatHost(host: HostStatusView, nowMs: number): string {
  const scheduling = host.draining ? 'draining (cordoned; its replicas are moving to other hosts)' : host.cordoned ? 'cordoned (no new replicas)' : 'ready';
  const max = host.capacity.maxReplicas === undefined ? '' : ` of at most ${host.capacity.maxReplicas}`;
  const head = [
    `host:        ${host.name}`,
    `address:     ${host.address}`,
    `docker:      ${host.dockerEndpoint ?? 'the local daemon (DOCKER_HOST or its default socket)'}`,
    `state:       ${stateLine(host, nowMs)}`,
    `scheduling:  ${scheduling}`,
    `cpus:        ${formatCpus(host.allocated.cpus)} of ${formatCpus(host.capacity.cpus)} allocated`,
    `memory:      ${host.allocated.memoryMb} of ${host.capacity.memoryMb} MB allocated`,
    `replicas:    ${host.allocated.replicas}${max}`,
    `labels:      ${labelsCell(host.labels)}`,
  ];
  if (host.replicas.length === 0) return head.join('\n');
  const rows = [['SERVICE', 'REPLICA', 'REVISION']];
  const sorted = [...host.replicas].sort((a, b) => a.service.localeCompare(b.service) || a.replicaId.localeCompare(b.replicaId));
  for (const r of sorted) rows.push([r.service, r.replicaId, r.revision]);
  return `${head.join('\n')}\n\n${table(rows)}`;
}

/** The answer to a host command: `host/a: cordoned`, with the gateway's own message. */
export function formatHostCommand(command: HostCommand, answer: { readonly message: string; readonly host: HostStatusView }): string {
  const { host } = answer;
  const lines = [`host/${host.name}: ${answer.message}`];
  if (command === 'drain' && host.replicas.length > 0) lines.push(`  ${plural(host.replicas.length, 'replica')} to move`);
  return lines.join('\n');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export type DrainProgress =
  | { readonly kind: 'drained' }
  /** The host stopped draining (uncordoned, or its drain ended) with replicas still on it. */
  | { readonly kind: 'stopped'; readonly left: number }
  | { readonly kind: 'moving'; readonly left: number };

/** Where a drain stands, from one look at the host. */
export function drainProgress(host: HostStatusView): DrainProgress {
  const left = host.replicas.length;
  if (left === 0) return { kind: 'drained' };
  return host.draining ? { kind: 'moving', left } : { kind: 'stopped', left };
}

/** A line for `host drain` while it waits, printed when the count left changes. */
export function formatDrainMoving(name: string, left: number): string {
  return `host/${name}: draining, ${plural(left, 'replica')} left`;
}

/** The last line of `host drain`: done, stopped, or out of time with what is left. */
export function formatDrainEnd(host: HostStatusView, progress: DrainProgress, waitedMs: number): string {
  const name = host.name;
  if (progress.kind === 'drained') {
    return `host/${name}: drained, no replicas left (still cordoned: 'dockmaster host uncordon ${name}' lets new replicas land here again)`;
  }
  const left = host.replicas.map((r) => `${r.service}/${r.replicaId}`).join(', ');
  if (progress.kind === 'stopped') {
    return `host/${name}: the drain stopped (the host is no longer draining) with ${plural(progress.left, 'replica')} still here: ${left}`;
  }
  return (
    `host/${name}: still draining after ${formatDuration(waitedMs)}, ${plural(progress.left, 'replica')} left: ${left}\n` +
    `  the gateway keeps draining; 'dockmaster hosts ${name}' shows the progress (a replica with no other host to go to waits for room)`
  );
}
