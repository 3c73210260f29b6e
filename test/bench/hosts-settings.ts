// Settings of `npm run bench:hosts` (pure): flags win over environment variables, which win over
// defaults; every value is bounded so that a run always ends by itself. The host timing defaults
// are the gateway's own (dockmaster.yaml without hostCheckIntervalMs / hostDownAfterMs).
import { parseArgs } from 'node:util';
import { boundedInteger, type Bounded } from './settings.js';

export interface HostsBenchSettings {
  rounds: number;
  /** Open-loop GETs per second through the gateway. */
  rate: number;
  connections: number;
  hostCheckIntervalMs: number;
  hostDownAfterMs: number;
  /** The service's health check interval (timeout the same, unhealthy after 3). */
  healthIntervalMs: number;
  /** The demo app's delay per answer (DEMO_LATENCY_MS), so requests are in flight on every host. */
  latencyMs: number;
  /** CPU time per placement-at-scale case. */
  placementBudgetMs: number;
  /** Skip the kill rounds: only the placement table. */
  placementOnly: boolean;
  keepLogs: boolean;
}

const BOUNDS = {
  rounds: { flag: 'rounds', env: 'BENCH_ROUNDS', fallback: 3, min: 1, max: 10 },
  rate: { flag: 'rate', env: 'BENCH_RATE', fallback: 300, min: 1, max: 5_000 },
  connections: { flag: 'connections', env: 'BENCH_CONNECTIONS', fallback: 16, min: 1, max: 256 },
  hostCheckIntervalMs: { flag: 'host-check-interval', env: 'BENCH_HOST_CHECK_INTERVAL_MS', fallback: 1_000, min: 50, max: 10_000 },
  hostDownAfterMs: { flag: 'host-down-after', env: 'BENCH_HOST_DOWN_AFTER_MS', fallback: 5_000, min: 100, max: 60_000 },
  healthIntervalMs: { flag: 'health-interval', env: 'BENCH_HEALTH_INTERVAL_MS', fallback: 1_000, min: 50, max: 10_000 },
  latencyMs: { flag: 'latency', env: 'BENCH_LATENCY_MS', fallback: 20, min: 0, max: 1_000 },
  placementBudgetMs: { flag: 'placement-budget', env: 'BENCH_PLACEMENT_BUDGET_MS', fallback: 1_000, min: 50, max: 30_000 },
} satisfies Record<string, Bounded>;

export const HOSTS_USAGE = `usage: npm run bench:hosts -- [options]
  --rounds N                 host kills, one per round, rotating over the hosts   (BENCH_ROUNDS, default 3)
  --rate R                   open-loop GETs per second through the gateway       (BENCH_RATE, default 300)
  --connections N            keep-alive connections of the load generator        (BENCH_CONNECTIONS, default 16)
  --host-check-interval MS   dockmaster.yaml hostCheckIntervalMs                 (BENCH_HOST_CHECK_INTERVAL_MS, default 1000)
  --host-down-after MS       dockmaster.yaml hostDownAfterMs                     (BENCH_HOST_DOWN_AFTER_MS, default 5000)
  --health-interval MS       the service's health check interval                (BENCH_HEALTH_INTERVAL_MS, default 1000)
  --latency MS               the demo app's delay per answer                     (BENCH_LATENCY_MS, default 20)
  --placement-budget MS      CPU time per placement-at-scale case                (BENCH_PLACEMENT_BUDGET_MS, default 1000)
  --placement-only           only the placement-at-scale table (no daemon)
  --keep-logs                keep the gateway's log and print its folder`;

/** Settings from argv (without node and the script) and the environment; throws on bad input. */
export function parseHostsSettings(argv: string[], env: NodeJS.ProcessEnv): HostsBenchSettings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string' },
      rate: { type: 'string' },
      connections: { type: 'string' },
      'host-check-interval': { type: 'string' },
      'host-down-after': { type: 'string' },
      'health-interval': { type: 'string' },
      latency: { type: 'string' },
      'placement-budget': { type: 'string' },
      'placement-only': { type: 'boolean' },
      'keep-logs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  const settings: HostsBenchSettings = {
    rounds: boundedInteger(BOUNDS.rounds, values.rounds, env),
    rate: boundedInteger(BOUNDS.rate, values.rate, env),
    connections: boundedInteger(BOUNDS.connections, values.connections, env),
    hostCheckIntervalMs: boundedInteger(BOUNDS.hostCheckIntervalMs, values['host-check-interval'], env),
    hostDownAfterMs: boundedInteger(BOUNDS.hostDownAfterMs, values['host-down-after'], env),
    healthIntervalMs: boundedInteger(BOUNDS.healthIntervalMs, values['health-interval'], env),
    latencyMs: boundedInteger(BOUNDS.latencyMs, values.latency, env),
    placementBudgetMs: boundedInteger(BOUNDS.placementBudgetMs, values['placement-budget'], env),
    placementOnly: values['placement-only'] === true,
    keepLogs: values['keep-logs'] === true,
  };
  // The gateway refuses the same (hostDownAfterMs must be > hostCheckIntervalMs).
  if (settings.hostDownAfterMs <= settings.hostCheckIntervalMs) {
    throw new Error(`--host-down-after (${settings.hostDownAfterMs}) must be greater than --host-check-interval (${settings.hostCheckIntervalMs})`);
  }
  return settings;
}
