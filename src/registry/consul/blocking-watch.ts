// One Consul blocking-query loop: applies the index rules, hands changed answers on, waits on a
// token bucket between requests and backs off with jitter after errors (keeping the last good
// index); runs until stop(). I/O shell (timers; the request itself is injected).
import { advanceIndex } from './blocking-index.js';
import { backoffDelayMs, type BackoffLimits } from './backoff.js';
import { fullBucket, takeToken, type TokenBucket, type TokenBucketLimits } from './token-bucket.js';
import type { BlockingAnswer } from './consul-client.js';
import { abortableSleep } from './abortable-sleep.js';

export interface BlockingWatchOptions {
  /** One request with the given index; rejects on any failure (HTTP error, refusal, timeout). */
  readonly query: (index: number, signal: AbortSignal) => Promise<BlockingAnswer>;
  /**
   * A cheap check of every answer, changed or not (is it a list at all?): garbage with an
   * unchanged index still means something between here and Consul is broken. Returns why the
   * answer is unusable, or undefined.
   */
  readonly check?: (body: unknown) => string | undefined;
  /**
   * A changed answer. Returns undefined when it was usable, or why it was not (a wrong shape):
   * an unusable answer counts as a failed read (backoff; the index is not advanced).
   */
  readonly onChange: (body: unknown, nowMs: number) => string | undefined;
  /** After every usable answer, changed or not. */
  readonly onSuccess: (nowMs: number) => void;
  readonly onError: (error: string, nowMs: number) => void;
  readonly bucket: TokenBucketLimits;
  readonly backoff: BackoffLimits;
  readonly nowMs: () => number;
  readonly random: () => number;
}


export class BlockingWatch {
  private readonly options: BlockingWatchOptions;
  private readonly controller = new AbortController();
  private bucket: TokenBucket;
  private index = 0;
  private failures = 0;
  private readonly loop: Promise<void>;
  private resolveFirst!: () => void;
  /** Settles after the first request finished (successfully or not), or at stop(). */
  readonly firstAttempt: Promise<void>;
  /** Requests sent so far (for tests and metrics). */
  requests = 0;

  constructor(options: BlockingWatchOptions) {
    this.options = options;
    this.bucket = fullBucket(options.bucket, options.nowMs());
    this.firstAttempt = new Promise((resolve) => {
      this.resolveFirst = resolve;
    });
    this.loop = this.run();
  }

  /** Aborts the request in flight and ends the loop. */
  async stop(): Promise<void> {
    this.controller.abort();
    this.resolveFirst();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { signal } = this.controller;
    while (!signal.aborted) {
      const take = takeToken(this.bucket, this.options.bucket, this.options.nowMs());
      this.bucket = take.bucket;
      if (!take.ok) {
        await abortableSleep(take.waitMs, signal);
        continue;
      }
      // After a failure the next read does not block, so a recovery is seen at once rather than
      // after a whole `wait`; its index is still compared with the one held.
      const held = this.index;
      let failure: string | undefined;
      try {
        this.requests += 1;
        const answer = await this.options.query(this.failures > 0 ? 0 : held, signal);
        if (signal.aborted) break;
        const step = advanceIndex(held, answer.index);
        failure = this.options.check?.(answer.body);
        if (failure === undefined && step.changed) failure = this.options.onChange(answer.body, this.options.nowMs());
        if (failure === undefined) {
          this.index = step.nextIndex;
          this.failures = 0;
          this.options.onSuccess(this.options.nowMs());
        }
      } catch (error) {
        if (signal.aborted) break;
        failure = error instanceof Error ? error.message : String(error);
      }
      if (failure !== undefined) {
        this.failures += 1;
        this.options.onError(failure, this.options.nowMs());
      }
      this.resolveFirst();
      if (failure !== undefined) await abortableSleep(backoffDelayMs(this.failures, this.options.backoff, this.options.random), signal);
    }
    this.resolveFirst();
  }
}
