// A thin typed facade over the `consul` npm client for a session lock: session create / renew /
// destroy, a blocking read of one KV key, KV acquire / release; conventions as in
// src/registry/consul/consul-client.ts. I/O (HTTP to Consul).
import { EventEmitter } from 'node:events';
import { ConsulCallError, consulClientFor, contextFor, describe, goDuration, type BlockingRead, type ConsulConnection, type WriteOptions } from '../registry/consul/consul-client.js';
import { parseIndexHeader } from '../registry/consul/blocking-index.js';

export interface SessionRequest {
  readonly name: string;
  /** A Go duration (`10s`). */
  readonly ttl: string;
  /** A Go duration (`15s`, `0s`). */
  readonly lockDelay: string;
  readonly behavior: 'release' | 'delete';
}

export interface KeyAnswer {
  readonly index: number;
  /** The KV entry (Value decoded to text) as Consul answered it; null for 404 (no such key). */
  readonly entry: unknown;
}

interface RequestOptions {
  token?: string;
  dc?: string;
  index?: string;
  wait?: string;
  timeout?: number;
  ctx?: EventEmitter;
}
interface RawResponse {
  readonly statusCode?: number;
  readonly headers: Record<string, string | string[] | undefined>;
}
interface RawClient {
  session: {
    create(opts: RequestOptions & { name: string; ttl: string; lockdelay: string; behavior: string }): Promise<unknown>;
    renew(opts: RequestOptions & { id: string }): Promise<unknown>;
    destroy(opts: RequestOptions & { id: string }): Promise<unknown>;
  };
  kv: {
    get(opts: RequestOptions & { key: string }): Promise<unknown>;
    set(opts: RequestOptions & { key: string; value: string; acquire?: string; release?: string }): Promise<unknown>;
  };
  destroy(): void;
}

/** The [res, body] pair papi gives with `includeResponse`. */
function split(result: unknown): { res: RawResponse | undefined; body: unknown } {
  if (!Array.isArray(result)) return { res: undefined, body: result };
  return { res: result[0] as RawResponse | undefined, body: result[1] };
}

/** Consul answers `true` / `false` to acquire and release; anything else is a broken answer. */
function booleanAnswer(body: unknown, what: string): boolean {
  if (typeof body !== 'boolean') throw new ConsulCallError(`unreadable answer: ${what} did not answer true or false`, 200);
  return body;
}

export class ConsulLockApi {
  private readonly client: RawClient;

  constructor(connection: ConsulConnection) {
    this.client = consulClientFor(connection) as RawClient;
  }

  /** `PUT /v1/session/create`; the new session's ID. */
  async createSession(request: SessionRequest, options: WriteOptions): Promise<string> {
    const body = await this.call(options, (opts) =>
      this.client.session.create({ ...opts, name: request.name, ttl: request.ttl, lockdelay: request.lockDelay, behavior: request.behavior }),
    );
    const id = (body as { ID?: unknown } | undefined)?.ID;
    if (typeof id !== 'string' || id === '') throw new ConsulCallError('unreadable answer: session create gave no ID', 200);
    return id;
  }

  /** `PUT /v1/session/renew/:id`. A session Consul no longer has fails with status 404. */
  async renewSession(id: string, options: WriteOptions): Promise<void> {
    const body = await this.call(options, (opts) => this.client.session.renew({ ...opts, id }));
    const first: unknown = Array.isArray(body) ? body[0] : undefined;
    if ((first as { ID?: unknown } | undefined)?.ID !== id) throw new ConsulCallError('unreadable answer: session renew did not answer the session', 200);
  }

  /** `PUT /v1/session/destroy/:id` (invalidates it: its locks are released, lock-delay starts). */
  async destroySession(id: string, options: WriteOptions): Promise<void> {
    await this.call(options, (opts) => this.client.session.destroy({ ...opts, id }));
  }

  /** `GET /v1/kv/:key`, blocking. 404 answers `entry: null`; a 200 without an entry answers the
   * body as it came (undefined), for the caller to refuse. */
  async readKey(key: string, read: BlockingRead): Promise<KeyAnswer> {
    const { ctx, release } = contextFor(read.signal);
    const opts: RequestOptions = { wait: goDuration(read.waitMs), timeout: read.timeoutMs, ctx };
    if (read.index > 0) opts.index = String(read.index);
    try {
      const { res, body } = split(await this.client.kv.get({ ...opts, key }));
      const index = parseIndexHeader(res?.headers['x-consul-index']);
      return { index, entry: res?.statusCode === 404 ? null : body };
    } catch (error) {
      throw describe(error);
    } finally {
      release();
    }
  }

  /** `PUT /v1/kv/:key?acquire=SESSION` with the value; true when the session holds the key. */
  async acquire(key: string, session: string, value: string, options: WriteOptions): Promise<boolean> {
    return booleanAnswer(await this.call(options, (opts) => this.client.kv.set({ ...opts, key, value, acquire: session })), 'acquire');
  }

  /** `PUT /v1/kv/:key?release=SESSION` with the value; true when the session held the key. */
  async release(key: string, session: string, value: string, options: WriteOptions): Promise<boolean> {
    return booleanAnswer(await this.call(options, (opts) => this.client.kv.set({ ...opts, key, value, release: session })), 'release');
  }

  /** Closes the keep-alive sockets (in-flight requests fail). */
  close(): void {
    this.client.destroy();
  }

  private async call(options: WriteOptions, run: (opts: RequestOptions) => Promise<unknown>): Promise<unknown> {
    const { ctx, release } = contextFor(options.signal);
    try {
      return split(await run({ timeout: options.timeoutMs, ctx })).body;
    } catch (error) {
      throw describe(error);
    } finally {
      release();
    }
  }
}
