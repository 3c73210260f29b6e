// The per-service leader key in Consul's KV store: its name (`<prefix>/leader/<service>`), the
// JSON value naming the instance that holds it, and reading a KV answer into a lock view. Pure.
import type { LockView } from './leadership-state.js';

/** Keys live under `<prefix>/leader/`; the prefix is configurable (one Consul, several fleets). */
export const DEFAULT_LEADER_KEY_PREFIX = 'dockmaster';

/** Who holds a lock: written as the key's value by the instance that acquires it. */
export interface LeaderInfo {
  readonly instanceId: string;
  /** Where the holder's admin API listens (`127.0.0.1:9090`), so others can point users to it. */
  readonly adminAddress?: string | undefined;
}

/** The names dockmaster gives services (the config schema's rule): safe as one key segment. */
const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isLeaderServiceName(service: string): boolean {
  return SERVICE_NAME.test(service);
}

/**
 * The lock key of a service. The prefix loses leading and trailing slashes (Consul refuses a key
 * that starts with '/'); an empty prefix puts the keys at `leader/<service>`. Examples:
 *   ('dockmaster', 'web')     -> 'dockmaster/leader/web'
 *   ('/fleet/a/', 'web')      -> 'fleet/a/leader/web'
 *   ('', 'web')               -> 'leader/web'
 */
export function leaderKey(prefix: string, service: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? `leader/${service}` : `${trimmed}/leader/${service}`;
}

/** The key's value: `{"instanceId":"a","adminAddress":"127.0.0.1:9090"}`. */
export function encodeLeaderValue(info: LeaderInfo): string {
  return JSON.stringify(info.adminAddress === undefined ? { instanceId: info.instanceId } : { instanceId: info.instanceId, adminAddress: info.adminAddress });
}

/** Reads a value another instance wrote; undefined when it is not ours to read (another tool's
 * lock, an older format): the lock still counts, only its holder is unnamed. */
export function parseLeaderValue(text: string | null | undefined): LeaderInfo | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { instanceId, adminAddress } = parsed as Record<string, unknown>;
  if (typeof instanceId !== 'string' || instanceId === '') return undefined;
  return typeof adminAddress === 'string' ? { instanceId, adminAddress } : { instanceId };
}

export type LockEntryRead = { readonly ok: true; readonly lock: LockView } | { readonly ok: false; readonly problem: string };

/**
 * A KV read of the key, as the `consul` client hands it over (Value already decoded from base64),
 * to a lock view. `null` means Consul answered 404: no key, so no holder. Anything but an entry
 * object is a problem (a broken proxy's answer must not read as "nobody holds it"). Examples:
 *   null                                             -> free
 *   { Key, Value: '{"instanceId":"a"}', Session: 's1' } -> held by s1, holder a
 *   { Key, Value: null }                             -> free (released: the key stays, unlocked)
 *   { error: 'x' } or []                             -> problem
 */
export function readLockEntry(entry: unknown): LockEntryRead {
  if (entry === null) return { ok: true, lock: { state: 'free' } };
  if (typeof entry !== 'object' || Array.isArray(entry)) return { ok: false, problem: 'the key read is not a KV entry' };
  const { Key, Value, Session } = entry as Record<string, unknown>;
  if (typeof Key !== 'string') return { ok: false, problem: 'the KV entry has no Key' };
  if (Value !== null && Value !== undefined && typeof Value !== 'string') return { ok: false, problem: 'the KV entry Value is not text' };
  if (Session !== undefined && Session !== null && typeof Session !== 'string') return { ok: false, problem: 'the KV entry Session is not a string' };
  if (typeof Session !== 'string' || Session === '') return { ok: true, lock: { state: 'free' } };
  return { ok: true, lock: { state: 'held', sessionId: Session, holder: parseLeaderValue(Value) } };
}
