// Translates `docker inspect` results of containers labelled `<prefix>.service` (started by someone
// else) into the Docker provider's snapshot: which serve, at which 127.0.0.1 origin, with what
// weight and version; a bad container is skipped with a reason naming it. Pure.
import type { EndpointSnapshot } from '../../endpoints/endpoint-set.js';
import type { Endpoint } from '../../model/endpoint.js';
import { loopbackOrigin } from '../../runtime/replica-env.js';

/** The fields of GET /containers/{id}/json that are read; dockerode's type and raw fixtures fit. */
export interface ContainerInspect {
  readonly Id: string;
  /** "/shop-1" */
  readonly Name?: string | undefined;
  readonly State?: {
    readonly Status?: string | undefined;
    readonly Running?: boolean | undefined;
    /** Absent when the image and container define no health check. */
    readonly Health?: { readonly Status?: string | undefined } | null | undefined;
  } | null | undefined;
  readonly Config?: { readonly Labels?: Readonly<Record<string, string>> | null | undefined } | null | undefined;
  readonly HostConfig?: { readonly NetworkMode?: string | undefined } | null | undefined;
  readonly NetworkSettings?: {
    readonly Ports?: Readonly<Record<string, ReadonlyArray<{ readonly HostIp?: string; readonly HostPort?: string }> | null | undefined>> | null | undefined;
  } | null | undefined;
}

/** The label keys under one prefix. `replica` marks containers dockmaster started itself. */
export interface DockerLabelKeys {
  readonly service: string;
  readonly port: string;
  readonly weight: string;
  readonly version: string;
  readonly replica: string;
}

export function dockerLabelKeys(prefix: string): DockerLabelKeys {
  return {
    service: `${prefix}.service`,
    port: `${prefix}.port`,
    weight: `${prefix}.weight`,
    version: `${prefix}.version`,
    replica: `${prefix}.replica`,
  };
}

export const DEFAULT_WEIGHT = 1;
export const MAX_WEIGHT = 1000;

export interface SkippedContainer {
  /** The endpoint id the container would have had (`docker:<id 12>`). */
  readonly id: string;
  readonly reason: string;
}

/** Why a labelled container is not an endpoint although nothing is wrong with it. */
export type IgnoredWhy = 'managed' | 'not-running' | 'not-healthy';

export interface ContainerTranslation {
  /** service -> endpoints sorted by id; services without endpoints are absent. */
  readonly snapshot: EndpointSnapshot;
  /** Bad containers (port, weight, service label, duplicate id), sorted by id. */
  readonly skipped: readonly SkippedContainer[];
  /** Fine but not serving now (or another provider's), for debug logs and tests. */
  readonly ignored: readonly { readonly id: string; readonly why: IgnoredWhy }[];
}

type Verdict =
  | { readonly kind: 'endpoint'; readonly service: string; readonly endpoint: Endpoint }
  | { readonly kind: 'ignored'; readonly why: IgnoredWhy }
  | { readonly kind: 'skipped'; readonly reason: string }
  /** Has no service label at all: not the provider's business (the list filter keeps these out). */
  | { readonly kind: 'foreign' };

/** `docker:` plus the 12-character short id Docker's CLI shows. */
export function endpointIdOf(containerId: string): string {
  return `docker:${containerId.slice(0, 12)}`;
}

