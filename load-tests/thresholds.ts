// Every load scenario's pass/fail thresholds, once, in k6's threshold syntax: the k6 scripts use
// them as `options.thresholds`, the Node runner (test/load) evaluates the same expressions on its
// own measurements. Pure, and no imports, so k6 and Node both load it.

/** The scenarios, by the number of their k6 script (`01-smoke.ts` ... `05-canary.ts`). */
export const SCENARIOS = ['smoke', 'steady', 'spike', 'rollout', 'canary'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Metric name -> k6 threshold expressions (`rate<0.01`, `p(95)<200`, `count>=2`, ...). */
export type ThresholdSet = Readonly<Record<string, readonly string[]>>;

/** Metrics of the scenarios beyond k6's built-in ones, with their k6 metric type. */
export const CUSTOM_METRICS = {
  /** Spike: durations of the requests sent after the spike (the recovery stage at the base rate). */
  after_spike_req_duration: 'trend',
  /** Spike: ready replicas of the service minus those it had when the run began, sampled. */
  replica_growth: 'trend',
  /** Rollout and canary: rollouts the script drove that reached `Succeeded`. */
  rollouts_succeeded: 'counter',
  /** Canary: per answer during the weight step, whether the new revision gave it. */
  canary_share: 'rate',
} as const;

/** How far the observed canary share may be from its weight, in percentage points. */
export const CANARY_TOLERANCE_POINTS = 5;

export const SMOKE_THRESHOLDS: ThresholdSet = {
  http_req_failed: ['rate<0.01'],
  http_req_duration: ['p(95)<200'],
  // Every answer must pass both checks (status 200, body names a replica), not most of them.
  checks: ['rate==1'],
};

export const STEADY_THRESHOLDS: ThresholdSet = {
  http_req_failed: ['rate<0.01'],
  http_req_duration: ['p(95)<100', 'p(99)<250'],
  checks: ['rate>0.99'],
  // Requests that could not be sent on time (k6: no free VU; Node: too many in flight): the
  // gateway fell behind the schedule.
  dropped_iterations: ['count<1'],
};

export const SPIKE_THRESHOLDS: ThresholdSet = {
  http_req_failed: ['rate<0.01'],
  // Once the spike is over the service must be back to quick answers: no queue left behind.
  after_spike_req_duration: ['p(95)<250'],
  // The autoscaler added at least one replica during the spike.
  replica_growth: ['max>=1'],
};

export const ROLLOUT_THRESHOLDS: ThresholdSet = {
  // Zero failed requests through a rolling and a blue-green update.
  http_req_failed: ['rate==0'],
  checks: ['rate==1'],
  rollouts_succeeded: ['count>=2'],
};

/** The canary's thresholds for a weight step of `weightPercent`. */
export function canaryThresholds(weightPercent: number): ThresholdSet {
  const low = Math.max(0, weightPercent - CANARY_TOLERANCE_POINTS) / 100;
  const high = Math.min(100, weightPercent + CANARY_TOLERANCE_POINTS) / 100;
  return {
    http_req_failed: ['rate==0'],
    checks: ['rate==1'],
    // The observed share of the new revision, within CANARY_TOLERANCE_POINTS of the weight.
    canary_share: [`rate>=${round4(low)}`, `rate<=${round4(high)}`],
    rollouts_succeeded: ['count>=1'],
  };
}

/** The thresholds of `scenario`; the canary's depend on its weight. */
export function thresholdsFor(scenario: ScenarioName, options: { readonly weightPercent: number }): ThresholdSet {
  switch (scenario) {
    case 'smoke':
      return SMOKE_THRESHOLDS;
    case 'steady':
      return STEADY_THRESHOLDS;
    case 'spike':
      return SPIKE_THRESHOLDS;
    case 'rollout':
      return ROLLOUT_THRESHOLDS;
    case 'canary':
      return canaryThresholds(options.weightPercent);
  }
}

/** Metrics whose thresholds are latencies in ms: the ones LATENCY_SCALE stretches. */
export const LATENCY_METRICS: readonly string[] = ['http_req_duration', 'after_spike_req_duration'];

/**
 * The set with every latency bound multiplied by `factor` (LATENCY_SCALE; 1 leaves it as it
 * is), for a gateway measured on a slow or shared machine: `p(95)<200` at 2.5 is `p(95)<500`.
 * Failure, share, replica and rollout thresholds never change. A factor below 1 or not finite
 * is an error naming it.
 */
export function scaleLatency(set: ThresholdSet, factor: number): ThresholdSet {
  if (!Number.isFinite(factor) || factor < 1) throw new Error(`LATENCY_SCALE=${factor} is not a number of at least 1`);
  if (factor === 1) return set;
  const out: Record<string, readonly string[]> = {};
  for (const [metric, expressions] of Object.entries(set)) {
    out[metric] = LATENCY_METRICS.includes(metric)
      ? expressions.map((expression) => expression.replace(/^(.*[<>]=?)(\d+(?:\.\d+)?)$/, (_all, head: string, bound: string) => `${head}${round4(Number(bound) * factor)}`))
      : expressions;
  }
  return out;
}

/** k6's `options.thresholds` wants mutable arrays; latency bounds stretched by `latencyScale`. */
export function k6Thresholds(set: ThresholdSet, latencyScale = 1): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [metric, expressions] of Object.entries(scaleLatency(set, latencyScale))) out[metric] = [...expressions];
  return out;
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
