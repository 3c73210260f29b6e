// Passive-health ejection arithmetic (src/health/outlier.ts): growing ejection time, the
// consecutive-failure threshold, a success ending the run, and the per-pool ejection cap. Pure.
import { describe, expect, it } from 'vitest';
import { NOT_EJECTED, ejectionMs, isEjected, maxEjected, recordFailure, recordSuccess, type OutlierState } from '../../../src/health/outlier.js';
import type { PassiveHealthConfig } from '../../../src/model/gateway.js';

const CONFIG: PassiveHealthConfig = { consecutiveFailures: 3, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 };

describe('ejectionMs', () => {
  const cases: Array<{ name: string; ejections: number; ms: number }> = [
    { name: 'the first ejection lasts the base time', ejections: 1, ms: 30_000 },
    { name: 'the second ejection lasts twice the base time', ejections: 2, ms: 60_000 },
    { name: 'the third ejection lasts three times the base time', ejections: 3, ms: 90_000 },
    { name: 'the tenth ejection reaches the cap exactly', ejections: 10, ms: 300_000 },
    { name: 'an ejection past the cap lasts the cap', ejections: 11, ms: 300_000 },
    { name: 'a hundredth ejection still lasts the cap', ejections: 100, ms: 300_000 },
    { name: 'a count of zero is treated as the first ejection', ejections: 0, ms: 30_000 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(ejectionMs(c.ejections, CONFIG)).toBe(c.ms);
    });
  }
});

describe('maxEjected', () => {
  const cases: Array<{ name: string; poolSize: number; percent: number; max: number }> = [
    { name: 'a pool of 4 at 50% ejects at most 2', poolSize: 4, percent: 50, max: 2 },
    { name: 'a pool of 1 at 50% ejects none', poolSize: 1, percent: 50, max: 0 },
    { name: 'a pool of 1 at 100% may eject its only endpoint', poolSize: 1, percent: 100, max: 1 },
    { name: 'a pool of 3 at 50% ejects at most 1 (rounded down)', poolSize: 3, percent: 50, max: 1 },
    { name: 'a pool of 10 at 10% ejects at most 1', poolSize: 10, percent: 10, max: 1 },
    { name: 'a pool of 4 at 0% ejects none', poolSize: 4, percent: 0, max: 0 },
    { name: 'an empty pool ejects none', poolSize: 0, percent: 50, max: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(maxEjected(c.poolSize, { ...CONFIG, maxEjectionPercent: c.percent })).toBe(c.max);
    });
  }
});

type Outcome = 'F' | 'S';

/** Runs outcomes at `nowMs` on an endpoint alone in a big pool; returns which failure ejected. */
function run(outcomes: readonly Outcome[], nowMs = 1_000, start: OutlierState = NOT_EJECTED): { state: OutlierState; ejectedAt: number[] } {
  let state = start;
  const ejectedAt: number[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome === 'S') {
      state = recordSuccess(state);
      return;
    }
    const verdict = recordFailure(state, nowMs, 0, 100, CONFIG);
    state = verdict.state;
    if (verdict.ejected) ejectedAt.push(i);
  });
  return { state, ejectedAt };
}

