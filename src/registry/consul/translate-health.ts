// Translates Consul's `GET /v1/health/service/:name?passing` answer into the endpoints of one
// service: one bad entry is skipped and reported, a whole answer of the wrong shape is a failed
// read (the caller keeps its last good view). Pure.
import type { Endpoint } from '../../model/endpoint.js';

export interface SkippedEntry {
  readonly id: string;
  readonly reason: string;
}

export interface TranslateOptions {
  /** Tags `<prefix>version=X` and `<prefix>weight=N` carry the version and the weight. */
  readonly tagPrefix: string;
  /** Instances this dockmaster registered itself (Service.Meta `dockmaster-instance` equal to
   * this) are left out silently: they are already in the managed provider's snapshot. */
  readonly ownInstance?: string | undefined;
}

/** The Service.Meta key a registering dockmaster instance puts its id under. */
export const INSTANCE_META_KEY = 'dockmaster-instance';

export type HealthTranslation =
  | {
      readonly ok: true;
      /** Sorted by id, so that equal answers give equal arrays. */
      readonly endpoints: readonly Endpoint[];
      /** Entries left out, with why. */
      readonly skipped: readonly SkippedEntry[];
      /** Entries used with a default in place of a bad value (a weight tag that is not 0..1000). */
      readonly warnings: readonly SkippedEntry[];
    }
  | { readonly ok: false; readonly error: string };

export const MAX_WEIGHT = 1000;
const DEFAULT_WEIGHT = 1;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/** `http://ADDR:PORT`, IPv6 in brackets; undefined when the address is not a host name or IP. */
export function originFor(address: string, port: number): string | undefined {
  let host: string;
  if (address.includes(':')) {
    // IPv6 literal; zone ids (`%eth0`) are not routable through an origin and are refused.
    if (!IPV6.test(address)) return undefined;
    host = `[${address}]`;
  } else if (HOSTNAME.test(address)) {
    host = address;
  } else {
    return undefined;
  }
  try {
    // Normalises (`[::0001]` -> `[::1]`, upper to lower case) and rejects what only looks like an
    // address; the port is written out even when it is 80, as every other origin here has one.
    return `http://${new URL(`http://${host}:${port}`).hostname}:${port}`;
  } catch {
    return undefined;
  }
}

/** The value of the first tag `<prefix><key>=VALUE`, or undefined. */
function tagValue(tags: readonly string[], prefix: string, key: string): string | undefined {
  const head = `${prefix}${key}=`;
  const tag = tags.find((t) => t.startsWith(head));
  return tag === undefined ? undefined : tag.slice(head.length);
}

function readTags(value: unknown): string[] | undefined {
  // Go encodes an empty slice as null.
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) return undefined;
  return value;
}

/** Health of an entry from its checks: with `?passing` all pass; a server that ignored the filter
 * still cannot make a failing instance healthy. */
function allChecksPass(checks: unknown): boolean {
  if (!Array.isArray(checks)) return true;
  return checks.every((c) => !isObject(c) || c['Status'] === undefined || c['Status'] === 'passing');
}

/**
 * Translates one health answer. Worked example (prefix ''):
 *   [{Node:{Node:'n1',Address:'10.0.0.1'}, Service:{ID:'api-1',Service:'api',Address:'',Port:8080,
 *     Tags:['version=v2','weight=5']}, Checks:[...passing]}]
 *   -> [{id:'consul:n1/api-1', origin:'http://10.0.0.1:8080', revision:'v2', weight:5,
 *        source:'consul', healthy:true, draining:false}]
 */
export function translateHealth(service: string, body: unknown, options: TranslateOptions): HealthTranslation {
  if (!Array.isArray(body)) {
    return { ok: false, error: `health answer for ${service} is not an array (got ${body === null ? 'null' : typeof body})` };
  }
  const bad = body.findIndex((entry) => !isObject(entry));
  if (bad >= 0) return { ok: false, error: `health answer for ${service}: entry ${bad} is not an object` };

  const endpoints: Endpoint[] = [];
  const skipped: SkippedEntry[] = [];
  const warnings: SkippedEntry[] = [];
  const seen = new Set<string>();
  (body as JsonObject[]).forEach((entry, index) => {
    const fallbackId = `consul:${service}[${index}]`;
    const node = entry['Node'];
    const svc = entry['Service'];
    if (!isObject(node) || !isObject(svc)) {
      skipped.push({ id: fallbackId, reason: 'entry has no Node or Service object' });
      return;
    }
    const nodeName = node['Node'];
    const serviceId = svc['ID'];
    if (!nonEmptyString(nodeName) || !nonEmptyString(serviceId)) {
      skipped.push({ id: fallbackId, reason: 'entry has no Node.Node or Service.ID' });
      return;
    }
    const id = `consul:${nodeName}/${serviceId}`;
    if (svc['Service'] !== service) {
      skipped.push({ id, reason: `entry is for service ${JSON.stringify(svc['Service'])}, not ${service}` });
      return;
    }
    const meta = svc['Meta'];
    if (options.ownInstance !== undefined && isObject(meta) && meta[INSTANCE_META_KEY] === options.ownInstance) return;
    if (seen.has(id)) {
      skipped.push({ id, reason: 'duplicate id' });
      return;
    }
    const serviceAddress = svc['Address'];
    const nodeAddress = node['Address'];
    if ((serviceAddress !== undefined && serviceAddress !== null && typeof serviceAddress !== 'string') || (nodeAddress !== undefined && nodeAddress !== null && typeof nodeAddress !== 'string')) {
      skipped.push({ id, reason: 'address is not a string' });
      return;
    }
    const address = nonEmptyString(serviceAddress) ? serviceAddress : nodeAddress;
    if (!nonEmptyString(address)) {
      skipped.push({ id, reason: 'missing address (neither Service.Address nor Node.Address)' });
      return;
    }
    const port = svc['Port'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      skipped.push({ id, reason: `port ${JSON.stringify(port)} is not an integer 1..65535` });
      return;
    }
    const origin = originFor(address, port);
    if (origin === undefined) {
      skipped.push({ id, reason: `address ${JSON.stringify(address)} is not a host name or IP address` });
      return;
    }
    const tags = readTags(svc['Tags']);
    if (tags === undefined) {
      skipped.push({ id, reason: 'Service.Tags is not an array of strings' });
      return;
    }
    let weight = DEFAULT_WEIGHT;
    const weightTag = tagValue(tags, options.tagPrefix, 'weight');
    if (weightTag !== undefined) {
      const parsed = /^\d{1,4}$/.test(weightTag) ? Number(weightTag) : Number.NaN;
      if (Number.isInteger(parsed) && parsed <= MAX_WEIGHT) weight = parsed;
      else warnings.push({ id, reason: `tag ${options.tagPrefix}weight=${weightTag} is not an integer 0..${MAX_WEIGHT}: weight ${DEFAULT_WEIGHT} used` });
    }
    const version = tagValue(tags, options.tagPrefix, 'version');
    seen.add(id);
    endpoints.push({
      id,
      origin,
      weight,
      revision: version === undefined || version === '' ? undefined : version,
      source: 'consul',
      healthy: allChecksPass(entry['Checks']),
      draining: false,
    });
  });
  endpoints.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ok: true, endpoints, skipped, warnings };
}