/** "container shop-1 (d3d6cc452fd3)" */
export function describeContainer(container: Pick<ContainerInspect, 'Id' | 'Name'>): string {
  const name = container.Name?.replace(/^\//, '');
  const shortId = typeof container.Id === 'string' ? container.Id.slice(0, 12) : '';
  if (name && shortId) return `container ${name} (${shortId})`;
  return `container ${name || shortId || '(no id)'}`;
}

/**
 * Builds the whole snapshot from every labelled container's inspect result. Deterministic: the
 * input order does not matter (containers are taken in Id order, endpoints sorted by id), so an
 * unchanged set of containers gives an equal snapshot and no table rebuild.
 */
export function translateContainers(containers: readonly ContainerInspect[], labelPrefix: string): ContainerTranslation {
  const keys = dockerLabelKeys(labelPrefix);
  const byService = new Map<string, Endpoint[]>();
  const skipped: SkippedContainer[] = [];
  const ignored: { id: string; why: IgnoredWhy }[] = [];
  const claimedBy = new Map<string, string>();
  const sorted = [...containers].sort((a, b) => compare(String(a.Id), String(b.Id)));
  for (const container of sorted) {
    const verdict = judgeContainer(container, keys);
    const id = typeof container.Id === 'string' && container.Id ? endpointIdOf(container.Id) : 'docker:?';
    switch (verdict.kind) {
      case 'foreign':
        continue;
      case 'ignored':
        ignored.push({ id, why: verdict.why });
        continue;
      case 'skipped':
        skipped.push({ id, reason: verdict.reason });
        continue;
      case 'endpoint': {
        const earlier = claimedBy.get(id);
        if (earlier !== undefined) {
          skipped.push({ id, reason: `${describeContainer(container)}: duplicate endpoint id ${id} (already used by ${earlier})` });
          continue;
        }
        claimedBy.set(id, describeContainer(container));
        const list = byService.get(verdict.service) ?? [];
        list.push(verdict.endpoint);
        byService.set(verdict.service, list);
      }
    }
  }
  const snapshot = new Map<string, readonly Endpoint[]>();
  for (const service of [...byService.keys()].sort(compare)) {
    snapshot.set(service, (byService.get(service) ?? []).sort((a, b) => compare(a.id, b.id)));
  }
  skipped.sort((a, b) => compare(a.id, b.id));
  return { snapshot, skipped, ignored };
}

function judgeContainer(container: ContainerInspect, keys: DockerLabelKeys): Verdict {
  const labels = container.Config?.Labels ?? {};
  const serviceLabel = labels[keys.service];
  if (serviceLabel === undefined) return { kind: 'foreign' };
  const who = describeContainer(container);
  if (typeof container.Id !== 'string' || !/^[0-9a-f]{12,}$/i.test(container.Id)) {
    return { kind: 'skipped', reason: `${who}: inspect result has no valid Id` };
  }
  // dockmaster's own replicas are the managed provider's: counting them here would double them.
  if (labels[keys.replica] !== undefined) return { kind: 'ignored', why: 'managed' };
  // Paused containers report Running true but answer nothing: Status must say running.
  if (container.State?.Status !== 'running' || container.State.Running === false) return { kind: 'ignored', why: 'not-running' };
  const health = container.State.Health?.Status;
  if (health !== undefined && health !== 'none' && health !== 'healthy') return { kind: 'ignored', why: 'not-healthy' };

  const service = serviceLabel.trim();
  if (!service) return { kind: 'skipped', reason: `${who}: label ${keys.service} is empty` };
  const portText = labels[keys.port];
  if (portText === undefined) return { kind: 'skipped', reason: `${who}: label ${keys.port} is missing` };
  const port = parsePort(portText);
  if (port === undefined) return { kind: 'skipped', reason: `${who}: label ${keys.port}=${quote(portText)} is not a port (1-65535)` };
  const weightText = labels[keys.weight];
  const weight = weightText === undefined ? DEFAULT_WEIGHT : parseWeight(weightText);
  if (weight === undefined) {
    return { kind: 'skipped', reason: `${who}: label ${keys.weight}=${quote(weightText ?? '')} is not a weight (an integer 0-${MAX_WEIGHT})` };
  }
  const hostPort = container.HostConfig?.NetworkMode === 'host' ? port : publishedLoopbackPort(container, port);
  if (hostPort === undefined) {
    const mode = container.HostConfig?.NetworkMode ?? 'unknown';
    return { kind: 'skipped', reason: `${who}: port ${port}/tcp is not published on 127.0.0.1 or 0.0.0.0 (network ${mode}; use host networking or publish it)` };
  }
  const version = labels[keys.version]?.trim();
  return {
    kind: 'endpoint',
    service,
    endpoint: {
      id: endpointIdOf(container.Id),
      origin: loopbackOrigin(hostPort),
      weight,
      revision: version ? version : undefined,
      source: 'docker',
      healthy: true,
      draining: false,
    },
  };
}

/** The host port bound to `<port>/tcp` on 127.0.0.1, else on every IPv4 address (which includes
 * loopback). The container's own (bridge) address is never used: traffic stays on loopback. */
function publishedLoopbackPort(container: ContainerInspect, containerPort: number): number | undefined {
  const bindings = container.NetworkSettings?.Ports?.[`${containerPort}/tcp`] ?? [];
  const loopback = bindings.find((b) => b.HostIp === '127.0.0.1');
  const any = bindings.find((b) => b.HostIp === '0.0.0.0' || b.HostIp === '');
  return parsePort((loopback ?? any)?.HostPort);
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text.trim())) return undefined;
  const port = Number(text.trim());
  return port >= 1 && port <= 65535 ? port : undefined;
}

function parseWeight(text: string): number | undefined {
  if (!/^\d{1,4}$/.test(text.trim())) return undefined;
  const weight = Number(text.trim());
  return weight <= MAX_WEIGHT ? weight : undefined;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
