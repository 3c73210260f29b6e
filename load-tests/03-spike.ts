// Spike (k6): when the rate jumps to SPIKE_FACTOR x, does the autoscaler add replicas without a
// failed request, and is latency normal again afterwards? Open loop, plus one VU sampling replicas;
// a service without `autoscale:` gets the shared section for the run (restored in teardown).
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { getService, putDocument, readyReplicas } from './admin.ts';
import { replicaOf, requireReady } from './checks.ts';
import { envDurationMs, envNumber, LATENCY_SCALE, proxyUrl } from './config.ts';
import { DEFAULT_SPIKE_FACTOR, k6Duration, spikeAutoscale, spikeShape } from './shapes.ts';
import { k6Thresholds, SPIKE_THRESHOLDS } from './thresholds.ts';

const baseRate = envNumber('RATE', 50);
const spikeRate = baseRate * envNumber('SPIKE_FACTOR', DEFAULT_SPIKE_FACTOR);
const totalMs = envDurationMs('DURATION', '2m');
const shape = spikeShape(baseRate, spikeRate, totalMs);

const afterSpike = new Trend('after_spike_req_duration', true);
const replicaGrowth = new Trend('replica_growth');

export const options: Options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: shape.startRate,
      timeUnit: '1s',
      stages: shape.stages.map((s) => ({ duration: k6Duration(s.durationMs), target: s.targetRate })),
      preAllocatedVUs: Math.ceil(spikeRate / 4),
      maxVUs: Math.ceil(spikeRate * 2),
    },
    replicas: {
      executor: 'constant-vus',
      vus: 1,
      duration: k6Duration(totalMs),
      exec: 'watchReplicas',
    },
  },
  thresholds: k6Thresholds(SPIKE_THRESHOLDS, LATENCY_SCALE),
};

interface SetupData {
  /** Ready replicas when the run began. */
  readonly initialReady: number;
  /** The document to PUT back in teardown, when the run added an autoscale section. */
  readonly restore: Record<string, unknown> | null;
}

export function setup(): SetupData {
  requireReady();
  const view = getService();
  const document = view.document;
  if (document === undefined) throw new Error('the service shows no document: is SERVICE a service dockmaster runs?');
  const initialReady = readyReplicas(view);
  if (document['autoscale'] !== undefined) return { initialReady, restore: null };
  putDocument({ ...document, autoscale: spikeAutoscale(initialReady, baseRate) });
  return { initialReady, restore: document };
}

export default function spike(): void {
  const sentAtMs = Date.now();
  const res = http.get(proxyUrl(), { tags: { name: 'proxy' } });
  check(res, {
    'status is 200': (r) => r.status === 200,
    'body names a replica': (r) => replicaOf(r) !== undefined,
  });
  // The iteration's start decides its stage; a request sent late is still counted where it belongs.
  if (sentAtMs - exec.scenario.startTime >= shape.afterFromMs) afterSpike.add(res.timings.duration);
}

/** One VU: the growth of the ready replicas over the start, once a second. */
export function watchReplicas(data: SetupData): void {
  replicaGrowth.add(readyReplicas(getService()) - data.initialReady);
  sleep(1);
}

export function teardown(data: SetupData): void {
  if (data.restore !== null) putDocument(data.restore);
}
