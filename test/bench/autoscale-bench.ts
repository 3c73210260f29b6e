// Autoscale benchmark (I/O, `npm run bench:autoscale`): starts the built gateway with two demo
// services on the process runtime, steps a closed-loop load on the autoscaled one by a factor
// (2 -> 10 clients by default), and prints the time to the first answer from an extra replica,
// the time until the client p95 is back under the policy's target, the scaling events in the
// steady minute that follows, and a cold start from zero (a burst of requests held while the
// other service's first replica starts). Targets (issue 7): first extra replica serving within
// 3 s; at most one scaling event in the steady minute; every held request served.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runBench } from './bench-main.js';
import { atExit, installCleanup, logTail } from './children.js';
import { dockmasterAvailable, dockmasterEntry } from './dockmaster.js';
import { COLD_SERVICE, startAutoscaleGateway, STEP_SERVICE, type AutoscaleGateway } from './autoscale-gateway.js';
import { burst, nowMs, startClosedLoop, type Answer } from './autoscale-load.js';
import {
  autoscaleVerdicts, firstNewReplica, p95Recovery, renderAutoscaleTable, slidingP95, summarizeAutoscale, type AutoscaleRound,
} from './autoscale-report.js';
import {
  AUTOSCALE_USAGE, coldPolicy, parseAutoscaleSettings, stepPolicy, stepReplicas, type AutoscaleBenchSettings,
} from './autoscale-settings.js';
import { percentile } from './rollout-report.js';
import type { TimelineEvent } from './rollout-gateway.js';

const POLL_MS = 100;
const ZERO_TIMEOUT_MS = 30_000;
const HELD_SERVED = 'dockmaster_proxy_held_requests_total';
const COLD_SUM = 'dockmaster_autoscale_cold_start_seconds_sum';
const COLD_COUNT = 'dockmaster_autoscale_cold_start_seconds_count';

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function describeMachine(): string {
  const cores = cpus();
  return `${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}, node ${process.version}`;
}

async function lastSeq(gateway: AutoscaleGateway, service: string): Promise<number> {
  return Math.max(0, ...(await gateway.events(service, 0)).map((e) => e.seq));
}

const scaled = (events: readonly TimelineEvent[]): TimelineEvent[] => events.filter((e) => e.type === 'autoscale.scaled');

interface ViewPoint {
  readonly atMs: number;
  readonly desired: number;
  readonly ready: number;
}

