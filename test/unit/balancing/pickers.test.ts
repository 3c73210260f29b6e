// Properties every picker kind shares: what is never picked, and empty pools. Pure: no sockets.
import { describe, expect, it } from 'vitest';
import { createPicker } from '../../../src/balancing/create-picker.js';
import { LeastRequestPicker } from '../../../src/balancing/least-request.js';
import { RoundRobinPicker } from '../../../src/balancing/round-robin.js';
import { WeightedPicker } from '../../../src/balancing/weighted.js';
import type { Endpoint } from '../../../src/model/endpoint.js';
import type { LoadBalancerKind } from '../../../src/model/route.js';
import { countPicks, deps, endpoint } from './fixtures.js';

const kinds: LoadBalancerKind[] = ['round-robin', 'weighted', 'least-request'];

const neverPicked: Array<{ name: string; bad: Endpoint; exclude?: ReadonlySet<string> }> = [
  { name: 'a draining endpoint', bad: endpoint('bad', { draining: true }) },
  { name: 'an unhealthy endpoint', bad: endpoint('bad', { healthy: false }) },
  { name: 'a weight-0 endpoint', bad: endpoint('bad', { weight: 0 }) },
  { name: 'an excluded endpoint', bad: endpoint('bad'), exclude: new Set(['bad']) },
];

describe.each(kinds)('%s picker', (kind) => {
  it('is built by createPicker as the matching class', () => {
    const expected = { 'round-robin': RoundRobinPicker, weighted: WeightedPicker, 'least-request': LeastRequestPicker }[kind];
    expect(createPicker(kind, deps())).toBeInstanceOf(expected);
  });

  for (const { name, bad, exclude } of neverPicked) {
    it(`never picks ${name}`, () => {
      // `bad` is the idle one, so least-request would prefer it if it ever looked at it.
      const picker = createPicker(kind, deps({ bad: 0, a: 50, b: 50, c: 50 }, 9));
      for (const position of [0, 1, 3]) {
        const endpoints = [endpoint('a'), endpoint('b'), endpoint('c')];
        endpoints.splice(position, 0, bad);
        const counts = countPicks(() => picker.pick(endpoints, exclude), 300);
        expect(counts.get('bad')).toBeUndefined();
        expect(counts.get('(none)')).toBeUndefined();
      }
    });
  }

  it('returns undefined for an empty pool', () => {
    expect(createPicker(kind, deps()).pick([])).toBeUndefined();
  });

  it('returns undefined when every endpoint is unpickable or excluded', () => {
    const endpoints = [
      endpoint('a', { draining: true }),
      endpoint('b', { healthy: false }),
      endpoint('c', { weight: 0 }),
      endpoint('d'),
    ];
    const picker = createPicker(kind, deps());
    for (let i = 0; i < 10; i++) expect(picker.pick(endpoints, new Set(['d']))).toBeUndefined();
  });

  it('returns the single candidate of a one-endpoint pool every time', () => {
    const picker = createPicker(kind, deps());
    const counts = countPicks(() => picker.pick([endpoint('only')]), 20);
    expect(Object.fromEntries(counts)).toEqual({ only: 20 });
  });
});
