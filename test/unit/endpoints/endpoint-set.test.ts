// EndpointSet (src/endpoints/endpoint-set.ts): merging provider snapshots, newest snapshot of a
// provider wins, unchanged snapshots do not call onChange. Pure.
import { describe, expect, it } from 'vitest';
import { EndpointSet, sameSnapshot, type EndpointSnapshot } from '../../../src/endpoints/endpoint-set.js';
import type { Endpoint, EndpointSource } from '../../../src/model/endpoint.js';

function ep(id: string, source: EndpointSource = 'managed', extra: Partial<Endpoint> = {}): Endpoint {
  return { id, origin: `http://127.0.0.1:${4000 + id.length}`, weight: 1, source, healthy: true, draining: false, revision: 'r1', ...extra };
}

function snapshot(entries: Record<string, Endpoint[]>): EndpointSnapshot {
  return new Map(Object.entries(entries));
}

function recorder(): { set: EndpointSet; calls: Array<{ provider: string; merged: Record<string, string[]> }> } {
  const calls: Array<{ provider: string; merged: Record<string, string[]> }> = [];
  const set = new EndpointSet((merged, provider) => {
    calls.push({ provider, merged: Object.fromEntries([...merged].map(([service, endpoints]) => [service, endpoints.map((e) => e.id)])) });
  });
  return { set, calls };
}

describe('EndpointSet', () => {
  it('calls onChange with the merged view and the provider on a first snapshot', () => {
    const { set, calls } = recorder();
    expect(set.publish('managed', snapshot({ api: [ep('a')] }))).toBe(true);
    expect(calls).toEqual([{ provider: 'managed', merged: { api: ['a'] } }]);
  });

  it('does not call onChange for an equal snapshot made of new objects', () => {
    const { set, calls } = recorder();
    set.publish('consul', snapshot({ api: [ep('a', 'consul'), ep('b', 'consul')] }));
    expect(set.publish('consul', snapshot({ api: [ep('a', 'consul'), ep('b', 'consul')] }))).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('an empty first snapshot is still a change (the provider is now known)', () => {
    const { set, calls } = recorder();
    expect(set.publish('docker', new Map())).toBe(true);
    expect(set.publish('docker', new Map())).toBe(false);
    expect(calls).toHaveLength(1);
  });

  const changes: Array<{ name: string; next: Endpoint[] | Record<string, Endpoint[]> }> = [
    { name: 'a changed weight', next: [ep('a', 'managed', { weight: 2 })] },
    { name: 'a changed health', next: [ep('a', 'managed', { healthy: false })] },
    { name: 'a start of draining', next: [ep('a', 'managed', { draining: true })] },
    { name: 'a changed revision', next: [ep('a', 'managed', { revision: 'r2' })] },
    { name: 'a changed origin', next: [ep('a', 'managed', { origin: 'http://127.0.0.1:9999' })] },
    { name: 'a changed source', next: [ep('a', 'docker')] },
    { name: 'a changed id', next: [ep('z')] },
    { name: 'an added endpoint', next: [ep('a'), ep('b')] },
    { name: 'a removed endpoint', next: [] },
    { name: 'a service renamed with the same endpoints', next: { web: [ep('a')] } },
    { name: 'a service removed', next: {} },
    { name: 'a service added', next: { api: [ep('a')], web: [ep('b')] } },
  ];
  for (const c of changes) {
    it(`${c.name} is a change`, () => {
      const { set, calls } = recorder();
      set.publish('managed', snapshot({ api: [ep('a')] }));
      const next = Array.isArray(c.next) ? snapshot({ api: c.next }) : snapshot(c.next);
      expect(set.publish('managed', next)).toBe(true);
      expect(calls).toHaveLength(2);
    });
  }

  it('merges two providers: endpoints of the same service are joined, others kept apart', () => {
    const { set, calls } = recorder();
    set.publish('managed', snapshot({ api: [ep('m1'), ep('m2')] }));
    set.publish('consul', snapshot({ api: [ep('c1', 'consul')], billing: [ep('c2', 'consul')] }));
    expect(calls.at(-1)).toEqual({ provider: 'consul', merged: { api: ['m1', 'm2', 'c1'], billing: ['c2'] } });
    expect([...set.current().keys()].sort()).toEqual(['api', 'billing']);
  });

  it('the newest snapshot of one provider replaces its old one and leaves the other provider alone', () => {
    const { set, calls } = recorder();
    set.publish('managed', snapshot({ api: [ep('m1')] }));
    set.publish('consul', snapshot({ api: [ep('c1', 'consul')], billing: [ep('c2', 'consul')] }));
    set.publish('consul', snapshot({ api: [ep('c3', 'consul')] }));
    expect(calls.at(-1)).toEqual({ provider: 'consul', merged: { api: ['m1', 'c3'] } });
    set.publish('managed', snapshot({}));
    expect(calls.at(-1)).toEqual({ provider: 'managed', merged: { api: ['c3'] } });
  });

  it('an unchanged snapshot of one provider does not rebuild while another changed before', () => {
    const { set, calls } = recorder();
    set.publish('managed', snapshot({ api: [ep('m1')] }));
    set.publish('consul', snapshot({ api: [ep('c1', 'consul')] }));
    expect(set.publish('managed', snapshot({ api: [ep('m1')] }))).toBe(false);
    expect(calls.map((c) => c.provider)).toEqual(['managed', 'consul']);
  });

  it('current() is empty before any snapshot', () => {
    expect(recorder().set.current().size).toBe(0);
  });
});

describe('sameSnapshot', () => {
  it('is false against no previous snapshot', () => {
    expect(sameSnapshot(undefined, new Map())).toBe(false);
  });

  it('is true for equal content in new objects', () => {
    expect(sameSnapshot(snapshot({ api: [ep('a')] }), snapshot({ api: [ep('a')] }))).toBe(true);
  });

  it('treats a reordering of endpoints as a change (order feeds round-robin)', () => {
    expect(sameSnapshot(snapshot({ api: [ep('a'), ep('b')] }), snapshot({ api: [ep('b'), ep('a')] }))).toBe(false);
  });
});
