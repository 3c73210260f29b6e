// Revision choice in a split pool (src/balancing/revision-split.ts): smooth weighted round-robin
// over percents, the preview header, the sticky cookie, and the group-then-pool pick. Pure.
import { describe, expect, it } from 'vitest';
import {
  cookieValueStart,
  hasHeaderValue,
  pickEndpoint,
  RevisionSplitChooser,
  stickyGroup,
  type RevisionShare,
} from '../../../src/balancing/revision-split.js';
import { RoundRobinPicker } from '../../../src/balancing/round-robin.js';
import { compileSplit } from '../../../src/routing/compile-table.js';
import type { Endpoint } from '../../../src/model/endpoint.js';
import { endpoint } from './fixtures.js';

function shares(percents: Record<string, number>): RevisionShare[] {
  return Object.entries(percents).map(([revision, percent]) => ({ revision, percent }));
}

function chooseMany(chooser: RevisionSplitChooser, next: () => readonly RevisionShare[], picks: number): string[] {
  return Array.from({ length: picks }, () => {
    const s = next();
    return s[chooser.choose(s)]?.revision ?? '(none)';
  });
}

function counts(list: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of list) out[x] = (out[x] ?? 0) + 1;
  return out;
}

describe('RevisionSplitChooser', () => {
  it('sends exactly 1 request in every 5 to a 20% canary, spread out (b b a b b)', () => {
    const chooser = new RevisionSplitChooser();
    const split = shares({ canary: 20, stable: 80 });
    const picks = chooseMany(chooser, () => split, 2000);
    expect(picks.slice(0, 5)).toEqual(['stable', 'stable', 'canary', 'stable', 'stable']);
    for (let i = 0; i < picks.length; i += 5) expect(counts(picks.slice(i, i + 5))).toEqual({ canary: 1, stable: 4 });
  });

  const cases: Array<{ name: string; percents: Record<string, number>; period: number }> = [
    { name: '10/90', percents: { a: 10, b: 90 }, period: 10 },
    { name: '50/50', percents: { a: 50, b: 50 }, period: 2 },
    { name: '1/99', percents: { a: 1, b: 99 }, period: 100 },
    { name: '33/67', percents: { a: 33, b: 67 }, period: 100 },
    { name: '10/30/60 over three revisions', percents: { a: 10, b: 30, c: 60 }, period: 10 },
    { name: '100/0 (all on one)', percents: { a: 100, b: 0 }, period: 1 },
  ];
  for (const { name, percents, period } of cases) {
    it(`gives each revision exactly its percent over every ${period} choices with ${name}`, () => {
      const chooser = new RevisionSplitChooser();
      const split = shares(percents);
      const total = Object.values(percents).reduce((a, b) => a + b, 0);
      const picks = chooseMany(chooser, () => split, period * 20);
      for (let i = 0; i < picks.length; i += period) {
        const window = counts(picks.slice(i, i + period));
        for (const [revision, percent] of Object.entries(percents)) expect(window[revision] ?? 0, `${revision} at ${i}`).toBe((percent * period) / total);
      }
    });
  }

  it('never chooses a revision at 0%, and answers -1 when every share is 0', () => {
    const chooser = new RevisionSplitChooser();
    expect(counts(chooseMany(chooser, () => shares({ old: 0, new: 100, other: 0 }), 50))).toEqual({ new: 50 });
    expect(chooser.choose(shares({ a: 0, b: 0 }))).toBe(-1);
    expect(chooser.choose([])).toBe(-1);
  });

  it('carries its state across new arrays of the same revisions (a new routing table per request)', () => {
    const chooser = new RevisionSplitChooser();
    // Each choice sees a fresh array, in a different order half the time.
    let n = 0;
    const picks = chooseMany(chooser, () => (n++ % 2 === 0 ? shares({ canary: 20, stable: 80 }) : shares({ stable: 80, canary: 20 })), 1000);
    for (let i = 0; i < picks.length; i += 5) expect(counts(picks.slice(i, i + 5))).toEqual({ canary: 1, stable: 4 });
  });

  it('holds a changed split from the next round on', () => {
    const chooser = new RevisionSplitChooser();
    chooseMany(chooser, () => shares({ canary: 20, stable: 80 }), 3); // mid-round
    const after = chooseMany(chooser, () => shares({ canary: 50, stable: 50 }), 101);
    const c = counts(after.slice(1));
    expect(Math.abs((c['canary'] ?? 0) - 50)).toBeLessThanOrEqual(1);
  });
});

