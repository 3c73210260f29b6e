// The runner's command line and environment: `run-load <scenario> [--flags]` with the k6 scripts'
// variables (PROXY_URL, ADMIN_URL, DOCKMASTER_TOKEN, SERVICE, RATE, DURATION, ...), a flag winning
// over its variable; every bad value is an error naming the flag or variable. Pure.
import { DEFAULT_CANARY_WEIGHT_PERCENT, DEFAULT_SPIKE_FACTOR, parseDurationMs } from '../../load-tests/shapes.js';
import { SCENARIOS, type ScenarioName } from '../../load-tests/thresholds.js';

export interface LoadSettings {
  readonly scenario: ScenarioName;
  readonly proxyUrl: string;
  readonly adminUrl: string;
  readonly token: string | undefined;
  readonly service: string;
  readonly path: string;
  /** Requests per second (spike: the base rate). */
  readonly ratePerSecond: number;
  /** Load time (canary: the measured weight step). */
  readonly durationMs: number;
  readonly spikeFactor: number;
  readonly weightPercent: number;
  readonly rolloutTimeoutMs: number;
  /** Every latency threshold multiplied by this (1: as written). */
  readonly latencyScale: number;
  readonly connections: number;
  /** Requests in flight beyond this are not sent and count as dropped; undefined: twice the
   * peak rate per second (as the k6 scripts' maxVUs), at least 50. */
  readonly maxInFlight: number | undefined;
  readonly pollMs: number;
  readonly requestTimeoutMs: number;
  readonly reportPath: string;
  readonly allowRemote: boolean;
}

export type ParsedArgs = { readonly kind: 'run'; readonly settings: LoadSettings } | { readonly kind: 'help' } | { readonly kind: 'error'; readonly message: string };

/** The per-scenario defaults of RATE and DURATION, as in the k6 scripts. */
export const SCENARIO_DEFAULTS: Readonly<Record<ScenarioName, { readonly ratePerSecond: number; readonly duration: string }>> = {
  smoke: { ratePerSecond: 30, duration: '30s' },
  steady: { ratePerSecond: 200, duration: '2m' },
  spike: { ratePerSecond: 50, duration: '2m' },
  rollout: { ratePerSecond: 200, duration: '2m' },
  canary: { ratePerSecond: 200, duration: '1m' },
};

/** A run may not plan more requests than this (rate x duration; spike: its whole shape). */
export const MAX_PLANNED_REQUESTS = 2_000_000;
const MAX_RATE = 20_000;
const MAX_DURATION_MS = 3_600_000;

export const USAGE = `usage: npm run load -- <scenario> [flags]
       node dist/test/load/run-load.js <scenario> [flags]

scenarios (also by number: 1 / 01 / 01-smoke):
  smoke    01  does the gateway answer, from a replica, quickly?
  steady   02  does it hold a steady rate with low latency?
  spike    03  does the autoscaler add replicas on a spike, without failures, and recover?
  rollout  04  do a rolling and a blue-green update go through without one failed request?
  canary   05  does a canary at a weight step get that share of the requests?

flags (environment variable in brackets; a flag wins):
  --proxy-url URL        proxy to load [PROXY_URL] (default http://127.0.0.1:8080)
  --admin-url URL        admin API [ADMIN_URL] (default http://127.0.0.1:9090); token from DOCKMASTER_TOKEN
  --service NAME         service the spike, rollout and canary act on [SERVICE] (default demo)
  --path PATH            path requested through the proxy [PROXY_PATH] (default /hello)
  --rate N               requests per second; spike: the base rate [RATE]
                         (defaults: smoke 30, steady 200, spike 50, rollout 200, canary 200)
  --duration D           load time, e.g. 30s, 2m, 1m30s; canary: the measured weight step [DURATION]
                         (defaults: smoke 30s, steady 2m, spike 2m, rollout 2m, canary 1m)
  --spike-factor N       spike height over the base rate [SPIKE_FACTOR] (default ${DEFAULT_SPIKE_FACTOR})
  --weight N             canary weight in percent, 1-99 [WEIGHT] (default ${DEFAULT_CANARY_WEIGHT_PERCENT})
  --rollout-timeout D    longest wait for a rollout to reach a phase [ROLLOUT_TIMEOUT] (default 2m)
  --latency-scale N      multiply every latency threshold, for a slow or shared machine [LATENCY_SCALE] (default 1)
  --report PATH          HTML report (default load-report-<scenario>.html)
  --connections N        keep-alive connections to the proxy (default 64)
  --max-in-flight N      requests in flight beyond this are dropped and counted (default 2 x peak rate, at least 50)
  --poll D               admin API poll interval for replicas and events (default 250ms)
  --request-timeout D    a request not answered by then fails (default 10s)
  --allow-remote         allow non-loopback URLs (send load only to a gateway you run)
  --help

exit status: 0 every threshold passed; 1 a threshold failed; 2 bad arguments; 3 the run could not start or finish.`;

