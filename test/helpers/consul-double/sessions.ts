// The sessions of the Consul HTTP API double: create (validated like Consul's Session.Apply),
// renew, destroy, TTL expiry and invalidation when a node check the session depends on goes
// critical or away. Invalidating a session releases or deletes the keys it locks and starts their
// lock-delay, in one write. Test helper; pure data, time passed in as nowMs (the double runs the
// TTL timer).
import { randomUUID } from 'node:crypto';
import { parseGoDurationMs } from './durations.js';
import { HttpError } from './http-error.js';
import type { KvStore } from './kv-store.js';
import { KV_KEY, kvKey, SESSIONS_KEY, type DoubleState } from './state.js';

/** Consul's SessionTTLMax. */
export const SESSION_TTL_MAX_MS = 24 * 3_600_000;
/** Consul's default `session_ttl_min`. */
export const DEFAULT_SESSION_TTL_MIN_MS = 10_000;
/** Consul's default lock-delay. */
const DEFAULT_LOCK_DELAY_MS = 15_000;
/** A numeric LockDelay below this many nanoseconds is read as seconds (Consul's
 * lockDelayMinThreshold: users send 15 meaning 15 s). */
const LOCK_DELAY_MIN_THRESHOLD_NS = 1000;

export type SessionBehavior = 'release' | 'delete';

/** What `PUT /v1/session/create` asks for, decoded. */
export interface SessionInput {
  readonly name: string;
  readonly node: string;
  readonly nodeChecks: readonly string[];
  readonly lockDelayMs: number;
  readonly behavior: string;
  /** The TTL as written (`15s`), '' for none. */
  readonly ttl: string;
}

export interface SessionRecord {
  readonly id: string;
  readonly name: string;
  readonly node: string;
  readonly nodeChecks: readonly string[];
  /** As given; cut to 60 s when applied. */
  readonly lockDelayMs: number;
  readonly behavior: SessionBehavior;
  readonly ttl: string;
  /** 0 for a session without TTL. */
  readonly ttlMs: number;
  /** Unix ms at which the session expires unless renewed; undefined without TTL. */
  expiresAtMs: number | undefined;
  readonly createIndex: number;
  readonly modifyIndex: number;
}

type JsonObject = Record<string, unknown>;

/** Go's encoding/json matches field names case-insensitively. */
function field(obj: JsonObject, name: string): { present: boolean; value: unknown } {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(obj)) if (key.toLowerCase() === lower) return { present: true, value };
  return { present: false, value: undefined };
}

function stringField(obj: JsonObject, name: string): string {
  const { value } = field(obj, name);
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new HttpError(400, `Request decode failed: ${name} must be a string`);
  return value;
}

/** LockDelay as Consul's FixupLockDelay reads it: a Go duration string or a number of
 * nanoseconds, either one read as seconds when below 1000 ns. */
function lockDelayMs(value: unknown): number {
  let ns: number;
  if (typeof value === 'string') {
    const ms = parseGoDurationMs(value);
    if (ms === undefined) throw new HttpError(400, `Request decode failed: time: invalid duration ${JSON.stringify(value)}`);
    ns = ms * 1e6;
  } else if (typeof value === 'number' && Number.isFinite(value)) {
    ns = value;
  } else {
    throw new HttpError(400, 'Request decode failed: LockDelay must be a duration string or a number');
  }
  return ns < LOCK_DELAY_MIN_THRESHOLD_NS ? ns * 1000 : ns / 1e6;
}

/** Decodes a session create body (undefined or '' body: every default). */
export function parseSessionCreate(body: unknown, defaultNode: string): SessionInput {
  if (body === undefined) return { name: '', node: defaultNode, nodeChecks: ['serfHealth'], lockDelayMs: DEFAULT_LOCK_DELAY_MS, behavior: 'release', ttl: '' };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'Request decode failed: body is not an object');
  const obj = body as JsonObject;
  const serviceChecks = field(obj, 'ServiceChecks').value;
  if (Array.isArray(serviceChecks) && serviceChecks.length > 0) throw new HttpError(400, 'double: ServiceChecks are not covered by the Consul double');
  // Consul drops the default serfHealth check as soon as the body names checks, even an empty list.
  let nodeChecks: string[] = ['serfHealth'];
  for (const name of ['NodeChecks', 'Checks']) {
    const f = field(obj, name);
    if (!f.present) continue;
    if (f.value === null) nodeChecks = [];
    else if (Array.isArray(f.value) && f.value.every((c) => typeof c === 'string')) nodeChecks = f.value;
    else throw new HttpError(400, `Request decode failed: ${name} must be a list of check IDs`);
    break;
  }
  const delay = field(obj, 'LockDelay');
  return {
    name: stringField(obj, 'Name'),
    node: stringField(obj, 'Node') || defaultNode,
    nodeChecks,
    lockDelayMs: delay.present && delay.value !== null ? lockDelayMs(delay.value) : DEFAULT_LOCK_DELAY_MS,
    behavior: stringField(obj, 'Behavior'),
    ttl: stringField(obj, 'TTL'),
  };
}

