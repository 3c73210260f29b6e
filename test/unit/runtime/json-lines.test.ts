// splitJsonLines and splitLines: any chunking of a stream gives the same values. Unit: pure.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitJsonLines, splitLines } from '../../../src/runtime/json-lines.js';

const eventsText = readFileSync(new URL('./fixtures/docker-events.jsonl', import.meta.url), 'utf8');
const expected = eventsText
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => JSON.parse(l) as unknown);

/** Feeds `text` in the given chunk sizes (cycled) and collects everything. */
function feed(text: string, sizes: readonly number[]): { values: unknown[]; invalid: string[]; rest: string } {
  const values: unknown[] = [];
  const invalid: string[] = [];
  let rest = '';
  for (let at = 0, i = 0; at < text.length; i += 1) {
    const size = sizes[i % sizes.length] ?? 1;
    const out = splitJsonLines(rest, text.slice(at, at + size));
    values.push(...out.values);
    invalid.push(...out.invalid);
    rest = out.rest;
    at += size;
  }
  return { values, invalid, rest };
}

describe('splitJsonLines', () => {
  it('reads a recorded Docker /events stream in one chunk', () => {
    expect(feed(eventsText, [eventsText.length])).toEqual({ values: expected, invalid: [], rest: '' });
  });

  it.each([[[1]], [[7]], [[64]], [[3, 500, 11]], [[1000]]])('gives the same values when chunked by %j', (sizes) => {
    expect(feed(eventsText, sizes)).toEqual({ values: expected, invalid: [], rest: '' });
  });

  it('splits objects with no newline between them', () => {
    expect(splitJsonLines('', '{"a":1}{"b":2}  {"c":3}')).toEqual({ values: [{ a: 1 }, { b: 2 }, { c: 3 }], invalid: [], rest: '' });
  });

  it('keeps braces, quotes and newlines inside strings from confusing it', () => {
    const text = JSON.stringify({ s: 'x}{"\\\n\u2028' }) + '\n';
    expect(feed(text, [1]).values).toEqual([{ s: 'x}{"\\\n\u2028' }]);
  });

  it('returns an unfinished object as the rest', () => {
    const out = splitJsonLines('', '{"a":1}\n{"b":');
    expect(out).toEqual({ values: [{ a: 1 }], invalid: [], rest: '{"b":' });
    expect(splitJsonLines(out.rest, '2}\r\n')).toEqual({ values: [{ b: 2 }], invalid: [], rest: '' });
  });

  it('reports garbage between objects up to the newline and goes on', () => {
    expect(splitJsonLines('', 'oops\n{"a":1}\n{bad}\n{"b":2}')).toEqual({ values: [{ a: 1 }, { b: 2 }], invalid: ['oops', '{bad}'], rest: '' });
  });

  it('drops an unfinished piece that grows beyond the bound', () => {
    const out = splitJsonLines('', `{"a":"${'x'.repeat(100)}`, 50);
    expect(out.values).toEqual([]);
    expect(out.rest).toBe('');
    expect(out.invalid[0]).toMatch(/chars dropped\)$/);
  });
});

describe('splitLines', () => {
  it('splits on \\n and \\r\\n and keeps the unfinished tail', () => {
    expect(splitLines('ab', 'c\r\nd\n\ne', 100)).toEqual({ lines: ['abc', 'd', ''], rest: 'e' });
  });

  it('cuts a line longer than the bound into pieces, also without a newline', () => {
    expect(splitLines('', 'abcdefg\nhij', 3)).toEqual({ lines: ['abc', 'def', 'g'], rest: 'hij' });
    expect(splitLines('', 'abcdefgh', 3)).toEqual({ lines: ['abc', 'def'], rest: 'gh' });
  });
});
