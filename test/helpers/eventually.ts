// Polls an assertion until it passes or a deadline passes: integration tests wait with this,
// never with a fixed sleep. Test helper; does no I/O itself (only timers).

export interface EventuallyOptions {
  /** Give up after this long; the last error is thrown. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Pause between attempts. Default 25 ms. */
  readonly intervalMs?: number;
}

/**
 * Runs `fn` until it resolves without throwing and returns its value. When the deadline passes,
 * throws the last error of `fn` (its message extended with the time waited and attempts made), so a
 * failing test shows the real assertion, not a generic timeout. At least one attempt always runs;
 * an attempt that hangs past the deadline is not awaited further.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 25;
  const startedAtMs = Date.now();
  const deadlineMs = startedAtMs + timeoutMs;
  let lastError: unknown = new Error('eventually: no attempt finished');
  for (let attempt = 1; ; attempt += 1) {
    const remainingMs = deadlineMs - Date.now();
    const result = await settleWithin(fn, Math.max(remainingMs, 1));
    if (result.kind === 'ok') return result.value;
    if (result.kind === 'error') lastError = result.error;
    if (Date.now() + intervalMs > deadlineMs || result.kind === 'hung') {
      throw annotate(lastError, Date.now() - startedAtMs, attempt);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

type Settled<T> = { kind: 'ok'; value: T } | { kind: 'error'; error: unknown } | { kind: 'hung' };

async function settleWithin<T>(fn: () => T | Promise<T>, limitMs: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hung' }), limitMs);
  });
  const attempt = (async (): Promise<Settled<T>> => {
    try {
      return { kind: 'ok', value: await fn() };
    } catch (error) {
      return { kind: 'error', error };
    }
  })();
  try {
    return await Promise.race([attempt, hung]);
  } finally {
    clearTimeout(timer);
  }
}

function annotate(error: unknown, waitedMs: number, attempts: number): unknown {
  const note = ` (eventually: still failing after ${waitedMs} ms, ${attempts} attempt(s))`;
  if (error instanceof Error) {
    error.message += note;
    return error;
  }
  return new Error(`${String(error)}${note}`);
}

/** Resolves when `predicate` returns true, polling; throws past the deadline naming `what`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, options: EventuallyOptions = {}): Promise<void> {
  await eventually(async () => {
    if (!(await predicate())) throw new Error(`still waiting for ${what}`);
  }, options);
}
