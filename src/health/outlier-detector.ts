// Tracks passive health per endpoint from the proxy's attempt outcomes and ejects endpoints that
// keep failing (rules in outlier.ts). Ejections and returns are reported through `onChange`, which
// rebuilds the routing table: the picker itself stays a pure function of the table. In-memory
// state with timers; no I/O.
import type { PassiveHealthConfig } from '../model/gateway.js';
import { NOT_EJECTED, recordFailure, recordSuccess, type OutlierState } from './outlier.js';

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
  readonly nowMs?: () => number;
}

export class OutlierDetector {
  private readonly states = new Map<string, OutlierState>();
  private readonly ejectedByPool = new Map<string, Set<string>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
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

  /** Hot path: a successful attempt costs one map lookup when the endpoint has no failures. */
  success(endpointId: string): void {
    if (this.states.size === 0) return;
    const state = this.states.get(endpointId);
    if (state !== undefined && state.consecutiveFailures > 0) this.states.set(endpointId, recordSuccess(state));
  }

  failure(endpointId: string, poolKey: string, poolSize: number): void {
    const nowMs = this.nowMs();
    const ejectedHere = this.ejectedByPool.get(poolKey);
    const others = ejectedHere === undefined ? 0 : ejectedHere.size - (ejectedHere.has(endpointId) ? 1 : 0);
    const verdict = recordFailure(this.states.get(endpointId) ?? NOT_EJECTED, nowMs, others, poolSize, this.config);
    this.states.set(endpointId, verdict.state);
    if (!verdict.ejected) return;
    let set = ejectedHere;
    if (set === undefined) {
      set = new Set();
      this.ejectedByPool.set(poolKey, set);
    }
    set.add(endpointId);
    clearTimeout(this.timers.get(endpointId));
    const timer = setTimeout(() => this.release(endpointId, poolKey), verdict.state.ejectedUntilMs - nowMs);
    timer.unref();
    this.timers.set(endpointId, timer);
    this.deps.onChange({ endpointId, poolKey, ejected: true, ejections: verdict.state.ejections, untilMs: verdict.state.ejectedUntilMs });
  }

  private release(endpointId: string, poolKey: string): void {
    this.timers.delete(endpointId);
    const set = this.ejectedByPool.get(poolKey);
    set?.delete(endpointId);
    if (set?.size === 0) this.ejectedByPool.delete(poolKey);
    const state = this.states.get(endpointId);
    this.deps.onChange({ endpointId, poolKey, ejected: false, ejections: state?.ejections ?? 0, untilMs: 0 });
  }

  /** Ids ejected right now. */
  ejected(): Set<string> {
    const out = new Set<string>();
    for (const set of this.ejectedByPool.values()) for (const id of set) out.add(id);
    return out;
  }

  /** Forgets endpoints that no longer exist (bounded memory under churn). */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.states.keys()) {
      if (!ids.has(id) && !this.timers.has(id)) this.states.delete(id);
    }
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
