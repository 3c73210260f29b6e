// Autoscale policy types (`autoscale:` of a service, or a named `kind: Policy`) with their
// defaults, and what the autoscaler reads each sync. Pure types.

export interface ScalingRule {
  /** percent: change by at most value% of the current replicas per period; replicas: by value. */
  readonly type: 'percent' | 'replicas';
  readonly value: number;
  readonly periodMs: number;
}

export interface ScalingBehavior {
  /** Scale-down: the highest recommendation over this window wins; scale-up: the lowest. */
  readonly stabilizationWindowMs: number;
  readonly policies: readonly ScalingRule[];
  /** Which policy's limit applies when several do (HPA's selectPolicy). */
  readonly selectPolicy: 'max' | 'min' | 'disabled';
}

export interface AutoscalePolicy {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Targets per ready replica; at least one is set. */
  readonly targetRps?: number | undefined;
  readonly targetLatencyP95Ms?: number | undefined;
  readonly targetConcurrency?: number | undefined;
  /** Ratios within 1 +- tolerance change nothing. */
  readonly tolerance: number;
  readonly syncIntervalMs: number;
  /** The window the steady recommendation is measured over (Knative's stable window). */
  readonly stableWindowMs: number;
  readonly scaleUp: ScalingBehavior;
  readonly scaleDown: ScalingBehavior;
  /** Short-window demand at least threshold x capacity: scale up at once, no scale-down while it lasts. */
  readonly panic: { readonly windowMs: number; readonly threshold: number };
  /** With minReplicas 0: drain to zero after this long without a request. */
  readonly scaleToZero?: { readonly idleMs: number } | undefined;
  /** Requests for a service with no ready replica wait in a bounded queue while one starts. */
  readonly hold: { readonly maxQueue: number; readonly holdTimeoutMs: number };
  /**
   * Where rate, p95 and concurrency come from; absent: this instance's own proxy measurements.
   * With a Prometheus source both the stable and the panic inputs are the queries' values, so
   * panic mode follows the range written in the queries (e.g. `[30s]`), not `panic.windowMs`.
   */
  readonly source?: { readonly prometheus: PrometheusSourceConfig } | undefined;
}

/** A Prometheus HTTP API and one PromQL query per metric (each must return a single number). */
export interface PrometheusSourceConfig {
  /** http(s)://host:port, optionally with a path prefix. */
  readonly address: string;
  readonly timeoutMs: number;
  /** At least the queries the policy's targets need (targetRps: rps, and so on). */
  readonly queries: { readonly rps?: string | undefined; readonly p95Ms?: string | undefined; readonly concurrency?: string | undefined };
}

export const AUTOSCALE_DEFAULTS = {
  tolerance: 0.1,
  syncIntervalMs: 1_000,
  stableWindowMs: 60_000,
  scaleUp: { stabilizationWindowMs: 0, policies: [{ type: 'percent', value: 100, periodMs: 15_000 }, { type: 'replicas', value: 4, periodMs: 15_000 }], selectPolicy: 'max' },
  scaleDown: { stabilizationWindowMs: 300_000, policies: [{ type: 'percent', value: 100, periodMs: 15_000 }], selectPolicy: 'max' },
  panic: { windowMs: 6_000, threshold: 2.0 },
  hold: { maxQueue: 100, holdTimeoutMs: 30_000 },
} as const;

/** What the proxy measured for a service over one window. */
export interface MetricWindow {
  readonly windowMs: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** undefined without requests in the window. */
  readonly p95Ms: number | undefined;
  /** Average requests in flight over the window. */
  readonly concurrency: number;
}

/** One sync's inputs for one service. */
export interface AutoscaleInput {
  readonly nowMs: number;
  /** The replica count the autoscaler last set (what the controller aims at). */
  readonly currentReplicas: number;
  /** Replicas passing health checks and taking traffic. */
  readonly readyReplicas: number;
  readonly stable: MetricWindow;
  readonly panic: MetricWindow;
  /**
   * The newest sync interval (e.g. the last 1 s bucket of the panic window). Optional. When
   * present, panic mode takes the larger demand of this window and `panic`. A 6 s average only
   * shows a 5x step as 1.67x at the first sync after it. The newest bucket shows the whole step,
   * so the step can be met in one jump. The tolerance and the stable recommendation never use it.
   */
  readonly latest?: MetricWindow | undefined;
  /** Last request seen for the service (scale to zero); undefined if none since start. */
  readonly lastRequestAtMs: number | undefined;
  /** Requests held while the service has no ready replica: any means at least one is needed. */
  readonly heldRequests: number;
}
