// Server-sent events wire format (the WHATWG "text/event-stream" rules): frames for events,
// comments and the retry hint, the Last-Event-ID header and the Accept check. Pure.

/** A frame that carries one event: `id:`, an optional `event:` name, and `data:` lines. */
export interface SseEvent {
  readonly id: number;
  readonly data: string;
  /** Omitted: the event is of the default type `message` (what EventSource.onmessage gets). */
  readonly event?: string | undefined;
}

/** SSE lines end at CR, LF or CRLF; a field value cannot hold one. */
const LINE_BREAK = /\r\n|\r|\n/;

/**
 * `id: 7\ndata: {...}\n\n`. A data value holding line breaks becomes several `data:` lines,
 * which the receiver joins back with LF. Throws on an id that is not a non-negative integer or
 * an event name with a line break: either would corrupt the stream for every later event.
 */
export function formatSseEvent(event: SseEvent): string {
  if (!Number.isSafeInteger(event.id) || event.id < 0) throw new Error(`SSE event id must be a non-negative integer, got ${event.id}`);
  let frame = `id: ${event.id}\n`;
  if (event.event !== undefined) {
    if (event.event === '' || LINE_BREAK.test(event.event)) throw new Error(`SSE event name must be one non-empty line, got ${JSON.stringify(event.event)}`);
    frame += `event: ${event.event}\n`;
  }
  for (const line of event.data.split(LINE_BREAK)) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

/** `: text\n\n`, a comment the receiver ignores: a heartbeat that keeps proxies and NATs from
 * closing an idle stream and lets the server notice a client that is gone. */
export function formatSseComment(text: string): string {
  return `${text
    .split(LINE_BREAK)
    .map((line) => `: ${line}\n`)
    .join('')}\n`;
}

/** `retry: 3000\n\n`: how long an EventSource waits before it reconnects. */
export function formatSseRetry(retryMs: number): string {
  if (!Number.isSafeInteger(retryMs) || retryMs < 0) throw new Error(`SSE retry must be a non-negative integer of milliseconds, got ${retryMs}`);
  return `retry: ${retryMs}\n\n`;
}

export type LastEventIdResult = { readonly ok: true; readonly seq: number | undefined } | { readonly ok: false; readonly message: string };

/**
 * The event sequence number in a `Last-Event-ID` header (sent by a reconnecting EventSource with
 * the last `id:` it received): undefined when absent or empty, an error message when it is not
 * a non-negative integer.
 */
export function parseLastEventId(header: string | readonly string[] | undefined): LastEventIdResult {
  if (header === undefined) return { ok: true, seq: undefined };
  if (typeof header !== 'string') return { ok: false, message: 'Last-Event-ID header must appear once' };
  const value = header.trim();
  if (value === '') return { ok: true, seq: undefined };
  if (!/^\d{1,15}$/.test(value)) {
    return { ok: false, message: `Last-Event-ID header must be a non-negative integer (the seq of an event), got '${value.slice(0, 40)}'` };
  }
  return { ok: true, seq: Number(value) };
}

/**
 * True when the Accept header asks for `text/event-stream` (with a q above 0). A wildcard such as
 * `*\/*` does not count: a client that has not asked for a stream gets the JSON list.
 */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== 'text/event-stream') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
