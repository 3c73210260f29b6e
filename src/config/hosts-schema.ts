// Schema and validation of the `hosts:` list of `dockmaster.yaml`: each Docker host's name, engine
// endpoint (with TLS files), address, capacity and labels, and the rules of the list as a whole
// (unique names and endpoints). TLS paths are resolved against the config folder here; whether
// the files exist is checked by the loader (host-tls-files.ts). Pure.
import { dirname, isAbsolute, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { ConfigProblem } from '../errors.js';
import type { DockerTlsFiles, HostConfig } from '../model/gateway.js';
import { labelKeyProblem, labelValueProblem, MAX_HOST_LABELS } from './label-rules.js';

/** Host names follow the rule of service and route names (a DNS label). */
const HOST_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
export const MAX_HOSTS = 256;
export const MAX_HOST_CPUS = 4_096;
/** 64 TiB. */
export const MAX_HOST_MEMORY_MB = 67_108_864;
export const MAX_HOST_REPLICAS = 10_000;
/** cpus are counted in thousandths (placement and Docker's NanoCpus): 0.001 is the smallest step. */
export const CPU_STEP = 0.001;

const TlsFile = Type.String({ minLength: 1, maxLength: 4096 });

export const HostSchema = Type.Object(
  {
    name: Type.String({ pattern: HOST_NAME_PATTERN, problem: 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit' }),
    docker: Type.String({ minLength: 1, maxLength: 4096 }),
    tls: Type.Optional(Type.Object({ ca: Type.Optional(TlsFile), cert: Type.Optional(TlsFile), key: Type.Optional(TlsFile) }, { additionalProperties: false })),
    address: Type.String({ minLength: 1, maxLength: 253 }),
    capacity: Type.Object(
      {
        cpus: Type.Number({ minimum: CPU_STEP, maximum: MAX_HOST_CPUS }),
        memoryMb: Type.Integer({ minimum: 1, maximum: MAX_HOST_MEMORY_MB }),
        maxReplicas: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HOST_REPLICAS })),
      },
      { additionalProperties: false },
    ),
    labels: Type.Optional(Type.Record(Type.String(), Type.String(), { maxProperties: MAX_HOST_LABELS })),
  },
  { additionalProperties: false },
);

