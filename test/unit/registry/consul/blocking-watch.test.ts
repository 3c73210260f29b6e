// The blocking-query loop against a scripted query (no sockets): which index each request sends,
// which answers reach the owner, and that failures keep the index of the last good answer.
// Unit: no I/O (timers only).
import { describe, expect, it } from 'vitest';
import { BlockingWatch } from '../../../../src/registry/consul/blocking-watch.js';
import type { BlockingAnswer } from '../../../../src/registry/consul/consul-client.js';

type Step = BlockingAnswer | Error;

interface Run {
  readonly sent: number[];
  readonly changes: unknown[];
  readonly errors: string[];
  readonly successes: number;
}

/** Runs a watch through `script`, then stops it once the script is used up. */
async function runScript(script: readonly Step[], accept: (body: unknown) => string | undefined = () => undefined): Promise<Run> {
  const sent: number[] = [];
  const changes: unknown[] = [];
  const errors: string[] = [];
  let successes = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const watch = new BlockingWatch({
    query: (index, signal) => {
      sent.push(index);
      const step = script[sent.length - 1];
      if (step === undefined) {
        finish();
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      }
      return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
    },
    onChange: (body) => {
      const verdict = accept(body);
      if (verdict === undefined) changes.push(body);
      return verdict;
    },
    onSuccess: () => successes++,
    onError: (error) => errors.push(error),
    bucket: { ratePerSecond: 1_000, burst: 1_000 },
    backoff: { baseMs: 1, maxMs: 2 },
    nowMs: Date.now,
    random: () => 0.5,
  });
  await finished;
  await watch.stop();
  return { sent, changes, errors, successes };
}

describe('BlockingWatch', () => {
  it('blocks on each returned index and hands over only changed answers', async () => {
    const run = await runScript([
      { index: 10, body: 'a' },
      { index: 10, body: 'a' },
      { index: 12, body: 'b' },
    ]);
    expect(run.sent).toEqual([0, 10, 10, 12]);
    expect(run.changes).toEqual(['a', 'b']);
    expect(run.successes).toBe(3);
  });

  it('restarts with a non-blocking read when the index goes backwards', async () => {
    const run = await runScript([
      { index: 50, body: 'a' },
      { index: 7, body: 'restored' },
      { index: 7, body: 'restored' },
    ]);
    expect(run.sent).toEqual([0, 50, 0, 7]);
    expect(run.changes).toEqual(['a', 'restored', 'restored']);
  });

  it('blocks on index 1 when the server answers index 0', async () => {
    const run = await runScript([
      { index: 0, body: 'a' },
      { index: 0, body: 'a' },
    ]);
    expect(run.sent).toEqual([0, 1, 1]);
    expect(run.changes).toEqual(['a']);
  });

  it('after an error, reads without blocking and compares with the index it held', async () => {
    const run = await runScript([
      { index: 10, body: 'a' },
      new Error('connect ECONNREFUSED'),
      { index: 10, body: 'a' },
      { index: 11, body: 'b' },
    ]);
    expect(run.sent).toEqual([0, 10, 0, 10, 11]);
    expect(run.errors).toEqual(['connect ECONNREFUSED']);
    expect(run.changes).toEqual(['a', 'b']);
  });

  it('counts an unusable answer as a failed read and keeps the index of the last good one', async () => {
    const run = await runScript(
      [
        { index: 10, body: 'good' },
        { index: 11, body: 'garbage' },
        { index: 12, body: 'good again' },
      ],
      (body) => (body === 'garbage' ? 'wrong shape' : undefined),
    );
    expect(run.sent).toEqual([0, 10, 0, 12]);
    expect(run.errors).toEqual(['wrong shape']);
    expect(run.changes).toEqual(['good', 'good again']);
  });

  it('stop() ends a request in flight', async () => {
    let aborted = false;
    const watch = new BlockingWatch({
      query: (_index, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          }),
        ),
      onChange: () => undefined,
      onSuccess: () => undefined,
      onError: () => undefined,
      bucket: { ratePerSecond: 1, burst: 1 },
      backoff: { baseMs: 1, maxMs: 1 },
      nowMs: Date.now,
      random: Math.random,
    });
    await watch.stop();
    expect(aborted).toBe(true);
    await watch.firstAttempt;
  });
});
