// Canary split (k6): does a canary at a weight step get that share of the requests? Setup deploys
// it (setWeight WEIGHT, pause until promote) and waits for its replicas; `split` counts which
// revision answered, `promote` promotes under load; teardown puts the deploy section back.
import { check } from 'k6';
import http from 'k6/http';
import type { RefinedResponse, ResponseType } from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import type { Options } from 'k6/options';
import { getDocument, getService, putDocument, restoreService, rolloutCommand, rolloutRunning, waitRollout, type RolloutView } from './admin.ts';
import { replicaOf, requireReady } from './checks.ts';
import { envDuration, envDurationMs, envNumber, proxyUrl } from './config.ts';
import { answerField, canaryDeploy, DEFAULT_CANARY_WEIGHT_PERCENT, k6Duration, loadVersion, withVersionAndDeploy } from './shapes.ts';
import { canaryThresholds, k6Thresholds } from './thresholds.ts';

const ratePerSecond = envNumber('RATE', 200);
const weightPercent = envNumber('WEIGHT', DEFAULT_CANARY_WEIGHT_PERCENT);
if (!Number.isInteger(weightPercent) || weightPercent >= 100) throw new Error(`WEIGHT=${weightPercent} must be a whole percentage from 1 to 99`);
const splitMs = envDurationMs('DURATION', '1m');
const rolloutTimeoutMs = envDurationMs('ROLLOUT_TIMEOUT', '2m');
/** Load while the promotion runs: the switch to the new revision must not fail a request either. */
const PROMOTION_LOAD_MS = 15_000;

const canaryShare = new Rate('canary_share');
const rolloutsSucceeded = new Counter('rollouts_succeeded');

const preAllocatedVUs = Math.ceil(ratePerSecond / 4);
const maxVUs = Math.ceil(ratePerSecond * 2);

export const options: Options = {
  // Setup deploys the canary and waits for its replicas.
  setupTimeout: k6Duration(rolloutTimeoutMs + 30_000),
  scenarios: {
    split: {
      executor: 'constant-arrival-rate',
      rate: ratePerSecond,
      timeUnit: '1s',
      duration: envDuration('DURATION', '1m'),
      preAllocatedVUs,
      maxVUs,
      exec: 'split',
    },
    promotion: {
      executor: 'constant-arrival-rate',
      rate: ratePerSecond,
      timeUnit: '1s',
      startTime: k6Duration(splitMs),
      duration: k6Duration(PROMOTION_LOAD_MS),
      preAllocatedVUs,
      maxVUs,
      exec: 'request',
    },
    promote: {
      executor: 'per-vu-iterations',
      vus: 1,
      iterations: 1,
      startTime: k6Duration(splitMs),
      maxDuration: k6Duration(rolloutTimeoutMs + 10_000),
      exec: 'promote',
    },
  },
  thresholds: k6Thresholds(canaryThresholds(weightPercent)),
};

interface SetupData {
  readonly original: Record<string, unknown>;
  /** The canary's revision. */
  readonly revision: string;
}

/** The canary waits at its weight with every canary replica ready. */
function atWeight(revision: string): (rollout: RolloutView) => boolean {
  return (rollout) =>
    rollout.phase === 'Paused' &&
    rollout.weights.some((w) => w.revision === revision && w.percent === weightPercent) &&
    rollout.replicas.some((r) => r.revision === revision && r.ready > 0 && r.ready === r.active);
}

export function setup(): SetupData {
  requireReady();
  const view = getService();
  if (rolloutRunning(view)) throw new Error(`a rollout runs already (${view.rollout?.id} ${view.rollout?.phase}): wait for it or abort it first`);
  const original = getDocument();
  const revision = putDocument(withVersionAndDeploy(original, loadVersion(Date.now().toString(36), 1), canaryDeploy(weightPercent)));
  try {
    waitRollout(revision, `Paused at ${weightPercent}%`, atWeight(revision), rolloutTimeoutMs);
  } catch (err) {
    // Teardown does not run when setup fails: put the service back here.
    restoreService(original);
    throw err;
  }
  return { original, revision };
}

function send(): RefinedResponse<ResponseType | undefined> {
  const res = http.get(proxyUrl(), { tags: { name: 'proxy' } });
  check(res, {
    'status is 200': (r) => r.status === 200,
    'body names a replica': (r) => replicaOf(r) !== undefined,
  });
  return res;
}

/** During the weight step: which revision answered. */
export function split(data: SetupData): void {
  const res = send();
  const revision = typeof res.body === 'string' ? answerField(res.body, 'revision') : undefined;
  if (revision !== undefined) canaryShare.add(revision === data.revision);
}

export function request(): void {
  send();
}

export function promote(data: SetupData): void {
  rolloutCommand('promote');
  waitRollout(data.revision, 'Succeeded', (r) => r.phase === 'Succeeded', rolloutTimeoutMs);
  rolloutsSucceeded.add(1);
}

export function teardown(data: SetupData): void {
  restoreService(data.original);
}
