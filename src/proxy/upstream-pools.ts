// Keep-alive connection pools to upstream origins (undici), created on first use and closed
// when no routing table names their origin any more. I/O.
import { Pool } from 'undici';

export interface UpstreamPoolOptions {
  /** Idle keep-alive connections to an upstream are closed after this long. */
  readonly keepAliveTimeoutMs: number;
}

export const DEFAULT_POOL_OPTIONS: UpstreamPoolOptions = { keepAliveTimeoutMs: 4_000 };

export class UpstreamPools {
  /** `origin|connectMs` -> pool, for closing; lookups use the nested map (no key to build). */
  private readonly pools = new Map<string, Pool>();
  private readonly byOrigin = new Map<string, Map<number, Pool>>();
  private readonly options: UpstreamPoolOptions;

  constructor(options: UpstreamPoolOptions = DEFAULT_POOL_OPTIONS) {
    this.options = options;
  }

  get(origin: string, connectTimeoutMs: number): Pool {
    const cached = this.byOrigin.get(origin)?.get(connectTimeoutMs);
    if (cached !== undefined) return cached;
    const key = `${origin}|${connectTimeoutMs}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connect: { timeout: connectTimeoutMs },
        keepAliveTimeout: this.options.keepAliveTimeoutMs,
        pipelining: 1,
      });
      this.pools.set(key, pool);
    }
    let forOrigin = this.byOrigin.get(origin);
    if (forOrigin === undefined) {
      forOrigin = new Map();
      this.byOrigin.set(origin, forOrigin);
    }
    forOrigin.set(connectTimeoutMs, pool);
    return pool;
  }

  /** Gracefully closes pools (in-flight requests finish) whose origin is not in `keep`. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      const origin = key.slice(0, key.lastIndexOf('|'));
      if (!keep.has(origin)) {
        this.pools.delete(key);
        this.byOrigin.delete(origin);
        pool.close().catch(() => undefined);
      }
    }
  }

  /** Stops reusing connections to one origin: in-flight requests finish, then sockets close. */
  retire(origin: string): void {
    this.retainOnly(new Set([...this.origins()].filter((o) => o !== origin)));
  }

  origins(): Set<string> {
    return new Set([...this.pools.keys()].map((key) => key.slice(0, key.lastIndexOf('|'))));
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    this.byOrigin.clear();
    await Promise.all(pools.map((pool) => pool.close().catch(() => undefined)));
  }

  async destroy(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    this.byOrigin.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }
}
