// OutlierDetector (src/health/outlier-detector.ts): ejection, release by timer with onChange,
// longer re-ejection, state and cap per pool and endpoint, the return check, retain() and
// close(). Fake clock and timers (Date.now moves with them), fake check; no sockets.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutlierDetector, type EjectionEvent, type OutlierDetectorDeps } from '../../../src/health/outlier-detector.js';
import type { PassiveHealthConfig } from '../../../src/model/gateway.js';

const CONFIG: PassiveHealthConfig = { consecutiveFailures: 3, baseEjectionMs: 1_000, maxEjectionMs: 2_500, maxEjectionPercent: 50 };
const START_MS = 1_000_000;
const POOL = 'route:api';

let events: EjectionEvent[] = [];
const cleanups: Array<() => void> = [];

function detector(config: PassiveHealthConfig = CONFIG, extra: Partial<OutlierDetectorDeps> = {}): OutlierDetector {
  const d = new OutlierDetector({ config, onChange: (event) => events.push(event), nowMs: () => Date.now(), ...extra });
  cleanups.push(() => d.close());
  return d;
}

const origin = (id: string): string => `http://127.0.0.1:${4000 + id.charCodeAt(0)}`;

function fail(d: OutlierDetector, id: string, times: number, poolKey = POOL, poolSize = 4): void {
  for (let i = 0; i < times; i++) d.failure(poolKey, id, origin(id), poolSize);
}

/** The ejected map as plain sorted arrays, for readable comparisons. */
function ejected(d: OutlierDetector): Record<string, string[]> {
  return Object.fromEntries([...d.ejected()].map(([pool, ids]) => [pool, [...ids].sort()]));
}

/** A check whose answers the test gives one by one; calls stay pending until answered. */
function manualCheck(): { check: (origin: string) => Promise<boolean>; calls: string[]; answer(ok: boolean): Promise<void>; pending(): number } {
  const calls: string[] = [];
  const waiting: Array<(ok: boolean) => void> = [];
  return {
    calls,
    check: (o) => {
      calls.push(o);
      return new Promise<boolean>((resolve) => waiting.push(resolve));
    },
    answer: async (ok) => {
      const next = waiting.shift();
      if (next === undefined) throw new Error('no check is pending');
      next(ok);
      // Let the detector's continuation after `await check()` run.
      await vi.advanceTimersByTimeAsync(0);
    },
    pending: () => waiting.length,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(START_MS);
  events = [];
});

afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
  vi.useRealTimers();
});

