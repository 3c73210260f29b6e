// Rollout benchmark (I/O, `npm run bench:rollout`): starts the built gateway with a demo service
// of 4 local-process replicas, keeps a steady load on it, deploys a new version with each strategy
// (rolling 1/0, rolling 25%/25%, blue-green), and prints the rollout time against the sum of the
// new replicas' start-to-healthy times, the requests failed during the rollout, and p99 latency
// during the rollout against before it. Targets (issue 6): zero failed requests; rollout time
// within 2x of that sum.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { runBench } from './bench-main.js';
import { atExit, installCleanup, logTail } from './children.js';
import { dockmasterAvailable, dockmasterEntry } from './dockmaster.js';
import { HEALTH, REPLICAS, startGateway, type Gateway, type ServiceView } from './rollout-gateway.js';
import { startLoad } from './rollout-load.js';
import { renderBreakdownTable, renderRolloutTable, summarizeRollouts, TARGET_TIME_RATIO, verdicts, windowStats, type RoundResult } from './rollout-report.js';
import { parseRolloutSettings, ROLLOUT_USAGE, SCENARIOS, type RolloutBenchSettings, type Scenario } from './rollout-settings.js';
import { analyzeRollout, formatTimeline, listeningTimes } from './rollout-timeline.js';

const POLL_MS = 50;
/** A rollout here takes about a second; this only ends a stuck one. */
const ROLLOUT_TIMEOUT_MS = 60_000;
const OLD_GONE_TIMEOUT_MS = 30_000;
const SETTLE_TIMEOUT_MS = 30_000;
/** Unmeasured load before each "before" window (connections opened, replicas warm). */
const WARMUP_MS = 500;
const FIRST_WARMUP_MS = 2_000;
const COUNTERS = ['dockmaster_proxy_retries_total', 'dockmaster_proxy_upstream_errors_total'] as const;

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function repoRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

function gitRevision(): string {
  const run = (args: string[]): string => {
    const result = spawnSync('git', args, { cwd: repoRoot(), encoding: 'utf8', timeout: 5000 });
    return result.status === 0 ? result.stdout.trim() : '';
  };
  const head = run(['rev-parse', '--short', 'HEAD']);
  if (head === '') return 'unknown';
  return run(['status', '--porcelain']) === '' ? head : `${head} + uncommitted changes`;
}

function describeMachine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  const memGiB = (totalmem() / 2 ** 30).toFixed(1);
  return `${cores.length} cores (${model}), ${memGiB} GiB, Linux ${release()}, node ${process.version}`;
}

const wallMs = (): number => performance.timeOrigin + performance.now();

