// Maps Docker's container JSON (list rows, inspect, events) to ReplicaObservation and events. Pure.
// Only the fields used are typed, so dockerode's types and raw fixtures fit alike.
import type { ReplicaResources } from '../../model/host.js';
import { loopbackOrigin } from '../replica-env.js';
import type { ReplicaObservation, ReplicaRef, ReplicaState, RuntimeHealth } from '../runtime-driver.js';

/** Labels on every container dockmaster starts. service, revision and replica are the public
 * contract; port and network let a later dockmaster find the origin again when it adopts. */
export const DOCKER_LABEL = {
  service: 'dockmaster.service',
  revision: 'dockmaster.revision',
  replica: 'dockmaster.replica',
  /** Host network: the 127.0.0.1 port passed in PORT. Bridge: the container port that is published. */
  port: 'dockmaster.port',
  network: 'dockmaster.network',
  /** Multi-host driver: the host (a name of dockmaster.yaml) the replica was placed on. */
  host: 'dockmaster.host',
  /** Multi-host driver: a number that grows with every start, so of two containers of one replica
   * id (a host that came back) the newer one is known; the older one is fenced. */
  generation: 'dockmaster.generation',
  /** What the replica reserves (its template's resources), for placement after an adoption. */
  cpus: 'dockmaster.cpus',
  memoryMb: 'dockmaster.memory-mb',
} as const;

/** A row of GET /containers/json. */
export interface ContainerSummaryLike {
  readonly Id: string;
  readonly State: string;
  /** "Up 3 seconds (healthy)", "Exited (137) 5 seconds ago", "Created". */
  readonly Status: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly Ports?: ReadonlyArray<{ readonly IP?: string; readonly PrivatePort: number; readonly PublicPort?: number; readonly Type: string }> | null;
}

/** GET /containers/{id}/json. */
export interface ContainerInspectLike {
  readonly Id: string;
  readonly State: {
    readonly Status: string;
    /** Host pid of the container's first process; 0 when not running. */
    readonly Pid?: number;
    readonly ExitCode?: number;
    readonly StartedAt?: string;
    readonly Health?: { readonly Status: string } | null;
  };
  readonly Config: { readonly Labels?: Readonly<Record<string, string>> | null };
  readonly NetworkSettings?: {
    readonly Ports?: Readonly<Record<string, ReadonlyArray<{ readonly HostIp: string; readonly HostPort: string }> | null>> | null;
  } | null;
}

/** One object of GET /events (type container). */
export interface DockerEventLike {
  readonly Type?: string;
  /** "start", "die", "health_status: healthy", ... */
  readonly Action?: string;
  readonly status?: string;
  readonly id?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> };
  readonly time?: number;
  readonly timeNano?: number;
}

/** What a container event means for dockmaster; 'other' covers create, kill, exec_*, ... */
export type ContainerEventMeaning =
  | { readonly kind: 'start'; readonly ref: ReplicaRef; readonly timeNano: number }
  | { readonly kind: 'die'; readonly ref: ReplicaRef; readonly exitCode: number | undefined; readonly timeNano: number }
  | { readonly kind: 'destroy'; readonly ref: ReplicaRef; readonly timeNano: number }
  | { readonly kind: 'health'; readonly ref: ReplicaRef; readonly health: RuntimeHealth; readonly timeNano: number }
  | { readonly kind: 'other'; readonly timeNano: number };

/** Docker's container states to ours: created and restarting are not serving yet; removing is on
 * its way out; paused still holds its port and is left to health checks. */
export function replicaStateOf(dockerState: string): ReplicaState {
  switch (dockerState) {
    case 'created':
    case 'restarting':
      return 'starting';
    case 'running':
    case 'paused':
      return 'running';
    case 'removing':
      return 'stopping';
    default:
      return 'exited';
  }
}