function formatLimit(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h0m0s` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export class SessionStore {
  readonly sessions = new Map<string, SessionRecord>();
  private readonly state: DoubleState;
  private readonly kv: KvStore;
  private readonly ttlMinMs: number;

  constructor(state: DoubleState, kv: KvStore, options: { ttlMinMs: number }) {
    this.state = state;
    this.kv = kv;
    this.ttlMinMs = options.ttlMinMs;
  }

  /** Creates a session, refusing what Consul's Session.Apply refuses (with 500, as Consul). */
  create(input: SessionInput, nowMs: number): SessionRecord {
    let behavior: SessionBehavior;
    if (input.behavior === '' || input.behavior === 'release') behavior = 'release';
    else if (input.behavior === 'delete') behavior = 'delete';
    else throw new HttpError(500, `Invalid Behavior setting '${input.behavior}'`);
    let ttlMs = 0;
    if (input.ttl !== '') {
      const parsed = parseGoDurationMs(input.ttl);
      if (parsed === undefined) throw new HttpError(500, `Session TTL '${input.ttl}' invalid: time: invalid duration ${JSON.stringify(input.ttl)}`);
      if (parsed !== 0 && (parsed < this.ttlMinMs || parsed > SESSION_TTL_MAX_MS)) {
        throw new HttpError(500, `Invalid Session TTL '${Math.round(parsed * 1e6)}', must be between [${formatLimit(this.ttlMinMs)}=${formatLimit(SESSION_TTL_MAX_MS)}]`);
      }
      ttlMs = parsed;
    }
    if (!this.state.nodes.has(input.node)) throw new HttpError(500, 'Missing node registration');
    for (const checkId of input.nodeChecks) {
      const check = this.state.checks.get(`${input.node}/${checkId}`);
      if (check === undefined) throw new HttpError(500, `Missing check '${checkId}' registration`);
      if (check.status === 'critical') throw new HttpError(500, `Check '${checkId}' is in critical state`);
    }
    let id = randomUUID();
    while (this.sessions.has(id)) id = randomUUID();
    return this.state.write([SESSIONS_KEY], (index) => {
      const record: SessionRecord = {
        id,
        name: input.name,
        node: input.node,
        nodeChecks: [...input.nodeChecks],
        lockDelayMs: input.lockDelayMs,
        behavior,
        ttl: input.ttl,
        ttlMs,
        expiresAtMs: ttlMs > 0 ? nowMs + ttlMs : undefined,
        createIndex: index,
        modifyIndex: index,
      };
      this.sessions.set(id, record);
      return record;
    });
  }

  /** Restarts the TTL (not a write, as in Consul); undefined when the session is gone. */
  renew(id: string, nowMs: number): SessionRecord | undefined {
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (session.ttlMs > 0) session.expiresAtMs = nowMs + session.ttlMs;
    return session;
  }

  /** Destroys (invalidates) a session; false when it was not there. */
  destroy(id: string, nowMs: number): boolean {
    const session = this.sessions.get(id);
    if (session === undefined) return false;
    const held = this.kv.heldBy(id);
    this.state.write([SESSIONS_KEY, KV_KEY, ...held.map(kvKey)], (index) => {
      this.sessions.delete(id);
      this.kv.invalidateHeld(held, session.behavior, session.lockDelayMs, nowMs, index);
    });
    return true;
  }

  /** Invalidates the sessions whose TTL ran out by `nowMs`; their ids. */
  expireDue(nowMs: number): string[] {
    const due = [...this.sessions.values()].filter((s) => s.expiresAtMs !== undefined && s.expiresAtMs <= nowMs).map((s) => s.id);
    for (const id of due) this.destroy(id, nowMs);
    return due;
  }

  /** Invalidates the sessions one of whose checks is critical or gone; their ids. */
  invalidateOnChecks(nowMs: number): string[] {
    const failed = [...this.sessions.values()]
      .filter((s) => s.nodeChecks.some((checkId) => {
        const check = this.state.checks.get(`${s.node}/${checkId}`);
        return check === undefined || check.status === 'critical';
      }))
      .map((s) => s.id);
    for (const id of failed) this.destroy(id, nowMs);
    return failed;
  }

  /** The earliest TTL expiry, undefined when no session has a TTL. */
  nextExpiryMs(): number | undefined {
    let next: number | undefined;
    for (const s of this.sessions.values()) if (s.expiresAtMs !== undefined && (next === undefined || s.expiresAtMs < next)) next = s.expiresAtMs;
    return next;
  }

  /** Sessions (of one node), by ID as Consul lists them. */
  list(node?: string): SessionRecord[] {
    return [...this.sessions.values()].filter((s) => node === undefined || s.node === node).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** A session as Consul's session endpoints answer it (LockDelay in nanoseconds). */
export function sessionJson(s: SessionRecord): JsonObject {
  return {
    ID: s.id,
    Name: s.name,
    Node: s.node,
    LockDelay: Math.round(s.lockDelayMs * 1e6),
    Behavior: s.behavior,
    TTL: s.ttl,
    NodeChecks: [...s.nodeChecks],
    ServiceChecks: null,
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  };
}
