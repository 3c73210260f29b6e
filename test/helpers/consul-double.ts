// ConsulDouble: a Consul HTTP API double (a double, not Consul) on 127.0.0.1 following Consul's
// documented catalog, health, agent-service, session and KV endpoints and blocking queries, with
// fault injection and request counts. Test helper; I/O (HTTP server, session TTL timer).
//
// Covered: GET /v1/catalog/services, /v1/catalog/service/:name, /v1/health/service/:name
// (?passing, ?tag, ?dc), GET /v1/agent/services, PUT /v1/agent/service/register and
// /deregister/:id (HTTP and TTL checks, DeregisterCriticalServiceAfter); sessions: PUT
// /v1/session/create (Name, Node, NodeChecks/Checks, LockDelay, Behavior release|delete, TTL),
// PUT /v1/session/renew/:id, PUT /v1/session/destroy/:id, GET /v1/session/info/:id,
// /v1/session/list, /v1/session/node/:node; KV: GET /v1/kv/:key (?raw, ?recurse, ?keys with
// ?separator), PUT /v1/kv/:key (?flags, ?cas, ?acquire, ?release), DELETE /v1/kv/:key (?recurse,
// ?cas); X-Consul-Index on every answer and blocking queries (index, wait) on every read.
// Where it differs from Consul: a session expires when its TTL has passed (Consul only promises
// "not before the TTL" and may take up to twice as long); `session_ttl_min` is an option
// (sessionTtlMinMs) so tests can use TTLs below Consul's 10 s floor; KV keys are only checked
// for emptiness, a leading '/' and '../'.
// Not covered: ACL policies beyond one token, hash-based blocking, `filter`, `near`,
// `consistent`/`stale` modes, several datacenters, Connect, ServiceChecks on sessions, the
// /v1/txn endpoint, session-bound prepared queries, namespaces and partitions.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseGoDurationMs } from './consul-double/durations.js';
import { DoubleState, KV_KEY, kvKey, SERVICES_KEY, SESSIONS_KEY, serviceKey, type CheckDefinition, type CheckStatus, type ServiceRecord } from './consul-double/state.js';
import { takeFault, type ConsulFault, type DoubleEndpoint, type FaultRule } from './consul-double/faults.js';
import { CheckRunner } from './consul-double/check-runner.js';
import { HttpError } from './consul-double/http-error.js';
import { KvStore, type KvEntry } from './consul-double/kv-store.js';
import { DEFAULT_SESSION_TTL_MIN_MS, parseSessionCreate, sessionJson, SessionStore, type SessionRecord } from './consul-double/sessions.js';

export type { ConsulFault, DoubleEndpoint } from './consul-double/faults.js';
export type { CheckStatus } from './consul-double/state.js';
export type { KvEntry } from './consul-double/kv-store.js';
export type { SessionRecord } from './consul-double/sessions.js';

export interface ConsulDoubleOptions {
  /** Default 0 (an ephemeral port). */
  readonly port?: number;
  /** The agent's node name and datacenter. Defaults `double-node`, `dc1`. */
  readonly nodeName?: string;
  readonly datacenter?: string;
  /** Add Consul's random extra wait (up to wait / 16) to blocking queries. Default true. */
  readonly jitter?: boolean;
  /** Run the HTTP checks of registered services (loopback only), like an agent. Default false:
   * checks stay as registered (critical) until a test sets them. */
  readonly runHttpChecks?: boolean;
  /** When set, every request must carry this token (X-Consul-Token) or gets 403. */
  readonly aclToken?: string;
  /** The shortest session TTL accepted, Consul's `session_ttl_min`. Default 10000 (Consul's
   * default); tests lower it to use short TTLs. */
  readonly sessionTtlMinMs?: number;
}

/** A service instance registered directly in the catalog (another node's agent, as it were). */
export interface DoubleServiceInput {
  readonly name: string;
  /** Default: the name. */
  readonly id?: string;
  /** Default: the agent's node. A new node is created with `nodeAddress`. */
  readonly node?: string;
  readonly nodeAddress?: string;
  /** Service address; '' (default) means "use the node's address". */
  readonly address?: string;
  readonly port: number;
  readonly tags?: readonly string[];
  readonly meta?: Readonly<Record<string, string>>;
  /** Status of the one service check `service:<id>`; default passing. Null: no service check. */
  readonly check?: CheckStatus | null;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly atMs: number;
  readonly token: string | undefined;
}

const DEFAULT_WAIT_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;
const MAX_BODY_BYTES = 1 << 20;
/** Consul's default kv_max_value_size. */
const KV_MAX_VALUE_BYTES = 512 * 1024;
const REQUEST_LOG_LIMIT = 100_000;
const HTML_ERROR = '<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n<body><h1>Internal Server Error</h1><p>upstream connect error</p></body></html>\n';

type JsonObject = Record<string, unknown>;

/** What a read answers once it stops waiting. */
type ReadAnswer = { readonly status: 200; readonly json: unknown } | { readonly status: 200; readonly raw: Buffer } | { readonly status: 404 };

/** What a blocking read watches. */
interface Watch {
  /** The X-Consul-Index of the answer; a query with an older `index` answers at once. */
  index(): number;
  /** True once what the query reads changed after `minIndex`: this wakes a held query. */
  changedSince(minIndex: number): boolean;
  /** The resources an injected `churn` fault touches. */
  readonly churnKeys: readonly string[];
}

/** A watch on one resource key, its index both what is answered and what wakes. */
function resourceWatch(state: DoubleState, key: string): Watch {
  return { index: () => state.resourceIndex(key), changedSince: (min) => state.resourceIndex(key) > min, churnKeys: [key] };
}

