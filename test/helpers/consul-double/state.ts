// The catalog held by the Consul HTTP API double: nodes, service instances, checks, one raft-like
// index increased by every write, and per-resource indexes (`services`, `service:<name>`, `kv`,
// `kv:<key>`, `sessions`) that blocking queries wait on. Test helper; pure data plus change
// listeners.

export type CheckStatus = 'passing' | 'warning' | 'critical';

export interface NodeRecord {
  readonly id: string;
  readonly node: string;
  readonly address: string;
  createIndex: number;
  modifyIndex: number;
}

export interface ServiceRecord {
  readonly node: string;
  readonly id: string;
  readonly service: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  readonly weights: { readonly Passing: number; readonly Warning: number };
  createIndex: number;
  modifyIndex: number;
}

export interface CheckDefinition {
  readonly HTTP?: string | undefined;
  readonly Interval?: string | undefined;
  readonly Timeout?: string | undefined;
  readonly DeregisterCriticalServiceAfter?: string | undefined;
}

export interface CheckRecord {
  readonly node: string;
  readonly checkId: string;
  readonly name: string;
  status: CheckStatus;
  output: string;
  readonly notes: string;
  /** '' for node checks (serfHealth). */
  readonly serviceId: string;
  readonly serviceName: string;
  readonly serviceTags: readonly string[];
  readonly type: string;
  readonly definition: CheckDefinition;
  createIndex: number;
  modifyIndex: number;
  /** Unix ms since the check has been critical (for DeregisterCriticalServiceAfter). */
  criticalSinceMs: number | undefined;
}

/** Resource keys that blocking queries wait on. */
export const SERVICES_KEY = 'services';
export function serviceKey(name: string): string {
  return `service:${name}`;
}
/** The whole KV table (Consul's `kvs` table index), one KV key, and the sessions table. */
export const KV_KEY = 'kv';
export function kvKey(key: string): string {
  return `kv:${key}`;
}
export const SESSIONS_KEY = 'sessions';

