// Rollout bench load generator (I/O): GETs to a loopback URL over a fixed number of keep-alive
// connections (an undici Pool), either on a fixed schedule (open loop: latency counts from the
// scheduled send time, so a stall is not hidden by requests that were never sent) or closed loop.
// Every answer is kept with its time, so the bench can cut the run into windows afterwards.
// Bounded in time and in count.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface Sample {
  /** Scheduled (open loop) or actual (closed loop) send time, epoch ms with fractions. */
  readonly atMs: number;
  readonly latencyMs: number;
  /** 0: transport error or timeout. */
  readonly status: number;
  /** The demo app's `version` in the answer; undefined when not a demo answer. */
  readonly version: string | undefined;
  /** The transport error's code or message. */
  readonly error?: string | undefined;
}

export interface LoadOptions {
  readonly connections: number;
  /** Requests per second on a fixed schedule; 0: closed loop. */
  readonly rate: number;
  /** The generator stops by itself after this long. */
  readonly maxMs: number;
  /** And after this many requests. */
  readonly maxRequests: number;
}

export interface RunningLoad {
  /** Samples so far (the live array: read, do not change). */
  samples(): readonly Sample[];
  /** Open loop: sends skipped because `connections * 64` requests were already waiting. */
  skipped(): number;
  /** Stops sending and waits for the answers still due; safe to call again. */
  stop(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 10_000;
const VERSION_PATTERN = /"version":"([^"]*)"/;

/** Wall-clock ms with sub-millisecond precision (the gateway's event times are Date.now()). */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function startLoad(url: string, options: LoadOptions): RunningLoad {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error(`load is for loopback only, not ${url}`);
  const pool = new Pool(target.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  const path = `${target.pathname}${target.search}`;
  const samples: Sample[] = [];
  const startedAtMs = nowMs();
  const deadlineMs = startedAtMs + options.maxMs;
  let sent = 0;
  let inFlight = 0;
  let skipped = 0;
  let stopped = false;
  const pending = new Set<Promise<void>>();

  const send = (atMs: number): Promise<void> => {
    sent += 1;
    inFlight += 1;
    const done = pool
      .request({ path, method: 'GET' })
      .then(async (res) => {
        const text = await res.body.text();
        samples.push({ atMs, latencyMs: nowMs() - atMs, status: res.statusCode, version: VERSION_PATTERN.exec(text)?.[1] });
      })
      .catch((err: unknown) => {
        const error = (err as { code?: string }).code ?? (err as Error).message;
        samples.push({ atMs, latencyMs: nowMs() - atMs, status: 0, version: undefined, error });
      })
      .finally(() => {
        inFlight -= 1;
        pending.delete(done);
      });
    pending.add(done);
    return done;
  };

  const running = (): boolean => !stopped && sent < options.maxRequests && nowMs() < deadlineMs;
  let timer: NodeJS.Timeout | undefined;
  let loops: Promise<void>[] = [];
  let stopping: Promise<void> | undefined;

  if (options.rate > 0) {
    const periodMs = 1000 / options.rate;
    const maxQueued = options.connections * 64;
    let nextAtMs = startedAtMs;
    const tick = (): void => {
      const now = nowMs();
      while (nextAtMs <= now && running()) {
        if (inFlight >= maxQueued) skipped += 1;
        else void send(nextAtMs);
        nextAtMs += periodMs;
      }
      if (running()) timer = setTimeout(tick, Math.max(0, nextAtMs - nowMs()));
    };
    tick();
  } else {
    const loop = async (): Promise<void> => {
      while (running()) await send(nowMs());
    };
    loops = Array.from({ length: options.connections }, () => loop());
  }

  return {
    samples: () => samples,
    skipped: () => skipped,
    stop() {
      stopped = true;
      clearTimeout(timer);
      stopping ??= (async () => {
        await Promise.all(loops);
        await Promise.all([...pending]);
        await pool.close();
      })();
      return stopping;
    },
  };
}