/** Polls the service view until `done` holds, failing after `timeoutMs`. */
async function pollView(gateway: Gateway, what: string, done: (view: ServiceView) => boolean, timeoutMs: number): Promise<ServiceView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await gateway.service();
    if (done(view)) return view;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (rollout ${JSON.stringify(view.rollout?.message ?? 'none')})`);
    await sleep(POLL_MS);
  }
}

/** All REPLICAS replicas ready, of one revision, nothing draining: a fair start for a rollout. */
function settled(view: ServiceView): boolean {
  const replicas = view.replicas ?? [];
  return replicas.length === REPLICAS && replicas.every((r) => r.state === 'ready' && r.revision === view.revision);
}

interface Rollout {
  result: RoundResult;
  timeline: string[];
  notes: string[];
}

async function lastSeq(gateway: Gateway): Promise<number> {
  const events = await gateway.events(0);
  return Math.max(0, ...events.map((e) => e.seq));
}

/** One deploy under load: before window, PUT, poll to Succeeded, wait for the old set to go, after window. */
async function measureRollout(gateway: Gateway, scenario: Scenario, round: number, version: number, settings: RolloutBenchSettings): Promise<Rollout> {
  const start = await pollView(gateway, 'the service settles on one revision', settled, SETTLE_TIMEOUT_MS);
  const oldRevision = start.revision ?? '';
  const document = start.document;
  if (document === undefined) throw new Error('GET /v1/services/demo shows no document');
  const sinceSeq = await lastSeq(gateway);
  const maxMs = WARMUP_MS + settings.beforeS * 1000 + ROLLOUT_TIMEOUT_MS + OLD_GONE_TIMEOUT_MS + settings.afterS * 1000 + 5_000;
  const load = startLoad(`${gateway.proxyUrl}/`, {
    connections: settings.connections,
    rate: settings.rate,
    maxMs,
    maxRequests: settings.rate > 0 ? Math.ceil((settings.rate * maxMs) / 1000) : 10_000_000,
  });
  const notes: string[] = [];
  try {
    await sleep(WARMUP_MS + settings.beforeS * 1000);
    const countersBefore = await gateway.counters(COUNTERS);
    const putAtMs = wallMs();
    const put = await gateway.put({ ...document, version: String(version), deploy: scenario.deploy });
    if (put.status !== 200) throw new Error(`PUT /v1/services/demo answered ${put.status}: ${JSON.stringify(put.body.error)}`);
    const newRevision = put.body.revision ?? '';
    const ended = await pollView(gateway, `rollout to ${newRevision}`, (v) => v.rollout?.toRevision === newRevision
      && ['Succeeded', 'RolledBack', 'Failed', 'Aborted'].includes(v.rollout.phase), ROLLOUT_TIMEOUT_MS);
    const polledRolloutMs = wallMs() - putAtMs;
    const phase = ended.rollout?.phase ?? 'unknown';
    if (phase !== 'Succeeded') notes.push(`${scenario.name} round ${round}: rollout ended ${phase}: ${ended.rollout?.message ?? ''}`);
    const final = await pollView(gateway, `the old revision ${oldRevision} stops`, (v) => (v.replicas ?? []).every((r) => r.revision !== oldRevision), OLD_GONE_TIMEOUT_MS);
    await sleep(settings.afterS * 1000);
    await load.stop();
    const countersAfter = await gateway.counters(COUNTERS);

    const events = await gateway.events(sinceSeq);
    const spawnAtMs = new Map((final.replicas ?? []).filter((r) => r.revision === newRevision).map((r) => [r.id, r.startedAtMs] as const));
    const listeningAtMs = listeningTimes(readFileSync(gateway.logPath, 'utf8'));
    const t = analyzeRollout({ events, putAtMs, oldRevision, newRevision, spawnAtMs, listeningAtMs });
    const endedAtMs = t.endedAtMs ?? putAtMs + polledRolloutMs;
    const samples = load.samples();
    const before = windowStats(samples, putAtMs - settings.beforeS * 1000, putAtMs);
    const during = windowStats(samples, putAtMs, endedAtMs);
    const after = windowStats(samples, endedAtMs, Number.POSITIVE_INFINITY);
    const oldAnswers = after.byVersion.get(String(version - 1)) ?? 0;
    if (oldAnswers > 0) notes.push(`${scenario.name} round ${round}: ${oldAnswers} answers from the old version to requests sent after the rollout ended`);
    for (const [name, w] of [['during', during], ['after', after]] as const) {
      if (w.failed > 0) notes.push(`${scenario.name} round ${round} ${name}: ${w.failed} failed (${w.transportErrors} transport errors), e.g. ${w.failureExamples.join('; ')}`);
    }
    const delta = (name: (typeof COUNTERS)[number]): number => (countersAfter[name] ?? 0) - (countersBefore[name] ?? 0);
    if (load.skipped() > 0) notes.push(`${scenario.name} round ${round}: the load generator skipped ${load.skipped()} sends (its queue was full)`);
    return {
      result: {
        scenario: scenario.name,
        round,
        succeeded: phase === 'Succeeded' && t.endType === 'rollout.succeeded',
        rolloutMs: endedAtMs - putAtMs,
        polledRolloutMs,
        startToHealthySumMs: t.startToHealthySumMs,
        spawnToHealthySumMs: t.spawnToHealthySumMs,
        bootSumMs: t.bootSumMs,
        detectSumMs: t.detectSumMs,
        putToStartedMs: (t.startedAtMs ?? Number.NaN) - putAtMs,
        idleMs: t.idleMs,
        reactionLagMs: t.reactionLagMs,
        oldGoneMs: (t.oldGoneAtMs ?? Number.NaN) - putAtMs,
        before,
        during,
        after,
        retries: delta('dockmaster_proxy_retries_total'),
        upstreamErrors: delta('dockmaster_proxy_upstream_errors_total'),
        skipped: load.skipped(),
      },
      timeline: [`${scenario.name} round ${round}: ${oldRevision} -> ${newRevision}, times from the PUT`, ...formatTimeline(events, putAtMs, spawnAtMs, listeningAtMs)],
      notes,
    };
  } finally {
    await load.stop();
  }
}

async function main(settings: Exclude<ReturnType<typeof parseRolloutSettings>, 'help'>): Promise<number> {
  if (!dockmasterAvailable()) {
    process.stderr.write(`bench:rollout: ${dockmasterEntry()} does not exist (build it with npm run build)\n`);
    return 1;
  }
  const perRolloutS = settings.beforeS + settings.afterS + 40;
  const cancelDeadline = installCleanup((120 + settings.rounds * settings.scenarios.length * perRolloutS) * 1000);
  const workDir = mkdtempSync(join(tmpdir(), 'dockmaster-rollout-bench-'));
  let keepWorkDir = false;
  atExit(() => {
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  });
  const failures: string[] = [];
  const notes: string[] = [];
  const results: RoundResult[] = [];
  const timelines: string[] = [];

  const first = SCENARIOS[settings.scenarios[0] ?? 'rolling-1-0'];
  progress(`starting dockmaster with ${REPLICAS} demo replicas ...`);
  const gateway = await startGateway(workDir, first);
  try {
    // Unmeasured: connections, JIT and the replicas' first requests.
    const warmup = startLoad(`${gateway.proxyUrl}/`, { connections: settings.connections, rate: settings.rate, maxMs: FIRST_WARMUP_MS, maxRequests: 10_000_000 });
    await sleep(FIRST_WARMUP_MS);
    await warmup.stop();
    let version = 1;
    for (let round = 1; round <= settings.rounds; round += 1) {
      // Rotate the order each round so that no scenario always runs first (or right after another).
      const offset = (round - 1) % settings.scenarios.length;
      for (const name of [...settings.scenarios.slice(offset), ...settings.scenarios.slice(0, offset)]) {
        version += 1;
        try {
          const { result, timeline, notes: found } = await measureRollout(gateway, SCENARIOS[name], round, version, settings);
          results.push(result);
          timelines.push(...timeline, '');
          notes.push(...found);
          progress(`round ${round}/${settings.rounds}  ${name.padEnd(11)} rollout ${result.rolloutMs.toFixed(0).padStart(5)} ms`
            + `  Σ start→healthy ${result.startToHealthySumMs.toFixed(0)} ms, Σ spawn→healthy ${result.spawnToHealthySumMs.toFixed(0)} ms, idle ${result.idleMs.toFixed(0)} ms`
            + `  failed ${result.during.failed}+${result.after.failed}  p99 ${result.before.p99Ms.toFixed(2)} -> ${result.during.p99Ms.toFixed(2)} ms`);
        } catch (err) {
          failures.push(`${name} round ${round}: ${(err as Error).message}\n  log ${gateway.logPath}:\n${logTail(gateway.logPath)}`);
        }
      }
    }
  } finally {
    progress('stopping dockmaster ...');
    const note = await gateway.stop();
    if (note !== undefined) notes.push(`dockmaster on stop: ${note}`);
  }

  const labels = Object.fromEntries(settings.scenarios.map((name) => [name, SCENARIOS[name].label]));
  const summaries = summarizeRollouts(results, settings.scenarios);
  const load = settings.rate > 0
    ? `open loop, ${settings.rate} req/s on a fixed schedule over ${settings.connections} keep-alive connections (latency from the scheduled send time)`
    : `closed loop, ${settings.connections} keep-alive connections, each sending its next request when the previous one is answered`;
  const out: string[] = [
    '## dockmaster rollout benchmark',
    '',
    `machine: ${describeMachine()}`,
    `commit: ${gitRevision()}`,
    `service: ${REPLICAS} replicas of src/demo/demo-app.mjs as local processes (process runtime); health ${HEALTH.path} every ${HEALTH.intervalMs} ms, `
      + `healthyThreshold ${HEALTH.healthyThreshold}; route defaults (retries 2); gateway = dist/src/main.js serve; everything on 127.0.0.1, sharing the cores`,
    `load: ${load}, from the harness process; ${settings.beforeS} s measured before each deploy, kept up through the rollout and ${settings.afterS} s after the old replicas stopped`,
    `deploy: PUT /v1/services/demo with the version bumped and the scenario's deploy section; ${settings.rounds} round${settings.rounds === 1 ? '' : 's'}, scenarios in rotating order on one gateway; medians over rounds (failures: totals)`,
    'rollout ms: from sending the PUT to the rollout.succeeded event (GET /v1/events; the 50 ms status poll agrees within a poll); '
      + 'blue-green with scaleDownDelayMs 0 succeeds at the switch, its old set drains right after',
    'Σ start→healthy: over the 4 new replicas, health.changed (healthy) - replica.started (the runtime saw the port listening); '
      + 'Σ spawn→healthy: from the controller\'s start request (replicas[].startedAtMs) instead, so it includes the node process\'s boot',
    'idle ms: time between the PUT and Succeeded when no new replica was between its spawn and its first healthy check',
    'reaction lag: rolling, Σ over new replicas of (the first rollout.step counting it as available, for the last one rollout.succeeded) - its health.changed; '
      + 'blue-green, rollout.succeeded - the last new replica\'s health.changed',
    'failed: non-2xx answers and transport errors; during = sent between the PUT and Succeeded, after = sent later (old set draining and the after window)',
    '',
    renderRolloutTable(summaries, labels),
    '',
    'where the time goes (medians; "app listening" = when the gateway logged the replica\'s own "listening" line, so boot is an upper bound and detection a lower bound):',
    '',
    renderBreakdownTable(summaries, labels),
    '',
    ...results.map((r) => `${r.scenario} round ${r.round}: rollout ${r.rolloutMs.toFixed(0)} ms (poll ${r.polledRolloutMs.toFixed(0)} ms), old set gone +${r.oldGoneMs.toFixed(0)} ms, `
      + `Σ start→healthy ${r.startToHealthySumMs.toFixed(0)} ms, Σ spawn→healthy ${r.spawnToHealthySumMs.toFixed(0)} ms (boot ${r.bootSumMs.toFixed(0)}, detection ${r.detectSumMs.toFixed(0)}), idle ${r.idleMs.toFixed(0)} ms, reaction lag ${r.reactionLagMs.toFixed(0)} ms, `
      + `served ${r.during.requests - r.during.failed} during, ${r.after.requests - r.after.failed} after, p99 before/during/after ${r.before.p99Ms.toFixed(2)}/${r.during.p99Ms.toFixed(2)}/${r.after.p99Ms.toFixed(2)} ms, `
      + `max during ${r.during.maxMs.toFixed(1)} ms, gateway retries ${r.retries}, upstream errors ${r.upstreamErrors}`),
    '',
    `targets (issue 6): zero failed requests; rollout time ≤ ${TARGET_TIME_RATIO}x the sum of the new replicas' start-to-healthy times`,
    ...verdicts(summaries),
  ];
  for (const note of notes) out.push(`note: ${note}`);
  for (const failure of failures) out.push(`FAILED: ${failure}`);
  if (settings.timeline) out.push('', '### event timelines', '', ...timelines);
  process.stdout.write(`${out.join('\n')}\n`);

  cancelDeadline();
  if (failures.length > 0 || settings.keepLogs) {
    keepWorkDir = true;
    process.stderr.write(`bench:rollout: logs kept in ${workDir}\n`);
  }
  return failures.length === 0 ? 0 : 1;
}

runBench('bench:rollout', ROLLOUT_USAGE, parseRolloutSettings, main);
