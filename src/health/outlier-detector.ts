// Tracks passive health per endpoint from the proxy's attempt outcomes and ejects endpoints that
// keep failing (rules in outlier.ts). Ejections and returns are reported through `onChange`, which
// rebuilds the routing table: the picker itself stays a pure function of the table. In-memory
// state with timers; no I/O.
import type { PassiveHealthConfig } from '../model/gateway.js';
import { NOT_EJECTED, ejectionMs, recordFailure, recordSuccess, type OutlierState } from './outlier.js';

export interface EjectionEvent {
  readonly endpointId: string;
  readonly poolKey: string;
  readonly ejected: boolean;
  readonly ejections: number;
  readonly untilMs: number;
}

export interface OutlierDetectorDeps {
  readonly config: PassiveHealthConfig;
  readonly onChange: (event: EjectionEvent) => void;
  /** The check an endpoint must pass to return when its ejection time is up (a TCP connect);
   * failing it starts the next, longer ejection. Without it, endpoints return on time alone. */
  readonly check?: (origin: string) => Promise<boolean>;
  readonly nowMs?: () => number;
}

/** State is kept per pool and endpoint: an upstream shared by two routes is judged, and capped by
 * maxEjectionPercent, in each pool separately. */
function stateKey(poolKey: string, endpointId: string): string {
  return `${poolKey}\0${endpointId}`;
}

export class OutlierDetector {
  private readonly states = new Map<string, OutlierState>();
  private readonly ejectedByPool = new Map<string, Set<string>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Keys whose return check is running. */
  private readonly checking = new Set<string>();
  private readonly deps: OutlierDetectorDeps;
  private readonly nowMs: () => number;
  private config: PassiveHealthConfig;

  constructor(deps: OutlierDetectorDeps) {
    this.deps = deps;
    this.config = deps.config;
    this.nowMs = deps.nowMs ?? Date.now;
  }

  setConfig(config: PassiveHealthConfig): void {
    this.config = config;
  }

  /** Hot path: nothing to do until some endpoint has failed. */
  success(poolKey: string, endpointId: string): void {
    if (this.states.size === 0) return;
    const key = stateKey(poolKey, endpointId);
    const state = this.states.get(key);
    if (state !== undefined && state.consecutiveFailures > 0) this.states.set(key, recordSuccess(state));
  }

  failure(poolKey: string, endpointId: string, origin: string, poolSize: number): void {
    const key = stateKey(poolKey, endpointId);
    // Still ejected while its return check runs: late failures say nothing new.
    if (this.checking.has(key)) return;
    const nowMs = this.nowMs();
    const ejectedHere = this.ejectedByPool.get(poolKey);
    const others = ejectedHere === undefined ? 0 : ejectedHere.size - (ejectedHere.has(endpointId) ? 1 : 0);
    const verdict = recordFailure(this.states.get(key) ?? NOT_EJECTED, nowMs, others, poolSize, this.config);
    this.states.set(key, verdict.state);
    if (!verdict.ejected) return;
    this.eject(poolKey, endpointId, origin, verdict.state, nowMs);
  }

  private eject(poolKey: string, endpointId: string, origin: string, state: OutlierState, nowMs: number): void {
    const key = stateKey(poolKey, endpointId);
    const ejectedHere = this.ejectedByPool.get(poolKey);
    let set = ejectedHere;
    if (set === undefined) {
      set = new Set();
      this.ejectedByPool.set(poolKey, set);
    }
    set.add(endpointId);
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => void this.release(poolKey, endpointId, origin), state.ejectedUntilMs - nowMs);
    timer.unref();
    this.timers.set(key, timer);
    this.deps.onChange({ endpointId, poolKey, ejected: true, ejections: state.ejections, untilMs: state.ejectedUntilMs });
  }

  private async release(poolKey: string, endpointId: string, origin: string): Promise<void> {
    const key = stateKey(poolKey, endpointId);
    this.timers.delete(key);
    if (this.closed) return;
    let passed = true;
    if (this.deps.check !== undefined) {
      this.checking.add(key);
      try {
        passed = await this.deps.check(origin);
      } finally {
        this.checking.delete(key);
      }
    }
    // Closed meanwhile, or the endpoint left its pool (retain dropped it): nothing to report.
    if (this.closed || !this.ejectedByPool.get(poolKey)?.has(endpointId)) return;
    if (!passed) {
      // Still failing: the next ejection, longer than the last.
      const previous = this.states.get(key) ?? NOT_EJECTED;
      const nowMs = this.nowMs();
      const ejections = previous.ejections + 1;
      const state: OutlierState = { consecutiveFailures: 0, ejections, ejectedUntilMs: nowMs + ejectionMs(ejections, this.config) };
      this.states.set(key, state);
      this.eject(poolKey, endpointId, origin, state, nowMs);
      return;
    }
    const set = this.ejectedByPool.get(poolKey);
    set?.delete(endpointId);
    if (set?.size === 0) this.ejectedByPool.delete(poolKey);
    const state = this.states.get(key);
    this.deps.onChange({ endpointId, poolKey, ejected: false, ejections: state?.ejections ?? 0, untilMs: 0 });
  }

  /** Endpoint ids ejected right now, by pool. */
  ejected(): ReadonlyMap<string, ReadonlySet<string>> {
    return this.ejectedByPool;
  }

  /** Forgets endpoints that no longer exist in their pool, ejected ones included (bounded
   * memory under churn, and a gone endpoint never holds a place under a pool's cap). */
  retain(pools: ReadonlyMap<string, ReadonlySet<string>>): void {
    for (const key of this.states.keys()) {
      const at = key.indexOf('\0');
      const poolKey = key.slice(0, at);
      const endpointId = key.slice(at + 1);
      if (pools.get(poolKey)?.has(endpointId)) continue;
      this.states.delete(key);
      clearTimeout(this.timers.get(key));
      this.timers.delete(key);
      const set = this.ejectedByPool.get(poolKey);
      set?.delete(endpointId);
      if (set?.size === 0) this.ejectedByPool.delete(poolKey);
    }
  }

  private closed = false;

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
