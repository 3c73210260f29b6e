// A test client for server-sent event streams: a GET over a fresh node:http connection whose
// frames are parsed as they arrive. Test helper; I/O (client sockets to 127.0.0.1).
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { TimelineEvent } from '../../../src/observability/event-log.js';
import { SseParser } from './sse-parser.js';

export { SseParser, type SseFrame } from './sse-parser.js';

export interface OpenStream {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly parser: SseParser;
  /** The events carried so far, each frame's data parsed as JSON. */
  events(): TimelineEvent[];
  /** Resolves when the server ended the stream or the connection closed. */
  readonly ended: Promise<void>;
  isEnded(): boolean;
  /** Closes the connection from the client's side (a browser tab going away). */
  close(): void;
}

export interface RefusedStream {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly text: string;
  readonly json: { error?: { code: string; message: string } } | undefined;
}

/**
 * GETs `path` with `Accept: text/event-stream` (plus `headers`) on its own connection. A 200 is
 * returned as an OpenStream as soon as its headers arrive; any other answer is read whole.
 */
export function openEventStream(port: number, path: string, headers: Record<string, string> = {}): Promise<OpenStream | RefusedStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'GET', path, headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let json: RefusedStream['json'];
          try {
            json = JSON.parse(text) as RefusedStream['json'];
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        return;
      }
      const parser = new SseParser();
      let ended = false;
      const endedPromise = new Promise<void>((resolveEnd) => {
        const finish = (): void => {
          ended = true;
          resolveEnd();
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      });
      res.on('data', (chunk: string) => parser.feed(chunk));
      resolve({
        status: 200,
        headers: res.headers,
        parser,
        events: () => parser.frames.map((f) => JSON.parse(f.data) as TimelineEvent),
        ended: endedPromise,
        isEnded: () => ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Narrows an answer to an open stream, failing the test with the refusal's body otherwise. */
export function expectOpen(answer: OpenStream | RefusedStream): OpenStream {
  if (!('parser' in answer)) throw new Error(`expected an event stream, got ${answer.status}: ${answer.text}`);
  return answer;
}

export function expectRefused(answer: OpenStream | RefusedStream): RefusedStream {
  if ('parser' in answer) {
    answer.close();
    throw new Error(`expected a refusal, got an open event stream (${answer.headers['content-type'] ?? ''})`);
  }
  return answer;
}
