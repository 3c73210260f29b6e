// Per-service leadership through a Consul session lock against the Consul HTTP API double, with
// sub-second TTLs: one leader, handover, takeover after a crash, step-down and following through
// faults, several services. Integration: real sockets on 127.0.0.1, a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsulDouble } from '../../helpers/consul-double.js';
import { eventually, waitFor } from '../../helpers/eventually.js';
import { isProcessAlive, tsNodeArgs } from '../../helpers/processes.js';
import { ConsulLeadership } from '../../../src/hosts/consul-leadership.js';
import { DockmasterError } from '../../../src/errors.js';
import { LeaderMonitor, startDouble, startInstance, TEST_SETTINGS, testLogger, type Instance } from './leadership-harness.js';

const INSTANCE_FIXTURE = fileURLToPath(new URL('./fixtures/leadership-instance.ts', import.meta.url));
const WEB_KEY = 'dockmaster/leader/web';

/** The path the double records for a key: the client sends the key as one encoded segment. */
function kvPath(key: string): string {
  return `/v1/kv/${encodeURIComponent(key)}`;
}

let double: ConsulDouble;
let instances: Instance[];
let monitor: LeaderMonitor | undefined;
let children: ChildProcess[];

beforeEach(async () => {
  double = await startDouble();
  instances = [];
  children = [];
  monitor = undefined;
});

afterEach(async () => {
  monitor?.stop();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  double.clearFaults();
  await double.acceptConnections();
  await Promise.allSettled(instances.map((i) => i.leadership.close()));
  await double.close();
});

function instance(name: string, overrides: Parameters<typeof startInstance>[2] = {}, deps: Parameters<typeof startInstance>[3] = {}): Instance {
  const started = startInstance(double, name, overrides, deps);
  instances.push(started);
  return started;
}

function watchLeaders(services: readonly string[] = ['web']): LeaderMonitor {
  monitor = new LeaderMonitor(() => instances, services);
  return monitor;
}

/** The one instance that leads, the others following it by name; throws otherwise (for eventually). */
function settled(service: string, among: readonly Instance[] = instances): { leader: Instance; followers: Instance[] } {
  const leaders = among.filter((i) => i.leadership.isLeader(service));
  expect(leaders.map((l) => l.name), `leaders of ${service}`).toHaveLength(1);
  const leader = leaders[0] as Instance;
  const followers = among.filter((i) => i !== leader);
  for (const f of followers) {
    expect(f.leadership.roleOf(service), `${f.name} on ${service}`).toMatchObject({ role: 'follower', holder: leader.info, holderSessionId: leader.leadership.sessionId });
  }
  return { leader, followers };
}

function lockHolder(key: string): { session: string | undefined; value: unknown } {
  const entry = double.kvEntry(key);
  return { session: entry?.session === '' ? undefined : entry?.session, value: entry?.value === null || entry === undefined ? undefined : JSON.parse(entry.value.toString('utf8')) };
}

/** Starts the fixture instance in a child process; its role changes arrive as JSON lines. */
function startChild(instanceId: string, lockDelayMs: number): { child: ChildProcess; lines: { service: string; role: string; holder?: string; session?: string }[] } {
  const child = spawn(process.execPath, [...tsNodeArgs(), INSTANCE_FIXTURE, double.address, instanceId, String(TEST_SETTINGS.sessionTtlMs), String(lockDelayMs), 'web'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: { service: string; role: string; holder?: string; session?: string }[] = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) if (line !== '') lines.push(JSON.parse(line));
  });
  return { child, lines };
}

