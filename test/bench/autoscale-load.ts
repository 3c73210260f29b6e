// Autoscale bench load (I/O): closed-loop clients, each on its own keep-alive connection, sending
// its next GET when the previous one is answered; the client count can be raised while running
// (the load step). Every answer is kept with its send and answer times and the demo app's
// `replica`, so the bench can tell when a new replica first served. Also a burst of N at once.
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';

export interface Answer {
  /** Send time, epoch ms with fractions. */
  readonly sentAtMs: number;
  readonly answeredAtMs: number;
  /** 0: transport error or timeout. */
  readonly status: number;
  /** The demo app's `replica`; undefined when not a demo answer. */
  readonly replica: string | undefined;
  readonly error?: string | undefined;
}

export interface ClosedLoop {
  /** Answers so far (the live array: read, do not change). */
  answers(): readonly Answer[];
  /** Adds clients until there are `clients`. */
  setClients(clients: number): void;
  /** Stops sending and waits for the answers still due; safe to call again. */
  stop(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 30_000;
const REPLICA_PATTERN = /"replica":"([^"]*)"/;

/** Wall-clock ms with sub-millisecond precision (the gateway's event times are Date.now()). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

async function send(agent: Agent, url: string): Promise<Answer> {
  const sentAtMs = nowMs();
  try {
    const res = await request(url, { dispatcher: agent, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
    const text = await res.body.text();
    return { sentAtMs, answeredAtMs: nowMs(), status: res.statusCode, replica: REPLICA_PATTERN.exec(text)?.[1] };
  } catch (err) {
    const error = (err as { code?: string }).code ?? (err as Error).message;
    return { sentAtMs, answeredAtMs: nowMs(), status: 0, replica: undefined, error };
  }
}

function loopbackOnly(url: string): void {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`load is for loopback only, not ${url}`);
}

/** Closed loop against `url`, starting with `clients` clients, ending by itself after `maxMs`. */
export function startClosedLoop(url: string, clients: number, maxMs: number): ClosedLoop {
  loopbackOnly(url);
  // One connection per client (the agent opens what the concurrent requests need).
  const agent = new Agent({ keepAliveTimeout: 30_000, pipelining: 1 });
  const answers: Answer[] = [];
  const deadlineMs = nowMs() + maxMs;
  let stopped = false;
  const loops: Promise<void>[] = [];
  const loop = async (): Promise<void> => {
    while (!stopped && nowMs() < deadlineMs) answers.push(await send(agent, url));
  };
  const setClients = (count: number): void => {
    while (loops.length < count) loops.push(loop());
  };
  setClients(clients);
  let stopping: Promise<void> | undefined;
  return {
    answers: () => answers,
    setClients,
    stop() {
      stopped = true;
      stopping ??= (async () => {
        await Promise.all(loops);
        await agent.close();
      })();
      return stopping;
    },
  };
}

/** `count` GETs sent at once on fresh connections; resolves with every answer. */
export async function burst(url: string, count: number): Promise<Answer[]> {
  loopbackOnly(url);
  const agent = new Agent({ keepAliveTimeout: 30_000, pipelining: 1, connections: count });
  try {
    return await Promise.all(Array.from({ length: count }, () => send(agent, url)));
  } finally {
    await agent.close();
  }
}
