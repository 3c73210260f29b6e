// Shared settings of the k6 scripts, read from the environment (`k6 run -e NAME=value` or the
// shell). Runs inside k6; no I/O beyond reading __ENV. The Node runner (test/load) reads the same
// variables.
import { parseDurationMs } from './shapes.ts';

/** Where the proxy listens; every scenario sends its traffic here. */
export const PROXY_URL = withoutTrailingSlash(env('PROXY_URL') ?? 'http://127.0.0.1:8080');

/** The admin API (readiness, services, rollouts). */
export const ADMIN_URL = withoutTrailingSlash(env('ADMIN_URL') ?? 'http://127.0.0.1:9090');

/** Bearer token of the admin API, when dockmaster runs with one. */
export const DOCKMASTER_TOKEN = env('DOCKMASTER_TOKEN');

/** Path requested through the proxy; the repo's demo route answers every path. */
export const PROXY_PATH = env('PROXY_PATH') ?? '/hello';

/** The service the spike, rollout and canary scenarios act on through the admin API. */
export const SERVICE = env('SERVICE') ?? 'demo';

/** Multiplies every latency threshold (1: as written; see scaleLatency in thresholds.ts). */
export const LATENCY_SCALE = envNumber('LATENCY_SCALE', 1);

/** Headers for admin API calls: the bearer token when one is set. */
export function adminHeaders(): Record<string, string> {
  return DOCKMASTER_TOKEN === undefined ? {} : { authorization: `Bearer ${DOCKMASTER_TOKEN}` };
}

/** URL of `path` behind the proxy. */
export function proxyUrl(path: string = PROXY_PATH): string {
  return `${PROXY_URL}${path.startsWith('/') ? path : `/${path}`}`;
}

/** URL of `path` on the admin listener. */
export function adminUrl(path: string): string {
  return `${ADMIN_URL}${path.startsWith('/') ? path : `/${path}`}`;
}

/** A positive number from the environment, or the fallback; a bad value stops the run at start. */
export function envNumber(name: string, fallback: number): number {
  const raw = env(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw} is not a positive number`);
  return value;
}

/** A k6 duration ("30s", "2m", "1m30s") from the environment, or the fallback. */
export function envDuration(name: string, fallback: string): string {
  const raw = env(name);
  if (raw === undefined) return fallback;
  const ms = parseDurationMs(raw);
  if (ms === undefined || ms <= 0) throw new Error(`${name}=${raw} is not a k6 duration such as 30s or 2m`);
  return raw;
}

/** The same as envDuration, in ms. */
export function envDurationMs(name: string, fallback: string): number {
  return parseDurationMs(envDuration(name, fallback)) ?? 0;
}

/** An environment variable; empty counts as unset, as in the gateway's own DOCKMASTER_TOKEN. */
function env(name: string): string | undefined {
  const value = __ENV[name];
  return value === undefined || value === '' ? undefined : value;
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