/** JSON text with uint64 values (bigint) written as plain numbers, as Go writes KV flags. */
function stringifyJson(body: unknown): string {
  return JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? `\u0000bigint:${value}` : value)).replace(/"\\u0000bigint:(\d+)"/g, '$1');
}

/** A uint64 query parameter (`flags`, `cas`); Consul answers 500 with strconv's error otherwise. */
function uint64Param(url: URL, name: string): bigint | undefined {
  const text = url.searchParams.get(name);
  if (text === null) return undefined;
  if (!/^\d+$/.test(text) || BigInt(text) > 0xffff_ffff_ffff_ffffn) throw new HttpError(500, `strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`);
  return BigInt(text);
}

/** The KV key checks the double makes (Consul's newest versions check more characters). */
function checkKvKey(key: string, required: boolean): void {
  if (key === '') {
    if (required) throw new HttpError(400, 'Missing key name');
    return;
  }
  if (key.startsWith('/')) throw new HttpError(400, "key must not begin with a '/'");
  if (key.includes('../')) throw new HttpError(400, 'key contains path traversal sequence');
}

/** Consul refuses `?cas` with `?acquire`, `?recurse` with `?cas` and such. */
function refuseConflicting(url: URL, names: readonly string[]): void {
  if (names.filter((n) => url.searchParams.has(n)).length > 1) throw new HttpError(400, `Conflicting flags: ${url.searchParams.toString()}`);
}

function kvEntryJson(e: KvEntry): JsonObject {
  const out: JsonObject = { LockIndex: e.lockIndex, Key: e.key, Flags: e.flags, Value: e.value === null ? null : e.value.toString('base64') };
  if (e.session !== '') out['Session'] = e.session;
  out['CreateIndex'] = e.createIndex;
  out['ModifyIndex'] = e.modifyIndex;
  return out;
}

/** Go's encoding/json matches field names case-insensitively; so does the double. */
function field(obj: JsonObject, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(obj)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, what: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new HttpError(400, `Request decode failed: ${what} must be a list of strings`);
  return value;
}

function optionalString(value: unknown, what: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new HttpError(400, `Request decode failed: ${what} must be a string`);
  return value;
}

function durationField(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || parseGoDurationMs(value) === undefined) throw new HttpError(400, `Request decode failed: ${what}: invalid duration ${JSON.stringify(value)}`);
  return value;
}

function checkStatus(value: unknown): CheckStatus | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === 'passing' || value === 'warning' || value === 'critical') return value;
  throw new HttpError(400, `Invalid check status: ${JSON.stringify(value)}`);
}

export class ConsulDouble {
  readonly state: DoubleState;
  readonly kv: KvStore;
  readonly sessions: SessionStore;
  readonly nodeName: string;
  private readonly options: ConsulDoubleOptions;
  private server: http.Server | undefined;
  private portNumber = 0;
  private readonly sockets = new Set<Socket>();
  private readonly faults: FaultRule[] = [];
  private readonly log: RecordedRequest[] = [];
  private readonly counts = new Map<string, number>();
  /** Wakes every held request (blocking waits, hangs, slow answers) on close. */
  private readonly pending = new Set<() => void>();
  private readonly checkRunner: CheckRunner;
  private sessionTimer: NodeJS.Timeout | undefined;
  private checkingSessions = false;
  private closed = false;

  private constructor(options: ConsulDoubleOptions) {
    this.options = options;
    this.nodeName = options.nodeName ?? 'double-node';
    this.state = new DoubleState(options.datacenter ?? 'dc1');
    this.state.ensureNode(this.nodeName, '127.0.0.1');
    // Consul servers register themselves as the `consul` service (no service check).
    this.state.upsertService({ node: this.nodeName, id: 'consul', service: 'consul', address: '', port: 8300, tags: [], meta: {}, weights: { Passing: 1, Warning: 1 } }, [], Date.now());
    this.checkRunner = new CheckRunner(this.state, {
      runHttpChecks: options.runHttpChecks ?? false,
      onReap: (node, serviceId) => this.state.removeService(node, serviceId),
    });
    this.kv = new KvStore(this.state);
    this.sessions = new SessionStore(this.state, this.kv, { ttlMinMs: options.sessionTtlMinMs ?? DEFAULT_SESSION_TTL_MIN_MS });
    // A session dies with the checks it depends on (critical or deregistered), as in Consul.
    this.state.onChange(() => {
      if (this.checkingSessions || this.sessions.sessions.size === 0) return;
      this.checkingSessions = true;
      try {
        if (this.sessions.invalidateOnChecks(Date.now()).length > 0) this.scheduleSessionExpiry();
      } finally {
        this.checkingSessions = false;
      }
    });
  }

  /** Starts a double on 127.0.0.1. */
  static async start(options: ConsulDoubleOptions = {}): Promise<ConsulDouble> {
    const double = new ConsulDouble(options);
    await double.listen(options.port ?? 0);
    return double;
  }

  get port(): number {
    return this.portNumber;
  }

