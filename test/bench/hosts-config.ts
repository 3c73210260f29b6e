// The config folder of a gateway over several Docker hosts, for `npm run bench:hosts` and the
// multi-host gateway test: dockmaster.yaml listing the hosts, a route and docker demo services
// (host network, never pulled, resources, spread by zone). Text builders are pure;
// writeHostsConfig writes the folder (I/O).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEMO_IMAGE = 'dockmaster-demo:latest';

export interface ConfigHost {
  readonly name: string;
  /** `unix:///.../docker.sock` */
  readonly endpoint: string;
  readonly zone: string;
  readonly cpus: number;
  readonly memoryMb: number;
}

export interface HostTiming {
  readonly hostCheckIntervalMs: number;
  readonly hostDownAfterMs: number;
}

export interface DockerServiceOptions {
  readonly name: string;
  readonly replicas: number;
  readonly cpus: number;
  readonly memoryMb: number;
  /** Spread by the `zone` label (default true). */
  readonly spread?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  readonly healthIntervalMs?: number;
  readonly unhealthyThreshold?: number;
  readonly stopGraceMs?: number;
  readonly drainTimeoutMs?: number;
}

export interface RouteOptions {
  readonly name: string;
  readonly service: string;
  readonly pathPrefix: string;
  readonly retries: number;
  readonly timeoutMs: number;
}

/** dockmaster.yaml: every host at 127.0.0.1 (host-network containers on this machine). */
export function gatewayYaml(hosts: readonly ConfigHost[], timing: HostTiming): string {
  const lines = ['kind: Gateway', 'hosts:'];
  for (const h of hosts) {
    lines.push(
      `  - name: ${h.name}`,
      `    docker: ${JSON.stringify(h.endpoint)}`,
      '    address: 127.0.0.1',
      `    capacity: {cpus: ${h.cpus}, memoryMb: ${h.memoryMb}}`,
      `    labels: {zone: ${h.zone}}`,
    );
  }
  lines.push(`hostCheckIntervalMs: ${timing.hostCheckIntervalMs}`, `hostDownAfterMs: ${timing.hostDownAfterMs}`, '');
  return lines.join('\n');
}

/** A docker demo service as a JSON-compatible document (what PUT /v1/services/:name takes). */
export function dockerServiceDocument(o: DockerServiceOptions): Record<string, unknown> {
  const intervalMs = o.healthIntervalMs ?? 200;
  return {
    kind: 'Service',
    name: o.name,
    runtime: { type: 'docker', image: DEMO_IMAGE, network: 'host', pull: 'never' },
    replicas: o.replicas,
    env: { DEMO_LATENCY_MS: '0', ...o.env },
    health: { path: '/healthz', intervalMs, timeoutMs: intervalMs, healthyThreshold: 1, unhealthyThreshold: o.unhealthyThreshold ?? 2 },
    stopGraceMs: o.stopGraceMs ?? 2_000,
    drainTimeoutMs: o.drainTimeoutMs ?? 5_000,
    resources: { cpus: o.cpus, memoryMb: o.memoryMb },
    ...(o.spread === false ? {} : { placement: { spread: 'zone' } }),
  };
}

/** The same document as a policy file (JSON is YAML). */
export function dockerServiceYaml(o: DockerServiceOptions): string {
  return `${JSON.stringify(dockerServiceDocument(o), null, 2)}\n`;
}

export function routeYaml(o: RouteOptions): string {
  return `kind: Route\nname: ${o.name}\nmatch: {pathPrefix: ${o.pathPrefix}}\nservice: ${o.service}\ntimeoutMs: ${o.timeoutMs}\nretries: ${o.retries}\n`;
}

/** Writes dockmaster.yaml, routes/ and policies/ into `dir` (created when missing). */
export function writeHostsConfig(dir: string, config: { gateway: string; routes: readonly RouteOptions[]; services: readonly DockerServiceOptions[] }): void {
  mkdirSync(join(dir, 'routes'), { recursive: true });
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'dockmaster.yaml'), config.gateway);
  for (const r of config.routes) writeFileSync(join(dir, 'routes', `${r.name}.yaml`), routeYaml(r));
  for (const s of config.services) writeFileSync(join(dir, 'policies', `${s.name}.yaml`), dockerServiceYaml(s));
}
