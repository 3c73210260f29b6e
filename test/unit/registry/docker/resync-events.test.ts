// Which recorded Docker events make the provider list again, how bursts coalesce, and the host
// setting. Unit: pure.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dockerConnectionFor } from '../../../../src/registry/docker/docker-host.js';
import { decideResync, isResyncEvent, resyncEventFilters, type ResyncState } from '../../../../src/registry/docker/resync-events.js';
import type { DockerEventLike } from '../../../../src/runtime/docker/observe-container.js';

/** Recorded with `docker events --format '{{json .}}'`: one health-checked container created,
 * healthy, removed with `rm -f`; then a `docker stop` of another. Health check execs included. */
const recorded = readFileSync(new URL('./fixtures/events.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line)
  .map((line) => JSON.parse(line) as DockerEventLike);

const actionOf = (e: DockerEventLike): string => (e.Action ?? '').split(':')[0] ?? '';

describe('isResyncEvent', () => {
  it('keeps start, stop, die, destroy and health changes of labelled containers; drops exec noise and create', () => {
    const kept = recorded.filter((e) => isResyncEvent(e, 'dockmaster')).map((e) => e.Action);
    expect(kept).toEqual(['start', 'health_status: healthy', 'health_status: unhealthy', 'die', 'destroy', 'stop']);
    const dropped = recorded.filter((e) => !isResyncEvent(e, 'dockmaster')).map(actionOf);
    expect(dropped).toEqual(['exec_create', 'exec_start', 'exec_die', 'create', 'kill']);
  });

  it('needs the service label of the configured prefix', () => {
    const start = recorded.find((e) => e.Action === 'start') as DockerEventLike;
    expect(isResyncEvent(start, 'acme')).toBe(false);
    const acme = { ...start, Actor: { ID: start.Actor?.ID, Attributes: { 'acme.service': 'shop' } } };
    expect(isResyncEvent(acme, 'acme')).toBe(true);
  });

  it.each([
    ['a network event', { Type: 'network', Action: 'connect', Actor: { Attributes: { 'dockmaster.service': 'x' } } }, false],
    ['an old-style event with only status', { status: 'die', id: 'abc', Actor: { Attributes: { 'dockmaster.service': 'x' } } }, true],
    ['pause', { Type: 'container', Action: 'pause', Actor: { Attributes: { 'dockmaster.service': 'x' } } }, true],
    ['an event without attributes', { Type: 'container', Action: 'start' }, false],
    ['an action that only starts like a wanted one', { Type: 'container', Action: 'stopped', Actor: { Attributes: { 'dockmaster.service': 'x' } } }, false],
  ] as const)('%s -> %s', (_what, event, expected) => {
    expect(isResyncEvent(event as DockerEventLike, 'dockmaster')).toBe(expected);
  });

  it('asks the daemon for the same events only', () => {
    expect(resyncEventFilters('dockmaster')).toEqual({
      type: ['container'],
      label: ['dockmaster.service'],
      event: ['start', 'die', 'stop', 'destroy', 'pause', 'unpause', 'health_status'],
    });
  });
});

describe('decideResync', () => {
  const state = (s: Partial<ResyncState>): ResyncState => ({ pending: true, running: false, lastStartMs: undefined, ...s });
  it.each([
    ['nothing pending: idle', state({ pending: false }), 1_000, { kind: 'idle' }],
    ['a list in flight: idle until it ends (then one more)', state({ running: true, lastStartMs: 0 }), 1_000, { kind: 'idle' }],
    ['the first event ever: at once', state({}), 1_000, { kind: 'start' }],
    ['after a quiet spell: at once', state({ lastStartMs: 800 }), 1_000, { kind: 'start' }],
    ['exactly one interval after the last start: at once', state({ lastStartMs: 900 }), 1_000, { kind: 'start' }],
    ['within the interval: wait for its end', state({ lastStartMs: 950 }), 1_000, { kind: 'wait', delayMs: 50 }],
  ] as const)('%s', (_what, s, nowMs, expected) => {
    expect(decideResync(s, nowMs, 100)).toEqual(expected);
  });

  it('a burst of 50 events over 300 ms costs 4 lists, one per interval, the first not delayed', () => {
    // Simulate the shell: events every 6 ms; a list takes 20 ms; timers fire on time.
    let s: ResyncState = { pending: false, running: false, lastStartMs: undefined };
    let timerAtMs: number | undefined;
    let listEndsAtMs: number | undefined;
    const starts: number[] = [];
    const pump = (nowMs: number): void => {
      if (timerAtMs !== undefined) return;
      const d = decideResync(s, nowMs, 100);
      if (d.kind === 'start') {
        s = { pending: false, running: true, lastStartMs: nowMs };
        starts.push(nowMs);
        listEndsAtMs = nowMs + 20;
      } else if (d.kind === 'wait') timerAtMs = nowMs + d.delayMs;
    };
    for (let t = 0; t <= 1_000; t += 1) {
      if (listEndsAtMs === t) {
        listEndsAtMs = undefined;
        s = { ...s, running: false };
        pump(t);
      }
      if (timerAtMs === t) {
        timerAtMs = undefined;
        pump(t);
      }
      if (t < 300 && t % 6 === 0) {
        s = { ...s, pending: true };
        pump(t);
      }
    }
    expect(starts).toEqual([0, 100, 200, 300]);
  });
});

describe('dockerConnectionFor', () => {
  it.each([
    [undefined, undefined],
    ['unix:///var/run/docker.sock', { socketPath: '/var/run/docker.sock' }],
    ['tcp://127.0.0.1:2375', { host: '127.0.0.1', port: 2375, protocol: 'http' }],
    ['tcp://[::1]:2375', { host: '::1', port: 2375, protocol: 'http' }],
  ] as const)('%s', (host, expected) => {
    expect(dockerConnectionFor(host)).toEqual(expected);
  });

  it.each(['unix://relative.sock', 'tcp://127.0.0.1', 'tcp://127.0.0.1:0', 'http://127.0.0.1:2375', 'ssh://host'])('rejects %s', (host) => {
    expect(() => dockerConnectionFor(host)).toThrow(expect.objectContaining({ code: 'DM_ERR_CONFIG_INVALID' }) as Error);
  });
});
