// Continuous, bounded client traffic for rollout tests: a few concurrent request loops against the
// proxy on loopback that record every answer (when it started and ended, its status, which
// version and revision of the demo app answered, or the transport error), so a test can count
// failures, split answers by version and look at a time window. Test helper; I/O (HTTP client).
import { Agent, request } from 'undici';

export interface TrafficOptions {
  /** Concurrent request loops (each sends one request at a time). Default 3. */
  readonly concurrency?: number;
  /** Every loop stops after this long. */
  readonly maxMs: number;
  /** All loops together stop after this many requests. */
  readonly maxRequests: number;
  /** Pause of each loop between its requests, so parallel suites share the cores. Default 2 ms. */
  readonly pauseMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Path on the proxy. Default /load. */
  readonly path?: string;
}

export interface Answer {
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  /** 0 for a transport error. */
  readonly status: number;
  readonly version?: string | undefined;
  readonly revision?: string | undefined;
  /** The transport error, or the start of a non-200 body. */
  readonly problem?: string | undefined;
}

export interface TrafficReport {
  readonly answers: readonly Answer[];
  /** Answers that were not 200 (transport errors included). */
  readonly failures: readonly Answer[];
  /** 200 answers per demo `version`. */
  readonly byVersion: ReadonlyMap<string, number>;
}

export interface RunningTraffic {
  /** Requests answered (or failed) so far. */
  count(): number;
  /** A copy of the answers so far. */
  answers(): readonly Answer[];
  /** Resolves when the loops reached their time or count limit on their own. */
  finished(): Promise<TrafficReport>;
  stop(): Promise<TrafficReport>;
}

interface DemoBody {
  readonly version?: unknown;
  readonly revision?: unknown;
}

function parseBody(text: string): DemoBody {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** Sends one request and records its answer. */
async function send(dispatcher: Agent, url: string, headers: Readonly<Record<string, string>>): Promise<Answer> {
  const startedAtMs = Date.now();
  try {
    const res = await request(url, { dispatcher, headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await res.body.text();
    const body = parseBody(text);
    return {
      startedAtMs,
      endedAtMs: Date.now(),
      status: res.statusCode,
      version: typeof body.version === 'string' ? body.version : undefined,
      revision: typeof body.revision === 'string' ? body.revision : undefined,
      ...(res.statusCode === 200 ? {} : { problem: text.slice(0, 200) }),
    };
  } catch (error) {
    return { startedAtMs, endedAtMs: Date.now(), status: 0, problem: String(error) };
  }
}

export function report(answers: readonly Answer[]): TrafficReport {
  const byVersion = new Map<string, number>();
  for (const a of answers) {
    if (a.status === 200) byVersion.set(a.version ?? '', (byVersion.get(a.version ?? '') ?? 0) + 1);
  }
  return { answers, failures: answers.filter((a) => a.status !== 200), byVersion };
}

/** Starts `concurrency` request loops against `proxyUrl`; bounded by time and count. */
export function startTraffic(proxyUrl: string, options: TrafficOptions): RunningTraffic {
  const url = `${proxyUrl}${options.path ?? '/load'}`;
  const headers = options.headers ?? {};
  const dispatcher = new Agent({ connections: options.concurrency ?? 3, keepAliveTimeout: 4_000 });
  const answers: Answer[] = [];
  let stopped = false;
  let started = 0;
  const deadlineMs = Date.now() + options.maxMs;
  const loop = async (): Promise<void> => {
    while (!stopped && Date.now() < deadlineMs && started < options.maxRequests) {
      started++;
      answers.push(await send(dispatcher, url, headers));
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 2));
    }
  };
  const all = Promise.all(Array.from({ length: options.concurrency ?? 3 }, () => loop())).then(async () => {
    await dispatcher.close();
    return report(answers);
  });
  return {
    count: () => answers.length,
    answers: () => [...answers],
    finished: () => all,
    stop: () => {
      stopped = true;
      return all;
    },
  };
}

/** Sends exactly `total` requests with `concurrency` loops and returns their answers. */
export async function sendRequests(proxyUrl: string, total: number, options: { concurrency?: number; headers?: Readonly<Record<string, string>>; maxMs?: number } = {}): Promise<TrafficReport> {
  return startTraffic(proxyUrl, { concurrency: options.concurrency ?? 4, maxMs: options.maxMs ?? 30_000, maxRequests: total, pauseMs: 0, headers: options.headers ?? {} }).finished();
}

/** A short human description of failed answers for assertion messages. */
export function describeFailures(failures: readonly Answer[], limit = 5): string {
  return failures
    .slice(0, limit)
    .map((f) => `${new Date(f.startedAtMs).toISOString()} status ${f.status}: ${f.problem ?? ''}`)
    .join('\n');
}