describe('ConsulLeadership: one leader per service', () => {
  it('two instances asking to lead web: exactly one leads, the other follows naming it, and the key names the leader', async () => {
    const watch = watchLeaders();
    const a = instance('a');
    const b = instance('b');
    a.leadership.lead('web');
    b.leadership.lead('web');
    const { leader, followers } = await eventually(() => settled('web'));
    const follower = followers[0] as Instance;
    expect(lockHolder(WEB_KEY)).toEqual({ session: leader.leadership.sessionId, value: leader.info });
    expect(leader.events.filter((e) => e.service === 'web').at(-1)).toEqual({ service: 'web', role: 'leader', holder: leader.info.instanceId });
    await eventually(() => expect(follower.events.filter((e) => e.service === 'web').at(-1)).toEqual({ service: 'web', role: 'follower', holder: leader.info.instanceId }));
    expect(follower.roles('web')).not.toContain('leader');
    expect(double.sessionList().map((s) => s.id).sort()).toEqual([a.leadership.sessionId, b.leadership.sessionId].sort());
    expect(double.sessionList().every((s) => s.ttl === '600ms' && s.behavior === 'release')).toBe(true);
    watch.check();
    expect(watch.overlaps).toEqual([]);
  });

  it('closing the leader releases the lock before destroying its session: the follower takes over despite a 15 s lock-delay', async () => {
    const watch = watchLeaders();
    const a = instance('a', { lockDelayMs: 15_000 });
    a.leadership.lead('web');
    await waitFor(() => a.leadership.isLeader('web'), 'a leads');
    const b = instance('b', { lockDelayMs: 15_000 });
    b.leadership.lead('web');
    await eventually(() => settled('web'));
    const aSession = a.leadership.sessionId;
    await a.leadership.close();
    expect(a.leadership.roleOf('web')).toBeUndefined();
    expect(double.sessionList().map((s) => s.id)).not.toContain(aSession);
    // The deadline is well inside the 15 s lock-delay a destroyed-but-unreleased key would carry.
    await eventually(() => settled('web', [b]), { timeoutMs: 5_000 });
    expect(lockHolder(WEB_KEY)).toEqual({ session: b.leadership.sessionId, value: b.info });
    expect(watch.overlaps).toEqual([]);
  });

  it('release(service) hands the lock over while the instance keeps its session', async () => {
    const a = instance('a');
    a.leadership.lead('web');
    await waitFor(() => a.leadership.isLeader('web'), 'a leads');
    const b = instance('b');
    b.leadership.lead('web');
    await eventually(() => settled('web'));
    const aSession = a.leadership.sessionId;
    await a.leadership.release('web');
    expect(a.leadership.roleOf('web')).toBeUndefined();
    await eventually(() => settled('web', [b]));
    expect(a.leadership.sessionId).toBe(aSession);
    expect(double.sessionList().map((s) => s.id)).toContain(aSession);
  });

  it('a crashed leader (SIGKILL, no release, no destroy) loses web once its session TTL has run out', async () => {
    const { child, lines } = startChild('instance-crashing', 200);
    await eventually(() => expect(lines.filter((l) => l.service === 'web').at(-1)).toMatchObject({ role: 'leader', holder: 'instance-crashing' }), { timeoutMs: 15_000 });
    const childSession = lines.at(-1)?.session;
    expect(lockHolder(WEB_KEY)).toEqual({ session: childSession, value: { instanceId: 'instance-crashing', adminAddress: '127.0.0.1:9999' } });
    const b = instance('b', { lockDelayMs: 200 });
    b.leadership.lead('web');
    await eventually(() => expect(b.leadership.roleOf('web')).toMatchObject({ role: 'follower', holder: { instanceId: 'instance-crashing' }, holderSessionId: childSession }));
    // The child has renewed its session past several TTLs while b followed.
    await waitFor(() => double.requestCount({ pathPrefix: `/v1/session/renew/${childSession}` }) >= 3, 'the child renews its session');
    expect(b.roles('web')).not.toContain('leader');
    child.kill('SIGKILL');
    await waitFor(() => child.pid !== undefined && !isProcessAlive(child.pid), 'the child is gone');
    await eventually(() => settled('web', [b]), { timeoutMs: 10_000 });
    expect(double.sessionList().map((s) => s.id)).not.toContain(childSession);
    expect(lockHolder(WEB_KEY)).toEqual({ session: b.leadership.sessionId, value: b.info });
  });
});