const FLAGS = new Set(['proxy-url', 'admin-url', 'service', 'path', 'rate', 'duration', 'spike-factor', 'weight', 'rollout-timeout', 'latency-scale', 'report', 'connections', 'max-in-flight', 'poll', 'request-timeout']);
const BOOLEAN_FLAGS = new Set(['allow-remote', 'help']);

/** `smoke`, `1`, `01`, `01-smoke`, `01-smoke.ts` -> smoke; undefined for anything else
 * (a number and a name that disagree, as in `02-smoke`, too). */
export function scenarioNamed(text: string): ScenarioName | undefined {
  const trimmed = text.toLowerCase().replace(/\.ts$/, '');
  if ((SCENARIOS as readonly string[]).includes(trimmed)) return trimmed as ScenarioName;
  const match = /^(\d{1,2})(?:-([a-z]+))?$/.exec(trimmed);
  if (match === null) return undefined;
  const byNumber = SCENARIOS[Number(match[1]) - 1];
  return match[2] === undefined || match[2] === byNumber ? byNumber : undefined;
}

class ArgError extends Error {}

function reportPath(flag: string | undefined, scenario: ScenarioName): string {
  if (flag === undefined) return `load-report-${scenario}.html`;
  if (flag.trim() === '') throw new ArgError('--report: the path is empty');
  return flag;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export function parseLoadArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  try {
    return parseOrThrow(argv, env);
  } catch (err) {
    if (err instanceof ArgError) return { kind: 'error', message: err.message };
    throw err;
  }
}

