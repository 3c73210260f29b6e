// A run's records as the metrics the thresholds name, with k6's meanings (http_req_failed,
// http_req_duration, checks, dropped_iterations, ...) plus the scenarios' own
// (load-tests/thresholds.ts CUSTOM_METRICS). Pure.
import type { MetricValue, Metrics } from './evaluate-thresholds.js';
import type { RequestRecord, ServiceRecord } from './load-records.js';
import { sortedCopy } from './quantile.js';

export interface MeasureInput {
  readonly requests: readonly RequestRecord[];
  /** Requests not sent because too many were in flight (k6: no free VU). */
  readonly dropped: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Spike: requests due at or after `startMs + afterSpikeFromMs` are "after the spike". */
  readonly afterSpikeFromMs?: number | undefined;
  /** Spike: the ready replicas when the run began, against every poll of the service. */
  readonly replicaGrowth?: { readonly initialReady: number; readonly services: readonly ServiceRecord[] } | undefined;
  /** Rollout and canary: rollouts the runner drove that reached Succeeded. */
  readonly rolloutsSucceeded?: number | undefined;
  /** Canary: answers due in [fromMs, toMs) count toward the share of `revision`. */
  readonly canary?: { readonly revision: string; readonly fromMs: number; readonly toMs: number } | undefined;
}

/** k6's default: a status outside 200-399, or no answer at all, is a failed request. */
export function isFailed(record: RequestRecord): boolean {
  return record.status < 200 || record.status >= 400;
}

function readyOf(service: ServiceRecord): number {
  return service.replicas.reduce((sum, r) => sum + r.ready, 0);
}

export function measureRun(input: MeasureInput): Metrics {
  const durationMs = Math.max(0, input.endMs - input.startMs);
  let failed = 0;
  let checksPassed = 0;
  for (const record of input.requests) {
    if (isFailed(record)) failed += 1;
    if (record.status === 200) checksPassed += 1;
    if (record.replica !== undefined) checksPassed += 1;
  }
  const metrics: Record<string, MetricValue> = {
    http_reqs: { kind: 'counter', count: input.requests.length, durationMs },
    http_req_failed: { kind: 'rate', passes: failed, total: input.requests.length },
    http_req_duration: { kind: 'trend', sorted: sortedCopy(input.requests.map((r) => r.latencyMs)) },
    checks: { kind: 'rate', passes: checksPassed, total: 2 * input.requests.length },
    dropped_iterations: { kind: 'counter', count: input.dropped, durationMs },
  };
  if (input.afterSpikeFromMs !== undefined) {
    const fromMs = input.startMs + input.afterSpikeFromMs;
    metrics['after_spike_req_duration'] = { kind: 'trend', sorted: sortedCopy(input.requests.filter((r) => r.atMs >= fromMs).map((r) => r.latencyMs)) };
  }
  if (input.replicaGrowth !== undefined) {
    const { initialReady, services } = input.replicaGrowth;
    metrics['replica_growth'] = { kind: 'trend', sorted: sortedCopy(services.map((s) => readyOf(s) - initialReady)) };
  }
  if (input.rolloutsSucceeded !== undefined) {
    metrics['rollouts_succeeded'] = { kind: 'counter', count: input.rolloutsSucceeded, durationMs };
  }
  if (input.canary !== undefined) {
    const { revision, fromMs, toMs } = input.canary;
    const inWindow = input.requests.filter((r) => r.atMs >= fromMs && r.atMs < toMs && r.revision !== undefined);
    metrics['canary_share'] = { kind: 'rate', passes: inWindow.filter((r) => r.revision === revision).length, total: inWindow.length };
  }
  return metrics;
}
