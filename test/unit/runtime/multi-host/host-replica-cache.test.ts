// HostReplicaCache: a list replaces what it covers, but a start, stop or exit that happened while
// it ran stays newer than it. Unit: pure.
import { describe, expect, it } from 'vitest';
import { HostReplicaCache } from '../../../../src/runtime/multi-host/host-replica-cache.js';
import type { ReplicaObservation } from '../../../../src/runtime/runtime-driver.js';

function obs(id: string, service = 'web', extra: Partial<ReplicaObservation> = {}): ReplicaObservation {
  return { id, service, revision: 'r1', replicaId: `r-${id}`, state: 'running', nativeId: id, ...extra };
}

const idsOf = (cache: HostReplicaCache): string[] => cache.values().map((o) => o.id).sort();

describe('HostReplicaCache', () => {
  it('is not listed until a list of every service is applied', () => {
    const cache = new HostReplicaCache();
    expect(cache.listed).toBe(false);
    cache.applyList(cache.beginList(), [obs('1')], 'web');
    expect(cache.listed).toBe(false);
    cache.applyList(cache.beginList(), [obs('1')]);
    expect(cache.listed).toBe(true);
  });

  it('replaces its entries with a list: new ones added, missing ones dropped', () => {
    const cache = new HostReplicaCache();
    cache.applyList(cache.beginList(), [obs('1'), obs('2')]);
    cache.applyList(cache.beginList(), [obs('2'), obs('3')]);
    expect(idsOf(cache)).toEqual(['2', '3']);
  });

  it('keeps a replica started while a list ran, though the list does not show it', () => {
    const cache = new HostReplicaCache();
    const token = cache.beginList();
    cache.put(obs('new'));
    cache.applyList(token, [obs('old')]);
    expect(idsOf(cache)).toEqual(['new', 'old']);
  });

  it('does not bring back a container removed while a list ran', () => {
    const cache = new HostReplicaCache();
    cache.applyList(cache.beginList(), [obs('1'), obs('2')]);
    const token = cache.beginList();
    cache.remove('1');
    cache.applyList(token, [obs('1'), obs('2')]);
    expect(idsOf(cache)).toEqual(['2']);
  });

  it('keeps an exit seen while a list ran over the list\'s older "running"', () => {
    const cache = new HostReplicaCache();
    cache.applyList(cache.beginList(), [obs('1')]);
    const token = cache.beginList();
    cache.update('1', (o) => ({ ...o, state: 'exited', exitCode: 137 }));
    cache.applyList(token, [obs('1')]);
    expect(cache.get('1')).toMatchObject({ state: 'exited', exitCode: 137 });
    expect(cache.live()).toEqual([]);
  });

  it('ignores a list older than one already applied', () => {
    const cache = new HostReplicaCache();
    const older = cache.beginList();
    const newer = cache.beginList();
    expect(cache.applyList(newer, [obs('2')])).toBe(true);
    expect(cache.applyList(older, [obs('1')])).toBe(false);
    expect(idsOf(cache)).toEqual(['2']);
  });

  it('a list of one service leaves the others alone', () => {
    const cache = new HostReplicaCache();
    cache.applyList(cache.beginList(), [obs('w1'), obs('a1', 'api')]);
    cache.applyList(cache.beginList(), [obs('w2'), obs('a2', 'api')], 'web');
    expect(idsOf(cache)).toEqual(['a1', 'w2']);
  });

  it('forgets everything on clear, and drops lists begun before it', () => {
    const cache = new HostReplicaCache();
    cache.applyList(cache.beginList(), [obs('1')]);
    const token = cache.beginList();
    cache.clear();
    expect(cache.values()).toEqual([]);
    expect(cache.listed).toBe(false);
    expect(cache.applyList(token, [obs('1')])).toBe(false);
    expect(cache.values()).toEqual([]);
  });

  it('ignores updates of unknown ids', () => {
    const cache = new HostReplicaCache();
    cache.update('nope', (o) => ({ ...o, state: 'exited' }));
    expect(cache.values()).toEqual([]);
  });
});
