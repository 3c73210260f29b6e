// What the multi-host driver last knew of one host's containers: refreshed by lists, and kept
// current between them by starts, stops and events, so placement and a host that stops answering
// can rely on it. Pure (no I/O; a sequence number orders the updates).
import type { ReplicaObservation } from '../runtime-driver.js';

interface Entry {
  readonly observation: ReplicaObservation;
  /** Sequence number of the update that set it. */
  readonly seq: number;
}

/**
 * A list takes a while: a start or stop that completes meanwhile is newer than the list. So
 * beginList() hands out a token, and applyList() keeps entries updated after it (a replica
 * started meanwhile, an exit seen meanwhile) and skips containers removed after it. A list older
 * than one already applied is dropped.
 */
export class HostReplicaCache {
  private readonly entries = new Map<string, Entry>();
  /** Containers removed by stop(), with the sequence number of the removal. */
  private readonly removed = new Map<string, number>();
  private seq = 0;
  private lastAppliedToken = 0;
  private listedAll = false;

  /** True once a list of every service was applied (since the last clear). */
  get listed(): boolean {
    return this.listedAll;
  }

  beginList(): number {
    this.seq += 1;
    return this.seq;
  }

  /** Replaces what `token`'s list covers (one service, or all) with its result. Returns false when
   * the list was older than one already applied, and so ignored. */
  applyList(token: number, observations: readonly ReplicaObservation[], service?: string): boolean {
    if (token < this.lastAppliedToken) return false;
    this.lastAppliedToken = token;
    const seen = new Set<string>();
    for (const o of observations) {
      if (service !== undefined && o.service !== service) continue;
      seen.add(o.id);
      const removedAt = this.removed.get(o.id);
      if (removedAt !== undefined && removedAt > token) continue;
      const current = this.entries.get(o.id);
      if (current !== undefined && current.seq > token) continue;
      this.entries.set(o.id, { observation: o, seq: token });
    }
    for (const [id, entry] of this.entries) {
      if (seen.has(id) || entry.seq > token) continue;
      if (service !== undefined && entry.observation.service !== service) continue;
      this.entries.delete(id);
    }
    // Removals older than this list are reflected in it (and in every later one).
    for (const [id, at] of this.removed) if (at < token) this.removed.delete(id);
    if (service === undefined) this.listedAll = true;
    return true;
  }

  put(observation: ReplicaObservation): void {
    this.seq += 1;
    this.removed.delete(observation.id);
    this.entries.set(observation.id, { observation, seq: this.seq });
  }

  /** Changes a known entry (an exit, a health change); unknown ids are ignored. */
  update(id: string, change: (current: ReplicaObservation) => ReplicaObservation): void {
    const current = this.entries.get(id);
    if (current === undefined) return;
    this.seq += 1;
    this.entries.set(id, { observation: change(current.observation), seq: this.seq });
  }

  remove(id: string): void {
    this.seq += 1;
    this.entries.delete(id);
    this.removed.set(id, this.seq);
  }

  /** Forgets everything (a lost host); the next list starts afresh. */
  clear(): void {
    this.entries.clear();
    this.removed.clear();
    this.listedAll = false;
    // Lists begun before now describe what is forgotten: drop them.
    this.seq += 1;
    this.lastAppliedToken = this.seq;
  }

  get(id: string): ReplicaObservation | undefined {
    return this.entries.get(id)?.observation;
  }

  values(): ReplicaObservation[] {
    return [...this.entries.values()].map((e) => e.observation);
  }

  /** Observations that are not exited: what still runs (or starts, or stops) there. */
  live(): ReplicaObservation[] {
    return this.values().filter((o) => o.state !== 'exited');
  }
}