export const HostsSchema = Type.Array(HostSchema, { maxItems: MAX_HOSTS });
export type HostInput = Static<typeof HostSchema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pointerKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HOST_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function isIpv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return false;
  try {
    // The WHATWG URL parser implements the IPv6 address grammar; a bad one throws.
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/** Why `address` is not an IPv4 address, an IPv6 address (no brackets) or a host name, or
 * undefined. Any address is accepted, loopback or not: it is where the host's host-network
 * containers are reached. */
export function hostAddressProblem(address: string): string | undefined {
  const example = "must be an IP address or a host name, e.g. '127.0.0.1', '10.0.0.5', '::1' or 'node-a.internal'";
  const ipv4 = IPV4.exec(address);
  if (ipv4 !== null) return ipv4.slice(1).every((octet) => Number(octet) <= 255) ? undefined : `'${address}' is not an IPv4 address: ${example}`;
  if (address.startsWith('[')) return 'write an IPv6 address without brackets, e.g. ::1';
  if (address.includes(':')) return isIpv6(address) ? undefined : `'${address}' is not an IPv6 address: ${example}`;
  // A name whose labels are all digits would be read as a (bad) IPv4 address by resolvers.
  if (/^[0-9.]+$/.test(address)) return `'${address}' is not an IPv4 address: ${example}`;
  return HOST_NAME.test(address) ? undefined : `'${address}' ${example}`;
}

export type DockerEndpoint = { readonly scheme: 'unix'; readonly socketPath: string } | { readonly scheme: 'tcp'; readonly host: string; readonly port: number };

export type DockerEndpointParse = { readonly ok: true; readonly endpoint: DockerEndpoint } | { readonly ok: false; readonly problem: string };

const ENDPOINT_FORMS = "'unix:///absolute/socket/path' or 'tcp://host:port'";

/** Reads a Docker engine endpoint: `unix:///var/run/docker.sock` or `tcp://10.0.0.5:2376` (an
 * IPv6 host in brackets, `tcp://[::1]:2375`), as Docker's own `-H` flag writes them. */
export function parseDockerEndpoint(text: string): DockerEndpointParse {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1];
  if (scheme === undefined) return { ok: false, problem: `must be ${ENDPOINT_FORMS}` };
  if (scheme === 'unix') {
    const socketPath = text.slice('unix://'.length);
    if (!socketPath.startsWith('/') || socketPath === '/') return { ok: false, problem: "a unix endpoint needs an absolute socket path, e.g. 'unix:///var/run/docker.sock'" };
    if (socketPath.includes('\0')) return { ok: false, problem: 'must not contain NUL' };
    return { ok: true, endpoint: { scheme: 'unix', socketPath } };
  }
  if (scheme === 'tcp') {
    const match = /^(\[[^\]]*\]|[^:/[\]]*)(?::([^/]*))?(\/.*)?$/.exec(text.slice('tcp://'.length));
    const [, rawHost = '', rawPort, path] = match ?? [];
    if (match === null || path !== undefined) return { ok: false, problem: `a tcp endpoint is 'tcp://host:port' with no path or user part, e.g. 'tcp://10.0.0.5:2376'` };
    if (rawHost === '' || rawHost === '[]') return { ok: false, problem: "a tcp endpoint needs a host, e.g. 'tcp://10.0.0.5:2376'" };
    const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
    const hostProblem = rawHost.startsWith('[') && !isIpv6(host) ? `'${host}' is not an IPv6 address` : rawHost.startsWith('[') ? undefined : hostAddressProblem(host);
    if (hostProblem !== undefined) return { ok: false, problem: `a tcp endpoint needs a valid host: ${hostProblem}` };
    if (rawPort === undefined || rawPort === '') {
      return { ok: false, problem: `a tcp endpoint needs a port: 'tcp://${rawHost}:2376' (Docker listens on 2375, or 2376 with TLS)` };
    }
    const port = Number(rawPort);
    if (!/^\d{1,5}$/.test(rawPort) || port < 1 || port > 65_535) return { ok: false, problem: `port '${rawPort}' must be a number from 1 to 65535` };
    return { ok: true, endpoint: { scheme: 'tcp', host, port } };
  }
  return { ok: false, problem: `scheme '${scheme}://' is not a Docker endpoint: must be ${ENDPOINT_FORMS}` };
}

/** The same engine written two ways (`tcp://Node-A:2375`, `tcp://node-a:2375`) compares equal. */
function endpointKey(endpoint: DockerEndpoint): string {
  return endpoint.scheme === 'unix' ? `unix:${endpoint.socketPath}` : `tcp:${endpoint.host.toLowerCase()}:${endpoint.port}`;
}

function isStepOf(value: number, step: number): boolean {
  const steps = value / step;
  return Math.abs(steps - Math.round(steps)) < 1e-6;
}

function tlsProblems(tls: Record<string, unknown>, endpoint: DockerEndpoint | undefined, path: string, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (endpoint?.scheme === 'unix') problems.push({ file, path, message: 'applies only to a tcp:// docker endpoint (a unix socket is not encrypted)' });
  if (tls['ca'] === undefined && tls['cert'] === undefined && tls['key'] === undefined) {
    problems.push({ file, path, message: 'must name ca, cert and key files (or ca alone to verify the daemon only)' });
  }
  if ((tls['cert'] === undefined) !== (tls['key'] === undefined)) {
    const missing = tls['cert'] === undefined ? 'cert' : 'key';
    problems.push({ file, path: `${path}/${missing}`, message: 'is required with the other of cert and key (a client certificate and its key go together)' });
  }
  for (const key of ['ca', 'cert', 'key'] as const) {
    const value = tls[key];
    if (typeof value === 'string' && value.includes('\0')) problems.push({ file, path: `${path}/${key}`, message: 'must not contain NUL' });
  }
  return problems;
}

function labelProblems(labels: Record<string, unknown>, path: string, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const at = `${path}/${pointerKey(key)}`;
    const keyProblem = labelKeyProblem(key);
    if (keyProblem !== undefined) problems.push({ file, path: at, message: keyProblem });
    const valueProblem = typeof value === 'string' ? labelValueProblem(value) : undefined;
    if (valueProblem !== undefined) problems.push({ file, path: at, message: valueProblem });
  }
  return problems;
}

