// Keep-alive connection pools to upstream origins (undici), created on first use and closed
// when no routing table names their origin any more. I/O.
import { Pool } from 'undici';

export interface UpstreamPoolOptions {
  /** Idle keep-alive connections to an upstream are closed after this long. */
  readonly keepAliveTimeoutMs: number;
}

export const DEFAULT_POOL_OPTIONS: UpstreamPoolOptions = { keepAliveTimeoutMs: 4_000 };

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  private readonly options: UpstreamPoolOptions;

  constructor(options: UpstreamPoolOptions = DEFAULT_POOL_OPTIONS) {
    this.options = options;
  }

  get(origin: string, connectTimeoutMs: number): Pool {
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
    return pool;
  }

  /** Gracefully closes pools (in-flight requests finish) whose origin is not in `keep`. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      const origin = key.slice(0, key.lastIndexOf('|'));
      if (!keep.has(origin)) {
        this.pools.delete(key);
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
    await Promise.all(pools.map((pool) => pool.close().catch(() => undefined)));
  }

  async destroy(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }
}