describe('ConsulLeadership: Consul faults', () => {
  it('a leader whose renews fail (503) steps down before its TTL ends; the follower takes over; never two leaders', async () => {
    const watch = watchLeaders();
    const a = instance('a');
    a.leadership.lead('web');
    await waitFor(() => a.leadership.isLeader('web'), 'a leads');
    const b = instance('b');
    b.leadership.lead('web');
    await eventually(() => settled('web'));
    const aSession = a.leadership.sessionId as string;
    double.inject('session.renew', { kind: 'html-error', status: 503 }, { subject: aSession });
    await eventually(() => expect(a.leadership.roleOf('web')).toEqual({ role: 'lost', reason: 'renew-overdue' }));
    await eventually(() => {
      watch.check();
      settled('web', [b]);
    }, { timeoutMs: 5_000 });
    // The step-down came from a's own clock, before Consul let the session go (a may have seen
    // the key free in between, while its unconfirmed session kept it from acquiring).
    const aRoles = a.roles('web');
    const after = aRoles.slice(aRoles.indexOf('leader'));
    expect(after.slice(0, 2)).toEqual(['leader', 'lost']);
    expect(after.at(-1)).toBe('follower');
    expect(after.slice(1)).not.toContain('leader');
    double.clearFaults();
    // a's next renew meets a 404: it takes a new session and follows b.
    await eventually(() => {
      watch.check();
      settled('web');
      expect(a.leadership.sessionId).not.toBe(aSession);
    });
    expect(watch.overlaps).toEqual([]);
    expect(watch.samples).toBeGreaterThan(10);
  });

  const outages: [string, (d: ConsulDouble) => Promise<void>][] = [
    ['every connection reset', async (d) => d.inject('*', { kind: 'reset' })],
    ['a 503 page on every endpoint', async (d) => d.inject('*', { kind: 'html-error', status: 503 })],
    ['connections refused (Consul down)', (d) => d.refuseConnections()],
  ];
  it.each(outages)('%s: the follower keeps following, the leader steps down; once Consul answers again exactly one leads', async (_name, breakConsul) => {
    const watch = watchLeaders();
    const a = instance('a');
    a.leadership.lead('web');
    await waitFor(() => a.leadership.isLeader('web'), 'a leads');
    const b = instance('b');
    b.leadership.lead('web');
    await eventually(() => settled('web'));
    const sessions = [a.leadership.sessionId, b.leadership.sessionId];
    await breakConsul(double);
    await eventually(() => {
      expect(b.leadership.roleOf('web')).toMatchObject({ role: 'follower', holder: a.info });
      expect(a.leadership.roleOf('web')).toEqual({ role: 'lost', reason: 'renew-overdue' });
    });
    // Consul let both sessions expire meanwhile; b cannot see it and keeps its last view.
    await waitFor(() => double.sessionList().length === 0, 'both sessions expired in Consul');
    expect(b.leadership.roleOf('web')).toMatchObject({ role: 'follower', holder: a.info });
    expect(b.roles('web')).not.toContain('leader');
    double.clearFaults();
    await double.acceptConnections();
    await eventually(() => {
      watch.check();
      settled('web');
      expect(sessions).not.toContain(a.leadership.sessionId);
      expect(sessions).not.toContain(b.leadership.sessionId);
    }, { timeoutMs: 10_000 });
    expect(watch.overlaps).toEqual([]);
  });

  it('an acquire whose answer is lost after Consul took the lock still makes the instance leader: the lock read shows our session', async () => {
    double.inject('kv.set', { kind: 'lost-answer' }, { subject: WEB_KEY, times: 1 });
    // A minute's backoff after the failed acquire: only the lock read can reveal the lock.
    const a = instance('a', {}, { backoff: { baseMs: 60_000, maxMs: 60_000 } });
    a.leadership.lead('web');
    await waitFor(() => a.leadership.isLeader('web'), 'a leads');
    expect(double.requestCount({ pathPrefix: kvPath(WEB_KEY), method: 'PUT' })).toBe(1);
    expect(lockHolder(WEB_KEY).session).toBe(a.leadership.sessionId);
    expect(double.kvEntry(WEB_KEY)?.lockIndex).toBe(1);
  });

  it('a renew whose answer is lost keeps the session: Consul did renew it', async () => {
    const a = instance('a');
    a.leadership.lead('web');
    await waitFor(() => a.leadership.isLeader('web'), 'a leads');
    const session = a.leadership.sessionId as string;
    const sinceMs = Date.now();
    double.inject('session.renew', { kind: 'lost-answer' }, { subject: session, times: 2 });
    await waitFor(() => double.requestCount({ pathPrefix: `/v1/session/renew/${session}`, sinceMs }) >= 4, 'renews past the lost answers');
    await waitFor(() => a.leadership.isLeader('web'), 'a leads again');
    expect(a.leadership.sessionId).toBe(session);
    expect(double.sessionList().map((s) => s.id)).toEqual([session]);
  });

  it.each([
    ['a wrong shape', { kind: 'wrong-shape' } as const],
    ['truncated JSON', { kind: 'truncated-json' } as const],
  ])('lock reads answering %s do not turn the follower into a candidate, nor the leader into anything else', async (_name, fault) => {
    const watch = watchLeaders();
    const a = instance('a');
    a.leadership.lead('web');
    await waitFor(() => a.leadership.isLeader('web'), 'a leads');
    const b = instance('b');
    b.leadership.lead('web');
    await eventually(() => settled('web'));
    const eventsBefore = b.events.length;
    const sinceMs = Date.now();
    double.inject('kv.get', fault, { subject: WEB_KEY });
    // Writes to another key raise the KV index a key read answers with: each garbled answer
    // comes as news, not as an unchanged index that would be skipped anyway.
    let writes = 0;
    await waitFor(() => {
      double.putKv('unrelated/key', String((writes += 1)));
      // Well past both watches' token-bucket bursts (10 each, answered at once): the later
      // reads come after writes, so their garbled answers carry a new index.
      return double.requestCount({ pathPrefix: kvPath(WEB_KEY), method: 'GET', sinceMs }) >= 30;
    }, 'many garbled lock reads', { timeoutMs: 15_000 });
    settled('web');
    expect(b.events.length).toBe(eventsBefore);
    expect(double.kvEntry(WEB_KEY)?.lockIndex).toBe(1);
    expect(watch.overlaps).toEqual([]);
  });

  it('an index that goes backwards (a snapshot restore) resets the watch: the follower still sees the leader leave', async () => {
    const a = instance('a');
    a.leadership.lead('web');
    await waitFor(() => a.leadership.isLeader('web'), 'a leads');
    const b = instance('b');
    b.leadership.lead('web');
    await eventually(() => settled('web'));
    double.rewindIndex(1);
    // Let b's blocking read come back with the lower index before the leader leaves.
    const sinceMs = Date.now();
    await waitFor(() => double.requestCount({ pathPrefix: kvPath(WEB_KEY), method: 'GET', sinceMs }) >= 4, 'reads after the rewind');
    await a.leadership.release('web');
    await eventually(() => settled('web', [b]), { timeoutMs: 5_000 });
  });
});

