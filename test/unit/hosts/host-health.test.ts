// decideHostHealth (pure, table-driven, the worked example of its doc comment) and the
// HostWatcher shell on fake timers with a scripted ping: up, suspect, lost, back, and a blip
// shorter than hostDownAfterMs that loses nothing. Unit: no sockets.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decideHostHealth, suspectAfterMs, type HostHealthDecision, type HostHealthInput } from '../../../src/hosts/host-health.js';
import { HostWatcher, type HostChange } from '../../../src/hosts/host-watcher.js';
import { createLogger } from '../../../src/observability/logger.js';

const every200 = { checkIntervalMs: 200, hostDownAfterMs: 1_000, watchingSinceMs: 0 };

describe('decideHostHealth', () => {
  const cases: { name: string; input: HostHealthInput; expected: HostHealthDecision }[] = [
    {
      name: 'a host that answered within two intervals is up; the next check is the next ping',
      input: { ...every200, nowMs: 10_100, lastSeenMs: 10_000, lastPingAtMs: 10_000 },
      expected: { state: 'up', silentMs: 100, pingDue: false, nextCheckAtMs: 10_200 },
    },
    {
      name: 'a ping is due an interval after the last one; the check after it is one interval on',
      input: { ...every200, nowMs: 10_200, lastSeenMs: 10_000, lastPingAtMs: 10_000 },
      expected: { state: 'up', silentMs: 200, pingDue: true, nextCheckAtMs: 10_400 },
    },
    {
      name: 'an up host is checked again when it would turn suspect, if that comes before the next ping',
      input: { ...every200, nowMs: 10_350, lastSeenMs: 10_000, lastPingAtMs: 10_300 },
      expected: { state: 'up', silentMs: 350, pingDue: false, nextCheckAtMs: 10_400 },
    },
    {
      name: 'silent for two intervals: suspect (its replicas stay, nothing new goes there)',
      input: { ...every200, nowMs: 10_400, lastSeenMs: 10_000, lastPingAtMs: 10_400 },
      expected: { state: 'suspect', silentMs: 400, pingDue: false, nextCheckAtMs: 10_600 },
    },
    {
      name: 'a suspect host is checked again at the moment it would be lost, if that comes before the next ping',
      input: { ...every200, nowMs: 10_950, lastSeenMs: 10_000, lastPingAtMs: 10_900 },
      expected: { state: 'suspect', silentMs: 950, pingDue: false, nextCheckAtMs: 11_000 },
    },
    {
      name: 'silent for hostDownAfterMs: lost; only the pings remain scheduled',
      input: { ...every200, nowMs: 11_000, lastSeenMs: 10_000, lastPingAtMs: 10_900 },
      expected: { state: 'lost', silentMs: 1_000, pingDue: false, nextCheckAtMs: 11_100 },
    },
    {
      name: 'a lost host that answers is up again',
      input: { ...every200, nowMs: 11_060, lastSeenMs: 11_050, lastPingAtMs: 11_000 },
      expected: { state: 'up', silentMs: 10, pingDue: false, nextCheckAtMs: 11_200 },
    },
    {
      name: 'a host not heard from since watching began is suspect, pinged at once',
      input: { ...every200, nowMs: 0, lastSeenMs: undefined, lastPingAtMs: undefined },
      expected: { state: 'suspect', silentMs: 0, pingDue: true, nextCheckAtMs: 200 },
    },
    {
      name: 'a host never heard from is lost hostDownAfterMs after watching began',
      input: { ...every200, nowMs: 1_000, lastSeenMs: undefined, lastPingAtMs: 800 },
      expected: { state: 'lost', silentMs: 1_000, pingDue: true, nextCheckAtMs: 1_200 },
    },
    {
      name: 'with hostDownAfterMs under two intervals an up host goes straight to lost',
      input: { checkIntervalMs: 1_000, hostDownAfterMs: 1_500, watchingSinceMs: 0, nowMs: 1_400, lastSeenMs: 0, lastPingAtMs: 1_000 },
      expected: { state: 'up', silentMs: 1_400, pingDue: false, nextCheckAtMs: 1_500 },
    },
    {
      name: '... and is lost at hostDownAfterMs, never suspect',
      input: { checkIntervalMs: 1_000, hostDownAfterMs: 1_500, watchingSinceMs: 0, nowMs: 1_500, lastSeenMs: 0, lastPingAtMs: 1_000 },
      expected: { state: 'lost', silentMs: 1_500, pingDue: false, nextCheckAtMs: 2_000 },
    },
    {
      name: 'a sign of life that looks newer than now (clock skew between sources) counts as no silence',
      input: { ...every200, nowMs: 5_000, lastSeenMs: 5_010, lastPingAtMs: 4_900 },
      expected: { state: 'up', silentMs: 0, pingDue: false, nextCheckAtMs: 5_100 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(decideHostHealth(c.input)).toEqual(c.expected);
    });
  }

  it('tolerates two intervals of silence while up, never more than hostDownAfterMs', () => {
    expect(suspectAfterMs(200, 1_000)).toBe(400);
    expect(suspectAfterMs(1_000, 1_500)).toBe(1_500);
  });
});

