// A thin typed facade over the `consul` npm client: blocking health/catalog reads (index, wait,
// timeout, abort) returning X-Consul-Index, and agent service register/deregister; the bundled
// types lack ctx, timeout and headers, so they are described here. I/O (HTTP to Consul).
import { EventEmitter } from 'node:events';
import Consul from 'consul';
import { parseIndexHeader } from './blocking-index.js';
import type { AgentServiceRegistration } from './registration.js';

export interface ConsulConnection {
  /** `http://127.0.0.1:8500` (https works too). */
  readonly address: string;
  /** Sent as X-Consul-Token. */
  readonly token?: string | undefined;
  readonly datacenter?: string | undefined;
}

export interface BlockingRead {
  /** 0: answer at once; otherwise wait for an index above it, up to `waitMs`. */
  readonly index: number;
  readonly waitMs: number;
  /** Client-side limit for the whole request: must exceed `waitMs` plus Consul's jitter. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export interface BlockingAnswer {
  readonly index: number;
  readonly body: unknown;
}

export interface WriteOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** A failed Consul call: `statusCode` when Consul (or something in between) answered. */
export class ConsulCallError extends Error {
  readonly statusCode: number | undefined;
  constructor(message: string, statusCode: number | undefined) {
    super(message);
    this.name = 'ConsulCallError';
    this.statusCode = statusCode;
  }
}

// The parts of the client used here, with the options the bundled types leave out.
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
  health: { service(opts: RequestOptions & { service: string; passing?: boolean }): Promise<unknown> };
  catalog: { service: { list(opts: RequestOptions): Promise<unknown> } };
  agent: {
    service: {
      register(opts: RequestOptions & Record<string, unknown>): Promise<unknown>;
      deregister(opts: RequestOptions & { id: string }): Promise<unknown>;
    };
  };
  destroy(): void;
}

/** A Go duration string Consul parses: `30000ms`. */
export function goDuration(ms: number): string {
  return `${Math.max(0, Math.round(ms))}ms`;
}

/** A papi failure as a ConsulCallError with the status code and the error code in its message. */
export function describe(error: unknown): ConsulCallError {
  if (error instanceof ConsulCallError) return error;
  const e = error as { message?: unknown; code?: unknown; response?: { statusCode?: unknown }; isCodec?: unknown };
  const statusCode = typeof e?.response?.statusCode === 'number' ? e.response.statusCode : undefined;
  let message = typeof e?.message === 'string' ? e.message : String(error);
  if (typeof e?.code === 'string' && !message.includes(e.code)) message = `${message} (${e.code})`;
  if (statusCode !== undefined && !message.includes(String(statusCode))) message = `HTTP ${statusCode}: ${message}`;
  if (e?.isCodec === true) message = `unreadable answer: ${message}`;
  return new ConsulCallError(message, statusCode);
}

/** A papi context: cancelling it aborts the request; `includeResponse` returns [res, body]. */
export function contextFor(signal: AbortSignal | undefined): { ctx: EventEmitter & { includeResponse: boolean; canceled?: boolean }; release: () => void } {
  const ctx = Object.assign(new EventEmitter(), { includeResponse: true, canceled: false });
  if (signal === undefined) return { ctx, release: () => undefined };
  const onAbort = (): void => {
    ctx.canceled = true;
    ctx.emit('cancel');
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return { ctx, release: () => signal.removeEventListener('abort', onAbort) };
}

/** The `consul` npm client for an address (http or https, default port 8500 or 443), with the
 * token and datacenter sent on every request; callers type it with the methods they use. */
export function consulClientFor(connection: ConsulConnection): unknown {
  const url = new URL(connection.address);
  const secure = url.protocol === 'https:';
  const defaults: { token?: string; dc?: string } = {};
  if (connection.token !== undefined && connection.token !== '') defaults.token = connection.token;
  if (connection.datacenter !== undefined && connection.datacenter !== '') defaults.dc = connection.datacenter;
  return new Consul({ host: url.hostname, port: url.port === '' ? (secure ? 443 : 8500) : Number(url.port), secure, defaults });
}

export class ConsulApi {
  private readonly client: RawClient;

  constructor(connection: ConsulConnection) {
    this.client = consulClientFor(connection) as RawClient;
  }

  /** `GET /v1/health/service/:name?passing`, blocking. */
  healthService(service: string, read: BlockingRead): Promise<BlockingAnswer> {
    return this.blocking(read, (opts) => this.client.health.service({ ...opts, service, passing: true }));
  }

  /** `GET /v1/catalog/services`, blocking. */
  catalogServices(read: BlockingRead): Promise<BlockingAnswer> {
    return this.blocking(read, (opts) => this.client.catalog.service.list(opts));
  }

  /** `PUT /v1/agent/service/register`. */
  async registerService(registration: AgentServiceRegistration, options: WriteOptions): Promise<void> {
    const { ctx, release } = contextFor(options.signal);
    try {
      await this.client.agent.service.register({
        name: registration.Name,
        id: registration.ID,
        address: registration.Address,
        port: registration.Port,
        tags: [...registration.Tags],
        ...(registration.Meta ? { meta: { ...registration.Meta } } : {}),
        check: {
          http: registration.Check.HTTP,
          interval: registration.Check.Interval,
          timeout: registration.Check.Timeout,
          deregistercriticalserviceafter: registration.Check.DeregisterCriticalServiceAfter,
        },
        timeout: options.timeoutMs,
        ctx,
      });
    } catch (error) {
      throw describe(error);
    } finally {
      release();
    }
  }

  /** `PUT /v1/agent/service/deregister/:id`. */
  async deregisterService(id: string, options: WriteOptions): Promise<void> {
    const { ctx, release } = contextFor(options.signal);
    try {
      await this.client.agent.service.deregister({ id, timeout: options.timeoutMs, ctx });
    } catch (error) {
      throw describe(error);
    } finally {
      release();
    }
  }

  /** Closes the keep-alive sockets (in-flight requests fail). */
  close(): void {
    this.client.destroy();
  }

  private async blocking(read: BlockingRead, call: (opts: RequestOptions) => Promise<unknown>): Promise<BlockingAnswer> {
    const { ctx, release } = contextFor(read.signal);
    const opts: RequestOptions = { wait: goDuration(read.waitMs), timeout: read.timeoutMs, ctx };
    if (read.index > 0) opts.index = String(read.index);
    try {
      const result = await call(opts);
      const [res, body] = result as [RawResponse, unknown];
      return { index: parseIndexHeader(res.headers['x-consul-index']), body };
    } catch (error) {
      throw describe(error);
    } finally {
      release();
    }
  }
}
