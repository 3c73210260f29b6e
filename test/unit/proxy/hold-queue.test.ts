// HoldQueue (src/proxy/hold-queue.ts): the bounded arrival-order queue of held requests and the
// cold start it measures. Pure; the worked example of its doc comment first.
import { describe, expect, it } from 'vitest';
import { HoldQueue, type HoldEntry } from '../../../src/proxy/hold-queue.js';

interface Entry extends HoldEntry {
  readonly name: string;
}

const entry = (name: string, holdDeadlineMs: number): Entry => ({ name, holdDeadlineMs });
const names = (entries: readonly Entry[]): string[] => entries.map((e) => e.name);

describe('HoldQueue', () => {
  it('follows the worked example: maxQueue 2, holdTimeoutMs 1000', () => {
    const q = new HoldQueue<Entry>();
    expect(q.push(entry('a', 1_000), 2, 0)).toBe(true);
    expect(q.coldStarting).toBe(true);
    expect(q.push(entry('b', 1_010), 2, 10)).toBe(true);
    expect(q.push(entry('c', 1_020), 2, 20)).toBe(false);
    expect(q.size).toBe(2);
    expect(names(q.takeExpired(1_005))).toEqual(['a']);
    expect(names(q.takeExpired(1_010))).toEqual(['b']);
    expect(q.size).toBe(0);
    // Every request left, but the cold start runs on until the pool gets an endpoint.
    expect(q.coldStarting).toBe(true);
    expect(q.endColdStart(1_500)).toBe(1_500);
    expect(q.coldStarting).toBe(false);
    q.push(entry('d', 3_000), 2, 2_000);
    expect(q.endColdStart(2_250)).toBe(250);
  });

  it('gives everything back in arrival order', () => {
    const q = new HoldQueue<Entry>();
    for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) q.push(entry(name, 100), 10, i);
    expect(names(q.takeAll())).toEqual(['a', 'b', 'c', 'd']);
    expect(q.size).toBe(0);
    expect(q.takeAll()).toEqual([]);
  });

  it('expires only entries whose deadline is reached, wherever they sit, keeping the others in order', () => {
    const q = new HoldQueue<Entry>();
    // A shorter timeout set later (new hold settings) can expire a later entry first.
    q.push(entry('a', 500), 10, 0);
    q.push(entry('b', 200), 10, 50);
    q.push(entry('c', 600), 10, 60);
    q.push(entry('d', 200), 10, 70);
    expect(q.takeExpired(199)).toEqual([]);
    expect(names(q.takeExpired(200))).toEqual(['b', 'd']);
    expect(names(q.takeAll())).toEqual(['a', 'c']);
  });

  it('removes a client that went away, once; the rest keep their order', () => {
    const q = new HoldQueue<Entry>();
    const b = entry('b', 100);
    q.push(entry('a', 100), 10, 0);
    q.push(b, 10, 0);
    q.push(entry('c', 100), 10, 0);
    expect(q.remove(b)).toBe(true);
    expect(q.remove(b)).toBe(false);
    expect(q.remove(entry('b', 100))).toBe(false);
    expect(names(q.takeAll())).toEqual(['a', 'c']);
  });

  it('frees room for another request when one leaves', () => {
    const q = new HoldQueue<Entry>();
    const a = entry('a', 100);
    q.push(a, 1, 0);
    expect(q.push(entry('b', 100), 1, 0)).toBe(false);
    q.remove(a);
    expect(q.push(entry('b', 100), 1, 0)).toBe(true);
  });

  it('starts the cold start at the first hold, not at later ones or refused ones', () => {
    const q = new HoldQueue<Entry>();
    expect(q.endColdStart(5)).toBeUndefined();
    q.push(entry('a', 1_000), 1, 100);
    q.push(entry('b', 1_000), 1, 150);
    expect(q.endColdStart(400)).toBe(300);
  });

  it('never reports a negative cold start when the clock reads earlier', () => {
    const q = new HoldQueue<Entry>();
    q.push(entry('a', 1_000), 1, 100);
    expect(q.endColdStart(50)).toBe(0);
  });
});