describe('ConsulLeadership: several services', () => {
  it('locks of several services are held, moved and released independently', async () => {
    const services = ['web', 'api', 'db'];
    const watch = watchLeaders(services);
    const a = instance('a');
    const b = instance('b');
    a.leadership.lead('web');
    a.leadership.lead('api');
    b.leadership.lead('api');
    b.leadership.lead('db');
    await eventually(() => {
      expect(a.leadership.isLeader('web')).toBe(true);
      expect(b.leadership.isLeader('db')).toBe(true);
      settled('api');
    });
    const { leader: apiLeader, followers } = settled('api');
    const apiFollower = followers[0] as Instance;
    const webEvents = a.roles('web').length;
    const dbEvents = b.roles('db').length;
    expect(lockHolder('dockmaster/leader/web').session).toBe(a.leadership.sessionId);
    expect(lockHolder('dockmaster/leader/db').session).toBe(b.leadership.sessionId);
    // Both instances hold locks with their one session each.
    expect(double.sessionList()).toHaveLength(2);

    await apiLeader.leadership.release('api');
    await eventually(() => settled('api', [apiFollower]));
    expect(a.roles('web')).toHaveLength(webEvents);
    expect(b.roles('db')).toHaveLength(dbEvents);
    expect(a.leadership.isLeader('web')).toBe(true);
    expect(b.leadership.isLeader('db')).toBe(true);

    await a.leadership.release('web');
    await eventually(() => expect(lockHolder('dockmaster/leader/web').session).toBeUndefined());
    expect(b.leadership.isLeader('db')).toBe(true);
    expect(a.leadership.roleOf('web')).toBeUndefined();
    expect(watch.overlaps).toEqual([]);
  });

  it('refuses a service name that is not one, and timings that leave no room to renew', async () => {
    const a = instance('a');
    expect(() => a.leadership.lead('Web/../x')).toThrow(DockmasterError);
    expect(() => new ConsulLeadership({ address: double.address, instance: a.info, sessionTtlMs: 600, safetyMarginMs: 300 }, { logger: testLogger })).toThrow(/safetyMarginMs/);
    expect(() => new ConsulLeadership({ address: double.address, instance: { instanceId: '' } }, { logger: testLogger })).toThrow(/instanceId/);
    expect(a.leadership.sessionId).toBeUndefined();
    expect(double.requestCount()).toBe(0);
  });

  it('keys go under a configured prefix', async () => {
    const a = instance('a', { keyPrefix: 'fleet-1' });
    a.leadership.lead('web');
    await waitFor(() => a.leadership.isLeader('web'), 'a leads');
    expect(a.leadership.keyOf('web')).toBe('fleet-1/leader/web');
    expect(lockHolder('fleet-1/leader/web')).toEqual({ session: a.leadership.sessionId, value: a.info });
    expect(double.kvEntry(WEB_KEY)).toBeUndefined();
  });
});
