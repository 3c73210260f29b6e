// Unit tests of the server-sent events wire format and the stream's backlog rule. Pure.
import { describe, expect, it } from 'vitest';
import { acceptsEventStream, formatSseComment, formatSseEvent, formatSseRetry, parseLastEventId } from '../../../src/admin/sse-format.js';
import { DEFAULT_EVENTS_LIMIT, streamFilter } from '../../../src/admin/events-api.js';
import { SseParser } from '../../integration/admin/sse-parser.js';

describe('formatSseEvent', () => {
  it('writes id and data lines ended by a blank line, with no event line for the default type', () => {
    expect(formatSseEvent({ id: 7, data: '{"seq":7}' })).toBe('id: 7\ndata: {"seq":7}\n\n');
  });

  it('writes an event line when the event is named', () => {
    expect(formatSseEvent({ id: 1, event: 'rollout.paused', data: 'x' })).toBe('id: 1\nevent: rollout.paused\ndata: x\n\n');
  });

  it('splits data with LF, CR or CRLF into several data lines', () => {
    expect(formatSseEvent({ id: 2, data: 'a\nb\r\nc\rd' })).toBe('id: 2\ndata: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it('keeps an empty data value as one empty data line (the event still dispatches)', () => {
    expect(formatSseEvent({ id: 3, data: '' })).toBe('id: 3\ndata: \n\n');
  });

  const badIds = [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2];
  for (const id of badIds) {
    it(`refuses the id ${id}`, () => {
      expect(() => formatSseEvent({ id, data: 'x' })).toThrow(/non-negative integer/);
    });
  }

  it('refuses an event name that would break the stream', () => {
    expect(() => formatSseEvent({ id: 1, event: 'a\nb', data: 'x' })).toThrow(/one non-empty line/);
    expect(() => formatSseEvent({ id: 1, event: '', data: 'x' })).toThrow(/one non-empty line/);
  });

  it('round-trips through a WHATWG parser: id, type, and data with line breaks and colons', () => {
    const parser = new SseParser();
    const text = formatSseRetry(2500) + formatSseEvent({ id: 41, data: 'one: 1\ntwo' }) + formatSseComment('heartbeat') + formatSseEvent({ id: 42, event: 'x', data: '{"a":"b"}' });
    // Fed one character at a time: frames do not depend on how the bytes arrive.
    for (const ch of text) parser.feed(ch);
    expect(parser.retryMs).toBe(2500);
    expect(parser.comments).toEqual(['heartbeat']);
    expect(parser.frames).toEqual([
      { id: '41', event: 'message', data: 'one: 1\ntwo' },
      { id: '42', event: 'x', data: '{"a":"b"}' },
    ]);
  });

  it('carries a JSON event with line separators and quotes on one data line', () => {
    const data = JSON.stringify({ message: 'line\nbreak "quoted" \u2028 sep' });
    const frame = formatSseEvent({ id: 5, data });
    expect(frame.split('\n').filter((l) => l.startsWith('data: '))).toHaveLength(1);
    const parser = new SseParser();
    parser.feed(frame);
    expect(JSON.parse(parser.frames[0]?.data ?? '')).toEqual({ message: 'line\nbreak "quoted" \u2028 sep' });
  });
});

describe('formatSseComment and formatSseRetry', () => {
  it('writes a comment as colon lines ended by a blank line', () => {
    expect(formatSseComment('heartbeat')).toBe(': heartbeat\n\n');
    expect(formatSseComment('a\nb')).toBe(': a\n: b\n\n');
  });

  it('writes the retry hint in milliseconds', () => {
    expect(formatSseRetry(3000)).toBe('retry: 3000\n\n');
    expect(() => formatSseRetry(-5)).toThrow(/non-negative integer/);
    expect(() => formatSseRetry(1.5)).toThrow(/non-negative integer/);
  });
});

describe('parseLastEventId', () => {
  const cases: Array<{ name: string; header: string | string[] | undefined; expected: ReturnType<typeof parseLastEventId> }> = [
    { name: 'no header is no position', header: undefined, expected: { ok: true, seq: undefined } },
    { name: 'an empty header is no position (EventSource sends it before any id)', header: '', expected: { ok: true, seq: undefined } },
    { name: 'a number is the seq', header: '42', expected: { ok: true, seq: 42 } },
    { name: 'surrounding spaces are ignored', header: ' 7 ', expected: { ok: true, seq: 7 } },
    { name: 'zero is a position before every event', header: '0', expected: { ok: true, seq: 0 } },
  ];
  for (const { name, header, expected } of cases) {
    it(name, () => expect(parseLastEventId(header)).toEqual(expected));
  }

  const bad: Array<{ header: string | string[]; message: RegExp }> = [
    { header: 'abc', message: /non-negative integer.*'abc'/ },
    { header: '-1', message: /non-negative integer/ },
    { header: '1.5', message: /non-negative integer/ },
    { header: '1234567890123456', message: /non-negative integer/ },
    { header: ['1', '2'], message: /once/ },
  ];
  for (const { header, message } of bad) {
    it(`refuses ${JSON.stringify(header)} naming the header`, () => {
      const result = parseLastEventId(header);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.message).toMatch(/Last-Event-ID/);
        expect(result.message).toMatch(message);
      }
    });
  }
});