describe('recordFailure and recordSuccess: the consecutive-failure threshold', () => {
  const cases: Array<{ name: string; outcomes: Outcome[]; ejectedAt: number[] }> = [
    { name: 'two failures in a row do not eject', outcomes: ['F', 'F'], ejectedAt: [] },
    { name: 'the third failure in a row ejects', outcomes: ['F', 'F', 'F'], ejectedAt: [2] },
    { name: 'a success ends the run, so two more failures do not eject', outcomes: ['F', 'F', 'S', 'F', 'F'], ejectedAt: [] },
    { name: 'after a success a fresh run of three ejects', outcomes: ['F', 'F', 'S', 'F', 'F', 'F'], ejectedAt: [5] },
    { name: 'alternating failures and successes never eject', outcomes: ['F', 'S', 'F', 'S', 'F', 'S', 'F'], ejectedAt: [] },
    { name: 'failures while ejected are ignored (same clock), so only one ejection happens', outcomes: ['F', 'F', 'F', 'F', 'F', 'F'], ejectedAt: [2] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(run(c.outcomes).ejectedAt).toEqual(c.ejectedAt);
    });
  }

  it('an ejection resets the run, counts itself and sets the end time to now + base', () => {
    const { state } = run(['F', 'F', 'F'], 5_000);
    expect(state).toEqual({ consecutiveFailures: 0, ejections: 1, ejectedUntilMs: 35_000 });
  });

  it('a failure while ejected returns the same state unchanged', () => {
    const { state } = run(['F', 'F', 'F'], 5_000);
    const verdict = recordFailure(state, 34_999, 0, 100, CONFIG);
    expect(verdict.ejected).toBe(false);
    expect(verdict.state).toBe(state);
  });

  it('after the time is up the next run ejects again, for twice as long', () => {
    const first = run(['F', 'F', 'F'], 5_000).state;
    const second = run(['F', 'F', 'F'], 35_000, first);
    expect(second.ejectedAt).toEqual([2]);
    expect(second.state).toEqual({ consecutiveFailures: 0, ejections: 2, ejectedUntilMs: 35_000 + 60_000 });
  });

  it('a success keeps the ejection count, so the next ejection still lasts longer', () => {
    const first = run(['F', 'F', 'F'], 5_000).state;
    const afterSuccess = run(['F', 'S'], 40_000, first).state;
    expect(afterSuccess).toEqual({ consecutiveFailures: 0, ejections: 1, ejectedUntilMs: 35_000 });
  });

  it('a success with no failures returns the very same state', () => {
    expect(recordSuccess(NOT_EJECTED)).toBe(NOT_EJECTED);
  });
});

describe('recordFailure: the share of the pool that may be ejected', () => {
  const twoFailures: OutlierState = { consecutiveFailures: 2, ejections: 0, ejectedUntilMs: 0 };
  const cases: Array<{ name: string; poolSize: number; ejectedInPool: number; percent: number; ejected: boolean }> = [
    { name: 'a pool of 4 at 50% with none ejected ejects', poolSize: 4, ejectedInPool: 0, percent: 50, ejected: true },
    { name: 'a pool of 4 at 50% with 1 other ejected ejects a second', poolSize: 4, ejectedInPool: 1, percent: 50, ejected: true },
    { name: 'a pool of 4 at 50% with 2 others ejected does not eject a third', poolSize: 4, ejectedInPool: 2, percent: 50, ejected: false },
    { name: 'a pool of 1 at 50% never ejects its only endpoint', poolSize: 1, ejectedInPool: 0, percent: 50, ejected: false },
    { name: 'a pool of 1 at 100% ejects its only endpoint', poolSize: 1, ejectedInPool: 0, percent: 100, ejected: true },
    { name: 'a pool of 2 at 50% with 1 other ejected keeps the last one', poolSize: 2, ejectedInPool: 1, percent: 50, ejected: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const verdict = recordFailure(twoFailures, 1_000, c.ejectedInPool, c.poolSize, { ...CONFIG, maxEjectionPercent: c.percent });
      expect(verdict.ejected).toBe(c.ejected);
    });
  }

  it('a failure the cap refuses still counts, so the endpoint is ejected once the pool has room', () => {
    const refused = recordFailure(twoFailures, 1_000, 2, 4, CONFIG);
    expect(refused.state.consecutiveFailures).toBe(3);
    const later = recordFailure(refused.state, 2_000, 1, 4, CONFIG);
    expect(later.ejected).toBe(true);
    expect(later.state.ejectedUntilMs).toBe(32_000);
  });
});

describe('isEjected', () => {
  const cases: Array<{ name: string; state: OutlierState | undefined; nowMs: number; ejected: boolean }> = [
    { name: 'an unknown endpoint is not ejected', state: undefined, nowMs: 0, ejected: false },
    { name: 'a never-ejected endpoint is not ejected', state: NOT_EJECTED, nowMs: 0, ejected: false },
    { name: 'an endpoint before its end time is ejected', state: { consecutiveFailures: 0, ejections: 1, ejectedUntilMs: 100 }, nowMs: 99, ejected: true },
    { name: 'an endpoint at its end time has returned', state: { consecutiveFailures: 0, ejections: 1, ejectedUntilMs: 100 }, nowMs: 100, ejected: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(isEjected(c.state, c.nowMs)).toBe(c.ejected);
    });
  }
});
