// Autoscale bench settings (pure): flags win over environment variables, which win over defaults;
// every value is bounded so that a run always ends by itself. Also the two services' policies.
import { parseArgs } from 'node:util';
import { boundedInteger, type Bounded } from './settings.js';

export interface AutoscaleBenchSettings {
  /** Each round runs on a fresh gateway: the default 300 s scale-down window never brings the
   * stepped service back to its baseline within a bench. */
  rounds: number;
  /** Closed-loop clients before the step; the step multiplies them by `factor`. */
  baseClients: number;
  factor: number;
  /** Measured baseline before the step. */
  beforeS: number;
  /** The reaction: from the step to the start of the steady stretch. */
  settleS: number;
  /** The steady stretch after the reaction in which scaling events are counted. */
  steadyS: number;
  /** The demo app's DEMO_LATENCY_MS. */
  latencyMs: number;
  /** The policy's targetLatencyP95Ms, also the bench's p95 threshold. */
  targetP95Ms: number;
  /** Requests sent at once to the service scaled to zero. */
  coldRequests: number;
  keepLogs: boolean;
}


const BOUNDS = {
  rounds: { flag: 'rounds', env: 'BENCH_ROUNDS', fallback: 2, min: 1, max: 10 },
  baseClients: { flag: 'clients', env: 'BENCH_CLIENTS', fallback: 2, min: 1, max: 64 },
  factor: { flag: 'factor', env: 'BENCH_FACTOR', fallback: 5, min: 2, max: 10 },
  beforeS: { flag: 'before', env: 'BENCH_BEFORE_S', fallback: 5, min: 1, max: 60 },
  settleS: { flag: 'settle', env: 'BENCH_SETTLE_S', fallback: 15, min: 1, max: 120 },
  steadyS: { flag: 'steady', env: 'BENCH_STEADY_S', fallback: 60, min: 5, max: 600 },
  latencyMs: { flag: 'latency', env: 'BENCH_LATENCY_MS', fallback: 40, min: 0, max: 1000 },
  targetP95Ms: { flag: 'target-p95', env: 'BENCH_TARGET_P95_MS', fallback: 100, min: 1, max: 10_000 },
  coldRequests: { flag: 'cold-requests', env: 'BENCH_COLD_REQUESTS', fallback: 20, min: 1, max: 100 },
} satisfies Record<string, Bounded>;

export const AUTOSCALE_USAGE = `usage: npm run bench:autoscale -- [--rounds N] [--clients N] [--factor F] [--before S] [--settle S] [--steady S] [--latency MS] [--target-p95 MS] [--cold-requests N] [--keep-logs]
  --rounds N         rounds, each on a fresh gateway                  (BENCH_ROUNDS, default 2)
  --clients N        closed-loop clients before the step               (BENCH_CLIENTS, default 2)
  --factor F         the step multiplies the clients by F              (BENCH_FACTOR, default 5)
  --before S         seconds of baseline load before the step          (BENCH_BEFORE_S, default 5)
  --settle S         seconds from the step to the steady stretch       (BENCH_SETTLE_S, default 15)
  --steady S         seconds of the steady stretch, scaling events counted (BENCH_STEADY_S, default 60)
  --latency MS       the demo app's DEMO_LATENCY_MS                    (BENCH_LATENCY_MS, default 40)
  --target-p95 MS    the policy's targetLatencyP95Ms                   (BENCH_TARGET_P95_MS, default 100)
  --cold-requests N  requests sent at once to the service at zero      (BENCH_COLD_REQUESTS, default 20)
  --keep-logs        keep the gateway's log (replica output included) and print its folder`;


/** Settings from argv (without node and the script) and the environment; throws on bad input. */
export function parseAutoscaleSettings(argv: string[], env: NodeJS.ProcessEnv): AutoscaleBenchSettings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.values(BOUNDS).map((b) => [b.flag, { type: 'string' as const }])),
      'keep-logs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values['help'] === true) return 'help';
  const get = (spec: Bounded): number => boundedInteger(spec, (values as Record<string, unknown>)[spec.flag] as string | undefined, env);
  return {
    rounds: get(BOUNDS.rounds),
    baseClients: get(BOUNDS.baseClients),
    factor: get(BOUNDS.factor),
    beforeS: get(BOUNDS.beforeS),
    settleS: get(BOUNDS.settleS),
    steadyS: get(BOUNDS.steadyS),
    latencyMs: get(BOUNDS.latencyMs),
    targetP95Ms: get(BOUNDS.targetP95Ms),
    coldRequests: get(BOUNDS.coldRequests),
    keepLogs: values['keep-logs'] === true,
  };
}

/** In-flight requests per replica: the baseline clients fill one replica, the step asks for `factor`. */
export function targetConcurrency(settings: AutoscaleBenchSettings): number {
  return settings.baseClients;
}

/** Replicas the step asks for at the concurrency target. */
export function stepReplicas(settings: AutoscaleBenchSettings): number {
  return Math.ceil((settings.baseClients * settings.factor) / targetConcurrency(settings));
}

/** The stepped service's policy: the defaults (1 s sync, 60 s stable window, 6 s panic window at
 * 2x, scale-up 100% or 4 per 15 s, scale-down after 300 s) with a concurrency and a p95 target. */
export function stepPolicy(settings: AutoscaleBenchSettings): Record<string, unknown> {
  return { minReplicas: 1, maxReplicas: stepReplicas(settings) * 2, targetConcurrency: targetConcurrency(settings), targetLatencyP95Ms: settings.targetP95Ms };
}

/** Idle time before the cold service drains to zero (shortened: a user's would be minutes). */
export const COLD_IDLE_MS = 3_000;

/** The cold service's policy: defaults, scale to zero after COLD_IDLE_MS, default hold queue. */
export function coldPolicy(settings: AutoscaleBenchSettings): Record<string, unknown> {
  return { minReplicas: 0, maxReplicas: 3, targetConcurrency: Math.max(1, settings.coldRequests), scaleToZero: { idleMs: COLD_IDLE_MS } };
}