/**
 * Problems the schema cannot express, for a `hosts` value that may be malformed (checks skip
 * what the schema already reports): the endpoint's form, `tls` only with tcp and cert with key,
 * the address, cpus in thousandths, label names and values, and, over the list, a name or an
 * engine endpoint used twice (reported on the later host, naming the earlier one).
 */
export function hostsProblems(hosts: unknown, file: string, basePath = '/hosts'): ConfigProblem[] {
  if (!Array.isArray(hosts)) return [];
  const problems: ConfigProblem[] = [];
  const names = new Map<string, number>();
  const endpoints = new Map<string, number>();
  hosts.forEach((host: unknown, i) => {
    if (!isRecord(host)) return;
    const path = `${basePath}/${i}`;
    const name = host['name'];
    if (typeof name === 'string' && name !== '') {
      const first = names.get(name);
      if (first === undefined) names.set(name, i);
      else problems.push({ file, path: `${path}/name`, message: `host name '${name}' is already used by ${basePath}/${first}` });
    }
    let endpoint: DockerEndpoint | undefined;
    const docker = host['docker'];
    if (typeof docker === 'string' && docker !== '') {
      const parsed = parseDockerEndpoint(docker);
      if (!parsed.ok) {
        problems.push({ file, path: `${path}/docker`, message: parsed.problem });
      } else {
        endpoint = parsed.endpoint;
        const key = endpointKey(endpoint);
        const first = endpoints.get(key);
        if (first === undefined) endpoints.set(key, i);
        else problems.push({ file, path: `${path}/docker`, message: `'${docker}' is the engine of ${basePath}/${first} too: each host needs its own Docker engine` });
      }
    }
    const tls = host['tls'];
    if (isRecord(tls)) problems.push(...tlsProblems(tls, endpoint, `${path}/tls`, file));
    const address = host['address'];
    if (typeof address === 'string' && address !== '') {
      const problem = hostAddressProblem(address);
      if (problem !== undefined) problems.push({ file, path: `${path}/address`, message: problem });
    }
    const capacity = host['capacity'];
    const cpus = isRecord(capacity) ? capacity['cpus'] : undefined;
    if (typeof cpus === 'number' && cpus >= CPU_STEP && !isStepOf(cpus, CPU_STEP)) {
      problems.push({ file, path: `${path}/capacity/cpus`, message: `must be a multiple of ${CPU_STEP} (cpus are counted in thousandths)` });
    }
    const labels = host['labels'];
    if (isRecord(labels)) problems.push(...labelProblems(labels, `${path}/labels`, file));
  });
  return problems;
}

function resolveTls(tls: HostInput['tls'], configDir: string): DockerTlsFiles | undefined {
  if (tls === undefined) return undefined;
  const at = (path: string | undefined): string | undefined => (path === undefined ? undefined : isAbsolute(path) ? path : resolve(configDir, path));
  return {
    ...(tls.ca === undefined ? {} : { ca: at(tls.ca) }),
    ...(tls.cert === undefined ? {} : { cert: at(tls.cert) }),
    ...(tls.key === undefined ? {} : { key: at(tls.key) }),
  };
}

/** The validated hosts of a file at `file` (TLS paths resolved against its folder), none
 * cordoned. Expects a list that hostsProblems and the schema accepted. */
export function toHostConfigs(hosts: readonly HostInput[] | undefined, file: string): HostConfig[] {
  const configDir = dirname(file);
  return (hosts ?? []).map((host) => {
    const tls = resolveTls(host.tls, configDir);
    return {
      name: host.name,
      dockerEndpoint: host.docker,
      ...(tls === undefined ? {} : { tls }),
      address: host.address,
      capacity: {
        cpus: host.capacity.cpus,
        memoryMb: host.capacity.memoryMb,
        ...(host.capacity.maxReplicas === undefined ? {} : { maxReplicas: host.capacity.maxReplicas }),
      },
      labels: { ...host.labels },
      cordoned: false,
    };
  });
}
