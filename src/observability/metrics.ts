// Prometheus metrics of the proxy and config layers, registered on an injected Registry. I/O-free.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRIC } from './metric-names.js';
import { CountingGauge, RequestCounter, RequestHistogram, RequestStats, RevisionCounter, RevisionHistogram, RevisionStats, registerScraped } from './request-stats.js';


export interface Metrics {
  readonly registry: Registry;
  /** Requests and their durations by route, service, method and status class: one set of
   * plain counters on the hot path, scraped as a counter and a histogram. */
  readonly requests: RequestStats;
  /** Requests in flight by route and service. */
  readonly inFlightRequests: CountingGauge;
  /** kind: refused | reset | timeout | other */
  readonly upstreamErrorsTotal: Counter<'route' | 'service' | 'kind'>;
  /** reason: connect | reset */
  readonly retriesTotal: Counter<'route' | 'service' | 'reason'>;
  readonly retryBudgetExhaustedTotal: Counter<'route' | 'service'>;
  /** reason: bad_path | duplicate_host | bad_header | smuggling | not_found */
  readonly rejectedRequestsTotal: Counter<'reason'>;
  readonly upgradesTotal: Counter<'route' | 'service' | 'result'>;
  readonly openUpgrades: Gauge;
  /** result: success | failure */
  readonly configReloadsTotal: Counter<'source' | 'result'>;
  readonly configLastReloadSuccess: Gauge;
  readonly configLastReloadTimestampSeconds: Gauge;
  readonly routingTableVersion: Gauge;
  readonly routingRoutes: Gauge;
  readonly routingTableRebuildsTotal: Counter;
  /** 1 healthy (pickable), 0 not, per endpoint of each pool; series of gone endpoints removed. */
  readonly endpointHealthy: Gauge<'pool' | 'endpoint' | 'source'>;
  readonly endpointEjectionsTotal: Counter<'pool'>;
  readonly endpointsEjected: Gauge<'pool'>;
  readonly poolPanic: Gauge<'pool'>;
  readonly poolPanicTotal: Counter<'pool'>;
  readonly registryProviderUp: Gauge<'provider'>;
  readonly registryLastSyncTimestampSeconds: Gauge<'provider'>;
  readonly registrySkippedEntries: Gauge<'provider'>;
  /** state: starting | ready | unhealthy | draining */
  readonly serviceReplicas: Gauge<'service' | 'revision' | 'state'>;
  readonly serviceDesiredReplicas: Gauge<'service'>;
  readonly replicaRestartsTotal: Counter<'service'>;
  readonly replicaStartFailuresTotal: Counter<'service'>;
  /** to: healthy | unhealthy */
  readonly replicaHealthChangesTotal: Counter<'service' | 'to'>;
  /** 1 for the phase of a service's current (or last) rollout, 0 for the other phases. */
  readonly rolloutPhase: Gauge<'service' | 'phase'>;
  /** Index of the current step of a running rollout (canary steps; 0 for other strategies). */
  readonly rolloutStep: Gauge<'service'>;
  /** Rollouts that ended, by strategy and final phase. */
  readonly rolloutsTotal: Counter<'service' | 'strategy' | 'phase'>;
  /** verdict: pass | fail | inconclusive */
  readonly rolloutAnalysisIntervalsTotal: Counter<'service' | 'verdict'>;
  /** Share of a service's new requests sent to a revision (absent when the split is by replicas). */
  readonly trafficWeightPercent: Gauge<'service' | 'revision'>;
  /** Requests by service and revision (the revision of the last endpoint tried): plain cells on
   * the hot path with a fine latency histogram, scraped as a counter by status class and a
   * histogram; canary analysis reads the cells directly (ProxyServer.revisionTotals). */
  readonly revisions: RevisionStats;
  /** Requests held right now by service, waiting for a ready replica (scale to zero). */
  readonly heldRequests: CountingGauge;
  /** How holds ended. result: served (released to the normal path once the pool had an
   * endpoint) | timeout | overflow (queue full: never held) | client_gone | cancelled (gateway
   * shutting down, or the service lost its hold or its route) */
  readonly heldRequestsTotal: Counter<'service' | 'result'>;
  /** From the first request held while a service had no ready replica to the table that gave it one. */
  readonly coldStartSeconds: Histogram<'service'>;
  /** The autoscaler's last recommendation (before stabilization and rate limits) per service. */
  readonly autoscaleRecommendation: Gauge<'service'>;
  /** 1 while the autoscaler of a service is in panic mode. */
  readonly autoscalePanic: Gauge<'service'>;
  /** Replica count changes the autoscaler made. direction: up | down */
  readonly autoscaleDecisionsTotal: Counter<'service' | 'direction'>;
}

