// Bench load generator (I/O): one bounded autocannon run against a loopback URL, with its own
// latency histogram in microseconds (autocannon's own one rounds to whole milliseconds).
import autocannon from 'autocannon';
import { createHistogram } from 'node:perf_hooks';

export interface LoadSettings {
  connections: number;
  durationS: number;
}

export interface LoadResult {
  /** Responses received, whatever their status. */
  requests: number;
  durationS: number;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
}

/** Slack on top of the run's duration before the run is declared hung and stopped. */
const HANG_SLACK_MS = 15_000;

export function runLoad(url: string, settings: LoadSettings): Promise<LoadResult> {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`load is for loopback only, not ${url}`);
  const latencyUs = createHistogram();
  return new Promise<LoadResult>((resolve, reject) => {
    let hung = false;
    const instance = autocannon(
      { url, connections: settings.connections, duration: settings.durationS, pipelining: 1, timeout: 10 },
      (err: unknown, result) => {
        clearTimeout(watchdog);
        if (err !== null && err !== undefined) {
          reject(err instanceof Error ? err : new Error(`autocannon: ${JSON.stringify(err)}`));
          return;
        }
        if (hung) {
          reject(new Error(`load on ${url} did not end within ${settings.durationS} s + ${HANG_SLACK_MS} ms`));
          return;
        }
        const requests = result.requests.total;
        resolve({
          requests,
          durationS: result.duration,
          requestsPerS: result.duration > 0 ? requests / result.duration : 0,
          p50Ms: requests > 0 ? latencyUs.percentile(50) / 1000 : Number.NaN,
          p99Ms: requests > 0 ? latencyUs.percentile(99) / 1000 : Number.NaN,
          non2xx: result.non2xx,
          errors: result.errors,
        });
      },
    );
    instance.on('response', (_client, _statusCode, _bytes, responseTimeMs) => {
      latencyUs.record(Math.max(1, Math.round(responseTimeMs * 1000)));
    });
    const watchdog = setTimeout(() => {
      hung = true;
      instance.stop();
    }, settings.durationS * 1000 + HANG_SLACK_MS);
  });
}