export function runtimeHealthOf(status: string | undefined): RuntimeHealth | undefined {
  return status === 'healthy' || status === 'unhealthy' || status === 'starting' ? status : undefined;
}

/** Health from a list row's Status text: "(healthy)", "(unhealthy)", "(health: starting)". */
export function healthFromStatusText(status: string): RuntimeHealth | undefined {
  if (status.includes('(healthy)')) return 'healthy';
  if (status.includes('(unhealthy)')) return 'unhealthy';
  if (status.includes('(health: starting)')) return 'starting';
  return undefined;
}

/** Exit code from a list row's Status text: "Exited (137) 5 seconds ago". */
export function exitCodeFromStatusText(status: string): number | undefined {
  const match = /^Exited \((\d+)\)/.exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function refFromLabels(id: string, labels: Readonly<Record<string, string>> | null | undefined): ReplicaRef | undefined {
  const service = labels?.[DOCKER_LABEL.service];
  const revision = labels?.[DOCKER_LABEL.revision];
  const replicaId = labels?.[DOCKER_LABEL.replica];
  if (!service || revision === undefined || replicaId === undefined) return undefined;
  return { id, service, revision, replicaId };
}

/** A label holding a finite number >= 0 (`0.5`, `512`); undefined when absent or malformed. */
function amountLabel(labels: Readonly<Record<string, string>> | null | undefined, key: string): number | undefined {
  const text = labels?.[key];
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** The optional members read from the multi-host labels: generation and resources (a replica
 * reserving resources carries both cpus and memory labels). Empty for older containers. */
function multiHostMembers(labels: Readonly<Record<string, string>> | null | undefined): { generation?: number; resources?: ReplicaResources } {
  const generationText = labels?.[DOCKER_LABEL.generation];
  const generation = generationText !== undefined && /^\d+$/.test(generationText) ? Number(generationText) : undefined;
  const cpus = amountLabel(labels, DOCKER_LABEL.cpus);
  const memoryMb = amountLabel(labels, DOCKER_LABEL.memoryMb);
  return {
    ...(generation === undefined ? {} : { generation }),
    ...(cpus === undefined || memoryMb === undefined ? {} : { resources: { cpus, memoryMb } }),
  };
}

/** 127.0.0.0/8, ::1 and localhost: a daemon whose host-network ports are this machine's. */
export function isLoopbackAddress(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);
}

/** `http://ADDRESS:PORT` (IPv6 in brackets); 127.0.0.1 when no address is given. */
export function originAt(address: string | undefined, port: number): string {
  if (address === undefined || address === '127.0.0.1') return loopbackOrigin(port);
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** The origin of a replica: host-network replicas on `address`, bridge ones on the 127.0.0.1
 * binding (bridge publishes on loopback only). */
function originOf(labels: Readonly<Record<string, string>> | null | undefined, port: number, address: string | undefined): string {
  return labels?.[DOCKER_LABEL.network] === 'bridge' ? loopbackOrigin(port) : originAt(address, port);
}

function portNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const port = Number(text);
  return port > 0 && port <= 65535 ? port : undefined;
}

/** The replica's port on 127.0.0.1. Host network: the label. Bridge: the binding of the labelled
 * container port on HostIp 127.0.0.1; bindings on other addresses are never used. */
function hostPortOf(
  labels: Readonly<Record<string, string>> | null | undefined,
  bindingFor: (containerPort: number) => number | undefined,
): number | undefined {
  const labelled = portNumber(labels?.[DOCKER_LABEL.port]);
  if (labels?.[DOCKER_LABEL.network] !== 'bridge') return labelled;
  return labelled === undefined ? undefined : bindingFor(labelled);
}

/** A list row as an observation; undefined when the container lacks dockmaster's labels. The row
 * has no start time, so startedAtMs is left undefined (inspect has it). `address`: where
 * host-network replicas are reached (default 127.0.0.1). */
export function observeContainerSummary(row: ContainerSummaryLike, address?: string): ReplicaObservation | undefined {
  const ref = refFromLabels(row.Id, row.Labels);
  if (!ref) return undefined;
  const state = replicaStateOf(row.State);
  const port = hostPortOf(row.Labels, (containerPort) => {
    const binding = row.Ports?.find((p) => p.PrivatePort === containerPort && p.Type === 'tcp' && p.IP === '127.0.0.1');
    return binding?.PublicPort;
  });
  return {
    ...ref,
    state,
    origin: port === undefined || state === 'exited' ? undefined : originOf(row.Labels, port, address),
    exitCode: state === 'exited' ? exitCodeFromStatusText(row.Status) : undefined,
    startedAtMs: undefined,
    runtimeHealth: state === 'exited' ? undefined : healthFromStatusText(row.Status),
    nativeId: row.Id,
    ...multiHostMembers(row.Labels),
  };
}

/** Docker's zero time, "0001-01-01T00:00:00Z", means never started. */
function startedAtMsOf(startedAt: string | undefined): number | undefined {
  if (!startedAt || startedAt.startsWith('0001-')) return undefined;
  const ms = Date.parse(startedAt);
  return Number.isNaN(ms) ? undefined : ms;
}

/** An inspect result as an observation; undefined when the container lacks dockmaster's labels.
 * `address`: where host-network replicas are reached (default 127.0.0.1). */
export function observeContainerInspect(info: ContainerInspectLike, address?: string): ReplicaObservation | undefined {
  const ref = refFromLabels(info.Id, info.Config.Labels);
  if (!ref) return undefined;
  const state = replicaStateOf(info.State.Status);
  const port = hostPortOf(info.Config.Labels, (containerPort) => {
    const bindings = info.NetworkSettings?.Ports?.[`${containerPort}/tcp`];
    return portNumber(bindings?.find((b) => b.HostIp === '127.0.0.1')?.HostPort);
  });
  return {
    ...ref,
    state,
    origin: port === undefined || state === 'exited' ? undefined : originOf(info.Config.Labels, port, address),
    exitCode: state === 'exited' ? info.State.ExitCode : undefined,
    startedAtMs: startedAtMsOf(info.State.StartedAt),
    runtimeHealth: state === 'exited' ? undefined : runtimeHealthOf(info.State.Health?.Status),
    nativeId: info.Id,
    ...multiHostMembers(info.Config.Labels),
  };
}

/** Reads one /events object; anything not about a labelled container is 'other'. */
export function interpretContainerEvent(event: DockerEventLike): ContainerEventMeaning {
  const timeNano = event.timeNano ?? (event.time ?? 0) * 1e9;
  const action = event.Action ?? event.status ?? '';
  const id = event.Actor?.ID ?? event.id;
  if (event.Type !== undefined && event.Type !== 'container') return { kind: 'other', timeNano };
  if (!id) return { kind: 'other', timeNano };
  const attributes = event.Actor?.Attributes;
  const ref = refFromLabels(id, attributes);
  if (!ref) return { kind: 'other', timeNano };
  if (action === 'start') return { kind: 'start', ref, timeNano };
  if (action === 'die') {
    const code = attributes?.['exitCode'];
    return { kind: 'die', ref, exitCode: code !== undefined && /^\d+$/.test(code) ? Number(code) : undefined, timeNano };
  }
  if (action === 'destroy') return { kind: 'destroy', ref, timeNano };
  if (action.startsWith('health_status')) {
    const health = runtimeHealthOf(action.slice(action.indexOf(':') + 1).trim());
    if (health) return { kind: 'health', ref, health, timeNano };
  }
  return { kind: 'other', timeNano };
}

/** Docker container names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; anything else becomes '_'. */
export function containerName(service: string, replicaId: string): string {
  return `dockmaster-${service}-${replicaId}`.replace(/[^a-zA-Z0-9_.-]/g, '_');
}