  /** `http://127.0.0.1:PORT`, what the provider's `address` takes. */
  get address(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  /** The raft-like index of the latest write. */
  get index(): number {
    return this.state.index;
  }

  // ---- data controls -------------------------------------------------------------------------

  /** Registers a service instance in the catalog, with one service check (default passing). */
  registerService(input: DoubleServiceInput): string {
    const node = input.node ?? this.nodeName;
    const id = input.id ?? input.name;
    this.state.ensureNode(node, input.nodeAddress ?? '127.0.0.1');
    const checks = input.check === null ? [] : [{ checkId: `service:${id}`, name: `Service '${input.name}' check`, status: input.check ?? 'passing', type: 'ttl', definition: {} }];
    this.state.upsertService(
      { node, id, service: input.name, address: input.address ?? '', port: input.port, tags: [...(input.tags ?? [])], meta: { ...(input.meta ?? {}) }, weights: { Passing: 1, Warning: 1 } },
      checks,
      Date.now(),
    );
    return id;
  }

  /** Removes a service instance; false when unknown. */
  deregisterService(id: string, node = this.nodeName): boolean {
    return this.state.removeService(node, id);
  }

  /** Sets one check (`service:<id>`, `serfHealth`, ...); false when unknown. */
  setCheck(checkId: string, status: CheckStatus, node = this.nodeName): boolean {
    return this.state.setCheck(node, checkId, status, `set by test: ${status}`, Date.now());
  }

  /** Sets every check of a service instance; false when the instance is unknown. */
  setServiceHealth(serviceId: string, status: CheckStatus, node = this.nodeName): boolean {
    if (!this.state.services.has(`${node}/${serviceId}`)) return false;
    for (const check of this.state.checksFor(node, serviceId)) if (check.serviceId === serviceId) this.state.setCheck(node, check.checkId, status, `set by test: ${status}`, Date.now());
    return true;
  }

  /** Flips a node's serfHealth check: every instance on it passes or fails with it. */
  setNodeHealth(node: string, status: CheckStatus): boolean {
    return this.state.setCheck(node, 'serfHealth', status, `set by test: ${status}`, Date.now());
  }

  /** A write that changes nothing but the index of the given services (an idempotent update). */
  touchService(name: string): void {
    this.state.touch([serviceKey(name)]);
  }

  /** Moves every index back (a raft snapshot restore): clients must reset their index. */
  rewindIndex(toIndex: number): void {
    this.state.rewind(toIndex);
  }

  /** Service instances in the catalog (agent-registered ones included), with their checks. */
  instances(name?: string): (ServiceRecord & { checks: { checkId: string; status: CheckStatus; definition: CheckDefinition }[] })[] {
    return [...this.state.services.values()]
      .filter((s) => name === undefined || s.service === name)
      .map((s) => ({ ...s, checks: this.state.checksFor(s.node, s.id).filter((c) => c.serviceId === s.id).map((c) => ({ checkId: c.checkId, status: c.status, definition: c.definition })) }));
  }

  /** Live sessions, by ID. */
  sessionList(): SessionRecord[] {
    return this.sessions.list();
  }

  /** Invalidates a session as Consul does when it expires or is destroyed (its locks are
   * released or deleted, their lock-delay starts); false when unknown. */
  invalidateSession(id: string): boolean {
    const gone = this.sessions.destroy(id, Date.now());
    this.scheduleSessionExpiry();
    return gone;
  }

  /** One KV entry, or undefined. */
  kvEntry(key: string): KvEntry | undefined {
    return this.kv.get(key);
  }

  /** A plain KV write (as `PUT /v1/kv/:key`): sets the value, keeps any lock. */
  putKv(key: string, value: string, flags = 0n): void {
    this.kv.set(key, value === '' ? null : Buffer.from(value), flags);
  }

  // ---- fault controls ------------------------------------------------------------------------

  /** Injects a fault on an endpoint, optionally for one subject and a number of requests. The
   * subject (`service` or its synonym `subject`) is the service name, the deregistered service
   * id, the session id (session.renew/destroy/info), the node (session.node) or the key (kv.*). */
  inject(endpoint: DoubleEndpoint, fault: ConsulFault, options: { service?: string; subject?: string; times?: number } = {}): void {
    this.faults.push({ endpoint, fault, service: options.subject ?? options.service, remaining: options.times });
  }

  /** Removes injected faults (of one endpoint, or all). */
  clearFaults(endpoint?: DoubleEndpoint): void {
    for (let i = this.faults.length - 1; i >= 0; i--) if (endpoint === undefined || this.faults[i]?.endpoint === endpoint) this.faults.splice(i, 1);
  }

  /** Closes the listener and drops every connection: clients get ECONNREFUSED until
   * acceptConnections(). */
  async refuseConnections(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.dropConnections();
    await closed;
  }

  /** Listens again on the same port. */
  async acceptConnections(): Promise<void> {
    if (this.server !== undefined || this.closed) return;
    await this.listen(this.portNumber);
  }

  // ---- request accounting --------------------------------------------------------------------

  /** Requests received whose path starts with `pathPrefix` (all when omitted), optionally since
   * a time and for one method. Counted before any fault applies. */
  requestCount(filter: { pathPrefix?: string; sinceMs?: number; method?: string } = {}): number {
    if (filter.sinceMs === undefined && filter.method === undefined) {
      let total = 0;
      for (const [key, n] of this.counts) if (key.slice(key.indexOf(' ') + 1).startsWith(filter.pathPrefix ?? '')) total += n;
      return total;
    }
    return this.log.filter((r) => r.path.startsWith(filter.pathPrefix ?? '') && (filter.sinceMs === undefined || r.atMs >= filter.sinceMs) && (filter.method === undefined || r.method === filter.method)).length;
  }

  /** Counts per `METHOD /path`. */
  requestCounts(): Map<string, number> {
    return new Map(this.counts);
  }

  /** The most recent requests, oldest first (at most 100000 kept). */
  requests(): readonly RecordedRequest[] {
    return this.log;
  }

  resetRequestLog(): void {
    this.log.length = 0;
    this.counts.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.checkRunner.stop();
    if (this.sessionTimer !== undefined) clearTimeout(this.sessionTimer);
    for (const wake of [...this.pending]) wake();
    await this.refuseConnections();
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private async listen(port: number): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.portNumber = (server.address() as AddressInfo).port;
  }

  private dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private record(req: http.IncomingMessage, url: URL): void {
    const key = `${req.method ?? 'GET'} ${url.pathname}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (this.log.length >= REQUEST_LOG_LIMIT) this.log.splice(0, this.log.length - REQUEST_LOG_LIMIT + 1);
    const token = req.headers['x-consul-token'];
    this.log.push({ method: req.method ?? 'GET', path: url.pathname, query: url.search, atMs: Date.now(), token: typeof token === 'string' ? token : (url.searchParams.get('token') ?? undefined) });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://consul-double');
    this.record(req, url);
    try {
      const route = this.route(req.method ?? 'GET', url.pathname, url.searchParams);
      if (this.options.aclToken !== undefined) {
        const header = req.headers['x-consul-token'];
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const token = (typeof header === 'string' ? header : undefined) ?? bearer ?? url.searchParams.get('token') ?? undefined;
        if (token !== this.options.aclToken) throw new HttpError(403, 'ACL not found');
      }
      const dc = url.searchParams.get('dc');
      if (dc !== null && dc !== '' && dc !== this.state.datacenter) throw new HttpError(500, `No path to datacenter`);
      const fault = takeFault(this.faults, route.endpoint, route.subject);
      if (fault !== undefined && !(await this.applyFault(fault, req, res))) return;
      if (fault?.kind === 'lost-answer') loseAnswer(req, res);
      await route.run(req, res, url, fault);
    } catch (error) {
      if (res.headersSent || res.destroyed) return;
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      this.sendText(res, status, message);
    }
  }

  /** Applies the faults that act before routing; false when the request is finished with. */
  private async applyFault(fault: ConsulFault, req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    switch (fault.kind) {
      case 'html-error':
        res.writeHead(fault.status ?? 500, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(HTML_ERROR) });
        res.end(HTML_ERROR);
        return false;
      case 'hang':
        await this.hold(req, res, undefined);
        return false;
      case 'reset':
        req.socket.destroy();
        return false;
      case 'slow':
        await this.hold(req, res, fault.delayMs);
        return !res.destroyed && !this.closed;
      default:
        return true;
    }
  }

  /** Holds a request for `ms` (forever when undefined), until the client leaves or close(). */
  private hold(req: http.IncomingMessage, res: http.ServerResponse, ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.pending.delete(done);
        res.off('close', done);
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(done, ms);
      this.pending.add(done);
      res.on('close', done);
    });
  }

  private route(method: string, path: string, query: URLSearchParams): { endpoint: DoubleEndpoint; subject: string | undefined; run: (req: http.IncomingMessage, res: http.ServerResponse, url: URL, fault: ConsulFault | undefined) => Promise<void> } {
    const is = (m: string): void => {
      if (method !== m) throw new HttpError(405, `method ${method} not allowed`);
    };
    let m: RegExpExecArray | null;
    if (path === '/v1/catalog/services') {
      is('GET');
      return { endpoint: 'catalog.services', subject: undefined, run: (_req, res, url, fault) => this.blockingRead(res, url, fault, resourceWatch(this.state, SERVICES_KEY), () => ({ status: 200, json: this.catalogServices() }), 'object') };
    }
    if ((m = /^\/v1\/catalog\/service\/([^/]+)$/.exec(path)) !== null) {
      is('GET');
      const name = decodeURIComponent(m[1] as string);
      return { endpoint: 'catalog.service', subject: name, run: (_req, res, url, fault) => this.blockingRead(res, url, fault, resourceWatch(this.state, serviceKey(name)), () => ({ status: 200, json: this.catalogService(name, url) }), 'array') };
    }
    if ((m = /^\/v1\/health\/service\/([^/]+)$/.exec(path)) !== null) {
      is('GET');
      const name = decodeURIComponent(m[1] as string);
      return { endpoint: 'health.service', subject: name, run: (_req, res, url, fault) => this.blockingRead(res, url, fault, resourceWatch(this.state, serviceKey(name)), () => ({ status: 200, json: this.healthService(name, url) }), 'array') };
    }
    if (path === '/v1/agent/services') {
      is('GET');
      return { endpoint: 'agent.services', subject: undefined, run: async (_req, res) => this.sendJson(res, 200, this.agentServices(), this.state.index) };
    }
    if (path === '/v1/agent/service/register') {
      is('PUT');
      return { endpoint: 'agent.service.register', subject: undefined, run: (req, res) => this.agentRegister(req, res) };
    }
    if ((m = /^\/v1\/agent\/service\/deregister\/([^/]+)$/.exec(path)) !== null) {
      is('PUT');
      const id = decodeURIComponent(m[1] as string);
      return {
        endpoint: 'agent.service.deregister',
        subject: id,
        run: async (_req, res) => {
          if (!this.state.removeService(this.nodeName, id)) throw new HttpError(404, `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`);
          this.sendEmpty(res);
        },
      };
    }
    if (path.startsWith('/v1/session/')) return this.sessionRoute(method, path.slice('/v1/session/'.length), is);
    if (path.startsWith('/v1/kv/')) return this.kvRoute(method, decodeURIComponent(path.slice('/v1/kv/'.length)), query);
    throw new HttpError(404, 'Not found');
  }

  private sessionRoute(method: string, rest: string, is: (m: string) => void): ReturnType<ConsulDouble['route']> {
    const sessionsWatch: Watch = {
      index: () => Math.max(1, this.state.exactIndex(SESSIONS_KEY)),
      changedSince: (min) => this.state.exactIndex(SESSIONS_KEY) > min,
      churnKeys: [SESSIONS_KEY],
    };
    const [verb, ...idParts] = rest.split('/');
    const id = decodeURIComponent(idParts.join('/'));
    const needId = (what: string): void => {
      if (id === '') throw new HttpError(400, what);
    };
    switch (verb) {
      case 'create':
        if (idParts.length > 0) break;
        is('PUT');
        return {
          endpoint: 'session.create',
          subject: undefined,
          run: async (req, res, _url, fault) => {
            const raw = await readBody(req);
            let body: unknown;
            if (raw.trim() !== '') {
              try {
                body = JSON.parse(raw);
              } catch (error) {
                throw new HttpError(400, `Request decode failed: ${(error as Error).message}`);
              }
            }
            const session = this.sessions.create(parseSessionCreate(body, this.nodeName), Date.now());
            this.scheduleSessionExpiry();
            this.sendShaped(res, { ID: session.id }, this.state.index, fault, 'object');
          },
        };
      case 'renew':
        is('PUT');
        needId('Missing session');
        return {
          endpoint: 'session.renew',
          subject: id,
          run: async (_req, res, _url, fault) => {
            const session = this.sessions.renew(id, Date.now());
            if (session === undefined) throw new HttpError(404, `Session id '${id}' not found`);
            this.scheduleSessionExpiry();
            this.sendShaped(res, [sessionJson(session)], sessionsWatch.index(), fault, 'array');
          },
        };
      case 'destroy':
        is('PUT');
        needId('Missing session');
        return {
          endpoint: 'session.destroy',
          subject: id,
          run: async (_req, res, _url, fault) => {
            this.sessions.destroy(id, Date.now());
            this.scheduleSessionExpiry();
            this.sendShaped(res, true, this.state.index, fault, 'boolean');
          },
        };
      case 'info':
        is('GET');
        needId('Missing session');
        return {
          endpoint: 'session.info',
          subject: id,
          run: (_req, res, url, fault) => this.blockingRead(res, url, fault, sessionsWatch, () => {
            const session = this.sessions.sessions.get(id);
            return { status: 200, json: session === undefined ? [] : [sessionJson(session)] };
          }, 'array'),
        };
      case 'list':
        if (idParts.length > 0) break;
        is('GET');
        return { endpoint: 'session.list', subject: undefined, run: (_req, res, url, fault) => this.blockingRead(res, url, fault, sessionsWatch, () => ({ status: 200, json: this.sessions.list().map(sessionJson) }), 'array') };
      case 'node':
        is('GET');
        needId('Missing node name');
        return { endpoint: 'session.node', subject: id, run: (_req, res, url, fault) => this.blockingRead(res, url, fault, sessionsWatch, () => ({ status: 200, json: this.sessions.list(id).map(sessionJson) }), 'array') };
      default:
        break;
    }
    throw new HttpError(404, 'Not found');
  }

  /** `/v1/kv/<key>`: GET (plain, ?raw, ?recurse, ?keys), PUT (?flags, ?cas, ?acquire, ?release),
   * DELETE (?recurse, ?cas), with Consul's index rules for blocking reads. */
  private kvRoute(method: string, key: string, query: URLSearchParams): ReturnType<ConsulDouble['route']> {
    if (method === 'GET') {
      return {
        endpoint: query.has('keys') ? 'kv.keys' : 'kv.get',
        subject: key,
        run: (_req, res, url, fault) => {
          if (url.searchParams.has('keys')) return this.kvKeys(res, url, fault, key);
          if (url.searchParams.has('recurse')) {
            checkKvKey(key, false);
            const watch: Watch = {
              index: () => this.kv.prefixIndex(key),
              changedSince: (min) => (key === '' ? this.state.exactIndex(KV_KEY) : this.state.maxIndexWithPrefix(kvKey(key))) > min,
              churnKeys: [KV_KEY, kvKey(key)],
            };
            return this.blockingRead(res, url, fault, watch, () => {
              const entries = this.kv.list(key);
              return entries.length === 0 ? { status: 404 } : { status: 200, json: entries.map(kvEntryJson) };
            }, 'array');
          }
          checkKvKey(key, true);
          // Consul answers a key read with the whole KV table's index but wakes only when that
          // key changes: a query with an index older than the table's answers at once.
          const watch: Watch = { index: () => this.kv.tableIndex(), changedSince: (min) => this.state.exactIndex(kvKey(key)) > min, churnKeys: [KV_KEY, kvKey(key)] };
          const raw = url.searchParams.has('raw');
          return this.blockingRead(res, url, fault, watch, () => {
            const entry = this.kv.get(key);
            if (entry === undefined) return { status: 404 };
            return raw ? { status: 200, raw: entry.value ?? Buffer.alloc(0) } : { status: 200, json: [kvEntryJson(entry)] };
          }, 'array');
        },
      };
    }
    if (method === 'PUT') return { endpoint: 'kv.set', subject: key, run: (req, res, url, fault) => this.kvPut(req, res, url, fault, key) };
    if (method === 'DELETE') {
      return {
        endpoint: 'kv.del',
        subject: key,
        run: async (_req, res, url, fault) => {
          refuseConflicting(url, ['recurse', 'cas']);
          let answer = true;
          if (url.searchParams.has('recurse')) {
            checkKvKey(key, false);
            this.kv.deleteTree(key);
          } else {
            checkKvKey(key, true);
            const cas = uint64Param(url, 'cas');
            if (cas !== undefined) answer = this.kv.deleteCas(key, Number(cas));
            else this.kv.delete(key);
          }
          this.sendShaped(res, answer, this.state.index, fault, 'boolean');
        },
      };
    }
    throw new HttpError(405, `method ${method} not allowed`);
  }

  private kvKeys(res: http.ServerResponse, url: URL, fault: ConsulFault | undefined, prefix: string): Promise<void> {
    checkKvKey(prefix, false);
    const separator = url.searchParams.get('separator') ?? url.searchParams.get('seperator') ?? '';
    const watch: Watch = {
      index: () => this.kv.prefixIndex(prefix),
      changedSince: (min) => (prefix === '' ? this.state.exactIndex(KV_KEY) : this.state.maxIndexWithPrefix(kvKey(prefix))) > min,
      churnKeys: [KV_KEY, kvKey(prefix)],
    };
    return this.blockingRead(res, url, fault, watch, () => {
      const keys = this.kv.keys(prefix, separator);
      return keys.length === 0 && prefix !== '' ? { status: 404 } : { status: 200, json: keys };
    }, 'array');
  }

  private async kvPut(req: http.IncomingMessage, res: http.ServerResponse, url: URL, fault: ConsulFault | undefined, key: string): Promise<void> {
    checkKvKey(key, true);
    refuseConflicting(url, ['cas', 'acquire', 'release']);
    const flags = uint64Param(url, 'flags') ?? 0n;
    const cas = uint64Param(url, 'cas');
    const body = await readBodyBytes(req);
    if (body.length > KV_MAX_VALUE_BYTES) throw new HttpError(413, `Request body(${body.length} bytes) too large, max size: ${KV_MAX_VALUE_BYTES} bytes.`);
    const value = body.length === 0 ? null : body;
    const acquire = url.searchParams.get('acquire');
    const release = url.searchParams.get('release');
    let answer = true;
    if (acquire !== null) {
      answer = this.kv.acquire(key, acquire, value, flags, this.sessions.sessions.has(acquire), Date.now());
    } else if (release !== null) {
      answer = this.kv.release(key, release, value, flags);
    } else if (cas !== undefined) {
      answer = this.kv.cas(key, value, flags, Number(cas));
    } else {
      this.kv.set(key, value, flags);
    }
    this.sendShaped(res, answer, this.state.index, fault, 'boolean');
  }

  /** Keeps one timer on the earliest session TTL expiry; expired sessions are invalidated. */
  private scheduleSessionExpiry(): void {
    if (this.sessionTimer !== undefined) clearTimeout(this.sessionTimer);
    this.sessionTimer = undefined;
    const next = this.sessions.nextExpiryMs();
    if (next === undefined || this.closed) return;
    this.sessionTimer = setTimeout(() => {
      this.sessionTimer = undefined;
      this.sessions.expireDue(Date.now());
      this.scheduleSessionExpiry();
    }, Math.max(0, next - Date.now()));
    this.sessionTimer.unref();
  }

  /**
   * A read that supports blocking: with `index` > 0 and no newer data it waits until what it
   * watches changes or `wait` (default 5m, at most 10m, plus up to wait/16 jitter) elapses, then
   * answers the current data with the current index. Faults that shape the answer apply here; a
   * broken answer (wrong shape, truncated) comes at once, as from a broken proxy in front of
   * Consul.
   */
  private async blockingRead(res: http.ServerResponse, url: URL, fault: ConsulFault | undefined, watch: Watch, read: () => ReadAnswer, shape: 'array' | 'object'): Promise<void> {
    const indexParam = url.searchParams.get('index');
    let minIndex = 0;
    if (indexParam !== null && indexParam !== '') {
      if (!/^\d+$/.test(indexParam)) throw new HttpError(400, 'Invalid index');
      minIndex = Number(indexParam);
    }
    const waitParam = url.searchParams.get('wait');
    let waitMs = DEFAULT_WAIT_MS;
    if (waitParam !== null && waitParam !== '') {
      const parsed = parseGoDurationMs(waitParam);
      if (parsed === undefined) throw new HttpError(400, 'Invalid wait time');
      waitMs = Math.min(parsed, MAX_WAIT_MS);
    }
    if (fault?.kind === 'index-zero' || fault?.kind === 'index-backwards') {
      this.sendAnswer(res, read(), fault.kind === 'index-zero' ? 0 : Math.max(0, fault.index ?? 1));
      return;
    }
    if (fault?.kind === 'wrong-shape' || fault?.kind === 'truncated-json') {
      const answer = read();
      this.sendShaped(res, 'json' in answer ? answer.json : [], watch.index(), fault, shape);
      return;
    }
    if (fault?.kind === 'churn') this.state.touch(watch.churnKeys);
    if (minIndex > 0 && watch.index() <= minIndex) {
      const jitterMs = (this.options.jitter ?? true) ? Math.floor(Math.random() * (waitMs / 16)) : 0;
      await this.waitUntil(res, () => watch.changedSince(minIndex), waitMs + jitterMs);
      if (res.destroyed || this.closed) return;
    }
    this.sendAnswer(res, read(), watch.index());
  }

  /** Resolves when `changed()` turns true after a write, `waitMs` passes, the client leaves or
   * the double closes. */
  private waitUntil(res: http.ServerResponse, changed: () => boolean, waitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        this.pending.delete(done);
        res.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      const unsubscribe = this.state.onChange(() => {
        if (changed()) done();
      });
      this.pending.add(done);
      res.on('close', done);
    });
  }

  private sendAnswer(res: http.ServerResponse, answer: ReadAnswer, index: number): void {
    if (res.destroyed) return;
    if (answer.status === 404) {
      res.writeHead(404, { ...this.consulHeaders(index), 'content-length': 0 });
      res.end();
    } else if ('raw' in answer) {
      // Consul's headers for ?raw, against a KV value being read as a page.
      res.writeHead(200, { ...this.consulHeaders(index), 'content-type': 'text/plain', 'x-content-type-options': 'nosniff', 'content-security-policy': 'sandbox', 'content-length': answer.raw.length });
      res.end(answer.raw);
    } else {
      this.sendJson(res, 200, answer.json, index);
    }
  }

  /** A JSON answer with the faults that shape answers applied: a wrong shape, a truncated body,
   * an index gone back or to 0. */
  private sendShaped(res: http.ServerResponse, body: unknown, index: number, fault: ConsulFault | undefined, shape: 'array' | 'object' | 'boolean'): void {
    if (fault?.kind === 'wrong-shape') {
      this.sendJson(res, 200, shape === 'object' ? ['double', 'wrong', 'shape'] : { error: 'double: wrong shape' }, index);
    } else if (fault?.kind === 'truncated-json') {
      const full = stringifyJson(body);
      const cut = full.slice(0, Math.max(1, Math.floor(full.length / 2)));
      res.writeHead(200, { ...this.consulHeaders(index), 'content-type': 'application/json', 'content-length': Buffer.byteLength(cut) });
      res.end(cut);
    } else if (fault?.kind === 'index-zero' || fault?.kind === 'index-backwards') {
      this.sendJson(res, 200, body, fault.kind === 'index-zero' ? 0 : Math.max(0, fault.index ?? 1));
    } else {
      this.sendJson(res, 200, body, index);
    }
  }

  private catalogServices(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const s of [...this.state.services.values()].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))) {
      const tags = (out[s.service] ??= []);
      for (const tag of s.tags) if (!tags.includes(tag)) tags.push(tag);
    }
    return out;
  }

  private nodeJson(node: string): JsonObject {
    const n = this.state.nodes.get(node);
    return {
      ID: n?.id ?? '',
      Node: node,
      Address: n?.address ?? '',
      Datacenter: this.state.datacenter,
      TaggedAddresses: { lan: n?.address ?? '', wan: n?.address ?? '' },
      Meta: { 'consul-network-segment': '' },
      CreateIndex: n?.createIndex ?? 0,
      ModifyIndex: n?.modifyIndex ?? 0,
    };
  }

  private serviceJson(s: ServiceRecord): JsonObject {
    return {
      ID: s.id,
      Service: s.service,
      Tags: s.tags.length === 0 ? [] : [...s.tags],
      Address: s.address,
      Meta: Object.keys(s.meta).length === 0 ? null : { ...s.meta },
      Port: s.port,
      Weights: s.weights,
      EnableTagOverride: false,
      CreateIndex: s.createIndex,
      ModifyIndex: s.modifyIndex,
    };
  }

  private withTag(instances: ServiceRecord[], url: URL): ServiceRecord[] {
    const tags = url.searchParams.getAll('tag');
    return tags.length === 0 ? instances : instances.filter((s) => tags.every((t) => s.tags.includes(t)));
  }

  private catalogService(name: string, url: URL): JsonObject[] {
    return this.withTag(this.state.instancesOf(name), url).map((s) => {
      const node = this.nodeJson(s.node);
      return {
        ID: node['ID'],
        Node: s.node,
        Address: node['Address'],
        Datacenter: this.state.datacenter,
        TaggedAddresses: node['TaggedAddresses'],
        NodeMeta: node['Meta'],
        ServiceKind: '',
        ServiceID: s.id,
        ServiceName: s.service,
        ServiceTags: [...s.tags],
        ServiceAddress: s.address,
        ServiceWeights: s.weights,
        ServiceMeta: { ...s.meta },
        ServicePort: s.port,
        ServiceEnableTagOverride: false,
        CreateIndex: s.createIndex,
        ModifyIndex: s.modifyIndex,
      };
    });
  }

  private healthService(name: string, url: URL): JsonObject[] {
    const passingParam = url.searchParams.get('passing');
    let passingOnly = false;
    if (passingParam !== null) {
      if (passingParam === '' || passingParam === 'true' || passingParam === '1') passingOnly = true;
      else if (passingParam !== 'false' && passingParam !== '0') throw new HttpError(400, `Invalid value for ?passing`);
    }
    const entries: JsonObject[] = [];
    for (const s of this.withTag(this.state.instancesOf(name), url)) {
      const checks = this.state.checksFor(s.node, s.id);
      if (passingOnly && checks.some((c) => c.status !== 'passing')) continue;
      entries.push({
        Node: this.nodeJson(s.node),
        Service: this.serviceJson(s),
        Checks: checks.map((c) => ({
          Node: c.node,
          CheckID: c.checkId,
          Name: c.name,
          Status: c.status,
          Notes: c.notes,
          Output: c.output,
          ServiceID: c.serviceId,
          ServiceName: c.serviceName,
          ServiceTags: [...c.serviceTags],
          Type: c.type,
          Definition: {},
          CreateIndex: c.createIndex,
          ModifyIndex: c.modifyIndex,
        })),
      });
    }
    return entries;
  }

  private agentServices(): Record<string, JsonObject> {
    const out: Record<string, JsonObject> = {};
    for (const s of this.state.services.values()) {
      if (s.node !== this.nodeName || s.id === 'consul') continue;
      out[s.id] = { ID: s.id, Service: s.service, Tags: [...s.tags], Meta: { ...s.meta }, Port: s.port, Address: s.address, Weights: s.weights, EnableTagOverride: false, Datacenter: this.state.datacenter };
    }
    return out;
  }

  /** `PUT /v1/agent/service/register`: validates like Consul and registers on the agent's node. */
  private async agentRegister(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (error) {
      throw new HttpError(400, `Request decode failed: ${(error as Error).message}`);
    }
    if (!isObject(body)) throw new HttpError(400, 'Request decode failed: body is not an object');
    const name = optionalString(field(body, 'Name'), 'Name');
    if (name === '') throw new HttpError(400, 'Missing service name');
    const id = optionalString(field(body, 'ID'), 'ID') || name;
    const port = field(body, 'Port') ?? 0;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw new HttpError(400, 'Request decode failed: Port must be an integer 0..65535');
    const metaRaw = field(body, 'Meta');
    const meta: Record<string, string> = {};
    if (metaRaw !== undefined && metaRaw !== null) {
      if (!isObject(metaRaw)) throw new HttpError(400, 'Request decode failed: Meta must be an object');
      for (const [k, v] of Object.entries(metaRaw)) {
        if (typeof v !== 'string') throw new HttpError(400, `Request decode failed: Meta.${k} must be a string`);
        if (!/^[A-Za-z0-9_-]{1,128}$/.test(k) || k.startsWith('consul-')) throw new HttpError(400, `Invalid Service Meta: Key ${k} is invalid`);
        meta[k] = v;
      }
    }
    const single = field(body, 'Check');
    const many = field(body, 'Checks');
    const definitions: unknown[] = [];
    if (single !== undefined && single !== null) definitions.push(single);
    if (many !== undefined && many !== null) {
      if (!Array.isArray(many)) throw new HttpError(400, 'Request decode failed: Checks must be a list');
      definitions.push(...many);
    }
    const checks = definitions.map((def, i) => {
      if (!isObject(def)) throw new HttpError(400, 'Request decode failed: a check is not an object');
      const httpUrl = optionalString(field(def, 'HTTP'), 'Check.HTTP');
      const ttl = durationField(field(def, 'TTL'), 'Check.TTL');
      const interval = durationField(field(def, 'Interval'), 'Check.Interval');
      if (httpUrl === '' && ttl === undefined) throw new HttpError(400, 'Invalid check: one of HTTP or TTL must be set (the double supports those)');
      if (httpUrl !== '' && (interval === undefined || (parseGoDurationMs(interval) ?? 0) <= 0)) throw new HttpError(400, 'Invalid check: Interval must be > 0 for Script, HTTP, or TCP checks');
      const checkId = optionalString(field(def, 'CheckID'), 'CheckID') || optionalString(field(def, 'ID'), 'ID') || (definitions.length === 1 && single !== undefined && single !== null ? `service:${id}` : `service:${id}:${i + 1}`);
      return {
        checkId,
        name: optionalString(field(def, 'Name'), 'Check.Name') || `Service '${name}' check`,
        status: checkStatus(field(def, 'Status')),
        notes: optionalString(field(def, 'Notes'), 'Check.Notes'),
        type: httpUrl !== '' ? 'http' : 'ttl',
        definition: {
          HTTP: httpUrl === '' ? undefined : httpUrl,
          Interval: interval,
          Timeout: durationField(field(def, 'Timeout'), 'Check.Timeout'),
          DeregisterCriticalServiceAfter: durationField(field(def, 'DeregisterCriticalServiceAfter'), 'Check.DeregisterCriticalServiceAfter'),
        },
      };
    });
    const weightsRaw = field(body, 'Weights');
    const weights = isObject(weightsRaw) ? { Passing: Number(field(weightsRaw, 'Passing') ?? 1), Warning: Number(field(weightsRaw, 'Warning') ?? 1) } : { Passing: 1, Warning: 1 };
    this.state.upsertService(
      { node: this.nodeName, id, service: name, address: optionalString(field(body, 'Address'), 'Address'), port, tags: stringList(field(body, 'Tags'), 'Tags'), meta, weights },
      checks,
      Date.now(),
    );
    this.sendEmpty(res);
  }

  private consulHeaders(index: number): Record<string, string> {
    return { 'x-consul-index': String(index), 'x-consul-knownleader': 'true', 'x-consul-lastcontact': '0', 'x-consul-effective-consistency': 'leader' };
  }

  private sendJson(res: http.ServerResponse, status: number, body: unknown, index: number): void {
    if (res.destroyed) return;
    const text = stringifyJson(body);
    res.writeHead(status, { ...this.consulHeaders(index), 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private sendEmpty(res: http.ServerResponse): void {
    if (res.destroyed) return;
    res.writeHead(200, { ...this.consulHeaders(this.state.index), 'content-length': 0 });
    res.end();
  }

  private sendText(res: http.ServerResponse, status: number, message: string): void {
    const text = `${message}\n`;
    res.writeHead(status, { ...this.consulHeaders(this.state.index), 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  return (await readBodyBytes(req)).toString('utf8');
}

/** Drops the connection where the answer would go: the handler runs, its answer is lost. */
function loseAnswer(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead = () => res;
  res.end = () => {
    req.socket.destroy();
    return res;
  };
}

function readBodyBytes(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