function parseOrThrow(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  const flags = new Map<string, string>();
  const booleans = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (BOOLEAN_FLAGS.has(name)) {
      if (eq !== -1) throw new ArgError(`--${name} takes no value`);
      booleans.add(name);
      continue;
    }
    if (!FLAGS.has(name)) throw new ArgError(`unknown flag ${arg.slice(0, eq === -1 ? undefined : eq)} (see --help)`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith('--'))) throw new ArgError(`--${name} needs a value`);
    if (flags.has(name)) throw new ArgError(`--${name} is given twice`);
    flags.set(name, value);
  }
  if (booleans.has('help')) return { kind: 'help' };
  if (positional.length === 0) throw new ArgError(`a scenario is required: one of ${SCENARIOS.join(', ')}`);
  if (positional.length > 1) throw new ArgError(`one scenario at a time, got: ${positional.join(' ')}`);
  const scenario = scenarioNamed(positional[0] ?? '');
  if (scenario === undefined) throw new ArgError(`unknown scenario '${positional[0]}': one of ${SCENARIOS.join(', ')} (or its number)`);

  /** The flag's value, else the variable's (empty counts as unset), with where it came from. */
  const pick = (flag: string, variable: string | undefined): { value: string; where: string } | undefined => {
    const fromFlag = flags.get(flag);
    if (fromFlag !== undefined) return { value: fromFlag, where: `--${flag}` };
    const fromEnv = variable === undefined ? undefined : env[variable];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, where: `${variable} (environment)` };
    return undefined;
  };
  const number = (flag: string, variable: string | undefined, fallback: number, check: { min: number; max: number; integer?: boolean }): number => {
    const picked = pick(flag, variable);
    if (picked === undefined) return fallback;
    const value = Number(picked.value);
    const kind = check.integer === true ? 'a whole number' : 'a number';
    if (picked.value.trim() === '' || !Number.isFinite(value) || (check.integer === true && !Number.isInteger(value)) || value < check.min || value > check.max) {
      throw new ArgError(`${picked.where}: '${picked.value}' is not ${kind} from ${check.min} to ${check.max}`);
    }
    return value;
  };
  const duration = (flag: string, variable: string | undefined, fallback: string, maxMs = MAX_DURATION_MS): number => {
    const picked = pick(flag, variable) ?? { value: fallback, where: 'default' };
    const ms = parseDurationMs(picked.value);
    if (ms === undefined || ms <= 0 || ms > maxMs) throw new ArgError(`${picked.where}: '${picked.value}' is not a duration such as 500ms, 30s, 2m or 1m30s (up to ${maxMs / 60_000} m)`);
    return ms;
  };
  const url = (flag: string, variable: string, fallback: string): string => {
    const picked = pick(flag, variable) ?? { value: fallback, where: 'default' };
    let parsed: URL;
    try {
      parsed = new URL(picked.value);
    } catch {
      throw new ArgError(`${picked.where}: '${picked.value}' is not a URL such as http://127.0.0.1:8080`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ArgError(`${picked.where}: '${picked.value}' is not an http(s) URL`);
    if (!booleans.has('allow-remote') && !isLoopback(parsed.hostname)) {
      throw new ArgError(`${picked.where}: '${picked.value}' is not on loopback; load goes to 127.0.0.1 unless --allow-remote is given (send load only to a gateway you run)`);
    }
    return picked.value.replace(/\/+$/, '');
  };

  const defaults = SCENARIO_DEFAULTS[scenario];
  const ratePerSecond = number('rate', 'RATE', defaults.ratePerSecond, { min: 0.1, max: MAX_RATE });
  const durationMs = duration('duration', 'DURATION', defaults.duration);
  const spikeFactor = number('spike-factor', 'SPIKE_FACTOR', DEFAULT_SPIKE_FACTOR, { min: 1.5, max: 20 });
  const peak = scenario === 'spike' ? ratePerSecond * spikeFactor : ratePerSecond;
  const planned = Math.ceil((peak * durationMs) / 1000);
  if (planned > MAX_PLANNED_REQUESTS) {
    throw new ArgError(`--rate ${ratePerSecond}${scenario === 'spike' ? ` x --spike-factor ${spikeFactor}` : ''} over --duration ${durationMs / 1000}s plans up to ${planned} requests, more than the ${MAX_PLANNED_REQUESTS} a run may send`);
  }
  const path = pick('path', 'PROXY_PATH')?.value ?? '/hello';
  const service = pick('service', 'SERVICE')?.value ?? 'demo';
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(service)) throw new ArgError(`${pick('service', 'SERVICE')?.where}: '${service}' is not a service name (lower-case letters, digits, dashes)`);
  const maxInFlightPicked = pick('max-in-flight', undefined);
  return {
    kind: 'run',
    settings: {
      scenario,
      proxyUrl: url('proxy-url', 'PROXY_URL', 'http://127.0.0.1:8080'),
      adminUrl: url('admin-url', 'ADMIN_URL', 'http://127.0.0.1:9090'),
      token: env['DOCKMASTER_TOKEN'] === '' ? undefined : env['DOCKMASTER_TOKEN'],
      service,
      path: path.startsWith('/') ? path : `/${path}`,
      ratePerSecond,
      durationMs,
      spikeFactor,
      weightPercent: number('weight', 'WEIGHT', DEFAULT_CANARY_WEIGHT_PERCENT, { min: 1, max: 99, integer: true }),
      rolloutTimeoutMs: duration('rollout-timeout', 'ROLLOUT_TIMEOUT', '2m'),
      latencyScale: number('latency-scale', 'LATENCY_SCALE', 1, { min: 1, max: 100 }),
      connections: number('connections', undefined, 64, { min: 1, max: 1024, integer: true }),
      maxInFlight: maxInFlightPicked === undefined ? undefined : number('max-in-flight', undefined, 0, { min: 1, max: 100_000, integer: true }),
      pollMs: duration('poll', undefined, '250ms', 60_000),
      requestTimeoutMs: duration('request-timeout', undefined, '10s', 600_000),
      reportPath: reportPath(flags.get('report'), scenario),
      allowRemote: booleans.has('allow-remote'),
    },
  };
}
