// Smoke: does the gateway answer at all, from a replica, quickly? A few VUs for 30 s; run it
// first, before any heavier scenario. k6 script (k6 >= 0.52 runs TypeScript directly).
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';
import { replicaOf, requireReady } from './checks.ts';
import { envDuration, envNumber, proxyUrl } from './config.ts';

export const options: Options = {
  vus: envNumber('VUS', 3),
  duration: envDuration('DURATION', '30s'),
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<200'],
    // Every answer must pass both checks, not most of them.
    checks: ['rate==1'],
  },
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