describe('hasHeaderValue', () => {
  it('matches the header name in any case and the value exactly', () => {
    const raw = ['Host', 'x', 'X-Preview', 'yes'];
    expect(hasHeaderValue(raw, 'x-preview', 'yes')).toBe(true);
    expect(hasHeaderValue(raw, 'x-preview', 'YES')).toBe(false);
    expect(hasHeaderValue(raw, 'x-preview', 'ye')).toBe(false);
    expect(hasHeaderValue(['X-Preview2', 'yes'], 'x-preview', 'yes')).toBe(false);
    expect(hasHeaderValue(['x-preview', 'no', 'x-preview', 'yes'], 'x-preview', 'yes')).toBe(true);
  });
});

describe('stickyGroup', () => {
  const eps = [endpoint('s', { revision: 'stable' }), endpoint('c', { revision: 'canary' })];
  const split = compileSplit({ weights: shares({ stable: 80, canary: 20 }), stickyCookie: 'dm-rev-api' }, eps);
  const cookie = (value: string): string[] => ['Host', 'x', 'Cookie', value];

  const cases: Array<{ name: string; raw: string[]; expected: string | undefined }> = [
    { name: 'the only cookie', raw: cookie('dm-rev-api=canary'), expected: 'canary' },
    { name: 'among others, with spaces', raw: cookie('a=1;  dm-rev-api = stable ; b=2'), expected: 'stable' },
    { name: 'a quoted value', raw: cookie('dm-rev-api="canary"'), expected: 'canary' },
    { name: 'a longer name ending the same', raw: cookie('xdm-rev-api=canary'), expected: undefined },
    { name: 'the name as another cookie\'s value', raw: cookie('a=dm-rev-api=canary'), expected: undefined },
    { name: 'an unknown revision', raw: cookie('dm-rev-api=gone'), expected: undefined },
    { name: 'a prefix of a revision', raw: cookie('dm-rev-api=can'), expected: undefined },
    { name: 'the second of two Cookie headers', raw: ['cookie', 'a=1', 'COOKIE', 'dm-rev-api=canary'], expected: 'canary' },
    { name: 'no cookie', raw: ['Host', 'x'], expected: undefined },
  ];
  for (const { name, raw, expected } of cases) {
    it(`finds ${String(expected)} in ${name}`, () => {
      expect(stickyGroup(raw, split)?.revision).toBe(expected);
    });
  }

  it('ignores a cookie naming a revision at 0% (after promotion or abort)', () => {
    const promoted = compileSplit({ weights: shares({ stable: 0, canary: 100 }), stickyCookie: 'dm-rev-api' }, eps);
    expect(stickyGroup(cookie('dm-rev-api=stable'), promoted)).toBeUndefined();
    expect(stickyGroup(cookie('dm-rev-api=canary'), promoted)?.revision).toBe('canary');
  });

  it('ignores cookies when the split is not sticky', () => {
    const plain = compileSplit({ weights: shares({ stable: 80, canary: 20 }) }, eps);
    expect(stickyGroup(cookie('dm-rev-api=canary'), plain)).toBeUndefined();
  });

  it('finds where a value starts', () => {
    expect(cookieValueStart('a=1; b=2', 'b')).toBe(7);
    expect(cookieValueStart('ab=1; b=2', 'b')).toBe(8);
    expect(cookieValueStart('a=1', 'b')).toBe(-1);
    expect(cookieValueStart('b', 'b')).toBe(-1);
  });
});

describe('pickEndpoint', () => {
  const stable = [endpoint('s1', { revision: 'stable' }), endpoint('s2', { revision: 'stable' })];
  const canary = [endpoint('c1', { revision: 'canary' })];
  const pool: Endpoint[] = [...stable, ...canary];

  function choice(group: readonly Endpoint[] | undefined, groupOnly = false) {
    return { endpoints: pool, picker: new RoundRobinPicker(), group, groupPicker: new RoundRobinPicker(), groupOnly };
  }

  it('picks from the group while it has a pickable endpoint', () => {
    const c = choice(canary);
    expect([pickEndpoint(c)?.id, pickEndpoint(c)?.id]).toEqual(['c1', 'c1']);
  });

  it('falls back to the whole pool when the group has none left', () => {
    expect(pickEndpoint(choice(canary), new Set(['c1']))?.revision).toBe('stable');
    expect(pickEndpoint(choice([endpoint('c1', { revision: 'canary', healthy: false })]))?.revision).toBe('stable');
    expect(pickEndpoint(choice([]))).toBeDefined();
  });

  it('never leaves the group of a preview request', () => {
    expect(pickEndpoint(choice(canary, true), new Set(['c1']))).toBeUndefined();
    expect(pickEndpoint(choice([], true))).toBeUndefined();
  });

  it('picks from the pool when there is no group (no split, or every share at 0%)', () => {
    expect(pickEndpoint(choice(undefined))?.id).toBe('s1');
  });
});
