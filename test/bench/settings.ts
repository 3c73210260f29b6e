// Bench settings (pure): flags win over environment variables, which win over defaults; every
// value is bounded so that a run always ends by itself.
import { parseArgs } from 'node:util';

export const TARGET_NAMES = ['bare', 'dockmaster', 'nginx'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface BenchSettings {
  durationS: number;
  warmupS: number;
  connections: number;
  rounds: number;
  /** Targets to run; the bare forwarder is always included, as every ratio is to it. */
  targets: TargetName[];
}

/** An integer setting: a flag, else an environment variable, else the fallback; bounded. */
export interface Bounded {
  flag: string;
  env: string;
  fallback: number;
  min: number;
  max: number;
}

const BOUNDS = {
  durationS: { flag: 'duration', env: 'BENCH_DURATION_S', fallback: 5, min: 1, max: 120 },
  warmupS: { flag: 'warmup', env: 'BENCH_WARMUP_S', fallback: 1, min: 0, max: 30 },
  connections: { flag: 'connections', env: 'BENCH_CONNECTIONS', fallback: 50, min: 1, max: 1000 },
  rounds: { flag: 'rounds', env: 'BENCH_ROUNDS', fallback: 3, min: 1, max: 20 },
} satisfies Record<string, Bounded>;

export const USAGE = `usage: npm run bench -- [--duration S] [--warmup S] [--connections N] [--rounds N] [--targets LIST]
  --duration S      seconds of measured load per target per round   (BENCH_DURATION_S, default 5)
  --warmup S        seconds of unmeasured load before each run, 0 = none (BENCH_WARMUP_S, default 1)
  --connections N   concurrent keep-alive connections                (BENCH_CONNECTIONS, default 50)
  --rounds N        rounds; each round runs every target once        (BENCH_ROUNDS, default 3)
  --targets LIST    comma list of ${TARGET_NAMES.join(',')}           (BENCH_TARGETS, default all)`;

export function boundedInteger(spec: Bounded, flagValue: string | undefined, env: NodeJS.ProcessEnv): number {
  const raw = flagValue ?? env[spec.env];
  if (raw === undefined || raw === '') return spec.fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
    throw new Error(`--${spec.flag} / ${spec.env}: expected an integer from ${spec.min} to ${spec.max}, got "${raw}"`);
  }
  return value;
}

function parseTargets(raw: string | undefined): TargetName[] {
  if (raw === undefined || raw.trim() === '') return [...TARGET_NAMES];
  const wanted = new Set<TargetName>(['bare']);
  for (const name of raw.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    if (!(TARGET_NAMES as readonly string[]).includes(name)) {
      throw new Error(`--targets / BENCH_TARGETS: unknown target "${name}" (known: ${TARGET_NAMES.join(', ')})`);
    }
    wanted.add(name as TargetName);
  }
  return TARGET_NAMES.filter((name) => wanted.has(name));
}

/** Settings from argv (without node and the script) and the environment; throws on bad input. */
export function parseSettings(argv: string[], env: NodeJS.ProcessEnv): BenchSettings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      targets: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  return {
    durationS: boundedInteger(BOUNDS.durationS, values.duration, env),
    warmupS: boundedInteger(BOUNDS.warmupS, values.warmup, env),
    connections: boundedInteger(BOUNDS.connections, values.connections, env),
    rounds: boundedInteger(BOUNDS.rounds, values.rounds, env),
    targets: parseTargets(values.targets ?? env.BENCH_TARGETS),
  };
}
