// A WHATWG text/event-stream parser for tests: frames on blank lines, comments, the retry hint,
// the last event id carried over frames. Test helper; pure.

export interface SseFrame {
  /** The last event id seen so far (it carries over frames without `id:`), as EventSource does. */
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/** Parses text fed in arbitrary chunks: frames on blank lines, comments, the retry hint. */
export class SseParser {
  readonly frames: SseFrame[] = [];
  readonly comments: string[] = [];
  retryMs: number | undefined;
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private lastId: string | undefined;

  feed(text: string): void {
    this.buffer += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (match === null) return;
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) return;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.frames.push({ id: this.lastId, event: this.event || 'message', data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }
}
