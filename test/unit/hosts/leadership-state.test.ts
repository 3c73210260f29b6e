// The per-service leadership decision: leader, follower, candidate or lost, from the session, the
// lock's holder and the clock. Unit: pure; the table is the doc comment's worked examples.
import { describe, expect, it } from 'vitest';
import { decideLeadership, leaderDeadlineMs, sameRole, type LeadershipObservation, type LeadershipRole, type LockView } from '../../../src/hosts/leadership-state.js';

const b = { instanceId: 'b', adminAddress: '127.0.0.1:9091' };
const heldBy = (sessionId: string, holder = b): LockView => ({ state: 'held', sessionId, holder });

/** ttl 10000, margin 2000, session s1 confirmed at 1000: deadline 9000. */
function observe(overrides: Partial<LeadershipObservation>): LeadershipObservation {
  return {
    nowMs: 5_000,
    session: { id: 's1', confirmedAtMs: 1_000 },
    invalidatedSessionIds: [],
    lock: { state: 'free' },
    ttlMs: 10_000,
    safetyMarginMs: 2_000,
    ...overrides,
  };
}

describe('decideLeadership: the worked examples of its doc comment', () => {
  const cases: [string, Partial<LeadershipObservation>, LeadershipRole][] = [
    ['holding the lock with a confirmed session leads', { lock: heldBy('s1') }, { role: 'leader' }],
    ['one millisecond before the deadline it still leads', { lock: heldBy('s1'), nowMs: 8_999 }, { role: 'leader' }],
    ['at the deadline (ttl minus margin since the last confirmed renew) it steps down', { lock: heldBy('s1'), nowMs: 9_000 }, { role: 'lost', reason: 'renew-overdue' }],
    ['another session holding the lock makes a follower naming the holder', { lock: heldBy('s2') }, { role: 'follower', holderSessionId: 's2', holder: b }],
    ['a follower whose own renew is overdue still follows: the lock is not ours to give up', { lock: heldBy('s2'), nowMs: 20_000 }, { role: 'follower', holderSessionId: 's2', holder: b }],
    ['a free lock with a session is a candidate', { lock: { state: 'free' } }, { role: 'candidate' }],
    ['a free lock without a session is a candidate (a session comes first)', { lock: { state: 'free' }, session: undefined }, { role: 'candidate' }],
    ['a lock never read is a candidate: there is no one to follow yet', { lock: { state: 'unknown' } }, { role: 'candidate' }],
    ['a lock an invalidated session of ours holds is lost while we have a new one', { lock: heldBy('s0'), invalidatedSessionIds: ['s0'] }, { role: 'lost', reason: 'session-invalidated' }],
    ['a lock an invalidated session of ours holds is lost without a session too', { lock: heldBy('s0'), invalidatedSessionIds: ['s0'], session: undefined }, { role: 'lost', reason: 'session-invalidated' }],
  ];
  it.each(cases)('%s', (_name, overrides, expected) => {
    expect(decideLeadership(observe(overrides))).toEqual(expected);
  });
});

describe('decideLeadership: edges', () => {
  it('a follower names no holder when the value is unreadable, but still follows', () => {
    expect(decideLeadership(observe({ lock: { state: 'held', sessionId: 's2', holder: undefined } }))).toEqual({ role: 'follower', holderSessionId: 's2', holder: undefined });
  });

  it('a lock held by our session without a live session view is not ours to drive', () => {
    // The session was forgotten but is not (yet) in the invalidated list: follow, never lead.
    expect(decideLeadership(observe({ lock: heldBy('s1'), session: undefined })).role).toBe('follower');
  });

  it('a renew that lands again before Consul expired the session makes it leader again', () => {
    const overdue = observe({ lock: heldBy('s1'), nowMs: 9_500 });
    expect(decideLeadership(overdue).role).toBe('lost');
    expect(decideLeadership({ ...overdue, session: { id: 's1', confirmedAtMs: 9_400 } }).role).toBe('leader');
  });

  it('never leads past the deadline, at any time and margin', () => {
    for (const margin of [1, 500, 2_000, 4_999]) {
      for (let nowMs = 0; nowMs <= 20_000; nowMs += 250) {
        const obs = observe({ lock: heldBy('s1'), nowMs, safetyMarginMs: margin });
        const deadline = leaderDeadlineMs({ id: 's1', confirmedAtMs: 1_000 }, 10_000, margin);
        expect(decideLeadership(obs).role === 'leader').toBe(nowMs < deadline);
      }
    }
  });

  it('leaderDeadlineMs counts from the confirmed send time', () => {
    expect(leaderDeadlineMs({ id: 's1', confirmedAtMs: 1_000 }, 10_000, 2_000)).toBe(9_000);
  });
});

describe('sameRole', () => {
  it.each<[string, LeadershipRole | undefined, LeadershipRole | undefined, boolean]>([
    ['two leaders are the same', { role: 'leader' }, { role: 'leader' }, true],
    ['leader and candidate differ', { role: 'leader' }, { role: 'candidate' }, false],
    ['a first decision differs from none', undefined, { role: 'candidate' }, false],
    ['followers of the same session and holder are the same', { role: 'follower', holderSessionId: 's2', holder: b }, { role: 'follower', holderSessionId: 's2', holder: { ...b } }, true],
    ['followers of another session differ', { role: 'follower', holderSessionId: 's2', holder: b }, { role: 'follower', holderSessionId: 's3', holder: b }, false],
    ['followers of a holder at another address differ', { role: 'follower', holderSessionId: 's2', holder: b }, { role: 'follower', holderSessionId: 's2', holder: { instanceId: 'b' } }, false],
    ['lost for another reason differs', { role: 'lost', reason: 'renew-overdue' }, { role: 'lost', reason: 'session-invalidated' }, false],
  ])('%s', (_name, x, y, same) => {
    expect(sameRole(x, y)).toBe(same);
  });
});
