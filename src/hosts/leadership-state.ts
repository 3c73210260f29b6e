// The per-service leadership decision: from our Consul session, the lock key's holder and the
// clock, whether this instance drives the service (leader), follows another, should try to
// acquire, or must stop driving now. Pure (the clock is an argument).
import type { LeaderInfo } from './leadership-key.js';

/** The lock key as last read from Consul (or as our own acquire / release left it). */
export type LockView =
  /** Never read successfully, and not written by us. */
  | { readonly state: 'unknown' }
  /** No key, or a key no session holds. */
  | { readonly state: 'free' }
  /** Held by a session; `holder` is who the value names (undefined when unreadable). */
  | { readonly state: 'held'; readonly sessionId: string; readonly holder: LeaderInfo | undefined };

/** Our session, and the last moment Consul is known to have (re)started its TTL. */
export interface SessionView {
  readonly id: string;
  /**
   * When the request of the latest successful create or renew was SENT, on the monotonic clock.
   * Consul restarts the TTL when it handles the request, which is later: counting from the send
   * time makes our deadline come before Consul's earliest expiry, whatever the network took.
   */
  readonly confirmedAtMs: number;
}

export interface LeadershipObservation {
  readonly nowMs: number;
  /** Our live session; undefined while we have none (not created yet, or invalidated). */
  readonly session: SessionView | undefined;
  /** Our own sessions that Consul invalidated (renew answered 404) or that we destroyed. */
  readonly invalidatedSessionIds: readonly string[];
  readonly lock: LockView;
  readonly ttlMs: number;
  /** A leader steps down this long before the TTL ends: room for clock-rate differences
   * between hosts and for the step-down itself. */
  readonly safetyMarginMs: number;
}

export type LeadershipRole =
  /** We hold the lock and our session is confirmed alive: drive the service. */
  | { readonly role: 'leader' }
  /** Another session holds the lock: do not drive; `holder` drives it. */
  | { readonly role: 'follower'; readonly holderSessionId: string; readonly holder: LeaderInfo | undefined }
  /** Nobody is known to hold the lock: do not drive; try to acquire it. */
  | { readonly role: 'candidate' }
  /**
   * Our session held the lock but can no longer be trusted to: stop driving now. Either we
   * could not renew within the TTL minus the margin (another instance may take over once the
   * TTL ends), or Consul told us the session is gone (its lock is being released).
   */
  | { readonly role: 'lost'; readonly reason: 'renew-overdue' | 'session-invalidated' };

export type LeadershipRoleName = LeadershipRole['role'];

/** The moment a leader with this session must have stopped driving. */
export function leaderDeadlineMs(session: SessionView, ttlMs: number, safetyMarginMs: number): number {
  return session.confirmedAtMs + ttlMs - safetyMarginMs;
}

/**
 * Decides the role. Fencing by time: Consul never expires a session before its TTL has passed
 * since it handled the last renew, so a leader that steps down at `confirmedAtMs + ttl - margin`
 * has stopped before any other instance can acquire the lock (Consul's leader-election guide;
 * the TTL is a lower bound, expiry may come up to twice as late).
 *
 * Worked examples (ttl 10000, margin 2000; session s1 confirmed at 1000, so deadline 9000),
 * reused by the tests:
 *   lock held by s1, now 5000                          -> leader
 *   lock held by s1, now 8999                          -> leader
 *   lock held by s1, now 9000                          -> lost (renew-overdue)
 *   lock held by s2 naming b, now 5000                 -> follower (s2, b)
 *   lock held by s2, our renew overdue                 -> follower (s2): not ours to give up
 *   lock free, session s1, now 5000                    -> candidate
 *   lock free, no session                              -> candidate (create a session first)
 *   lock unknown (Consul never answered)               -> candidate (no one to follow yet)
 *   lock held by s0, s0 invalidated, session s1        -> lost (session-invalidated)
 *   lock held by s0, s0 invalidated, no session        -> lost (session-invalidated)
 */
export function decideLeadership(obs: LeadershipObservation): LeadershipRole {
  const { lock, session } = obs;
  if (lock.state !== 'held') return { role: 'candidate' };
  if (session !== undefined && lock.sessionId === session.id) {
    return obs.nowMs < leaderDeadlineMs(session, obs.ttlMs, obs.safetyMarginMs) ? { role: 'leader' } : { role: 'lost', reason: 'renew-overdue' };
  }
  if (obs.invalidatedSessionIds.includes(lock.sessionId)) return { role: 'lost', reason: 'session-invalidated' };
  return { role: 'follower', holderSessionId: lock.sessionId, holder: lock.holder };
}

/** True when two decisions would tell a listener the same thing (no change to emit). */
export function sameRole(a: LeadershipRole | undefined, b: LeadershipRole | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.role !== b.role) return false;
  if (a.role === 'lost' && b.role === 'lost') return a.reason === b.reason;
  if (a.role === 'follower' && b.role === 'follower') {
    return a.holderSessionId === b.holderSessionId && a.holder?.instanceId === b.holder?.instanceId && a.holder?.adminAddress === b.holder?.adminAddress;
  }
  return true;
}