/** Cold starts in seconds: a local process in well under a second, a container in seconds, an
 * image pull or a slow application in tens of seconds. */
export const COLD_START_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120];

/** Latency buckets in seconds: fine below 100 ms where a proxy lives, coarse up to a minute. */
export const DURATION_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Label values of the counters that start at 0 (see startCountersAtZero and its per-service kin). */
const CONFIG_SOURCES = ['file', 'api'] as const;
const CONFIG_RESULTS = ['success', 'failure'] as const;
const HEALTH_CHANGES = ['healthy', 'unhealthy'] as const;
const ANALYSIS_VERDICTS = ['pass', 'fail', 'inconclusive'] as const;
const SCALE_DIRECTIONS = ['up', 'down'] as const;
const HOLD_RESULTS = ['served', 'timeout', 'overflow', 'client_gone', 'cancelled'] as const;

/*
 * Counters start at 0 for label values known in advance (Prometheus's "avoid missing metrics"):
 * a series born at 1 has no earlier sample, so increase() and rate() never see its first event,
 * and a dashboard would show nothing for a service's first restart, canary verdict, scaling
 * decision or cold start. Gateway-wide ones start in createMetrics; per-service ones when a
 * service (or its autoscaling) starts.
 */

/** A managed service's replica and rollout counters at 0 (called when its controller starts). */
export function startServiceCountersAtZero(metrics: Metrics, service: string): void {
  metrics.replicaRestartsTotal.inc({ service }, 0);
  metrics.replicaStartFailuresTotal.inc({ service }, 0);
  for (const to of HEALTH_CHANGES) metrics.replicaHealthChangesTotal.inc({ service, to }, 0);
  for (const verdict of ANALYSIS_VERDICTS) metrics.rolloutAnalysisIntervalsTotal.inc({ service, verdict }, 0);
}

/** Services whose cold-start histogram exists, per histogram: prom-client's zero() would reset it. */
const coldStartSeries = new WeakMap<Histogram<'service'>, Set<string>>();

/** An autoscaled service's decision, hold and cold-start series at 0 (called when its autoscaling
 * starts, again when its policy changes: what was counted stays). */
export function startAutoscaleCountersAtZero(metrics: Metrics, service: string): void {
  for (const direction of SCALE_DIRECTIONS) metrics.autoscaleDecisionsTotal.inc({ service, direction }, 0);
  for (const result of HOLD_RESULTS) metrics.heldRequestsTotal.inc({ service, result }, 0);
  let started = coldStartSeries.get(metrics.coldStartSeconds);
  if (started === undefined) {
    started = new Set();
    coldStartSeries.set(metrics.coldStartSeconds, started);
  }
  if (started.has(service)) return;
  started.add(service);
  metrics.coldStartSeconds.zero({ service });
}

function startCountersAtZero(metrics: Metrics): void {
  for (const source of CONFIG_SOURCES) for (const result of CONFIG_RESULTS) metrics.configReloadsTotal.inc({ source, result }, 0);
}

