// The Consul HTTP API double's sessions and KV over real sockets: what leader election with a
// session lock relies on (acquire / release, TTL expiry and renew, destroy, lock-delay, blocking
// reads on a key) and the faults on those endpoints, so the double cannot drift from what it
// claims. Integration: HTTP on 127.0.0.1.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Consul from 'consul';
import { ConsulDouble } from '../../../helpers/consul-double.js';
import { eventually, waitFor } from '../../../helpers/eventually.js';

let double: ConsulDouble;

beforeEach(async () => {
  double = await ConsulDouble.start({ jitter: false, sessionTtlMinMs: 100 });
});

afterEach(async () => {
  await double.close();
});

interface Answer {
  readonly status: number;
  readonly index: number;
  readonly text: string;
  readonly body: unknown;
  readonly headers: Headers;
}

async function call(method: string, path: string, body?: string | object, timeoutMs = 10_000): Promise<Answer> {
  const init: RequestInit = { method, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${double.address}${path}`, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, index: Number(res.headers.get('x-consul-index')), text, body: parsed, headers: res.headers };
}

interface SessionJson {
  ID: string;
  Name: string;
  Node: string;
  LockDelay: number;
  Behavior: string;
  TTL: string;
  NodeChecks: string[];
}

interface KvJson {
  Key: string;
  Value: string | null;
  Flags: number;
  LockIndex: number;
  Session?: string;
  CreateIndex: number;
  ModifyIndex: number;
}

async function createSession(body: object = {}): Promise<string> {
  const res = await call('PUT', '/v1/session/create', body);
  expect(res.status, res.text).toBe(200);
  return (res.body as { ID: string }).ID;
}

async function info(id: string): Promise<SessionJson[]> {
  return (await call('GET', `/v1/session/info/${id}`)).body as SessionJson[];
}

async function entry(key: string): Promise<KvJson | undefined> {
  const res = await call('GET', `/v1/kv/${key}`);
  if (res.status === 404) return undefined;
  return (res.body as KvJson[])[0];
}

function decoded(e: KvJson | undefined): string | null | undefined {
  if (e === undefined) return undefined;
  return e.Value === null ? null : Buffer.from(e.Value, 'base64').toString('utf8');
}

describe('ConsulDouble sessions', () => {
  it('creates a session with Consul defaults and answers it in info, list and node', async () => {
    const id = await createSession();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const [session] = await info(id);
    expect(session).toMatchObject({ ID: id, Name: '', Node: 'double-node', LockDelay: 15e9, Behavior: 'release', TTL: '', NodeChecks: ['serfHealth'], ServiceChecks: null });
    const list = await call('GET', '/v1/session/list');
    expect((list.body as SessionJson[]).map((s) => s.ID)).toEqual([id]);
    expect(list.index).toBeGreaterThan(0);
    expect(((await call('GET', '/v1/session/node/double-node')).body as SessionJson[]).map((s) => s.ID)).toEqual([id]);
    expect((await call('GET', '/v1/session/node/elsewhere')).body).toEqual([]);
    expect(await info('00000000-0000-0000-0000-000000000000')).toEqual([]);
  });

  it('reads Name, TTL, Behavior, NodeChecks and LockDelay (a duration, or a small number as seconds) like Consul', async () => {
    const a = await createSession({ Name: 'leader/web', TTL: '10s', Behavior: 'delete', LockDelay: '1s', NodeChecks: [] });
    expect((await info(a))[0]).toMatchObject({ Name: 'leader/web', TTL: '10s', Behavior: 'delete', LockDelay: 1e9, NodeChecks: [] });
    const b = await createSession({ lockdelay: 5, checks: ['serfHealth'] });
    expect((await info(b))[0]).toMatchObject({ LockDelay: 5e9, NodeChecks: ['serfHealth'] });
    const c = await createSession({ LockDelay: 2e9 });
    expect((await info(c))[0]?.LockDelay).toBe(2e9);
  });

  it('refuses what Consul refuses, with its status and message', async () => {
    const short = await call('PUT', '/v1/session/create', { TTL: '50ms' });
    expect([short.status, short.text]).toEqual([500, "Invalid Session TTL '50000000', must be between [100ms=24h0m0s]\n"]);
    expect((await call('PUT', '/v1/session/create', { Behavior: 'keep' })).text).toBe("Invalid Behavior setting 'keep'\n");
    expect((await call('PUT', '/v1/session/create', '{"TTL":')).status).toBe(400);
    expect((await call('PUT', '/v1/session/create', { Node: 'nowhere' })).text).toBe('Missing node registration\n');
    expect((await call('PUT', '/v1/session/create', { NodeChecks: ['nope'] })).text).toBe("Missing check 'nope' registration\n");
    expect((await call('GET', '/v1/session/create')).status).toBe(405);
    expect((await call('PUT', '/v1/session/destroy/')).text).toBe('Missing session\n');
    double.setNodeHealth('double-node', 'critical');
    const critical = await call('PUT', '/v1/session/create');
    expect([critical.status, critical.text]).toEqual([500, "Check 'serfHealth' is in critical state\n"]);
  });

  it("keeps Consul's 10 s session_ttl_min by default", async () => {
    const strict = await ConsulDouble.start();
    try {
      const res = await fetch(`${strict.address}/v1/session/create`, { method: 'PUT', body: JSON.stringify({ TTL: '5s' }) });
      expect(res.status).toBe(500);
      expect(await res.text()).toContain('must be between [10s=24h0m0s]');
    } finally {
      await strict.close();
    }
  });

  it('keeps a renewed session past its TTL, expires it once renewals stop, then answers renew with 404', async () => {
    const id = await createSession({ TTL: '2s', LockDelay: '0s' });
    const createdAtMs = Date.now();
    // A client renewing every TTL/10, as a leader does; the session outlives its TTL.
    while (Date.now() - createdAtMs < 3_000) {
      const renewed = await call('PUT', `/v1/session/renew/${id}`);
      expect(renewed.status).toBe(200);
      expect((renewed.body as SessionJson[])[0]).toMatchObject({ ID: id, TTL: '2s' });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await info(id)).toHaveLength(1);
    await eventually(async () => expect(await info(id)).toEqual([]), { timeoutMs: 10_000 });
    const gone = await call('PUT', `/v1/session/renew/${id}`);
    expect([gone.status, gone.text]).toEqual([404, `Session id '${id}' not found\n`]);
  });

  it('expires a session after its TTL: the lock is released and a blocking read on the key wakes', async () => {
    const id = await createSession({ TTL: '1s', LockDelay: '0s' });
    expect((await call('PUT', `/v1/kv/service/web/leader?acquire=${id}`, 'instance-a')).body).toBe(true);
    const before = await call('GET', '/v1/kv/service/web/leader');
    expect((before.body as KvJson[])[0]?.Session).toBe(id);
    const sessions = await call('GET', '/v1/session/list');
    const [woken, listed] = await Promise.all([
      call('GET', `/v1/kv/service/web/leader?index=${before.index}&wait=20s`, undefined, 25_000),
      call('GET', `/v1/session/list?index=${sessions.index}&wait=20s`, undefined, 25_000),
    ]);
    expect(woken.index).toBeGreaterThan(before.index);
    const after = (woken.body as KvJson[])[0];
    expect(after).toMatchObject({ Key: 'service/web/leader', LockIndex: 1 });
    expect(after?.Session).toBeUndefined();
    expect(decoded(after)).toBe('instance-a');
    expect(listed.body).toEqual([]);
  });

  it('destroy releases the keys of a release session and deletes those of a delete session', async () => {
    const releasing = await createSession({ LockDelay: '0s' });
    const deleting = await createSession({ LockDelay: '0s', Behavior: 'delete' });
    await call('PUT', `/v1/kv/locks/a?acquire=${releasing}`, 'a');
    await call('PUT', `/v1/kv/locks/b?acquire=${deleting}`, 'b');
    const destroyed = await call('PUT', `/v1/session/destroy/${releasing}`);
    expect([destroyed.status, destroyed.body]).toEqual([200, true]);
    expect(await entry('locks/a')).toMatchObject({ LockIndex: 1 });
    expect((await entry('locks/a'))?.Session).toBeUndefined();
    await call('PUT', `/v1/session/destroy/${deleting}`);
    expect(await entry('locks/b')).toBeUndefined();
    expect(await info(releasing)).toEqual([]);
    expect((await call('PUT', `/v1/session/destroy/${releasing}`)).body).toBe(true);
  });

  it('invalidates the sessions that depend on a node check once it goes critical', async () => {
    const checked = await createSession({ LockDelay: '0s' });
    const unchecked = await createSession({ LockDelay: '0s', NodeChecks: [] });
    await call('PUT', `/v1/kv/leader?acquire=${checked}`, 'x');
    double.setNodeHealth('double-node', 'critical');
    expect(await info(checked)).toEqual([]);
    expect(await info(unchecked)).toHaveLength(1);
    expect((await entry('leader'))?.Session).toBeUndefined();
  });
});

describe('ConsulDouble KV', () => {
  it('stores values and flags, answers base64 Value, ?raw, 404 and X-Consul-Index', async () => {
    const put = await call('PUT', '/v1/kv/config/web?flags=42', 'hello');
    expect([put.status, put.body]).toEqual([200, true]);
    const got = await call('GET', '/v1/kv/config/web');
    const [e] = got.body as KvJson[];
    expect(e).toMatchObject({ Key: 'config/web', Value: Buffer.from('hello').toString('base64'), Flags: 42, LockIndex: 0 });
    expect(e && 'Session' in e).toBe(false);
    expect(got.index).toBe(e?.ModifyIndex);
    const raw = await call('GET', '/v1/kv/config/web?raw');
    expect([raw.text, raw.headers.get('content-type'), raw.headers.get('x-content-type-options')]).toEqual(['hello', 'text/plain', 'nosniff']);
    const missing = await call('GET', '/v1/kv/config/none');
    expect([missing.status, missing.text]).toEqual([404, '']);
    expect(missing.index).toBeGreaterThan(0);
    await call('PUT', '/v1/kv/config/empty');
    expect((await entry('config/empty'))?.Value).toBeNull();
    expect((await call('GET', '/v1/kv/')).text).toBe('Missing key name\n');
  });

  it('keeps uint64 flags exact (the flag value lock libraries use)', async () => {
    await call('PUT', '/v1/kv/lock/flagged?flags=3304740253564472344', 'x');
    expect((await call('GET', '/v1/kv/lock/flagged')).text).toContain('"Flags":3304740253564472344,');
    expect((await call('PUT', '/v1/kv/lock/flagged?flags=-1', 'x')).status).toBe(500);
  });

  it('lets one session acquire a key and refuses another until the holder releases it', async () => {
    const a = await createSession({ LockDelay: '0s' });
    const b = await createSession({ LockDelay: '0s' });
    expect((await call('PUT', `/v1/kv/leader/web?acquire=${a}`, 'a')).body).toBe(true);
    expect(await entry('leader/web')).toMatchObject({ Session: a, LockIndex: 1 });
    expect((await call('PUT', `/v1/kv/leader/web?acquire=${b}`, 'b')).body).toBe(false);
    expect((await call('PUT', `/v1/kv/leader/web?release=${b}`, 'b')).body).toBe(false);
    expect(decoded(await entry('leader/web'))).toBe('a');
    // Acquiring again by the holder rewrites the value and keeps the LockIndex.
    expect((await call('PUT', `/v1/kv/leader/web?acquire=${a}`, 'a2')).body).toBe(true);
    expect(await entry('leader/web')).toMatchObject({ Session: a, LockIndex: 1 });
    // A plain write keeps the lock.
    await call('PUT', '/v1/kv/leader/web', 'plain');
    expect((await entry('leader/web'))?.Session).toBe(a);
    expect((await call('PUT', `/v1/kv/leader/web?release=${a}`, 'released')).body).toBe(true);
    expect((await entry('leader/web'))?.Session).toBeUndefined();
    expect(decoded(await entry('leader/web'))).toBe('released');
    expect((await call('PUT', `/v1/kv/leader/web?acquire=${b}`, 'b')).body).toBe(true);
    expect(await entry('leader/web')).toMatchObject({ Session: b, LockIndex: 2 });
    expect((await call('PUT', '/v1/kv/leader/none?release=' + b)).body).toBe(false);
  });

  it('refuses acquire with an unknown or missing session and conflicting flags', async () => {
    const unknown = await call('PUT', '/v1/kv/k?acquire=00000000-0000-0000-0000-000000000000', 'x');
    expect([unknown.status, unknown.text]).toEqual([500, 'invalid session "00000000-0000-0000-0000-000000000000"\n']);
    expect((await call('PUT', '/v1/kv/k?acquire=', 'x')).text).toBe('missing session\n');
    const id = await createSession();
    const conflict = await call('PUT', `/v1/kv/k?acquire=${id}&cas=0`, 'x');
    expect(conflict.status).toBe(400);
    expect(conflict.text).toMatch(/^Conflicting flags/);
    expect((await call('POST', '/v1/kv/k', 'x')).status).toBe(405);
  });

  it('applies the lock-delay after a session is invalidated, not after a release', async () => {
    const holder = await createSession({ LockDelay: '60s' });
    const other = await createSession({ LockDelay: '0s' });
    await call('PUT', `/v1/kv/delayed?acquire=${holder}`, 'h');
    await call('PUT', `/v1/session/destroy/${holder}`);
    expect((await call('PUT', `/v1/kv/delayed?acquire=${other}`, 'o')).body).toBe(false);

    const brief = await createSession({ LockDelay: '300ms' });
    await call('PUT', `/v1/kv/brief?acquire=${brief}`, 'h');
    await call('PUT', `/v1/session/destroy/${brief}`);
    await eventually(async () => expect((await call('PUT', `/v1/kv/brief?acquire=${other}`, 'o')).body).toBe(true), { timeoutMs: 5_000, intervalMs: 50 });

    const releasing = await createSession({ LockDelay: '60s' });
    await call('PUT', `/v1/kv/released?acquire=${releasing}`, 'h');
    await call('PUT', `/v1/kv/released?release=${releasing}`, 'h');
    expect((await call('PUT', `/v1/kv/released?acquire=${other}`, 'o')).body).toBe(true);
  });

  it('wakes a blocking read on a key only when that key changes', async () => {
    await call('PUT', '/v1/kv/watched', 'old');
    const first = await call('GET', '/v1/kv/watched');
    const pending = call('GET', `/v1/kv/watched?index=${first.index}&wait=20s`, undefined, 25_000);
    await waitFor(() => double.requestCount({ pathPrefix: '/v1/kv/watched' }) >= 2, 'the blocking read to arrive');
    await call('PUT', '/v1/kv/unrelated', 'x');
    await call('PUT', '/v1/kv/watched', 'new');
    const woken = await pending;
    // Woken by the unrelated key it would have answered 'old'.
    expect(decoded((woken.body as KvJson[])[0])).toBe('new');
    expect(woken.index).toBeGreaterThan(first.index);
  });

  it('answers a key read at once, with the KV table index, when any key changed since the index given', async () => {
    await call('PUT', '/v1/kv/quiet', 'q');
    const first = await call('GET', '/v1/kv/quiet');
    await call('PUT', '/v1/kv/busy', 'b');
    const res = await call('GET', `/v1/kv/quiet?index=${first.index}&wait=10m`, undefined, 5_000);
    expect(res.index).toBe((await entry('busy'))?.ModifyIndex);
    expect(decoded((res.body as KvJson[])[0])).toBe('q');
  });

  it('lists a prefix with ?recurse and ?keys, and wakes a recurse read when a key under it is deleted', async () => {
    await call('PUT', '/v1/kv/app/a', '1');
    await call('PUT', '/v1/kv/app/sub/b', '2');
    await call('PUT', '/v1/kv/other', '3');
    const listed = await call('GET', '/v1/kv/app/?recurse');
    expect((listed.body as KvJson[]).map((e) => e.Key)).toEqual(['app/a', 'app/sub/b']);
    expect((await call('GET', '/v1/kv/app/?keys')).body).toEqual(['app/a', 'app/sub/b']);
    expect((await call('GET', '/v1/kv/app/?keys&separator=/')).body).toEqual(['app/a', 'app/sub/']);
    expect((await call('GET', '/v1/kv/nothing/?recurse')).status).toBe(404);
    const pending = call('GET', `/v1/kv/app/?recurse&index=${listed.index}&wait=20s`, undefined, 25_000);
    await waitFor(() => double.requestCount({ pathPrefix: '/v1/kv/app/' }) >= 5, 'the blocking read to arrive');
    await call('DELETE', '/v1/kv/app/a');
    const woken = await pending;
    expect((woken.body as KvJson[]).map((e) => e.Key)).toEqual(['app/sub/b']);
    expect(woken.index).toBeGreaterThan(listed.index);
  });

  it('does check-and-set writes and deletes, and deletes a whole prefix', async () => {
    expect((await call('PUT', '/v1/kv/cas/k?cas=0', 'first')).body).toBe(true);
    expect((await call('PUT', '/v1/kv/cas/k?cas=0', 'again')).body).toBe(false);
    const modify = (await entry('cas/k'))?.ModifyIndex as number;
    expect((await call('PUT', `/v1/kv/cas/k?cas=${modify + 1}`, 'stale')).body).toBe(false);
    expect((await call('PUT', `/v1/kv/cas/k?cas=${modify}`, 'second')).body).toBe(true);
    expect(decoded(await entry('cas/k'))).toBe('second');
    const now = (await entry('cas/k'))?.ModifyIndex as number;
    expect((await call('DELETE', `/v1/kv/cas/k?cas=${now - 1}`)).body).toBe(false);
    expect((await call('DELETE', `/v1/kv/cas/k?cas=${now}`)).body).toBe(true);
    expect(await entry('cas/k')).toBeUndefined();
    await call('PUT', '/v1/kv/tree/a', '1');
    await call('PUT', '/v1/kv/tree/b', '2');
    expect((await call('DELETE', '/v1/kv/tree/?recurse')).body).toBe(true);
    expect((await call('GET', '/v1/kv/tree/?recurse')).status).toBe(404);
    expect((await call('DELETE', '/v1/kv/tree/?recurse&cas=1')).status).toBe(400);
  });

  it('works with the consul npm client the gateway uses', async () => {
    const client = new Consul({ host: '127.0.0.1', port: double.port });
    const { ID: id } = await client.session.create({ name: 'npm', ttl: '10s', lockdelay: '1s' });
    expect(await client.kv.set({ key: 'npm/leader', value: 'me', acquire: id })).toBe(true);
    // The client's bundled types leave out Session (Consul omits it when empty).
    type Item = { Value: string | null; Session?: string } | null | undefined;
    const got: Item = await client.kv.get('npm/leader');
    expect([got?.Value, got?.Session]).toEqual(['me', id]);
    const renewed = (await client.session.renew(id)) as { ID: string }[];
    expect(renewed[0]?.ID).toBe(id);
    await client.session.destroy(id);
    expect(await client.session.info(id)).toBeUndefined();
    const released: Item = await client.kv.get('npm/leader');
    expect([released?.Value, released?.Session]).toEqual(['me', undefined]);
  });
});

describe('ConsulDouble faults on sessions and KV', () => {
  it('serves HTML errors, wrong shapes and truncated JSON on session endpoints', async () => {
    const id = await createSession();
    double.inject('session.renew', { kind: 'html-error', status: 503 }, { times: 1 });
    const failed = await call('PUT', `/v1/session/renew/${id}`);
    expect([failed.status, failed.headers.get('content-type')]).toEqual([503, 'text/html; charset=utf-8']);
    expect((await call('PUT', `/v1/session/renew/${id}`)).status).toBe(200);
    double.inject('session.create', { kind: 'wrong-shape' }, { times: 1 });
    expect(Array.isArray((await call('PUT', '/v1/session/create')).body)).toBe(true);
    double.inject('session.info', { kind: 'truncated-json' }, { times: 1 });
    const cut = await call('GET', `/v1/session/info/${id}`);
    expect([cut.status, cut.body]).toEqual([200, undefined]);
  });

  it('loses the answer of an acquire that took effect', async () => {
    const id = await createSession();
    double.inject('kv.set', { kind: 'lost-answer' }, { times: 1 });
    await expect(fetch(`${double.address}/v1/kv/lost?acquire=${id}`, { method: 'PUT', body: 'me' })).rejects.toThrow();
    expect((await entry('lost'))?.Session).toBe(id);
  });

  it('faults reads of one key only, and moves its index back, to 0 or on and on', async () => {
    await call('PUT', '/v1/kv/a', 'a');
    await call('PUT', '/v1/kv/b', 'b');
    const first = await call('GET', '/v1/kv/a');
    double.inject('kv.get', { kind: 'index-backwards', index: 1 }, { subject: 'a', times: 1 });
    double.inject('kv.get', { kind: 'index-zero' }, { subject: 'a', times: 1 });
    expect((await call('GET', '/v1/kv/b')).index).toBe(first.index);
    expect((await call('GET', `/v1/kv/a?index=${first.index}&wait=10m`, undefined, 5_000)).index).toBe(1);
    expect((await call('GET', `/v1/kv/a?index=${first.index}&wait=10m`, undefined, 5_000)).index).toBe(0);
    double.inject('kv.keys', { kind: 'html-error' }, { times: 1 });
    expect((await call('GET', '/v1/kv/?keys')).status).toBe(500);
    expect((await call('GET', '/v1/kv/?keys')).body).toEqual(['a', 'b']);
    double.inject('kv.get', { kind: 'churn' }, { subject: 'a' });
    const churned = await call('GET', `/v1/kv/a?index=${first.index}&wait=10m`, undefined, 5_000);
    expect(churned.index).toBeGreaterThan(first.index);
    expect(decoded((churned.body as KvJson[])[0])).toBe('a');
  });

  it('hangs, resets and refuses: a session nobody can renew expires meanwhile', async () => {
    const id = await createSession({ TTL: '300ms' });
    double.inject('session.info', { kind: 'hang' }, { times: 1 });
    await expect(fetch(`${double.address}/v1/session/info/${id}`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    double.inject('kv.del', { kind: 'reset' }, { times: 1 });
    await expect(fetch(`${double.address}/v1/kv/x`, { method: 'DELETE' })).rejects.toThrow();
    await double.refuseConnections();
    await expect(fetch(`${double.address}/v1/session/renew/${id}`, { method: 'PUT' })).rejects.toThrow();
    await waitFor(() => double.sessionList().length === 0, 'the session to expire', { timeoutMs: 5_000 });
    await double.acceptConnections();
    expect((await call('PUT', `/v1/session/renew/${id}`)).status).toBe(404);
  });

  it('counts session and KV requests', async () => {
    const id = await createSession();
    await call('PUT', `/v1/session/renew/${id}`);
    await call('PUT', '/v1/kv/counted', 'x');
    await call('GET', '/v1/kv/counted');
    expect(double.requestCount({ pathPrefix: '/v1/session/' })).toBe(2);
    expect(double.requestCounts().get('PUT /v1/kv/counted')).toBe(1);
  });
});
