// Integration tests of GET /v1/events as server-sent events on a real 127.0.0.1 listener: backlog,
// live events, resume, filter, auth, heartbeats, the stream cap, clients that leave or stop
// reading, and close. I/O: sockets on loopback.
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminServer, listenAdmin } from '../../../src/admin/admin-server.js';
import type { EventStreamLimits } from '../../../src/admin/event-stream.js';
import { eventually, waitFor } from '../../helpers/eventually.js';
import { capturedLogger, fakeService, send, type FakeService } from './admin-fixtures.js';
import { expectOpen, expectRefused, openEventStream, type OpenStream } from './sse-client.js';

const TOKEN = 'sse-test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Started {
  readonly app: FastifyInstance;
  readonly port: number;
  readonly service: FakeService;
  readonly log: ReturnType<typeof capturedLogger>;
}

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: { token?: string; limits?: Partial<EventStreamLimits> } = {}): Promise<Started> {
  const service = fakeService();
  const log = capturedLogger();
  const app = createAdminServer(service, { token: 'token' in options ? options.token : TOKEN, logger: log.logger, eventStreams: options.limits });
  const address = await listenAdmin(app, '127.0.0.1', 0);
  cleanups.push(() => app.close());
  return { app, port: address.port, service, log };
}

async function open(ctx: Started, path = '/v1/events', headers: Record<string, string> = AUTH): Promise<OpenStream> {
  const stream = expectOpen(await openEventStream(ctx.port, path, headers));
  cleanups.push(() => stream.close());
  return stream;
}

function record(ctx: Started, count: number, service = 'demo'): void {
  for (let i = 0; i < count; i++) ctx.service.events.record({ type: 'service.scaled', service, message: `event ${i} of ${service}` });
}

const seqs = (stream: OpenStream): number[] => stream.events().map((e) => e.seq);