describe('OutlierDetector', () => {
  it('ejects an endpoint on its third consecutive failure and reports it once', () => {
    const d = detector();
    fail(d, 'a', 2);
    expect(events).toEqual([]);
    expect(ejected(d)).toEqual({});
    fail(d, 'a', 1);
    expect(events).toEqual([{ endpointId: 'a', poolKey: POOL, ejected: true, ejections: 1, untilMs: START_MS + 1_000 }]);
    expect(ejected(d)).toEqual({ [POOL]: ['a'] });
  });

  it('ignores failures reported while an endpoint is ejected (requests already in flight)', () => {
    const d = detector();
    fail(d, 'a', 3);
    fail(d, 'a', 10);
    expect(events).toHaveLength(1);
  });

  it('releases an endpoint when its ejection time is up, with onChange(ejected: false)', () => {
    const d = detector();
    fail(d, 'a', 3);
    vi.advanceTimersByTime(999);
    expect(ejected(d)).toEqual({ [POOL]: ['a'] });
    expect(events).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(ejected(d)).toEqual({});
    expect(d.ejected().size).toBe(0);
    expect(events[1]).toEqual({ endpointId: 'a', poolKey: POOL, ejected: false, ejections: 1, untilMs: 0 });
  });

  it('re-ejects a returned endpoint that keeps failing for longer each time, capped', () => {
    const d = detector();
    const durations: number[] = [];
    for (let round = 0; round < 4; round++) {
      fail(d, 'a', 3);
      const ejection = events.at(-1);
      expect(ejection?.ejected).toBe(true);
      durations.push((ejection?.untilMs ?? 0) - Date.now());
      vi.advanceTimersByTime(durations.at(-1) ?? 0);
      expect(events.at(-1)?.ejected).toBe(false);
    }
    // 1 x base, 2 x base, then the 2.5 s cap.
    expect(durations).toEqual([1_000, 2_000, 2_500, 2_500]);
    expect(events.filter((e) => e.ejected).map((e) => e.ejections)).toEqual([1, 2, 3, 4]);
  });

  it('does not release a re-ejected endpoint before its longer time is up', () => {
    const d = detector();
    fail(d, 'a', 3);
    vi.advanceTimersByTime(1_000);
    fail(d, 'a', 3);
    vi.advanceTimersByTime(1_999);
    expect(ejected(d)).toEqual({ [POOL]: ['a'] });
    vi.advanceTimersByTime(1);
    expect(ejected(d)).toEqual({});
  });

  it('a success ends the run of failures', () => {
    const d = detector();
    fail(d, 'a', 2);
    d.success(POOL, 'a');
    fail(d, 'a', 2);
    expect(events).toEqual([]);
    fail(d, 'a', 1);
    expect(events).toHaveLength(1);
  });

  it('a success for an endpoint it never saw fail changes nothing', () => {
    const d = detector();
    d.success(POOL, 'nobody');
    fail(d, 'a', 1);
    d.success(POOL, 'nobody');
    fail(d, 'a', 2);
    expect(events).toHaveLength(1);
  });

  it('ejects at most 2 of a pool of 4 at 50%, and a third once one has returned', () => {
    const d = detector();
    for (const id of ['a', 'b', 'c', 'd']) fail(d, id, 3);
    expect(ejected(d)).toEqual({ [POOL]: ['a', 'b'] });
    vi.advanceTimersByTime(1_000);
    expect(ejected(d)).toEqual({});
    // c and d counted their failures while refused: one more each ejects them now.
    fail(d, 'c', 1);
    fail(d, 'd', 1);
    expect(ejected(d)).toEqual({ [POOL]: ['c', 'd'] });
  });

  it('never ejects the only endpoint of a pool of 1 at 50%', () => {
    const d = detector();
    fail(d, 'solo', 20, 'route:solo', 1);
    expect(events).toEqual([]);
    expect(ejected(d)).toEqual({});
  });

  it('counts the cap per pool: ejections in one pool do not block another', () => {
    const d = detector();
    fail(d, 'a1', 3, 'service:a', 2);
    fail(d, 'a2', 3, 'service:a', 2);
    fail(d, 'b1', 3, 'service:b', 2);
    expect(ejected(d)).toEqual({ 'service:a': ['a1'], 'service:b': ['b1'] });
  });

  it('applies a new config from setConfig', () => {
    const d = detector();
    d.setConfig({ ...CONFIG, consecutiveFailures: 1, baseEjectionMs: 300 });
    fail(d, 'a', 1);
    expect(events[0]).toMatchObject({ endpointId: 'a', ejected: true, untilMs: START_MS + 300 });
  });

  it('retain() forgets the failure runs of endpoints that are gone', () => {
    const d = detector();
    fail(d, 'a', 2);
    fail(d, 'b', 2);
    d.retain(new Map([[POOL, new Set(['b'])]]));
    fail(d, 'a', 1);
    fail(d, 'b', 1);
    expect(events.map((e) => e.endpointId)).toEqual(['b']);
  });

  it('retain() forgets an ejected endpoint that left its pool at once: it holds no place under the cap and is never checked again', () => {
    const d = detector();
    fail(d, 'a', 3);
    d.retain(new Map());
    expect(ejected(d)).toEqual({});
    vi.advanceTimersByTime(10_000);
    expect(events.map((e) => [e.endpointId, e.ejected])).toEqual([['a', true]]);
    // Forgotten: the ejection count starts again, so the next ejection lasts the base time.
    fail(d, 'a', 3);
    expect((events.at(-1)?.untilMs ?? 0) - Date.now()).toBe(1_000);
  });

  it('an endpoint retained across rebuilds keeps its ejection count', () => {
    const d = detector();
    fail(d, 'a', 3);
    vi.advanceTimersByTime(1_000);
    d.retain(new Map([[POOL, new Set(['a'])]]));
    fail(d, 'a', 3);
    expect((events.at(-1)?.untilMs ?? 0) - Date.now()).toBe(2_000);
  });

  it('close() cancels pending releases', () => {
    const d = detector();
    fail(d, 'a', 3);
    d.close();
    vi.advanceTimersByTime(5_000);
    expect(events).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('OutlierDetector: state per pool and endpoint', () => {
  const A = 'route:ra';
  const B = 'route:rb';

  it('failures of a shared upstream in one pool do not count in the other', () => {
    const d = detector();
    fail(d, 'x', 2, A, 4);
    fail(d, 'x', 2, B, 4);
    expect(events).toEqual([]);
    fail(d, 'x', 1, A, 4);
    expect(events).toEqual([{ endpointId: 'x', poolKey: A, ejected: true, ejections: 1, untilMs: START_MS + 1_000 }]);
    expect(ejected(d)).toEqual({ [A]: ['x'] });
  });

  it('a success in one pool does not end the run of failures in the other', () => {
    const d = detector();
    fail(d, 'x', 2, B, 4);
    d.success(A, 'x');
    fail(d, 'x', 1, B, 4);
    expect(ejected(d)).toEqual({ [B]: ['x'] });
  });

  it('the shared upstream is judged per pool, and each pool\'s cap holds', () => {
    // Pools of 2 at 50%: one ejection each at most. In A, y is out first, so x is capped there;
    // in B nothing is out, so x is ejected there.
    const d = detector();
    fail(d, 'y', 3, A, 2);
    fail(d, 'x', 3, A, 2);
    fail(d, 'x', 3, B, 2);
    fail(d, 'y', 3, B, 2);
    expect(ejected(d)).toEqual({ [A]: ['y'], [B]: ['x'] });
    expect(events.filter((e) => e.ejected).map((e) => [e.poolKey, e.endpointId])).toEqual([[A, 'y'], [B, 'x']]);
  });

  it('an ejection in one pool leaves the shared upstream pickable in the other and returns on its own timer', () => {
    const d = detector();
    fail(d, 'x', 3, A, 4);
    vi.advanceTimersByTime(500);
    fail(d, 'x', 3, B, 4);
    expect(ejected(d)).toEqual({ [A]: ['x'], [B]: ['x'] });
    vi.advanceTimersByTime(500);
    expect(ejected(d)).toEqual({ [B]: ['x'] });
    vi.advanceTimersByTime(500);
    expect(ejected(d)).toEqual({});
    expect(events.map((e) => [e.poolKey, e.ejected])).toEqual([[A, true], [B, true], [A, false], [B, false]]);
  });

  it('counts ejections per pool: a second ejection in one pool is a first in the other', () => {
    const d = detector();
    fail(d, 'x', 3, A, 4);
    vi.advanceTimersByTime(1_000);
    fail(d, 'x', 3, A, 4);
    fail(d, 'x', 3, B, 4);
    // At START + 1 s: x's second ejection in A lasts 2 s, its first in B the base 1 s.
    expect(events.filter((e) => e.ejected).map((e) => [e.poolKey, e.ejections, e.untilMs - START_MS])).toEqual([
      [A, 1, 1_000],
      [A, 2, 3_000],
      [B, 1, 2_000],
    ]);
  });

  it('retain() forgets an endpoint in the pools that no longer hold it, and only there', () => {
    const d = detector();
    fail(d, 'x', 2, A, 4);
    fail(d, 'x', 2, B, 4);
    d.retain(new Map([[A, new Set(['x'])], [B, new Set(['other'])]]));
    fail(d, 'x', 1, B, 4);
    expect(events).toEqual([]);
    fail(d, 'x', 1, A, 4);
    expect(ejected(d)).toEqual({ [A]: ['x'] });
  });
});

describe('OutlierDetector: the return check', () => {
  it('an endpoint whose check passes returns when its time is up; the check gets its origin', async () => {
    const m = manualCheck();
    const d = detector(CONFIG, { check: m.check });
    fail(d, 'a', 3);
    vi.advanceTimersByTime(999);
    expect(m.calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(m.calls).toEqual([origin('a')]);
    // Still out while the check runs.
    expect(ejected(d)).toEqual({ [POOL]: ['a'] });
    expect(events).toHaveLength(1);
    await m.answer(true);
    expect(ejected(d)).toEqual({});
    expect(events[1]).toEqual({ endpointId: 'a', poolKey: POOL, ejected: false, ejections: 1, untilMs: 0 });
  });

  it('an endpoint whose check fails is ejected again at once, for longer, and returns once a later check passes', async () => {
    const m = manualCheck();
    const d = detector(CONFIG, { check: m.check });
    fail(d, 'a', 3);
    vi.advanceTimersByTime(1_000);
    const failedAtMs = Date.now();
    await m.answer(false);
    expect(events).toEqual([
      { endpointId: 'a', poolKey: POOL, ejected: true, ejections: 1, untilMs: START_MS + 1_000 },
      { endpointId: 'a', poolKey: POOL, ejected: true, ejections: 2, untilMs: failedAtMs + 2_000 },
    ]);
    expect(ejected(d)).toEqual({ [POOL]: ['a'] });
    // No check before the longer ejection is up.
    vi.advanceTimersByTime(1_999);
    expect(m.calls).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(m.calls).toHaveLength(2);
    await m.answer(true);
    expect(ejected(d)).toEqual({});
    expect(events.at(-1)).toEqual({ endpointId: 'a', poolKey: POOL, ejected: false, ejections: 2, untilMs: 0 });
    expect(events.filter((e) => !e.ejected)).toHaveLength(1);
  });

  it('keeps failing checks at the capped ejection time', async () => {
    const m = manualCheck();
    const d = detector(CONFIG, { check: m.check });
    fail(d, 'a', 3);
    const durations = [(events.at(-1)?.untilMs ?? 0) - Date.now()];
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime((events.at(-1)?.untilMs ?? 0) - Date.now());
      await m.answer(false);
      durations.push((events.at(-1)?.untilMs ?? 0) - Date.now());
    }
    expect(durations).toEqual([1_000, 2_000, 2_500, 2_500, 2_500]);
    expect(events.map((e) => [e.ejected, e.ejections])).toEqual([[true, 1], [true, 2], [true, 3], [true, 4], [true, 5]]);
    expect(ejected(d)).toEqual({ [POOL]: ['a'] });
  });

  it('an endpoint that returns after a failed check and fails again is ejected for longer still', async () => {
    const m = manualCheck();
    const d = detector(CONFIG, { check: m.check });
    fail(d, 'a', 3);
    vi.advanceTimersByTime(1_000);
    await m.answer(false);
    vi.advanceTimersByTime(2_000);
    await m.answer(true);
    fail(d, 'a', 3);
    expect(events.at(-1)).toMatchObject({ ejected: true, ejections: 3, untilMs: Date.now() + 2_500 });
  });

  it('a failed check still counts against the pool cap: the endpoint stays out, no other one goes', async () => {
    const m = manualCheck();
    const d = detector(CONFIG, { check: m.check });
    fail(d, 'a', 3, POOL, 2);
    vi.advanceTimersByTime(1_000);
    await m.answer(false);
    fail(d, 'b', 5, POOL, 2);
    expect(ejected(d)).toEqual({ [POOL]: ['a'] });
  });

  it('works with a check that resolves later in the same turn (a fake TCP connect)', async () => {
    const answers = [false, true];
    const check = vi.fn(async () => answers.shift() ?? true);
    const d = detector(CONFIG, { check });
    fail(d, 'a', 3);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events.map((e) => [e.ejected, e.ejections])).toEqual([[true, 1], [true, 2]]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(events.map((e) => [e.ejected, e.ejections])).toEqual([[true, 1], [true, 2], [false, 2]]);
    expect(check).toHaveBeenCalledTimes(2);
    expect(check).toHaveBeenCalledWith(origin('a'));
  });

  it('checks each pool of a shared upstream on its own', async () => {
    const m = manualCheck();
    const d = detector(CONFIG, { check: m.check });
    fail(d, 'x', 3, 'route:ra', 4);
    fail(d, 'x', 3, 'route:rb', 4);
    vi.advanceTimersByTime(1_000);
    expect(m.pending()).toBe(2);
    await m.answer(true);
    await m.answer(false);
    expect(ejected(d)).toEqual({ 'route:rb': ['x'] });
  });

  it('an ejected endpoint that left its pool stops holding a place under the cap when its time is up, though its origin stays dead', async () => {
    // A replica ejected while crashing is then removed (its port closed for good): its check
    // can never pass again, but it is no longer in the pool to be routed to.
    const check = vi.fn(async () => false);
    const d = detector(CONFIG, { check });
    fail(d, 'a', 3, POOL, 2);
    d.retain(new Map([[POOL, new Set(['b'])]]));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ejected(d)).toEqual({});
    expect(events.filter((e) => e.ejected)).toHaveLength(1);
    // The pool (now b and a new c) can eject one of its own.
    fail(d, 'b', 3, POOL, 2);
    expect(ejected(d)).toEqual({ [POOL]: ['b'] });
  });

  it('failures reported while the return check runs are ignored, as during the ejection', async () => {
    // The endpoint is still out of the table while its check runs; failures reaching the
    // detector then are of requests sent before the ejection (or in panic mode).
    const m = manualCheck();
    const d = detector(CONFIG, { check: m.check });
    fail(d, 'a', 3);
    vi.advanceTimersByTime(1_000);
    fail(d, 'a', 3);
    await m.answer(true);
    expect(ejected(d)).toEqual({});
    await vi.advanceTimersByTimeAsync(10_000);
    expect(events.map((e) => [e.ejected, e.ejections])).toEqual([[true, 1], [false, 1]]);
  });

  it('close() while a check runs: its answer reports nothing', async () => {
    const m = manualCheck();
    const d = detector(CONFIG, { check: m.check });
    fail(d, 'a', 3);
    vi.advanceTimersByTime(1_000);
    d.close();
    await m.answer(false);
    expect(events).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() while a check runs: a passing answer reports nothing either', async () => {
    const m = manualCheck();
    const d = detector(CONFIG, { check: m.check });
    fail(d, 'a', 3);
    vi.advanceTimersByTime(1_000);
    d.close();
    await m.answer(true);
    expect(events).toHaveLength(1);
  });
});
