// Poll with a deadline instead of sleeping: retries an assertion until it passes or time is up.

export interface EventuallyOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/**
 * Calls `fn` until it resolves without throwing, and returns its value. Past `timeoutMs`
 * (default 5000) it throws the last error, with how long it waited.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const message = lastError instanceof Error ? lastError.message : String(lastError);
      const wrapped = new Error(`eventually: still failing after ${timeoutMs} ms: ${message}`);
      (wrapped as Error & { cause?: unknown }).cause = lastError;
      throw wrapped;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves when `predicate` returns true, polling; throws past the deadline. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, options: EventuallyOptions = {}): Promise<void> {
  await eventually(async () => {
    if (!(await predicate())) throw new Error(`waiting for ${what}`);
  }, options);
}