describe('GET /v1/events as server-sent events', () => {
  it('streams the backlog, then live events, as id and data frames after a retry hint', async () => {
    const ctx = await start({ limits: { retryMs: 1234 } });
    record(ctx, 3);
    const stream = await open(ctx);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-store');
    await waitFor(() => stream.parser.frames.length === 3, 'the backlog');
    expect(stream.parser.retryMs).toBe(1234);
    const listed = (await send(ctx.port, 'GET', '/v1/events', { headers: AUTH })).json['events'];
    expect(stream.events()).toEqual(listed);
    // One default event type; the id is the event's seq, so EventSource resumes from it.
    expect(stream.parser.frames.map((f) => [f.id, f.event])).toEqual([
      ['1', 'message'],
      ['2', 'message'],
      ['3', 'message'],
    ]);

    record(ctx, 2);
    await waitFor(() => stream.parser.frames.length === 5, 'two live events');
    expect(seqs(stream)).toEqual([1, 2, 3, 4, 5]);
    expect(stream.events()[4]).toMatchObject({ seq: 5, type: 'service.scaled', service: 'demo', message: 'event 1 of demo' });
  });

  it('resumes after Last-Event-ID, which wins over ?since=', async () => {
    const ctx = await start();
    record(ctx, 6);
    const stream = await open(ctx, '/v1/events?since=1', { ...AUTH, 'last-event-id': '4' });
    await waitFor(() => stream.parser.frames.length === 2, 'the events after 4');
    expect(seqs(stream)).toEqual([5, 6]);
  });

  it('resumes after ?since= with every retained event, beyond the list default of 200', async () => {
    const ctx = await start();
    record(ctx, 250);
    const stream = await open(ctx, '/v1/events?since=10');
    await waitFor(() => stream.parser.frames.length === 240, 'events 11..250');
    expect(seqs(stream)[0]).toBe(11);
    record(ctx, 1);
    await waitFor(() => seqs(stream).at(-1) === 251, 'the live event');
  });

  it('starts afresh when Last-Event-ID is past the newest event (a restarted gateway), and sends the live events after it', async () => {
    const ctx = await start();
    record(ctx, 3);
    const stream = await open(ctx, '/v1/events', { ...AUTH, 'last-event-id': '900' });
    await waitFor(() => stream.parser.frames.length === 3, 'the retained events');
    record(ctx, 1);
    await waitFor(() => stream.parser.frames.length === 4, 'the live event');
    expect(seqs(stream)).toEqual([1, 2, 3, 4]);
  });

  it('starts with the newest ?limit= events when no position is given', async () => {
    const ctx = await start();
    record(ctx, 5);
    const stream = await open(ctx, '/v1/events?limit=2');
    await waitFor(() => stream.parser.frames.length === 2, 'two events');
    expect(seqs(stream)).toEqual([4, 5]);
  });

  it('carries only the events of ?service=, in the backlog and live', async () => {
    const ctx = await start();
    record(ctx, 2, 'demo');
    record(ctx, 2, 'other');
    const stream = await open(ctx, '/v1/events?service=other');
    await waitFor(() => stream.parser.frames.length === 2, 'the backlog of other');
    record(ctx, 1, 'demo');
    record(ctx, 1, 'other');
    await waitFor(() => stream.parser.frames.length === 3, 'the live event of other');
    expect(stream.events().map((e) => [e.seq, e.service])).toEqual([
      [3, 'other'],
      [4, 'other'],
      [6, 'other'],
    ]);
  });

  it('refuses a stream without the token or with a wrong one, as the rest of the API', async () => {
    const ctx = await start();
    record(ctx, 1);
    const refusedHeaders: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }];
    for (const headers of refusedHeaders) {
      const refused = expectRefused(await openEventStream(ctx.port, '/v1/events', headers));
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer');
      expect(refused.json?.error?.code).toBe('DM_ERR_ADMIN_UNAUTHORIZED');
    }
    expect(ctx.service.events.subscriberCount).toBe(0);
  });

  it('answers 400 naming the header for a malformed Last-Event-ID, and 400 for a bad query', async () => {
    const ctx = await start();
    const badId = expectRefused(await openEventStream(ctx.port, '/v1/events', { ...AUTH, 'last-event-id': 'yesterday' }));
    expect(badId.status).toBe(400);
    expect(badId.json?.error).toEqual({ code: 'DM_ERR_ADMIN_BAD_REQUEST', message: expect.stringMatching(/Last-Event-ID.*'yesterday'/) });
    const badQuery = expectRefused(await openEventStream(ctx.port, '/v1/events?since=-3', AUTH));
    expect(badQuery.status).toBe(400);
  });

  it('still lists as JSON without Accept: text/event-stream (a wildcard included), and for HEAD', async () => {
    const ctx = await start();
    record(ctx, 2);
    for (const accept of [undefined, '*/*', 'application/json']) {
      const answer = await send(ctx.port, 'GET', '/v1/events', { headers: { ...AUTH, ...(accept === undefined ? {} : { accept }) } });
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect((answer.json['events'] as unknown[]).length).toBe(2);
    }
    const head = await send(ctx.port, 'HEAD', '/v1/events', { headers: { ...AUTH, accept: 'text/event-stream' } });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toMatch(/^application\/json/);
    expect(ctx.service.events.subscriberCount).toBe(0);
  });

  it('sends heartbeat comments while no event happens', async () => {
    const ctx = await start({ limits: { heartbeatMs: 40 } });
    const stream = await open(ctx);
    await waitFor(() => stream.parser.comments.length >= 2, 'two heartbeats');
    expect(new Set(stream.parser.comments)).toEqual(new Set(['heartbeat']));
    expect(stream.parser.frames).toEqual([]);
  });

  it('unsubscribes a client that goes away, and keeps recording events', async () => {
    const ctx = await start();
    const first = await open(ctx);
    const second = await open(ctx);
    expect(ctx.service.events.subscriberCount).toBe(2);
    first.close();
    await waitFor(() => ctx.service.events.subscriberCount === 1, 'the closed stream to unsubscribe');
    record(ctx, 1);
    await waitFor(() => second.parser.frames.length === 1, 'the other stream to go on');
    second.close();
    await waitFor(() => ctx.service.events.subscriberCount === 0, 'both streams to unsubscribe');
  });

  it('refuses streams past the cap with 503 and a clear code, and opens again once one closed', async () => {
    const ctx = await start({ limits: { maxStreams: 2, retryMs: 2000 } });
    const first = await open(ctx);
    await open(ctx);
    const refused = expectRefused(await openEventStream(ctx.port, '/v1/events', AUTH));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.json?.error).toEqual({ code: 'DM_ERR_ADMIN_TOO_MANY_STREAMS', message: expect.stringMatching(/2 event streams are open/) });
    // The JSON list is not a stream: it still answers.
    expect((await send(ctx.port, 'GET', '/v1/events', { headers: AUTH })).status).toBe(200);
    first.close();
    await waitFor(() => ctx.service.events.subscriberCount === 1, 'the closed stream to leave');
    await open(ctx);
    expect(ctx.service.events.subscriberCount).toBe(2);
  });

  it('drops a client that stops reading once its unsent bytes pass the limit, bounding the memory it holds', async () => {
    const maxBufferedBytes = 64 * 1024;
    const ctx = await start({ limits: { maxBufferedBytes } });
    const socket = await rawStreamThatNeverReads(ctx.port);
    cleanups.push(() => {
      socket.destroy();
    });
    await waitFor(() => ctx.service.events.subscriberCount === 1, 'the stream to open');
    const message = 'x'.repeat(16 * 1024);
    // Loopback socket buffers take a few MiB before anything stays in the server's memory; the
    // loop is bounded (at most 2000 events of 16 KiB) and stops as soon as the server drops it.
    for (let i = 0; i < 2000 && ctx.service.events.subscriberCount > 0; i++) {
      ctx.service.events.record({ type: 'service.scaled', service: 'demo', message });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => ctx.service.events.subscriberCount === 0, 'the slow stream to be dropped');
    const dropped = ctx.log.lines.find((l) => l['msg'] === 'event stream dropped: the client does not read fast enough');
    expect(dropped, 'the drop log line').toBeDefined();
    const bufferedBytes = dropped?.['bufferedBytes'] as number;
    expect(bufferedBytes).toBeGreaterThan(maxBufferedBytes);
    // Checked before each write: at most the limit plus one frame stays buffered.
    expect(bufferedBytes).toBeLessThanOrEqual(maxBufferedBytes + message.length + 512);
    // The server stays usable for others.
    const other = await open(ctx);
    record(ctx, 1);
    await waitFor(() => other.parser.frames.length >= 1, 'a new stream to get events');
  });

  it('ends open streams when the admin server closes, and close() does not wait for them', async () => {
    const ctx = await start();
    const streams = [await open(ctx), await open(ctx, '/v1/events?service=demo')];
    const closed = await Promise.race([
      ctx.app.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still closing after 5 s: open streams hold the server'), 5_000).unref()),
    ]);
    expect(closed).toBe('closed');
    await eventually(() => expect(streams.map((s) => s.isEnded())).toEqual([true, true]), { timeoutMs: 5_000 });
    expect(ctx.service.events.subscriberCount).toBe(0);
  });

  it('without a token streams only to loopback Host names, as the rest of the API', async () => {
    const ctx = await start({ token: undefined });
    const refused = expectRefused(await openEventStream(ctx.port, '/v1/events', { host: 'evil.example:9090' }));
    expect(refused.status).toBe(403);
    expect(refused.json?.error?.code).toBe('DM_ERR_ADMIN_HOST_FORBIDDEN');
    const stream = await open(ctx, '/v1/events', {});
    record(ctx, 1);
    await waitFor(() => stream.parser.frames.length === 1, 'the event');
  });
});

/** A raw connection that asks for the stream and never reads a byte of the answer. */
async function rawStreamThatNeverReads(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  socket.pause();
  socket.write(`GET /v1/events HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\naccept: text/event-stream\r\nauthorization: Bearer ${TOKEN}\r\n\r\n`);
  return socket;
}
