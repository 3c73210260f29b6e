// Rollout bench settings (pure): flags win over environment variables, which win over defaults;
// every value is bounded so that a run always ends by itself. Also the scenarios: the deploy
// section each rollout is PUT with.
import { parseArgs } from 'node:util';
import { boundedInteger, type Bounded } from './settings.js';

export const SCENARIO_NAMES = ['rolling-1-0', 'rolling-25', 'blue-green'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenario {
  readonly name: ScenarioName;
  /** What the table calls it. */
  readonly label: string;
  /** The service's `deploy:` section for the rollout (JSON, as a PUT body holds it). */
  readonly deploy: Readonly<Record<string, unknown>>;
}

/** Deadline of every rollout: far above what one takes here, so only a stuck rollout reaches it. */
export const PROGRESS_DEADLINE_MS = 60_000;

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  'rolling-1-0': {
    name: 'rolling-1-0',
    label: 'rolling 4 -> 4, maxSurge 1, maxUnavailable 0',
    deploy: { strategy: 'rolling', progressDeadlineMs: PROGRESS_DEADLINE_MS, rolling: { maxSurge: 1, maxUnavailable: 0 } },
  },
  'rolling-25': {
    name: 'rolling-25',
    label: 'rolling 4 -> 4, maxSurge 25%, maxUnavailable 25% (default)',
    deploy: { strategy: 'rolling', progressDeadlineMs: PROGRESS_DEADLINE_MS },
  },
  'blue-green': {
    name: 'blue-green',
    label: 'blue-green 4 + 4, autoPromote, scaleDownDelayMs 0',
    // scaleDownDelayMs 0: Succeeded is the switch, and the old set starts draining in the same step.
    deploy: { strategy: 'blue-green', progressDeadlineMs: PROGRESS_DEADLINE_MS, blueGreen: { autoPromote: true, scaleDownDelayMs: 0 } },
  },
};

export interface RolloutBenchSettings {
  rounds: number;
  /** Measured load before each deploy (the "before" p99). */
  beforeS: number;
  /** Load kept up after the rollout succeeded and the old replicas are gone. */
  afterS: number;
  connections: number;
  /** Requests per second, sent on a fixed schedule (open loop); 0: closed loop, each connection
   * sends its next request as soon as the previous one is answered. */
  rate: number;
  scenarios: ScenarioName[];
  /** Print every rollout's event timeline after the table. */
  timeline: boolean;
  /** Keep the work folder (the gateway's log, with the replicas' output) and print where it is. */
  keepLogs: boolean;
}


const BOUNDS = {
  rounds: { flag: 'rounds', env: 'BENCH_ROUNDS', fallback: 3, min: 1, max: 20 },
  beforeS: { flag: 'before', env: 'BENCH_BEFORE_S', fallback: 5, min: 1, max: 60 },
  afterS: { flag: 'after', env: 'BENCH_AFTER_S', fallback: 1, min: 0, max: 30 },
  connections: { flag: 'connections', env: 'BENCH_CONNECTIONS', fallback: 8, min: 1, max: 256 },
  rate: { flag: 'rate', env: 'BENCH_RATE', fallback: 1000, min: 0, max: 50_000 },
} satisfies Record<string, Bounded>;

export const ROLLOUT_USAGE = `usage: npm run bench:rollout -- [--rounds N] [--before S] [--after S] [--connections N] [--rate R] [--scenarios LIST] [--timeline] [--keep-logs]
  --rounds N        rounds; each round deploys once per scenario     (BENCH_ROUNDS, default 3)
  --before S        seconds of measured load before each deploy     (BENCH_BEFORE_S, default 5)
  --after S         seconds of load after the old replicas are gone (BENCH_AFTER_S, default 1)
  --connections N   keep-alive connections of the load generator    (BENCH_CONNECTIONS, default 8)
  --rate R          requests per second on a fixed schedule (open loop); 0 = closed loop
                                                                     (BENCH_RATE, default 1000)
  --scenarios LIST  comma list of ${SCENARIO_NAMES.join(',')}
                                                                     (BENCH_SCENARIOS, default all)
  --timeline        print every rollout's event timeline (GET /v1/events) after the table
  --keep-logs       keep the gateway's log (replica output included) and print its folder`;


function parseScenarios(raw: string | undefined): ScenarioName[] {
  if (raw === undefined || raw.trim() === '') return [...SCENARIO_NAMES];
  const wanted = new Set<ScenarioName>();
  for (const name of raw.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
      throw new Error(`--scenarios / BENCH_SCENARIOS: unknown scenario "${name}" (known: ${SCENARIO_NAMES.join(', ')})`);
    }
    wanted.add(name as ScenarioName);
  }
  return SCENARIO_NAMES.filter((name) => wanted.has(name));
}

/** Settings from argv (without node and the script) and the environment; throws on bad input. */
export function parseRolloutSettings(argv: string[], env: NodeJS.ProcessEnv): RolloutBenchSettings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string' },
      before: { type: 'string' },
      after: { type: 'string' },
      connections: { type: 'string' },
      rate: { type: 'string' },
      scenarios: { type: 'string' },
      timeline: { type: 'boolean' },
      'keep-logs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  return {
    rounds: boundedInteger(BOUNDS.rounds, values.rounds, env),
    beforeS: boundedInteger(BOUNDS.beforeS, values.before, env),
    afterS: boundedInteger(BOUNDS.afterS, values.after, env),
    connections: boundedInteger(BOUNDS.connections, values.connections, env),
    rate: boundedInteger(BOUNDS.rate, values.rate, env),
    scenarios: parseScenarios(values.scenarios ?? env.BENCH_SCENARIOS),
    timeline: values.timeline === true,
    keepLogs: values['keep-logs'] === true,
  };
}
