// Rollout bench report (pure): load samples cut into windows (before the deploy, during the
// rollout, after it), per-round results -> medians per scenario, the markdown table and the
// verdicts against the issue's targets; counters read from /metrics.
import { median } from './report.js';
import type { Sample } from './rollout-load.js';

/** Rollout time may be at most this multiple of the sum of new replicas' start-to-healthy times. */
export const TARGET_TIME_RATIO = 2;

export interface WindowStats {
  /** Answers and transport errors of requests sent in the window. */
  readonly requests: number;
  /** Not 2xx, transport errors included. */
  readonly failed: number;
  readonly transportErrors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Answers per demo `version`. */
  readonly byVersion: ReadonlyMap<string, number>;
  /** The first few failures, for the notes. */
  readonly failureExamples: readonly string[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}

/** Statistics of the samples sent in [fromMs, toMs). */
export function windowStats(samples: readonly Sample[], fromMs: number, toMs: number): WindowStats {
  const latencies: number[] = [];
  const byVersion = new Map<string, number>();
  const failureExamples: string[] = [];
  let failed = 0;
  let transportErrors = 0;
  for (const s of samples) {
    if (s.atMs < fromMs || s.atMs >= toMs) continue;
    latencies.push(s.latencyMs);
    if (s.status === 0) transportErrors += 1;
    if (s.status < 200 || s.status > 299) {
      failed += 1;
      if (failureExamples.length < 3) failureExamples.push(`+${Math.round(s.atMs - fromMs)} ms: ${s.status === 0 ? `transport error ${s.error ?? ''}` : `status ${s.status}`}`);
    } else if (s.version !== undefined) {
      byVersion.set(s.version, (byVersion.get(s.version) ?? 0) + 1);
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failed,
    transportErrors,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies[latencies.length - 1] ?? Number.NaN,
    byVersion,
    failureExamples,
  };
}

export interface RoundResult {
  readonly scenario: string;
  readonly round: number;
  /** The rollout reached Succeeded. */
  readonly succeeded: boolean;
  /** PUT sent -> rollout.succeeded event. */
  readonly rolloutMs: number;
  /** PUT sent -> the first GET (every 50 ms) that showed Succeeded. */
  readonly polledRolloutMs: number;
  readonly startToHealthySumMs: number;
  readonly spawnToHealthySumMs: number;
  /** Σ spawn -> the replica's "listening" line, and Σ that line -> replica.started. */
  readonly bootSumMs: number;
  readonly detectSumMs: number;
  /** PUT sent -> rollout.started. */
  readonly putToStartedMs: number;
  readonly idleMs: number;
  /** See RolloutTimeline.reactionLagMs. */
  readonly reactionLagMs: number;
  /** PUT sent -> the old revision's last replica stopped. */
  readonly oldGoneMs: number;
  readonly before: WindowStats;
  readonly during: WindowStats;
  readonly after: WindowStats;
  /** Gateway retries and upstream errors from the PUT to the end of the after window (the
   * failures retries hid from the client). */
  readonly retries: number;
  readonly upstreamErrors: number;
  /** Open loop: sends the generator skipped (its own queue was full). */
  readonly skipped: number;
}

export interface ScenarioSummary {
  readonly scenario: string;
  readonly rounds: number;
  readonly succeededRounds: number;
  readonly rolloutMs: number;
  readonly startToHealthySumMs: number;
  /** Median over rounds of rolloutMs / startToHealthySumMs. */
  readonly timeRatio: number;
  readonly spawnToHealthySumMs: number;
  readonly spawnTimeRatio: number;
  readonly bootSumMs: number;
  readonly detectSumMs: number;
  readonly putToStartedMs: number;
  readonly idleMs: number;
  readonly reactionLagMs: number;
  readonly oldGoneMs: number;
  /** Median per rollout. */
  readonly servedDuring: number;
  /** Totals over all rounds. */
  readonly failedDuring: number;
  readonly failedAfter: number;
  readonly retries: number;
  readonly upstreamErrors: number;
  readonly p99BeforeMs: number;
  readonly p99DuringMs: number;
  /** Median over rounds of p99 during / p99 before. */
  readonly p99Ratio: number;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : Number.NaN);

export function summarizeRollouts(results: readonly RoundResult[], scenarios: readonly string[]): ScenarioSummary[] {
  const summaries: ScenarioSummary[] = [];
  for (const scenario of scenarios) {
    const own = results.filter((r) => r.scenario === scenario);
    if (own.length === 0) continue;
    const ok = own.filter((r) => r.succeeded);
    const med = (pick: (r: RoundResult) => number): number => median(ok.map(pick));
    const total = (pick: (r: RoundResult) => number): number => own.reduce((sum, r) => sum + pick(r), 0);
    summaries.push({
      scenario,
      rounds: own.length,
      succeededRounds: ok.length,
      rolloutMs: med((r) => r.rolloutMs),
      startToHealthySumMs: med((r) => r.startToHealthySumMs),
      timeRatio: med((r) => ratio(r.rolloutMs, r.startToHealthySumMs)),
      spawnToHealthySumMs: med((r) => r.spawnToHealthySumMs),
      spawnTimeRatio: med((r) => ratio(r.rolloutMs, r.spawnToHealthySumMs)),
      bootSumMs: med((r) => r.bootSumMs),
      detectSumMs: med((r) => r.detectSumMs),
      putToStartedMs: med((r) => r.putToStartedMs),
      idleMs: med((r) => r.idleMs),
      reactionLagMs: med((r) => r.reactionLagMs),
      oldGoneMs: med((r) => r.oldGoneMs),
      servedDuring: med((r) => r.during.requests - r.during.failed),
      failedDuring: total((r) => r.during.failed),
      failedAfter: total((r) => r.after.failed),
      retries: total((r) => r.retries),
      upstreamErrors: total((r) => r.upstreamErrors),
      p99BeforeMs: med((r) => r.before.p99Ms),
      p99DuringMs: med((r) => r.during.p99Ms),
      p99Ratio: med((r) => ratio(r.during.p99Ms, r.before.p99Ms)),
    });
  }
  return summaries;
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function markdown(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? `-${'-'.repeat(width)}-` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function renderRolloutTable(summaries: readonly ScenarioSummary[], labels: Readonly<Record<string, string>>): string {
  const header = ['scenario', 'rollout ms', 'Σ replica start→healthy ms', 'rollout / Σ', 'idle ms',
    'served during', 'failed during', 'failed after', 'p99 before ms', 'p99 during ms', 'p99 during / before'];
  const rows = summaries.map((s) => [
    labels[s.scenario] ?? s.scenario,
    fixed(s.rolloutMs, 0),
    fixed(s.spawnToHealthySumMs, 0),
    `${fixed(s.spawnTimeRatio, 2)}x`,
    fixed(s.idleMs, 0),
    fixed(s.servedDuring, 0),
    String(s.failedDuring),
    String(s.failedAfter),
    fixed(s.p99BeforeMs, 2),
    fixed(s.p99DuringMs, 2),
    `${fixed(s.p99Ratio, 2)}x`,
  ]);
  return markdown(header, rows);
}

/** Where the rollout time goes, medians over rounds: the sums of the new replicas' phases, and
 * the time no new replica was coming up. */
export function renderBreakdownTable(summaries: readonly ScenarioSummary[], labels: Readonly<Record<string, string>>): string {
  const header = ['scenario', 'rollout ms', 'PUT → rollout.started ms', 'Σ spawn → app listening ms', 'Σ app listening → replica.started ms',
    'Σ replica.started → healthy ms', 'idle ms', 'Σ reaction lag ms'];
  const rows = summaries.map((s) => [
    labels[s.scenario] ?? s.scenario,
    fixed(s.rolloutMs, 0),
    fixed(s.putToStartedMs, 0),
    fixed(s.bootSumMs, 0),
    fixed(s.detectSumMs, 0),
    fixed(s.startToHealthySumMs, 0),
    fixed(s.idleMs, 0),
    fixed(s.reactionLagMs, 0),
  ]);
  return markdown(header, rows);
}

/** One PASS/FAIL line per target and scenario. */
export function verdicts(summaries: readonly ScenarioSummary[]): string[] {
  const lines: string[] = [];
  for (const s of summaries) {
    const notAll = s.succeededRounds < s.rounds ? ` (${s.rounds - s.succeededRounds} of ${s.rounds} rollouts did not succeed)` : '';
    const failed = s.failedDuring + s.failedAfter;
    lines.push(`${s.scenario}: zero failed requests during and after the rollout: ${failed === 0 && notAll === '' ? 'PASS' : 'FAIL'} `
      + `(${s.failedDuring} during, ${s.failedAfter} after, over ${s.rounds} rollouts; gateway retries ${s.retries}, upstream errors ${s.upstreamErrors})${notAll}`);
    // A replica's start is the controller's start request (the process spawn): the replica's
    // own boot is part of its start-to-healthy time, as the issue's target reads.
    lines.push(`${s.scenario}: rollout time ≤ ${TARGET_TIME_RATIO}x Σ replica start→healthy: ${Number.isFinite(s.spawnTimeRatio) && s.spawnTimeRatio <= TARGET_TIME_RATIO ? 'PASS' : 'FAIL'} `
      + `(${fixed(s.spawnTimeRatio, 2)}x; from replica.started, when the runtime saw it listening: ${fixed(s.timeRatio, 2)}x)${notAll}`);
  }
  return lines;
}

/** Sums the samples of each counter (every label set) in Prometheus text format. */
export function sumCounters(text: string, names: readonly string[]): Record<string, number> {
  const sums: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    for (const name of names) {
      if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(value)) sums[name] = (sums[name] ?? 0) + value;
    }
  }
  return sums;
}
