// Load for `npm run bench:hosts` (I/O): GETs on a fixed schedule (open loop: latency counts from
// the scheduled send time) over keep-alive connections to a loopback URL, keeping every answer
// with its time and which demo replica answered on which port, so the bench can tell a lost
// replica from its replacement (same replica id, new port). Bounded in time and count.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface HostsSample {
  /** Scheduled send time, epoch ms with fractions. */
  readonly atMs: number;
  readonly endMs: number;
  /** 0: transport error or timeout. */
  readonly status: number;
  /** The demo app's `replica` and `port`, when it answered. */
  readonly replica: string | undefined;
  readonly port: number | undefined;
  readonly error?: string | undefined;
}

export interface HostsLoadOptions {
  readonly connections: number;
  /** Requests per second (> 0). */
  readonly rate: number;
  readonly maxMs: number;
  readonly maxRequests: number;
}

export interface RunningHostsLoad {
  /** The live array of samples (read, do not change). */
  samples(): readonly HostsSample[];
  /** Sends skipped because `connections * 64` requests were already waiting. */
  skipped(): number;
  /** Requests sent and not answered yet. */
  inFlight(): number;
  stop(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 10_000;
const REPLICA = /"replica":"([^"]*)"/;
const PORT = /"port":(\d+)/;

export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export function startHostsLoad(url: string, options: HostsLoadOptions): RunningHostsLoad {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error(`load is for loopback only, not ${url}`);
  if (!(options.rate > 0)) throw new Error('startHostsLoad: rate must be > 0');
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
  const path = `${target.pathname}${target.search}`;
  const samples: HostsSample[] = [];
  const pending = new Set<Promise<void>>();
  const startedAtMs = wallMs();
  const deadlineMs = startedAtMs + options.maxMs;
  const periodMs = 1000 / options.rate;
  const maxQueued = options.connections * 64;
  let nextAtMs = startedAtMs;
  let sent = 0;
  let skipped = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const send = (atMs: number): void => {
    sent += 1;
    const done = pool
      .request({ path, method: 'GET' })
      .then(async (res) => {
        const text = await res.body.text();
        const port = PORT.exec(text)?.[1];
        samples.push({ atMs, endMs: wallMs(), status: res.statusCode, replica: REPLICA.exec(text)?.[1], port: port === undefined ? undefined : Number(port) });
      })
      .catch((err: unknown) => {
        samples.push({ atMs, endMs: wallMs(), status: 0, replica: undefined, port: undefined, error: (err as { code?: string }).code ?? (err as Error).message });
      })
      .finally(() => pending.delete(done));
    pending.add(done);
  };
  const running = (): boolean => !stopped && sent < options.maxRequests && wallMs() < deadlineMs;
  const tick = (): void => {
    const now = wallMs();
    while (nextAtMs <= now && running()) {
      if (pending.size >= maxQueued) skipped += 1;
      else send(nextAtMs);
      nextAtMs += periodMs;
    }
    if (running()) timer = setTimeout(tick, Math.max(0, nextAtMs - wallMs()));
  };
  tick();
  let stopping: Promise<void> | undefined;
  return {
    samples: () => samples,
    skipped: () => skipped,
    inFlight: () => pending.size,
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
