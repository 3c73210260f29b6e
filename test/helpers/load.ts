// A bounded, continuous load for integration tests: sequential requests until stopped, a
// deadline or a count, counting non-200 answers and transport errors (a few kept for the
// failure message) and, optionally, which backend answered. Loopback only.
import { request } from 'undici';
import { expect } from 'vitest';
import { eventually } from './eventually.js';

export interface LoadLimits {
  readonly maxMs: number;
  readonly maxRequests: number;
  /** Pause between requests: continuous but paced, so parallel suites share the cores. */
  readonly pauseMs?: number;
}

export interface LoadResult<K> {
  readonly done: number;
  readonly failures: number;
  readonly samples: readonly string[];
  /** 200 answers by `keyOf(body)`, when a key function was given. */
  readonly byKey: ReadonlyMap<K, number>;
}

export interface RunningLoad<K> {
  done(): number;
  stop(): Promise<LoadResult<K>>;
}

export function startLoad<K = never>(url: string, limits: LoadLimits, keyOf?: (body: string) => K): RunningLoad<K> {
  let done = 0;
  let failures = 0;
  const samples: string[] = [];
  const byKey = new Map<K, number>();
  let stopped = false;
  const loop = (async () => {
    const deadline = Date.now() + limits.maxMs;
    while (!stopped && Date.now() < deadline && done < limits.maxRequests) {
      try {
        const res = await request(url, { headersTimeout: 5_000, bodyTimeout: 5_000 });
        const text = await res.body.text();
        if (res.statusCode !== 200) {
          failures++;
          if (samples.length < 5) samples.push(`${res.statusCode} ${text.slice(0, 200)}`);
        } else if (keyOf !== undefined) {
          const key = keyOf(text);
          byKey.set(key, (byKey.get(key) ?? 0) + 1);
        }
      } catch (err) {
        failures++;
        if (samples.length < 5) samples.push(String(err));
      }
      done++;
      await new Promise((r) => setTimeout(r, limits.pauseMs ?? 2));
    }
  })();
  return {
    done: () => done,
    stop: async () => {
      stopped = true;
      await loop;
      return { done, failures, samples, byKey };
    },
  };
}

/** Waits until the load made `more` requests beyond what it had made when called. */
export async function loadAdvances(load: { done(): number }, more: number, timeoutMs = 10_000): Promise<void> {
  const from = load.done();
  await eventually(() => expect(load.done()).toBeGreaterThanOrEqual(from + more), { timeoutMs, intervalMs: 20 });
}
