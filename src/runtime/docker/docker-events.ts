// Follows Docker's GET /events as line-delimited JSON, re-lists after every (re)connect, and
// reconnects with exponential backoff and jitter when the daemon goes away. Does I/O (Docker API).
// Shared by the Docker runtime driver and the Docker label provider.
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Logger } from '../../observability/logger.js';
import { splitJsonLines } from '../json-lines.js';
import type { DockerEventLike } from './observe-container.js';

export interface DockerEventFollowerOptions {
  readonly docker: Dockerode;
  readonly logger: Logger;
  /** GET /events filters, e.g. `{ type: ['container'], label: ['dockmaster.service'] }`. */
  readonly filters: Readonly<Record<string, readonly string[]>>;
  /** Docker's `since` (Unix seconds) for the next connect, read at every connect; undefined: from
   * now. The driver resumes after its last event; a level-triggered reader re-lists instead. */
  readonly since?: () => number | undefined;
  /** Every event object in stream order, also while onConnected runs (callers that need to apply
   * events after their list queue them). Unparsable pieces are logged and skipped. */
  readonly onEvent: (event: DockerEventLike) => void;
  /** Runs once the stream is open (so no change falls between list and stream): list what exists.
   * `reconnected` is true after an earlier connect succeeded. A throw counts as a failed connect. */
  readonly onConnected: (reconnected: boolean) => Promise<void>;
  /** After a failed connect or an ended stream, before the backoff wait; never after close(). The
   * error is undefined when the stream simply ended. */
  readonly onDisconnected: (error: unknown) => void;
  /** Reconnect backoff doubles from initial to max; each wait is scaled by 0.5..1 (jitter). */
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  readonly random?: () => number;
}

export class DockerEventFollower {
  private readonly options: DockerEventFollowerOptions;
  private readonly reconnectInitialMs: number;
  private readonly reconnectMaxMs: number;
  private readonly random: () => number;
  private loop: Promise<void> | undefined;
  private streamAbort: AbortController | undefined;
  private abortReason: unknown;
  private wakeBackoff: (() => void) | undefined;
  /** True until a connect fails, and again after one succeeds: one warning per outage. */
  private up = true;
  private closed = false;

  constructor(options: DockerEventFollowerOptions) {
    this.options = options;
    this.reconnectInitialMs = options.reconnectInitialMs ?? 200;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 5_000;
    this.random = options.random ?? Math.random;
  }

  /** Starts following (once; later calls do nothing). */
  start(): void {
    if (this.loop || this.closed) return;
    this.loop = this.run();
  }

  /** Drops the current stream so the loop backs off, reconnects and re-lists: for a caller whose
   * own read failed while the stream still looked fine. No-op while not connected. */
  reconnect(reason?: unknown): void {
    if (!this.streamAbort || this.streamAbort.signal.aborted) return;
    this.abortReason = reason;
    this.streamAbort.abort();
  }

  /** Stops following; resolves when the loop has ended. */
  async close(): Promise<void> {
    this.closed = true;
    this.streamAbort?.abort();
    this.wakeBackoff?.();
    await this.loop;
  }

  /** Bounded by close(): each turn opens /events, calls onConnected, reads until the stream ends,
   * then waits a growing backoff. */
  private async run(): Promise<void> {
    const { docker, logger } = this.options;
    let backoffMs = this.reconnectInitialMs;
    let connectedOnce = false;
    while (!this.closed) {
      const abort = new AbortController();
      this.streamAbort = abort;
      this.abortReason = undefined;
      let failure: unknown;
      try {
        const since = this.options.since?.();
        const stream = await docker.getEvents({
          ...(since === undefined ? {} : { since }),
          filters: this.options.filters,
          abortSignal: abort.signal,
        } as Dockerode.GetEventsOptions);
        const consumed = this.consume(stream, abort.signal);
        await this.options.onConnected(connectedOnce);
        connectedOnce = true;
        this.up = true;
        backoffMs = this.reconnectInitialMs;
        await consumed;
        failure = this.abortReason;
        if (!this.closed) logger.warn(failure === undefined ? {} : { err: errorText(failure) }, 'docker event stream ended; reconnecting');
      } catch (err) {
        failure = err;
        // One warning per outage; the retries behind it are debug noise.
        if (!this.closed) {
          const log = this.up ? logger.warn.bind(logger) : logger.debug.bind(logger);
          log({ err: errorText(err) }, 'docker event stream failed; reconnecting');
        }
      } finally {
        abort.abort();
      }
      if (this.closed) break;
      this.up = false;
      this.options.onDisconnected(failure);
      const waitMs = backoffMs * (0.5 + this.random() / 2);
      backoffMs = Math.min(backoffMs * 2, this.reconnectMaxMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wakeBackoff = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeBackoff = undefined;
    }
  }

  private consume(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let rest = '';
      const done = (): void => {
        resolve();
      };
      const onAbort = (): void => {
        (stream as Partial<Readable>).destroy?.();
        resolve();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (chunk: Buffer | string) => {
        const split = splitJsonLines(rest, typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
        rest = split.rest;
        for (const bad of split.invalid) this.options.logger.warn({ text: bad.slice(0, 200) }, 'unparsable docker event skipped');
        for (const value of split.values) this.options.onEvent(value as DockerEventLike);
      });
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
  }
}

interface DockerApiErrorLike {
  readonly json?: { readonly message?: string } | null;
}

/** Docker's own message when the API answered one, else the error's. */
export function errorText(err: unknown): string {
  const apiMessage = (err as DockerApiErrorLike | undefined)?.json?.message;
  if (typeof apiMessage === 'string' && apiMessage) return apiMessage;
  if (err instanceof Error) return err.message;
  return String(err);
}