/** Records the stepped service's desired and ready counts every POLL_MS until stopped. */
function watchReplicas(gateway: AutoscaleGateway): { points: ViewPoint[]; stop: () => Promise<void> } {
  const points: ViewPoint[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const view = await gateway.service(STEP_SERVICE).catch(() => undefined);
      if (view !== undefined) points.push({ atMs: nowMs(), desired: view.desiredReplicas ?? Number.NaN, ready: view.readyReplicas ?? Number.NaN });
      await sleep(POLL_MS);
    }
  })();
  return {
    points,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** The replica counts last seen at or before `atMs`. */
function countsAt(points: readonly ViewPoint[], atMs: number): ViewPoint | undefined {
  let last: ViewPoint | undefined;
  for (const p of points) if (p.atMs <= atMs) last = p;
  return last;
}

function p95Of(answers: readonly Answer[], fromMs: number, toMs: number): number {
  const latencies = answers.filter((a) => a.sentAtMs >= fromMs && a.sentAtMs < toMs).map((a) => a.answeredAtMs - a.sentAtMs).sort((a, b) => a - b);
  return percentile(latencies, 95);
}

interface Measured {
  result: AutoscaleRound;
  timeline: string[];
  notes: string[];
}

async function measureRound(gateway: AutoscaleGateway, round: number, settings: AutoscaleBenchSettings): Promise<Measured> {
  const notes: string[] = [];
  const wanted = stepReplicas(settings);
  const sinceSeq = await lastSeq(gateway, STEP_SERVICE);
  const maxMs = (settings.beforeS + settings.settleS + settings.steadyS) * 1000 + 10_000;
  const load = startClosedLoop(`${gateway.proxyUrl}/`, settings.baseClients, maxMs);
  const watch = watchReplicas(gateway);
  let stepAtMs = Number.NaN;
  let steadyFromMs = Number.NaN;
  let steadyToMs = Number.NaN;
  try {
    await sleep(settings.beforeS * 1000);
    stepAtMs = nowMs();
    load.setClients(settings.baseClients * settings.factor);
    await sleep(settings.settleS * 1000);
    steadyFromMs = nowMs();
    await sleep(settings.steadyS * 1000);
    steadyToMs = nowMs();
  } finally {
    await load.stop();
    await watch.stop();
  }
  const allReadyAtMs = watch.points.find((p) => p.atMs >= stepAtMs && p.ready >= wanted && p.ready === p.desired)?.atMs;
  if (allReadyAtMs === undefined) notes.push(`round ${round}: the ${wanted} replicas the step asks for were never all ready`);
  const [atSteadyStart, atSteadyEnd] = [countsAt(watch.points, steadyFromMs), countsAt(watch.points, steadyToMs)];
  const answers = load.answers();
  const failed = answers.filter((a) => a.status !== 200);
  if (failed.length > 0) notes.push(`round ${round}: ${failed.length} failed, e.g. ${failed.slice(0, 3).map((a) => `+${Math.round(a.sentAtMs - stepAtMs)} ms ${a.status === 0 ? a.error : a.status}`).join('; ')}`);
  const events = scaled(await gateway.events(STEP_SERVICE, sinceSeq));
  const early = events.filter((e) => e.atMs < stepAtMs);
  if (early.length > 0) notes.push(`round ${round}: ${early.length} scaling events before the step: ${early.map((e) => e.message.split(':')[0]).join('; ')}`);
  const first = firstNewReplica(answers, stepAtMs);
  const points = slidingP95(answers, stepAtMs - settings.beforeS * 1000, steadyToMs, stepAtMs);
  const recovery = p95Recovery(points, settings.targetP95Ms);
  const firstUp = events.find((e) => e.data?.['direction'] === 'up');
  const timeline = [`round ${round}: times from the step (${settings.baseClients} -> ${settings.baseClients * settings.factor} clients)`,
    ...events.map((e) => `  +${String(Math.round(e.atMs - stepAtMs)).padStart(6)} ms  ${e.message.split(':')[0] ?? ''}`),
    `  first answer from a new replica: ${first === undefined ? 'none' : `${first.replica} at +${Math.round(first.answeredMs)} ms (sent +${Math.round(first.sentMs)} ms)`}`,
    `  all ${wanted} ready at +${allReadyAtMs === undefined ? 'n/a' : Math.round(allReadyAtMs - stepAtMs)} ms; steady ${settings.steadyS} s from +${settings.settleS} s: `
      + `desired/ready ${atSteadyStart?.desired ?? '?'}/${atSteadyStart?.ready ?? '?'} at its start, ${atSteadyEnd?.desired ?? '?'}/${atSteadyEnd?.ready ?? '?'} at its end`,
    `  p95 (1 s windows) every 500 ms for 10 s from the step: ${points.filter((p) => p.atMs >= 0 && p.atMs <= 10_000 && Math.round(p.atMs) % 500 === 0).map((p) => p.p95Ms.toFixed(0)).join(' ')} ms`];

  // Cold start: the cold service has been idle since the gateway started.
  const coldDeadline = nowMs() + ZERO_TIMEOUT_MS;
  while ((((await gateway.service(COLD_SERVICE)).replicas) ?? []).length > 0) {
    if (nowMs() > coldDeadline) throw new Error(`${COLD_SERVICE} did not scale to zero within ${ZERO_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
  const service = `service="${COLD_SERVICE}"`;
  const counters = async (): Promise<Record<string, number>> => ({
    ...(await gateway.metrics([COLD_SUM, COLD_COUNT], [service])),
    ...(await gateway.metrics([HELD_SERVED], [service, 'result="served"'])),
  });
  const before = await counters();
  const coldAtMs = nowMs();
  const coldAnswers = await burst(`${gateway.proxyUrl}/cold`, settings.coldRequests);
  const after = await counters();
  const coldCount = (after[COLD_COUNT] ?? 0) - (before[COLD_COUNT] ?? 0);
  const coldSumS = (after[COLD_SUM] ?? 0) - (before[COLD_SUM] ?? 0);
  if (coldCount !== 1) notes.push(`round ${round}: the cold-start histogram counted ${coldCount} cold starts for one burst`);
  const coldServed = coldAnswers.filter((a) => a.status === 200);
  const coldBad = coldAnswers.filter((a) => a.status !== 200);
  if (coldBad.length > 0) notes.push(`round ${round} cold start: ${coldBad.length} not served, e.g. ${coldBad.slice(0, 3).map((a) => (a.status === 0 ? a.error : a.status)).join('; ')}`);
  const coldTimes = coldAnswers.map((a) => a.answeredAtMs - coldAtMs).sort((a, b) => a - b);

  return {
    result: {
      round,
      firstExtraMs: first?.answeredMs ?? Number.NaN,
      firstExtraSentMs: first?.sentMs ?? Number.NaN,
      firstScaleUpMs: (firstUp?.atMs ?? Number.NaN) - stepAtMs,
      allReadyMs: (allReadyAtMs ?? Number.NaN) - stepAtMs,
      baselineP95Ms: p95Of(answers, stepAtMs - settings.beforeS * 1000 + 1000, stepAtMs),
      peakP95Ms: recovery.peakMs,
      p95RecoveredMs: recovery.recoveredMs,
      p95Exceeded: recovery.exceeded,
      reactionEvents: events.filter((e) => e.atMs >= stepAtMs && e.atMs < steadyFromMs).length,
      steadyEvents: events.filter((e) => e.atMs >= steadyFromMs && e.atMs <= steadyToMs).length,
      steadyStartReplicas: atSteadyStart?.desired ?? Number.NaN,
      steadyEndReplicas: atSteadyEnd?.desired ?? Number.NaN,
      steadyP95Ms: p95Of(answers, steadyFromMs, steadyToMs),
      failed: failed.length,
      coldFirstAnswerMs: coldTimes[0] ?? Number.NaN,
      coldLastAnswerMs: coldTimes[coldTimes.length - 1] ?? Number.NaN,
      coldServed: coldServed.length,
      coldSent: coldAnswers.length,
      coldHeldServed: (after[HELD_SERVED] ?? 0) - (before[HELD_SERVED] ?? 0),
      coldStartHistogramMs: coldCount > 0 ? (coldSumS / coldCount) * 1000 : Number.NaN,
    },
    timeline,
    notes,
  };
}

async function main(settings: Exclude<ReturnType<typeof parseAutoscaleSettings>, 'help'>): Promise<number> {
  if (!dockmasterAvailable()) {
    process.stderr.write(`bench:autoscale: ${dockmasterEntry()} does not exist (build it with npm run build)\n`);
    return 1;
  }
  const perRoundS = settings.beforeS + settings.settleS + settings.steadyS + 90;
  const cancelDeadline = installCleanup((60 + settings.rounds * perRoundS) * 1000);
  const workDir = mkdtempSync(join(tmpdir(), 'dockmaster-autoscale-bench-'));
  let keepWorkDir = false;
  atExit(() => {
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  });
  const failures: string[] = [];
  const notes: string[] = [];
  const results: AutoscaleRound[] = [];
  const timelines: string[] = [];
  const step = stepPolicy(settings);
  const cold = coldPolicy(settings);

  for (let round = 1; round <= settings.rounds; round += 1) {
    const roundDir = join(workDir, `round-${round}`);
    mkdirSync(roundDir);
    progress(`round ${round}/${settings.rounds}: starting dockmaster ...`);
    let gateway: AutoscaleGateway;
    try {
      gateway = await startAutoscaleGateway(roundDir, { latencyMs: settings.latencyMs, step, cold });
    } catch (err) {
      failures.push(`round ${round}: ${(err as Error).message}`);
      continue;
    }
    try {
      const { result, timeline, notes: found } = await measureRound(gateway, round, settings);
      results.push(result);
      timelines.push(...timeline);
      notes.push(...found);
      progress(`round ${round}: first new replica +${result.firstExtraMs.toFixed(0)} ms, all ready +${result.allReadyMs.toFixed(0)} ms, `
        + `p95 ${result.baselineP95Ms.toFixed(0)} -> peak ${result.peakP95Ms.toFixed(0)} ms, events ${result.reactionEvents} + ${result.steadyEvents} steady, `
        + `cold ${result.coldFirstAnswerMs.toFixed(0)} ms ${result.coldServed}/${result.coldSent}`);
    } catch (err) {
      failures.push(`round ${round}: ${(err as Error).message}\n  log ${gateway.logPath}:\n${logTail(gateway.logPath)}`);
    } finally {
      const note = await gateway.stop();
      if (note !== undefined) notes.push(`dockmaster on stop (round ${round}): ${note}`);
    }
  }

  const out: string[] = [
    '## dockmaster autoscale benchmark',
    '',
    `machine: ${describeMachine()}`,
    `services: src/demo/demo-app.mjs as local processes (process runtime), DEMO_LATENCY_MS ${settings.latencyMs} (a timer, not CPU: one replica answers any number of concurrent requests in that time); `
      + 'gateway = dist/src/main.js serve; load generator, gateway and replicas on 127.0.0.1, sharing the cores',
    `step service: autoscale ${JSON.stringify(step)}, everything else default (sync 1 s, stable window 60 s, panic 2x over 6 s, scale-up 100% or 4 per 15 s, scale-down window 300 s)`,
    `load: closed loop, ${settings.baseClients} clients for ${settings.beforeS} s, then ${settings.baseClients * settings.factor} (x${settings.factor}) from the step on; `
      + `reaction: the first ${settings.settleS} s after the step; steady stretch: the ${settings.steadyS} s after that, same load (the step asks for ${stepReplicas(settings)} replicas)`,
    'first new replica: the answer time of the first 200 whose `replica` had not answered before the step; p95: client latency over sliding 1 s windows (by answer time, every 100 ms); '
      + '"back under" = end of the last window at or over the target',
    `cold service: autoscale ${JSON.stringify(cold)} (idleMs shortened from minutes), idle since start, then ${settings.coldRequests} requests at once to /cold; `
      + 'times from sending; histogram = sum / count of dockmaster_autoscale_cold_start_seconds for that burst',
    `${settings.rounds} round${settings.rounds === 1 ? '' : 's'}, each on a fresh gateway; medians over rounds`,
    '',
  ];
  if (results.length > 0) {
    const summary = summarizeAutoscale(results);
    out.push(renderAutoscaleTable(summary, settings.targetP95Ms), '', ...timelines, '', 'targets (issue 7):', ...autoscaleVerdicts(summary));
  }
  for (const note of notes) out.push(`note: ${note}`);
  for (const failure of failures) out.push(`FAILED: ${failure}`);
  process.stdout.write(`${out.join('\n')}\n`);

  cancelDeadline();
  if (failures.length > 0 || settings.keepLogs) {
    keepWorkDir = true;
    process.stderr.write(`bench:autoscale: logs kept in ${workDir}\n`);
  }
  return failures.length === 0 && results.length > 0 ? 0 : 1;
}

runBench('bench:autoscale', AUTOSCALE_USAGE, parseAutoscaleSettings, main);
