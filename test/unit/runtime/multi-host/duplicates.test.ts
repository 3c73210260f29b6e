// splitDuplicates: of several live copies of one replica id the highest generation stays. Unit: pure.
import { describe, expect, it } from 'vitest';
import { splitDuplicates } from '../../../../src/runtime/multi-host/duplicates.js';
import type { ReplicaObservation } from '../../../../src/runtime/runtime-driver.js';

function obs(id: string, replicaId: string, extra: Partial<ReplicaObservation> = {}): ReplicaObservation {
  return { id, service: 'web', revision: 'r1', replicaId, state: 'running', nativeId: id.split('/')[1] ?? id, ...extra };
}

const ids = (list: readonly ReplicaObservation[]): string[] => list.map((o) => o.id);

describe('splitDuplicates', () => {
  it('keeps everything when every replica id runs once', () => {
    const all = [obs('a/1', 'w1', { generation: 5 }), obs('b/2', 'w2', { generation: 6 })];
    expect(splitDuplicates(all)).toEqual({ keep: all, fence: [] });
  });

  it('keeps the higher generation of a replica id that runs on two hosts, whatever the order', () => {
    const older = obs('c/1', 'w3', { generation: 7 });
    const newer = obs('a/9', 'w3', { generation: 9 });
    expect(ids(splitDuplicates([older, newer]).keep)).toEqual(['a/9']);
    expect(ids(splitDuplicates([newer, older]).fence)).toEqual(['c/1']);
  });

  it('ranks a copy without a generation (started before generations existed) below any with one', () => {
    const legacy = obs('a/1', 'w1');
    const labelled = obs('b/2', 'w1', { generation: 1 });
    expect(splitDuplicates([legacy, labelled])).toEqual({ keep: [labelled], fence: [legacy] });
  });

  it('breaks a generation tie by the later start, then by id', () => {
    expect(ids(splitDuplicates([obs('a/1', 'w1', { generation: 3, startedAtMs: 20 }), obs('b/1', 'w1', { generation: 3, startedAtMs: 10 })]).keep)).toEqual(['a/1']);
    expect(ids(splitDuplicates([obs('a/1', 'w1', { generation: 3 }), obs('b/1', 'w1', { generation: 3 })]).keep)).toEqual(['b/1']);
  });

  it('never fences exited copies (they run nothing and stay listed until stopped) and lets them not outrank a live one', () => {
    const exited = obs('a/1', 'w1', { generation: 9, state: 'exited', exitCode: 137 });
    const live = obs('b/2', 'w1', { generation: 4 });
    expect(splitDuplicates([exited, live])).toEqual({ keep: [exited, live], fence: [] });
  });

  it('tells the same replica id of two services apart', () => {
    const web = obs('a/1', 'r1', { generation: 1 });
    const api = { ...obs('b/2', 'r1', { generation: 2 }), service: 'api' };
    expect(splitDuplicates([web, api]).fence).toEqual([]);
  });

  it('fences every copy but the newest when three hosts hold one', () => {
    const split = splitDuplicates([obs('a/1', 'w1', { generation: 1 }), obs('b/1', 'w1', { generation: 3 }), obs('c/1', 'w1', { generation: 2 })]);
    expect(ids(split.keep)).toEqual(['b/1']);
    expect(ids(split.fence)).toEqual(['a/1', 'c/1']);
  });
});
