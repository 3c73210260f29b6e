// Steady load: a constant arrival rate (200 req/s for 2 min by default) with latency thresholds.
// Open loop: k6 starts iterations on schedule whether or not earlier ones finished, so an
// overloaded gateway shows up as latency and dropped iterations instead of a slower request rate.
// k6 script (k6 >= 0.52 runs TypeScript directly).
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';
import { replicaOf, requireReady } from './checks.ts';
import { envDuration, envNumber, LATENCY_SCALE, proxyUrl } from './config.ts';
import { k6Thresholds, STEADY_THRESHOLDS } from './thresholds.ts';

const ratePerSecond = envNumber('RATE', 200);

export const options: Options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate: ratePerSecond,
      timeUnit: '1s',
      duration: envDuration('DURATION', '2m'),
      // At 200 req/s and a few ms per request a handful of VUs suffice; the headroom lets k6
      // keep the schedule while latency climbs, up to maxVUs.
      preAllocatedVUs: Math.ceil(ratePerSecond / 4),
      maxVUs: Math.ceil(ratePerSecond * 2),
    },
  },
  // Shared with the Node runner (npm run load -- steady): failures < 1%, p95 < 100 ms, p99 < 250 ms,
  // checks > 99%, and no dropped iteration (one k6 could not start on time for want of a free VU:
  // the gateway fell behind the schedule).
  thresholds: k6Thresholds(STEADY_THRESHOLDS, LATENCY_SCALE),
};

export function setup(): void {
  requireReady();
}

export default function steady(): void {
  const res = http.get(proxyUrl(), { tags: { name: 'proxy' } });
  check(res, {
    'status is 200': (r) => r.status === 200,
    'body names a replica': (r) => replicaOf(r) !== undefined,
  });
}
