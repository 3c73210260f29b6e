// The blocking-query index rules from Consul's docs: reset when the index goes backwards, treat 0
// as 1, an unchanged index is a no-op. Unit: pure; the cases are the doc comment's worked examples.
import { describe, expect, it } from 'vitest';
import { advanceIndex, parseIndexHeader } from '../../../../src/registry/consul/blocking-index.js';

describe('advanceIndex', () => {
  it.each([
    ['a first read is a change and blocks on the returned index next', 0, 12, { nextIndex: 12, changed: true, reset: false }],
    ['an unchanged index is a no-op (wait elapsed, or an idempotent write)', 12, 12, { nextIndex: 12, changed: false, reset: false }],
    ['a higher index is a change', 12, 15, { nextIndex: 15, changed: true, reset: false }],
    ['an index that goes backwards resets to 0 and counts as a change', 15, 9, { nextIndex: 0, changed: true, reset: true }],
    ['an index of 0 on a first read is treated as 1, so the next request blocks', 0, 0, { nextIndex: 1, changed: true, reset: false }],
    ['an index of 0 after blocking on 1 is no change (never a busy loop on 0)', 1, 0, { nextIndex: 1, changed: false, reset: false }],
    ['an index of 0 after a real index is a reset', 40, 0, { nextIndex: 0, changed: true, reset: true }],
    ['after a reset, the next answer is read as a first read', 0, 9, { nextIndex: 9, changed: true, reset: false }],
  ])('%s', (_name, sent, returned, step) => {
    expect(advanceIndex(sent, returned)).toEqual(step);
  });

  it('never asks to block with index 0 unless it is resetting', () => {
    for (const sent of [0, 1, 2, 50]) {
      for (const returned of [0, 1, 2, 50, 51]) {
        const step = advanceIndex(sent, returned);
        if (!step.reset) expect(step.nextIndex).toBeGreaterThanOrEqual(1);
      }
    }
  });
});

describe('parseIndexHeader', () => {
  it.each([
    ['123', 123],
    [' 7 ', 7],
    [undefined, 0],
    ['', 0],
    ['-5', 0],
    ['abc', 0],
    ['1e3', 0],
    ['99999999999999999', 0],
    [['42', '43'], 42],
  ] as const)('%j -> %d', (header, index) => {
    expect(parseIndexHeader(header as string | string[] | undefined)).toBe(index);
  });
});