export function createMetrics(registry: Registry): Metrics {
  const registers = [registry];
  const requests = new RequestStats(DURATION_BUCKETS_SECONDS);
  registerScraped(registry, new RequestCounter(METRIC.proxyRequestsTotal, 'Requests answered by the proxy, by route, service, method and status class (2xx..5xx).', requests));
  registerScraped(registry, new RequestHistogram(METRIC.proxyRequestDurationSeconds, 'Time from request arrival to the last response byte, in seconds.', requests));
  const inFlightRequests = new CountingGauge(METRIC.proxyInFlightRequests, 'Requests being proxied right now.', ['route', 'service']);
  registerScraped(registry, inFlightRequests);
  const revisions = new RevisionStats();
  registerScraped(registry, new RevisionCounter(METRIC.revisionRequestsTotal, 'Requests answered by the proxy for a service route, by the revision of the endpoint that answered (or was tried last) and status class (2xx..5xx).', revisions));
  registerScraped(registry, new RevisionHistogram(METRIC.revisionRequestDurationSeconds, 'Time from request arrival to the last response byte by service and revision, in seconds.', revisions, DURATION_BUCKETS_SECONDS));
  const heldRequests = new CountingGauge(METRIC.proxyHeldRequests, 'Requests held right now for a service with no ready replica, waiting for one to start (not counted in dockmaster_proxy_in_flight_requests).', ['service']);
  registerScraped(registry, heldRequests);
  const metrics: Metrics = {
    registry,
    requests,
    inFlightRequests,
    upstreamErrorsTotal: new Counter({
      name: METRIC.proxyUpstreamErrorsTotal,
      help: 'Failed upstream attempts by kind: refused, reset, timeout, other.',
      labelNames: ['route', 'service', 'kind'],
      registers,
    }),
    retriesTotal: new Counter({
      name: METRIC.proxyRetriesTotal,
      help: 'Retried upstream attempts, by reason: connect (nothing sent) or reset (idempotent only).',
      labelNames: ['route', 'service', 'reason'],
      registers,
    }),
    retryBudgetExhaustedTotal: new Counter({
      name: METRIC.proxyRetryBudgetExhaustedTotal,
      help: 'Retries not made because the retry budget was spent.',
      labelNames: ['route', 'service'],
      registers,
    }),
    rejectedRequestsTotal: new Counter({
      name: METRIC.proxyRejectedRequestsTotal,
      help: 'Requests refused before reaching an upstream, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    upgradesTotal: new Counter({
      name: METRIC.proxyUpgradesTotal,
      help: 'Upgrade (WebSocket) requests, by result: tunnelled or failed.',
      labelNames: ['route', 'service', 'result'],
      registers,
    }),
    openUpgrades: new Gauge({
      name: METRIC.proxyOpenUpgrades,
      help: 'Upgraded (WebSocket) tunnels open right now.',
      registers,
    }),
    configReloadsTotal: new Counter({
      name: METRIC.configReloadsTotal,
      help: 'Configuration reloads by source (file, api) and result (success, failure).',
      labelNames: ['source', 'result'],
      registers,
    }),
    configLastReloadSuccess: new Gauge({
      name: METRIC.configLastReloadSuccess,
      help: '1 if the last configuration reload succeeded, 0 if it was rejected.',
      registers,
    }),
    configLastReloadTimestampSeconds: new Gauge({
      name: METRIC.configLastReloadTimestampSeconds,
      help: 'Unix time of the last successful configuration reload.',
      registers,
    }),
    routingTableVersion: new Gauge({
      name: METRIC.routingTableVersion,
      help: 'Version of the routing table in use.',
      registers,
    }),
    routingRoutes: new Gauge({
      name: METRIC.routingRoutes,
      help: 'Routes in the routing table in use.',
      registers,
    }),
    routingTableRebuildsTotal: new Counter({
      name: METRIC.routingTableRebuildsTotal,
      help: 'Routing tables built and swapped in (rebuilds are coalesced to at most one per 100 ms).',
      registers,
    }),
    endpointHealthy: new Gauge({
      name: METRIC.endpointHealthy,
      help: 'Whether an endpoint takes new requests (1) or not (0: unhealthy, ejected or draining).',
      labelNames: ['pool', 'endpoint', 'source'],
      registers,
    }),
    endpointEjectionsTotal: new Counter({
      name: METRIC.endpointEjectionsTotal,
      help: 'Endpoints ejected by passive health (consecutive failures on the request path).',
      labelNames: ['pool'],
      registers,
    }),
    endpointsEjected: new Gauge({
      name: METRIC.endpointsEjected,
      help: 'Endpoints of a pool ejected right now.',
      labelNames: ['pool'],
      registers,
    }),
    poolPanic: new Gauge({
      name: METRIC.poolPanic,
      help: '1 while a pool is in panic mode (too few healthy endpoints: routing to all of them).',
      labelNames: ['pool'],
      registers,
    }),
    poolPanicTotal: new Counter({
      name: METRIC.poolPanicTotal,
      help: 'Times a pool entered panic mode.',
      labelNames: ['pool'],
      registers,
    }),
    registryProviderUp: new Gauge({
      name: METRIC.registryProviderUp,
      help: '1 when an endpoint provider read its source last time, 0 while it serves its last good (stale) snapshot.',
      labelNames: ['provider'],
      registers,
    }),
    registryLastSyncTimestampSeconds: new Gauge({
      name: METRIC.registryLastSyncTimestampSeconds,
      help: 'Unix time of the last successful read of an endpoint provider.',
      labelNames: ['provider'],
      registers,
    }),
    registrySkippedEntries: new Gauge({
      name: METRIC.registrySkippedEntries,
      help: 'Entries an endpoint provider skipped in its last read (bad port, missing address, duplicate id).',
      labelNames: ['provider'],
      registers,
    }),
    serviceReplicas: new Gauge({
      name: METRIC.serviceReplicas,
      help: 'Replicas of a service by revision and state (starting, ready, unhealthy, draining).',
      labelNames: ['service', 'revision', 'state'],
      registers,
    }),
    serviceDesiredReplicas: new Gauge({
      name: METRIC.serviceDesiredReplicas,
      help: 'Replicas a service should have.',
      labelNames: ['service'],
      registers,
    }),
    rolloutPhase: new Gauge({
      name: METRIC.rolloutPhase,
      help: 'Phase of the current or last rollout of a service: 1 for its phase (Progressing, Paused, Succeeded, Aborted, RolledBack, Failed), 0 for the others.',
      labelNames: ['service', 'phase'],
      registers,
    }),
    rolloutStep: new Gauge({
      name: METRIC.rolloutStep,
      help: 'Index of the current step of the rollout of a service (canary steps; 0 for rolling and blue-green).',
      labelNames: ['service'],
      registers,
    }),
    rolloutsTotal: new Counter({
      name: METRIC.rolloutsTotal,
      help: 'Rollouts that ended, by strategy and final phase.',
      labelNames: ['service', 'strategy', 'phase'],
      registers,
    }),
    rolloutAnalysisIntervalsTotal: new Counter({
      name: METRIC.rolloutAnalysisIntervalsTotal,
      help: 'Canary analysis intervals evaluated, by verdict (pass, fail, inconclusive).',
      labelNames: ['service', 'verdict'],
      registers,
    }),
    trafficWeightPercent: new Gauge({
      name: METRIC.trafficWeightPercent,
      help: 'Share of the new requests of a service that a revision receives during a blue-green or canary rollout, in percent.',
      labelNames: ['service', 'revision'],
      registers,
    }),
    revisions,
    replicaRestartsTotal: new Counter({
      name: METRIC.replicaRestartsTotal,
      help: 'Replicas that exited unexpectedly and were replaced.',
      labelNames: ['service'],
      registers,
    }),
    replicaStartFailuresTotal: new Counter({
      name: METRIC.replicaStartFailuresTotal,
      help: 'Replica starts that failed (exited early, never opened its port, image missing).',
      labelNames: ['service'],
      registers,
    }),
    replicaHealthChangesTotal: new Counter({
      name: METRIC.replicaHealthChangesTotal,
      help: 'Replica health transitions, by the state entered.',
      labelNames: ['service', 'to'],
      registers,
    }),
    heldRequests,
    heldRequestsTotal: new Counter({
      name: METRIC.proxyHeldRequestsTotal,
      help: 'Requests that found no ready replica of a held service, by how the hold ended: served (forwarded once a replica was ready), timeout (503 after holdTimeoutMs), overflow (503 at once: queue full), client_gone (the client left), cancelled (the gateway shut down, or the service lost its hold or route).',
      labelNames: ['service', 'result'],
      registers,
    }),
    coldStartSeconds: new Histogram({
      name: METRIC.autoscaleColdStartSeconds,
      help: 'Cold starts: time from the first request held while a service had no ready replica to the routing table that gave it one, in seconds.',
      labelNames: ['service'],
      buckets: COLD_START_BUCKETS_SECONDS,
      registers,
    }),
    autoscaleRecommendation: new Gauge({
      name: METRIC.autoscaleRecommendation,
      help: 'The replica count the autoscaler last recommended for a service from its measurements (before stabilization, rate limits and min/max).',
      labelNames: ['service'],
      registers,
    }),
    autoscalePanic: new Gauge({
      name: METRIC.autoscalePanic,
      help: '1 while the autoscaler of a service is in panic mode (short-window demand at least the threshold times capacity), else 0.',
      labelNames: ['service'],
      registers,
    }),
    autoscaleDecisionsTotal: new Counter({
      name: METRIC.autoscaleDecisionsTotal,
      help: 'Changes of a service replica count made by the autoscaler, by direction (up, down).',
      labelNames: ['service', 'direction'],
      registers,
    }),
  };
  startCountersAtZero(metrics);
  return metrics;
}
