// Runs one scenario against a gateway (I/O): readiness, the scenario's setup, the open-loop load
// with the admin API watched alongside, the scenario's drive, the teardown (always), then the
// metrics and the threshold verdicts. Returns everything the summary and the report need.
import { randomBytes } from 'node:crypto';
import { shapeDurationMs } from '../../load-tests/shapes.js';
import { scaleLatency } from '../../load-tests/thresholds.js';
import { peakRate, requestsDue } from './rate-schedule.js';
import { adminClient } from './admin-client.js';
import { canaryScenario } from './canary-scenario.js';
import { evaluateThresholds, type ThresholdResult } from './evaluate-thresholds.js';
import { MAX_PLANNED_REQUESTS, type LoadSettings } from './load-args.js';
import type { RequestRecord, ServiceRecord, TimelineRecord } from './load-records.js';
import { measureRun } from './measure-run.js';
import { nowMs, startOpenLoop } from './open-loop.js';
import { summarize, sortedCopy } from './quantile.js';
import type { RunStats } from './html-report.js';
import { rolloutScenario } from './rollout-scenario.js';
import { sleepMs } from './rollout-wait.js';
import { loadOnlyScenario, type Scenario, type ScenarioContext } from './scenario.js';
import { startServiceWatch } from './service-watch.js';
import { spikeScenario } from './spike-scenario.js';

/** The run could not start (gateway not ready, service missing, a rollout running): exit 3. */
export class RunError extends Error {}

export interface RunOutcome {
  readonly question: string;
  readonly settingsLines: ReadonlyArray<readonly [string, string]>;
  readonly startMs: number;
  readonly endMs: number;
  readonly requests: readonly RequestRecord[];
  readonly services: readonly ServiceRecord[];
  readonly events: readonly TimelineRecord[];
  readonly results: readonly ThresholdResult[];
  readonly stats: RunStats;
  readonly problems: readonly string[];
  readonly remarks: readonly string[];
}

/** The scenario of `settings`, its latency thresholds stretched by --latency-scale. */
export function scenarioFor(settings: LoadSettings): Scenario {
  const scenario = unscaledScenario(settings);
  return { ...scenario, thresholds: scaleLatency(scenario.thresholds, settings.latencyScale) };
}

function unscaledScenario(settings: LoadSettings): Scenario {
  switch (settings.scenario) {
    case 'smoke':
    case 'steady':
      return loadOnlyScenario(settings, settings.scenario);
    case 'spike':
      return spikeScenario(settings);
    case 'rollout':
      return rolloutScenario(settings);
    case 'canary':
      return canaryScenario(settings);
  }
}