describe('acceptsEventStream', () => {
  const cases: Array<[string | undefined, boolean]> = [
    ['text/event-stream', true],
    ['TEXT/Event-Stream', true],
    ['application/json, text/event-stream;q=0.5', true],
    ['text/event-stream; charset=utf-8', true],
    ['text/event-stream;q=0', false],
    ['*/*', false],
    ['text/*', false],
    ['application/json', false],
    ['', false],
    [undefined, false],
  ];
  for (const [accept, expected] of cases) {
    it(`${expected ? 'streams' : 'lists'} for Accept ${JSON.stringify(accept)}`, () => expect(acceptsEventStream(accept)).toBe(expected));
  }
});

describe('streamFilter', () => {
  const NEWEST = 300;

  it('without a position starts with the newest events, as the list would', () => {
    expect(streamFilter({}, undefined, NEWEST)).toEqual({ service: undefined, sinceSeq: undefined, limit: DEFAULT_EVENTS_LIMIT });
    expect(streamFilter({ limit: 5, service: 'demo' }, undefined, NEWEST)).toEqual({ service: 'demo', sinceSeq: undefined, limit: 5 });
  });

  it('resumes after since with every retained event, limited only when asked', () => {
    expect(streamFilter({ since: 10 }, undefined, NEWEST)).toEqual({ service: undefined, sinceSeq: 10, limit: undefined });
    expect(streamFilter({ since: 10, limit: 3 }, undefined, NEWEST)).toEqual({ service: undefined, sinceSeq: 10, limit: 3 });
  });

  it('prefers Last-Event-ID over since: a reconnect carries the newest position', () => {
    expect(streamFilter({ since: 10, service: 'demo' }, 25, NEWEST)).toEqual({ service: 'demo', sinceSeq: 25, limit: undefined });
    expect(streamFilter({}, 0, NEWEST)).toEqual({ service: undefined, sinceSeq: 0, limit: undefined });
  });

  it('resumes at the newest event itself (nothing to replay)', () => {
    expect(streamFilter({}, NEWEST, NEWEST)).toEqual({ service: undefined, sinceSeq: NEWEST, limit: undefined });
  });

  it('starts afresh from a position past the newest event: an earlier gateway process handed it out', () => {
    expect(streamFilter({}, NEWEST + 1, NEWEST)).toEqual({ service: undefined, sinceSeq: undefined, limit: DEFAULT_EVENTS_LIMIT });
    expect(streamFilter({ since: 9_000, limit: 20 }, undefined, 12)).toEqual({ service: undefined, sinceSeq: undefined, limit: 20 });
    expect(streamFilter({}, 5, 0)).toEqual({ service: undefined, sinceSeq: undefined, limit: DEFAULT_EVENTS_LIMIT });
  });
});
