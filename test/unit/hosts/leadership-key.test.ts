// The leader key: its name under a prefix, the JSON value naming the holder, and reading a KV
// answer into a lock view. Unit: pure.
import { describe, expect, it } from 'vitest';
import { encodeLeaderValue, isLeaderServiceName, leaderKey, parseLeaderValue, readLockEntry } from '../../../src/hosts/leadership-key.js';

describe('leaderKey', () => {
  it.each([
    ['the default prefix', 'dockmaster', 'web', 'dockmaster/leader/web'],
    ['slashes around the prefix go (Consul refuses a leading one)', '/fleet/a/', 'web', 'fleet/a/leader/web'],
    ['an empty prefix', '', 'web', 'leader/web'],
  ])('%s', (_name, prefix, service, key) => {
    expect(leaderKey(prefix, service)).toBe(key);
  });

  it('accepts the names the config schema accepts, and nothing that could leave the key segment', () => {
    for (const ok of ['web', 'a', 'api-2', 'x'.repeat(63)]) expect(isLeaderServiceName(ok), ok).toBe(true);
    for (const bad of ['', 'Web', 'a/b', '..', '-web', 'web-', 'x'.repeat(64), 'a b']) expect(isLeaderServiceName(bad), bad).toBe(false);
  });
});

describe('the leader value', () => {
  it('round-trips the instance id and admin address', () => {
    const info = { instanceId: 'host-1-42-abc', adminAddress: '127.0.0.1:9090' };
    expect(encodeLeaderValue(info)).toBe('{"instanceId":"host-1-42-abc","adminAddress":"127.0.0.1:9090"}');
    expect(parseLeaderValue(encodeLeaderValue(info))).toEqual(info);
    expect(parseLeaderValue(encodeLeaderValue({ instanceId: 'a' }))).toEqual({ instanceId: 'a' });
  });

  it.each([
    ['no value', null],
    ['an empty value', ''],
    ['text that is not JSON', 'leader-a'],
    ['a JSON list', '["a"]'],
    ['an object without an instance id', '{"adminAddress":"x"}'],
    ['an empty instance id', '{"instanceId":""}'],
  ])('names no holder for %s', (_name, text) => {
    expect(parseLeaderValue(text)).toBeUndefined();
  });
});

describe('readLockEntry: the doc comment examples', () => {
  it('a 404 (null) is a free lock', () => {
    expect(readLockEntry(null)).toEqual({ ok: true, lock: { state: 'free' } });
  });

  it('an entry with a Session is held by it, naming the holder from the value', () => {
    expect(readLockEntry({ Key: 'dockmaster/leader/web', Value: '{"instanceId":"a"}', Session: 's1', LockIndex: 1 })).toEqual({
      ok: true,
      lock: { state: 'held', sessionId: 's1', holder: { instanceId: 'a' } },
    });
  });

  it('an entry held with a foreign value is held, its holder unnamed', () => {
    expect(readLockEntry({ Key: 'k', Value: 'not json', Session: 's9' })).toEqual({ ok: true, lock: { state: 'held', sessionId: 's9', holder: undefined } });
  });

  it('a released entry (no Session) is free', () => {
    expect(readLockEntry({ Key: 'k', Value: null, LockIndex: 3 })).toEqual({ ok: true, lock: { state: 'free' } });
    expect(readLockEntry({ Key: 'k', Value: '{"instanceId":"a"}', Session: '' })).toEqual({ ok: true, lock: { state: 'free' } });
  });

  it.each([
    ['an answer with no entry (a 200 whose body was not a list)', undefined],
    ['an object of the wrong shape', { error: 'x' }],
    ['a list', []],
    ['a number', 7],
    ['a Session that is not text', { Key: 'k', Session: 5 }],
    ['a Value that is not text', { Key: 'k', Value: 5 }],
  ])('refuses %s: garbage must not read as "nobody holds it"', (_name, entry) => {
    expect(readLockEntry(entry).ok).toBe(false);
  });
});
