// Rollout under load (k6): do a rolling and then a blue-green update of SERVICE (new `version`s PUT
// by a second scenario through the admin API) go through without one failed request? Teardown puts
// the service's own deploy section back, keeping the last version.
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { getDocument, getService, putDocument, restoreService, rolloutRunning, waitRollout } from './admin.ts';
import { replicaOf, requireReady } from './checks.ts';
import { envDuration, envDurationMs, envNumber, proxyUrl } from './config.ts';
import { BLUE_GREEN_DEPLOY, k6Duration, loadVersion, ROLLING_DEPLOY, rolloutTimings, withVersionAndDeploy } from './shapes.ts';
import { k6Thresholds, ROLLOUT_THRESHOLDS } from './thresholds.ts';

const ratePerSecond = envNumber('RATE', 200);
const durationMs = envDurationMs('DURATION', '2m');
const rolloutTimeoutMs = envDurationMs('ROLLOUT_TIMEOUT', '2m');
const timings = rolloutTimings(durationMs);

const rolloutsSucceeded = new Counter('rollouts_succeeded');

export const options: Options = {
  scenarios: {
    load: {
      executor: 'constant-arrival-rate',
      rate: ratePerSecond,
      timeUnit: '1s',
      duration: envDuration('DURATION', '2m'),
      preAllocatedVUs: Math.ceil(ratePerSecond / 4),
      maxVUs: Math.ceil(ratePerSecond * 2),
    },
    updates: {
      executor: 'per-vu-iterations',
      vus: 1,
      iterations: 1,
      startTime: k6Duration(timings.leadMs),
      maxDuration: k6Duration(2 * rolloutTimeoutMs + timings.gapMs + 10_000),
      exec: 'drive',
    },
  },
  thresholds: k6Thresholds(ROLLOUT_THRESHOLDS),
};

interface SetupData {
  readonly original: Record<string, unknown>;
  readonly runId: string;
}

export function setup(): SetupData {
  requireReady();
  const view = getService();
  if (rolloutRunning(view)) throw new Error(`a rollout runs already (${view.rollout?.id} ${view.rollout?.phase}): wait for it or abort it first`);
  return { original: getDocument(), runId: Date.now().toString(36) };
}

export default function load(): void {
  const res = http.get(proxyUrl(), { tags: { name: 'proxy' } });
  check(res, {
    'status is 200': (r) => r.status === 200,
    'body names a replica': (r) => replicaOf(r) !== undefined,
  });
}

/** A rolling update, a pause, then a blue-green update; each must reach Succeeded. */
export function drive(data: SetupData): void {
  const updates = [
    { deploy: ROLLING_DEPLOY, name: 'rolling' },
    { deploy: BLUE_GREEN_DEPLOY, name: 'blue-green' },
  ];
  updates.forEach((update, i) => {
    if (i > 0) sleep(timings.gapMs / 1000);
    const document = withVersionAndDeploy(getDocument(), loadVersion(data.runId, i + 1), update.deploy);
    const revision = putDocument(document);
    waitRollout(revision, 'Succeeded', (r) => r.phase === 'Succeeded', rolloutTimeoutMs);
    rolloutsSucceeded.add(1, { strategy: update.name });
  });
}

export function teardown(data: SetupData): void {
  restoreService(data.original);
}