interface ScriptedHost {
  readonly host: { readonly name: string; readonly ping: (signal: AbortSignal) => Promise<unknown> };
  pings: number;
  /** Pings hang from now on, like a daemon stopped with SIGSTOP. */
  pause(): void;
  /** Answers the pings that hang (those not yet timed out) and the ones after, like SIGCONT. */
  resume(): void;
}

function scriptedHost(name: string): ScriptedHost {
  let paused = false;
  let waiting: Array<() => void> = [];
  const state: ScriptedHost = {
    pings: 0,
    host: {
      name,
      ping: (signal) => {
        state.pings += 1;
        if (!paused) return Promise.resolve('OK');
        return new Promise((resolve, reject) => {
          waiting.push(() => resolve('OK'));
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        });
      },
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      for (const answer of waiting) answer();
      waiting = [];
    },
  };
  return state;
}

describe('HostWatcher (fake timers, scripted pings)', () => {
  const silent = createLogger({ level: 'silent' });
  let watcher: HostWatcher;
  let changes: HostChange[];

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    changes = [];
  });

  afterEach(() => {
    watcher.close();
    vi.useRealTimers();
  });

  const open = (hosts: ReturnType<typeof scriptedHost>[]): void => {
    watcher = new HostWatcher({ hosts: hosts.map((h) => h.host), logger: silent, checkIntervalMs: 200, hostDownAfterMs: 1_000 });
    watcher.on((c) => changes.push(c));
    watcher.start();
  };

  it('reports a host up at its first answer, suspect after two silent intervals, lost at hostDownAfterMs, back at its next answer', async () => {
    const h = scriptedHost('h1');
    open([h]);
    await vi.advanceTimersByTimeAsync(0);
    expect(changes.map((c) => [c.kind, c.from, c.to])).toEqual([['host.up', 'suspect', 'up']]);
    const lastAnswerMs = Date.now();
    h.pause();
    await vi.advanceTimersByTimeAsync(399);
    expect(watcher.snapshot('h1')?.state).toBe('up');
    await vi.advanceTimersByTimeAsync(1);
    expect(changes.at(-1)).toMatchObject({ kind: 'host.suspect', atMs: lastAnswerMs + 400, silentMs: 400 });
    await vi.advanceTimersByTimeAsync(599);
    expect(watcher.snapshot('h1')?.state).toBe('suspect');
    await vi.advanceTimersByTimeAsync(1);
    expect(changes.at(-1)).toMatchObject({ kind: 'host.lost', from: 'suspect', to: 'lost', atMs: lastAnswerMs + 1_000, silentMs: 1_000 });
    expect(watcher.snapshot('h1')?.lastError).toBe('ping timed out after 200 ms');
    h.resume();
    await vi.advanceTimersByTimeAsync(200);
    expect(changes.at(-1)).toMatchObject({ kind: 'host.back', from: 'lost', to: 'up', silentMs: 0 });
    expect(watcher.snapshot('h1')).toMatchObject({ state: 'up', lastError: undefined });
    expect(changes.map((c) => c.kind)).toEqual(['host.up', 'host.suspect', 'host.lost', 'host.back']);
  });

  it('rides out a blip shorter than hostDownAfterMs: suspect, then up at the answer to the ping in flight, never lost', async () => {
    const h = scriptedHost('h1');
    open([h]);
    await vi.advanceTimersByTimeAsync(0);
    h.pause();
    await vi.advanceTimersByTimeAsync(900);
    h.resume();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes.at(-1)).toMatchObject({ kind: 'host.up', from: 'suspect', atMs: 1_000_900 });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(changes.map((c) => c.kind)).toEqual(['host.up', 'host.suspect', 'host.up']);
  });

  it('loses a host whose blip outlasts hostDownAfterMs by the time its pings could tell', async () => {
    const h = scriptedHost('h1');
    open([h]);
    await vi.advanceTimersByTimeAsync(0);
    h.pause();
    await vi.advanceTimersByTimeAsync(1_000);
    h.resume();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes.map((c) => c.kind)).toEqual(['host.up', 'host.suspect', 'host.lost', 'host.back']);
  });

  it('counts any sign of life (an event, an API answer) like an answered ping', async () => {
    const h = scriptedHost('h1');
    open([h]);
    await vi.advanceTimersByTimeAsync(0);
    h.pause();
    for (let i = 0; i < 20; i++) {
      await vi.advanceTimersByTimeAsync(300);
      watcher.signOfLife('h1');
    }
    expect(changes.map((c) => c.kind)).toEqual(['host.up']);
  });

  it('pings every interval, one ping at a time, and watches hosts independently', async () => {
    const a = scriptedHost('a');
    const b = scriptedHost('b');
    open([a, b]);
    await vi.advanceTimersByTimeAsync(0);
    b.pause();
    const pingsBefore = a.pings;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(a.pings - pingsBefore).toBe(10);
    expect(watcher.snapshot('a')?.state).toBe('up');
    expect(watcher.snapshot('b')?.state).toBe('lost');
    expect(changes.filter((c) => c.host === 'a').map((c) => c.kind)).toEqual(['host.up']);
  });

  it('loses a host that never answers hostDownAfterMs after watching began', async () => {
    const h = scriptedHost('h1');
    h.pause();
    open([h]);
    await vi.advanceTimersByTimeAsync(999);
    expect(changes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(changes).toEqual([expect.objectContaining({ kind: 'host.lost', from: 'suspect', silentMs: 1_000 })]);
  });
});
