// Open-loop load generator (I/O, undici Pool): GETs leave on a rate shape's schedule whether or not
// earlier ones were answered, latency counts from the scheduled time, and requests beyond
// `maxInFlight` are dropped and counted (as k6's dropped iterations). Bounded in count and time.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { RateShape } from '../../load-tests/shapes.js';
import type { RequestRecord } from './load-records.js';
import { requestsDue, scheduledAtMs } from './rate-schedule.js';

export interface OpenLoopOptions {
  readonly url: string;
  readonly shape: RateShape;
  readonly connections: number;
  readonly maxInFlight: number;
  readonly requestTimeoutMs: number;
  readonly maxRequests: number;
  readonly maxMs: number;
}

export interface OpenLoop {
  /** Epoch ms the schedule counts from. */
  readonly startedAtMs: number;
  /** Answered (or failed) requests so far: the live array, read only. */
  records(): readonly RequestRecord[];
  dropped(): number;
  /** Stops sending, waits for the answers still due, closes the connections. Safe to repeat. */
  stop(): Promise<void>;
}

/** Wall-clock ms with fractions (the gateway's event times are Date.now()). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The demo app's answer fields, in one parse. */
function demoFields(body: string): Pick<RequestRecord, 'revision' | 'replica' | 'version'> {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const field = (key: string): string | undefined => {
      const value = parsed[key];
      return typeof value === 'string' && value !== '' ? value : undefined;
    };
    return { revision: field('revision'), replica: field('replica'), version: field('version') };
  } catch {
    return {};
  }
}

/** Ticks at least this often, so `stop()` and the limits are noticed during a slow stretch. */
const MAX_TICK_MS = 50;

export function startOpenLoop(options: OpenLoopOptions): OpenLoop {
  const target = new URL(options.url);
  const path = `${target.pathname}${target.search}`;
  const pool = new Pool(target.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
  });
  const records: RequestRecord[] = [];
  const pending = new Set<Promise<void>>();
  const startedAtMs = nowMs();
  let next = 0;
  let dropped = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const send = (atMs: number): void => {
    const done = pool
      .request({ path, method: 'GET' })
      .then(async (res) => {
        const text = await res.body.text();
        records.push({ atMs, latencyMs: nowMs() - atMs, status: res.statusCode, ...demoFields(text) });
      })
      .catch((err: unknown) => {
        records.push({ atMs, latencyMs: nowMs() - atMs, status: 0, error: (err as { code?: string }).code ?? (err as Error).message });
      })
      .finally(() => pending.delete(done));
    pending.add(done);
  };

  const tick = (): void => {
    const elapsedMs = nowMs() - startedAtMs;
    if (elapsedMs >= options.maxMs || next >= options.maxRequests) stopped = true;
    while (!stopped && next <= requestsDue(options.shape, elapsedMs) && next < options.maxRequests) {
      const atMs = startedAtMs + scheduledAtMs(options.shape, next);
      next += 1;
      if (pending.size >= options.maxInFlight) dropped += 1;
      else send(atMs);
    }
    if (stopped) return;
    const waitMs = scheduledAtMs(options.shape, next) - (nowMs() - startedAtMs);
    timer = setTimeout(tick, Math.min(MAX_TICK_MS, Math.max(0, waitMs)));
  };
  tick();

  let stopping: Promise<void> | undefined;
  return {
    startedAtMs,
    records: () => records,
    dropped: () => dropped,
    stop() {
      stopped = true;
      clearTimeout(timer);
      stopping ??= (async () => {
        await Promise.all([...pending]);
        await pool.close();
      })();
      return stopping;
    },
  };
}
