// Smoke: does the gateway answer at all, from a replica, quickly? A few VUs for 30 s; run it
// first, before any heavier scenario. k6 script (k6 >= 0.52 runs TypeScript directly).
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';
import { replicaOf, requireReady } from './checks.ts';
import { envDuration, envNumber, LATENCY_SCALE, proxyUrl } from './config.ts';
import { k6Thresholds, SMOKE_THRESHOLDS } from './thresholds.ts';

export const options: Options = {
  vus: envNumber('VUS', 3),
  duration: envDuration('DURATION', '30s'),
  // Shared with the Node runner (npm run load -- smoke): failures < 1%, p95 < 200 ms, every check.
  thresholds: k6Thresholds(SMOKE_THRESHOLDS, LATENCY_SCALE),
};

export function setup(): void {
  requireReady();
}

export default function smoke(): void {
  const res = http.get(proxyUrl(), { tags: { name: 'proxy' } });
  check(res, {
    'status is 200': (r) => r.status === 200,
    'body names a replica': (r) => replicaOf(r) !== undefined,
  });
  // Closed loop on purpose: a smoke test checks answers, not throughput.
  sleep(0.1);
}
