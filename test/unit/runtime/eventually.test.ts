// The shared eventually() poll helper (test/helpers/eventually.ts). Unit: timers only.
import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';

describe('eventually', () => {
  it('returns the value of the first attempt that passes', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls += 1;
        expect(calls).toBeGreaterThanOrEqual(3);
        return calls;
      },
      { intervalMs: 1 },
    );
    expect(value).toBe(3);
  });

  it('throws the last assertion error, noting the time waited, once the deadline passes', async () => {
    let calls = 0;
    const failure = await eventually(
      () => {
        calls += 1;
        throw new Error(`not yet ${calls}`);
      },
      { timeoutMs: 60, intervalMs: 10 },
    ).catch((err: unknown) => err as Error);
    expect(failure.message).toMatch(/^not yet \d+ \(eventually: still failing after \d+ ms, \d+ attempt\(s\)\)$/);
    expect(calls).toBeGreaterThan(2);
  });

  it('gives up on an attempt that hangs past the deadline', async () => {
    const startedAtMs = Date.now();
    await expect(eventually(() => new Promise(() => {}), { timeoutMs: 50 })).rejects.toThrow(/eventually: still failing/);
    expect(Date.now() - startedAtMs).toBeLessThan(1_000);
  });

  it('awaits async attempts', async () => {
    let ready = false;
    setTimeout(() => {
      ready = true;
    }, 20);
    await eventually(async () => {
      await Promise.resolve();
      expect(ready).toBe(true);
    });
  });
});