export class DoubleState {
  readonly datacenter: string;
  /** The raft-like index: the index of the latest write. */
  index = 0;
  readonly nodes = new Map<string, NodeRecord>();
  /** By `node/serviceId`. */
  readonly services = new Map<string, ServiceRecord>();
  /** By `node/checkId`. */
  readonly checks = new Map<string, CheckRecord>();
  private readonly resourceIndexes = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  constructor(datacenter: string) {
    this.datacenter = datacenter;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The index a blocking query on `key` compares against; falls back to `fallbackKey` (Consul
   * answers a query for a service it never had with the index of the whole services table). */
  resourceIndex(key: string, fallbackKey = SERVICES_KEY): number {
    return Math.max(1, this.resourceIndexes.get(key) ?? this.resourceIndexes.get(fallbackKey) ?? this.index);
  }

  /** The index of the last write that touched `key`, 0 when none did (no fallback). */
  exactIndex(key: string): number {
    return this.resourceIndexes.get(key) ?? 0;
  }

  /** The highest index of the resources whose key starts with `prefix` (0 when none): with
   * `kv:<prefix>` it covers live keys and deleted ones alike, like Consul's tombstones. */
  maxIndexWithPrefix(prefix: string): number {
    let max = 0;
    for (const [key, index] of this.resourceIndexes) if (key.startsWith(prefix) && index > max) max = index;
    return max;
  }

  /** One write: increases the index, stamps the touched resources with it, wakes waiters. */
  write<T>(touched: readonly string[], apply: (index: number) => T): T {
    const index = this.index + 1;
    this.index = index;
    const result = apply(index);
    for (const key of touched) this.resourceIndexes.set(key, index);
    for (const listener of [...this.listeners]) listener();
    return result;
  }

  /** Moves every index back to `toIndex` at most, the way restoring an older raft snapshot does. */
  rewind(toIndex: number): void {
    this.index = Math.max(1, Math.min(this.index, toIndex));
    for (const [key, value] of this.resourceIndexes) this.resourceIndexes.set(key, Math.min(value, this.index));
    for (const listener of [...this.listeners]) listener();
  }

  ensureNode(node: string, address: string): void {
    if (this.nodes.has(node)) return;
    this.write([SERVICES_KEY], (index) => {
      this.nodes.set(node, { id: pseudoUuid(node), node, address, createIndex: index, modifyIndex: index });
      this.checks.set(`${node}/serfHealth`, {
        node,
        checkId: 'serfHealth',
        name: 'Serf Health Status',
        status: 'passing',
        output: 'Agent alive and reachable',
        notes: '',
        serviceId: '',
        serviceName: '',
        serviceTags: [],
        type: '',
        definition: {},
        createIndex: index,
        modifyIndex: index,
        criticalSinceMs: undefined,
      });
    });
  }

  /** Registers or replaces a service instance with its checks; a check that already exists keeps
   * its status (Consul keeps check state across re-registration). */
  upsertService(
    service: Omit<ServiceRecord, 'createIndex' | 'modifyIndex'>,
    checks: readonly { checkId: string; name: string; status?: CheckStatus | undefined; notes?: string; type: string; definition: CheckDefinition }[],
    nowMs: number,
  ): void {
    const key = `${service.node}/${service.id}`;
    const previous = this.services.get(key);
    const touched = [SERVICES_KEY, serviceKey(service.service)];
    if (previous !== undefined && previous.service !== service.service) touched.push(serviceKey(previous.service));
    this.write(touched, (index) => {
      this.services.set(key, { ...service, createIndex: previous?.createIndex ?? index, modifyIndex: index });
      const keep = new Set(checks.map((c) => `${service.node}/${c.checkId}`));
      for (const [checkKey, check] of this.checks) {
        if (check.node === service.node && check.serviceId === service.id && !keep.has(checkKey)) this.checks.delete(checkKey);
      }
      for (const c of checks) {
        const checkKey = `${service.node}/${c.checkId}`;
        const existing = this.checks.get(checkKey);
        const status = c.status ?? existing?.status ?? 'critical';
        this.checks.set(checkKey, {
          node: service.node,
          checkId: c.checkId,
          name: c.name,
          status,
          output: existing?.output ?? '',
          notes: c.notes ?? '',
          serviceId: service.id,
          serviceName: service.service,
          serviceTags: service.tags,
          type: c.type,
          definition: c.definition,
          createIndex: existing?.createIndex ?? index,
          modifyIndex: index,
          criticalSinceMs: status === 'critical' ? (existing?.criticalSinceMs ?? nowMs) : undefined,
        });
      }
    });
  }

  /** Removes a service instance and its checks; false when unknown. */
  removeService(node: string, serviceId: string): boolean {
    const key = `${node}/${serviceId}`;
    const existing = this.services.get(key);
    if (existing === undefined) return false;
    this.write([SERVICES_KEY, serviceKey(existing.service)], () => {
      this.services.delete(key);
      for (const [checkKey, check] of this.checks) if (check.node === node && check.serviceId === serviceId) this.checks.delete(checkKey);
    });
    return true;
  }

  /** Sets a check's status; only a change is a write (Consul skips idempotent check updates). */
  setCheck(node: string, checkId: string, status: CheckStatus, output: string, nowMs: number): boolean {
    const check = this.checks.get(`${node}/${checkId}`);
    if (check === undefined) return false;
    if (check.status === status) return true;
    const touched = check.serviceId === '' ? this.serviceKeysOnNode(node) : [serviceKey(check.serviceName)];
    this.write(touched, (index) => {
      check.status = status;
      check.output = output;
      check.modifyIndex = index;
      check.criticalSinceMs = status === 'critical' ? nowMs : undefined;
    });
    return true;
  }

  /** A write that changes nothing, like an idempotent update: the indexes move on, the data not. */
  touch(keys: readonly string[]): void {
    this.write(keys, () => undefined);
  }

  instancesOf(name: string): ServiceRecord[] {
    return [...this.services.values()].filter((s) => s.service === name).sort((a, b) => (a.node === b.node ? cmp(a.id, b.id) : cmp(a.node, b.node)));
  }

  checksFor(node: string, serviceId: string): CheckRecord[] {
    return [...this.checks.values()].filter((c) => c.node === node && (c.serviceId === '' || c.serviceId === serviceId)).sort((a, b) => cmp(a.checkId, b.checkId));
  }

  private serviceKeysOnNode(node: string): string[] {
    return [...new Set([...this.services.values()].filter((s) => s.node === node).map((s) => serviceKey(s.service)))];
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A stable UUID-shaped node id derived from the name (Consul node ids are UUIDs). */
function pseudoUuid(seed: string): string {
  let h = 2166136261;
  const hex: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const ch of `${seed}#${round}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    hex.push(h.toString(16).padStart(8, '0'));
  }
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}
