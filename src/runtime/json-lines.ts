// Splits a stream of JSON objects (Docker's /events) into values, whatever the chunking. Pure.
// Objects may arrive split across chunks, several in one chunk, with or without newlines between.

export interface JsonLinesResult {
  /** Complete values, in stream order. */
  readonly values: unknown[];
  /** Complete but unparsable pieces (and dropped oversize input), for logging. */
  readonly invalid: string[];
  /** Unfinished tail: pass it back as `buffered` with the next chunk. */
  readonly rest: string;
}

/** Docker events are a few hundred bytes; anything this large is garbage, not a slow object. */
export const MAX_BUFFERED_CHARS = 1_048_576;

/**
 * Scans `buffered + chunk` for top-level JSON objects or arrays by tracking nesting depth outside
 * string literals, so it needs no newline and survives a newline inside a value. Text between
 * values that is not whitespace is reported as invalid up to the next newline.
 */
export function splitJsonLines(buffered: string, chunk: string, maxBufferedChars = MAX_BUFFERED_CHARS): JsonLinesResult {
  const text = buffered + chunk;
  const values: unknown[] = [];
  const invalid: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let i = 0;
  for (; i < text.length; i += 1) {
    const ch = text[i];
    if (depth === 0) {
      if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') continue;
      if (ch === '{' || ch === '[') {
        start = i;
        depth = 1;
        continue;
      }
      const newline = text.indexOf('\n', i);
      if (newline === -1) break; // junk without its end yet: keep it as the rest
      invalid.push(text.slice(i, newline));
      i = newline;
      continue;
    }
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth += 1;
    else if (ch === '}' || ch === ']') {
      depth -= 1;
      if (depth === 0) {
        const piece = text.slice(start, i + 1);
        try {
          values.push(JSON.parse(piece));
        } catch {
          invalid.push(piece);
        }
        start = -1;
      }
    }
  }
  const restFrom = depth > 0 ? start : i;
  let rest = text.slice(restFrom);
  if (rest.length > maxBufferedChars) {
    invalid.push(`${rest.slice(0, 200)}... (${rest.length} chars dropped)`);
    rest = '';
  }
  return { values, invalid, rest };
}

export interface LinesResult {
  readonly lines: string[];
  readonly rest: string;
}

/**
 * Splits text into lines (`\n` or `\r\n`). A line longer than maxLineChars is cut into pieces of
 * that size, so a writer that never ends its line cannot make the buffer grow without bound.
 */
export function splitLines(buffered: string, chunk: string, maxLineChars: number): LinesResult {
  const text = buffered + chunk;
  const lines: string[] = [];
  let from = 0;
  for (;;) {
    const newline = text.indexOf('\n', from);
    if (newline === -1) break;
    let end = newline;
    if (end > from && text[end - 1] === '\r') end -= 1;
    pushBounded(lines, text.slice(from, end), maxLineChars);
    from = newline + 1;
  }
  let rest = text.slice(from);
  while (rest.length > maxLineChars) {
    lines.push(rest.slice(0, maxLineChars));
    rest = rest.slice(maxLineChars);
  }
  return { lines, rest };
}

function pushBounded(lines: string[], line: string, maxLineChars: number): void {
  for (let at = 0; at < line.length; at += maxLineChars) lines.push(line.slice(at, at + maxLineChars));
  if (line.length === 0) lines.push('');
}
