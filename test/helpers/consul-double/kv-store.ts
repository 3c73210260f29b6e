// The KV store of the Consul HTTP API double: entries with flags, sessions and lock indexes, the
// `acquire` / `release` lock operations, check-and-set, deletes, and the lock-delay a session
// invalidation leaves on the keys it held, following Consul's state store rules. Writes go
// through DoubleState (one raft-like index). Test helper; pure data, time passed in as nowMs.
import { HttpError } from './http-error.js';
import { KV_KEY, kvKey, type DoubleState } from './state.js';

export interface KvEntry {
  readonly key: string;
  /** null for an empty value (Consul answers `"Value": null`). */
  readonly value: Buffer | null;
  /** Consul's flags are a uint64. */
  readonly flags: bigint;
  /** The session holding the lock, '' when none. */
  readonly session: string;
  /** How many times the key was acquired. */
  readonly lockIndex: number;
  readonly createIndex: number;
  readonly modifyIndex: number;
}

/** Consul's MaxLockDelay: a longer lock-delay is cut to this. */
export const MAX_LOCK_DELAY_MS = 60_000;

function sameValue(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b;
  return a.equals(b);
}

export class KvStore {
  readonly entries = new Map<string, KvEntry>();
  /** Key -> unix ms until which `acquire` answers false (a lock-delay). */
  private readonly lockDelayUntilMs = new Map<string, number>();
  private readonly state: DoubleState;

  constructor(state: DoubleState) {
    this.state = state;
  }

  get(key: string): KvEntry | undefined {
    return this.entries.get(key);
  }

  /** Entries whose key starts with `prefix`, by key. */
  list(prefix: string): KvEntry[] {
    return [...this.entries.values()].filter((e) => e.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** `?keys`: keys under `prefix`, cut after the first `separator` past the prefix, deduplicated. */
  keys(prefix: string, separator: string): string[] {
    const out = new Set<string>();
    for (const entry of this.list(prefix)) {
      const rest = entry.key.slice(prefix.length);
      const at = separator === '' ? -1 : rest.indexOf(separator);
      out.add(at < 0 ? entry.key : prefix + rest.slice(0, at + separator.length));
    }
    return [...out];
  }

  /** Consul's `kvs` table index (at least 1): what a single-key read answers in X-Consul-Index. */
  tableIndex(): number {
    return Math.max(1, this.state.exactIndex(KV_KEY));
  }

  /** What a `?recurse` read answers: the highest index of the keys under the prefix, deleted
   * ones included, else the table index. */
  prefixIndex(prefix: string): number {
    if (prefix === '') return this.tableIndex();
    return this.state.maxIndexWithPrefix(kvKey(prefix)) || this.tableIndex();
  }

  /** Keys the session holds. */
  heldBy(session: string): string[] {
    return [...this.entries.values()].filter((e) => e.session === session).map((e) => e.key);
  }

  /** Milliseconds left of the key's lock-delay (0 when none). */
  lockDelayRemainingMs(key: string, nowMs: number): number {
    const until = this.lockDelayUntilMs.get(key);
    if (until === undefined) return 0;
    if (until <= nowMs) {
      this.lockDelayUntilMs.delete(key);
      return 0;
    }
    return until - nowMs;
  }

  /** A plain PUT: sets value and flags, keeps the lock state. An unchanged entry is no write. */
  set(key: string, value: Buffer | null, flags: bigint): void {
    const existing = this.entries.get(key);
    this.put(key, value, flags, existing?.session ?? '', existing?.lockIndex ?? 0);
  }

  /** `?cas=N`: set only when the entry's ModifyIndex is N (N = 0: only when the key is absent). */
  cas(key: string, value: Buffer | null, flags: bigint, casIndex: number): boolean {
    const existing = this.entries.get(key);
    if (casIndex === 0 ? existing !== undefined : existing?.modifyIndex !== casIndex) return false;
    this.set(key, value, flags);
    return true;
  }

  /**
   * `?acquire=SESSION`: false while the key's lock-delay runs or another session holds it; true
   * when it is free (LockIndex + 1) or already held by this session (LockIndex unchanged). Value
   * and flags are written either way on success. `sessionExists` false is Consul's error.
   */
  acquire(key: string, session: string, value: Buffer | null, flags: bigint, sessionExists: boolean, nowMs: number): boolean {
    if (this.lockDelayRemainingMs(key, nowMs) > 0) return false;
    if (session === '') throw new HttpError(500, 'missing session');
    if (!sessionExists) throw new HttpError(500, `invalid session ${JSON.stringify(session)}`);
    const existing = this.entries.get(key);
    if (existing !== undefined && existing.session !== '' && existing.session !== session) return false;
    const lockIndex = existing === undefined ? 1 : existing.session === session ? existing.lockIndex : existing.lockIndex + 1;
    this.put(key, value, flags, session, lockIndex);
    return true;
  }

  /** `?release=SESSION`: true when this session held the key; the lock is cleared, value and
   * flags written. False (nothing written) when the key is absent or held by someone else. */
  release(key: string, session: string, value: Buffer | null, flags: bigint): boolean {
    if (session === '') throw new HttpError(500, 'missing session');
    const existing = this.entries.get(key);
    if (existing === undefined || existing.session !== session) return false;
    this.put(key, value, flags, '', existing.lockIndex);
    return true;
  }

  /** DELETE: removes the key whatever its lock (absent: no write). */
  delete(key: string): void {
    if (!this.entries.has(key)) return;
    this.state.write([KV_KEY, kvKey(key)], () => {
      this.entries.delete(key);
    });
  }

  /** DELETE `?cas=N`: true when the key's ModifyIndex was N and it is gone, or it was absent. */
  deleteCas(key: string, casIndex: number): boolean {
    const existing = this.entries.get(key);
    if (existing === undefined) return true;
    if (existing.modifyIndex !== casIndex) return false;
    this.delete(key);
    return true;
  }

  /** DELETE `?recurse`: every key under the prefix, in one write. */
  deleteTree(prefix: string): void {
    const keys = this.list(prefix).map((e) => e.key);
    if (keys.length === 0) return;
    this.state.write([KV_KEY, ...keys.map(kvKey)], () => {
      for (const key of keys) this.entries.delete(key);
    });
  }

  /**
   * What a session's invalidation does to the keys it holds, inside the caller's write at
   * `index`: release them (behavior `release`) or delete them (`delete`), and start their
   * lock-delay (cut to 60 s, none when 0). The caller's write must touch `kv` and `kv:<key>`.
   */
  invalidateHeld(keys: readonly string[], behavior: 'release' | 'delete', lockDelayMs: number, nowMs: number, index: number): void {
    const delayMs = Math.min(lockDelayMs, MAX_LOCK_DELAY_MS);
    for (const key of keys) {
      const existing = this.entries.get(key);
      if (existing === undefined) continue;
      if (behavior === 'delete') this.entries.delete(key);
      else this.entries.set(key, { ...existing, session: '', modifyIndex: index });
      if (delayMs > 0) this.lockDelayUntilMs.set(key, nowMs + delayMs);
    }
  }

  private put(key: string, value: Buffer | null, flags: bigint, session: string, lockIndex: number): void {
    const existing = this.entries.get(key);
    if (existing !== undefined && sameValue(existing.value, value) && existing.flags === flags && existing.session === session && existing.lockIndex === lockIndex) return;
    this.state.write([KV_KEY, kvKey(key)], (index) => {
      this.entries.set(key, { key, value, flags, session, lockIndex, createIndex: existing?.createIndex ?? index, modifyIndex: index });
    });
  }
}