export async function runScenario(settings: LoadSettings, deps: { readonly signal: AbortSignal; readonly log: (line: string) => void }): Promise<RunOutcome> {
  const admin = adminClient(settings.adminUrl, settings.service, settings.token);
  const scenario = scenarioFor(settings);
  const marks: TimelineRecord[] = [];
  const problems: string[] = [];
  const remarks: string[] = [];
  let watchServices: () => readonly ServiceRecord[] = () => [];
  const ctx: ScenarioContext = {
    settings,
    admin,
    runId: `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`,
    signal: deps.signal,
    mark: (type, message, data) => marks.push({ atMs: nowMs(), type, message, data }),
    services: () => watchServices(),
  };

  try {
    if (!(await admin.ready())) throw new RunError(`dockmaster is not ready: GET ${settings.adminUrl}/readyz did not answer 200 (still starting, or draining?)`);
  } catch (err) {
    throw err instanceof RunError ? err : new RunError((err as Error).message);
  }
  let pollService = true;
  if (!scenario.needsService) {
    try {
      await admin.service();
    } catch (err) {
      pollService = false;
      remarks.push(`replicas not charted: ${(err as Error).message}`);
    }
  }
  try {
    await scenario.setup(ctx);
  } catch (err) {
    throw new RunError(`${settings.scenario}: ${(err as Error).message}`);
  }

  // Whatever happens from here on, the teardown puts the service back.
  try {
    // Bounds of the load: the shape's own requests, or (open-ended) the planned time plus what two
    // rollouts and the measured step may take.
    const hardMs = scenario.openEnded ? scenario.plannedMs + scenario.tailMs + 2 * settings.rolloutTimeoutMs + settings.durationMs + 30_000 : shapeDurationMs(scenario.shape) + 5_000;
    const maxRequests = scenario.openEnded ? MAX_PLANNED_REQUESTS : Math.ceil(requestsDue(scenario.shape, shapeDurationMs(scenario.shape)));
    const watch = startServiceWatch(admin, { sinceSeq: await admin.lastSeq(), pollMs: settings.pollMs, maxMs: hardMs + 10_000, pollService });
    watchServices = () => watch.services();
    const maxInFlight = settings.maxInFlight ?? Math.max(50, Math.ceil(peakRate(scenario.shape) * 2));
    const load = startOpenLoop({
      url: `${settings.proxyUrl}${settings.path}`,
      shape: scenario.shape,
      connections: settings.connections,
      maxInFlight,
      requestTimeoutMs: settings.requestTimeoutMs,
      maxRequests,
      maxMs: hardMs,
    });
    deps.log(`load ${settings.scenario}: ${settings.proxyUrl}${settings.path}, ${scenario.question}`);
    const driveEnded = scenario.drive(ctx).then(
      () => nowMs(),
      (err: unknown) => {
        problems.push(`${settings.scenario}: ${(err as Error).message}`);
        ctx.mark('load.error', (err as Error).message);
        return nowMs();
      },
    );
    await sleepMs(scenario.plannedMs, deps.signal);
    const driveEndedAtMs = await driveEnded;
    const untilMs = Math.max(load.startedAtMs + scenario.plannedMs, driveEndedAtMs + scenario.tailMs);
    await sleepMs(Math.max(0, untilMs - nowMs()), deps.signal);
    const endMs = nowMs();
    await load.stop();
    const watched = await watch.stop();
    if (watched.failedPolls > 0) remarks.push(`${watched.failedPolls} admin API poll(s) failed; last: ${watched.lastError ?? ''}`);
    if (deps.signal.aborted) problems.push('interrupted before the end of the run');

    const requests = load.records();
    const metrics = measureRun({ requests, dropped: load.dropped(), startMs: load.startedAtMs, endMs, ...scenario.measures(ctx) });
    const results = evaluateThresholds(scenario.thresholds, metrics);
    const latencies = sortedCopy(requests.map((r) => r.latencyMs));
    const failed = requests.filter((r) => r.status < 200 || r.status >= 400).length;
    return {
      question: scenario.question,
      settingsLines: [
        ['proxy', `${settings.proxyUrl}${settings.path}`],
        ['admin API', settings.adminUrl],
        ['service', settings.service],
        ['rate', `${settings.ratePerSecond} req/s, open loop, at most ${maxInFlight} in flight over ${settings.connections} connections`],
        ['duration', `${settings.durationMs / 1000} s${scenario.plannedMs === 0 || scenario.tailMs > 0 ? ' (plus the time the updates take)' : ''}; ran ${((endMs - load.startedAtMs) / 1000).toFixed(1)} s`],
        ...scenario.settingsLines,
      ],
      startMs: load.startedAtMs,
      endMs,
      requests,
      services: watch.services(),
      events: [...watch.events(), ...marks].sort((a, b) => a.atMs - b.atMs),
      results,
      stats: {
        requests: requests.length,
        failed,
        dropped: load.dropped(),
        ratePerSecond: requests.length / Math.max(0.001, (endMs - load.startedAtMs) / 1000),
        latencyMs: summarize(latencies),
      },
      problems,
      remarks,
    };
  } finally {
    try {
      await scenario.teardown(ctx);
    } catch (err) {
      const message = `could not put ${settings.service} back: ${(err as Error).message}`;
      problems.push(message);
      deps.log(message);
    }
  }
}
