// Autoscale bench report (pure): the answers around the load step cut into sliding p95 windows,
// the first answer from a replica not seen before the step, per-round results -> medians, the
// markdown table and the verdicts against the targets (issue 7).
import { median } from './report.js';
import { percentile } from './rollout-report.js';
import type { Answer } from './autoscale-load.js';

export const TARGET_FIRST_EXTRA_MS = 3_000;
export const TARGET_STEADY_EVENTS = 1;
export const SLIDING_WINDOW_MS = 1_000;
export const SLIDING_STEP_MS = 100;

/** ms from `stepAtMs` to the first answer (answer time) from a replica that had not answered
 * before the step; undefined when none did. Also that request's send time, also from the step. */
export function firstNewReplica(answers: readonly Answer[], stepAtMs: number): { answeredMs: number; sentMs: number; replica: string } | undefined {
  const seen = new Set<string>();
  for (const a of answers) if (a.answeredAtMs < stepAtMs && a.replica !== undefined) seen.add(a.replica);
  let first: Answer | undefined;
  for (const a of answers) {
    if (a.answeredAtMs < stepAtMs || a.replica === undefined || a.status !== 200 || seen.has(a.replica)) continue;
    if (first === undefined || a.answeredAtMs < first.answeredAtMs) first = a;
  }
  return first === undefined ? undefined : { answeredMs: first.answeredAtMs - stepAtMs, sentMs: first.sentAtMs - stepAtMs, replica: first.replica ?? '' };
}

export interface P95Point {
  /** End of the window, ms from the origin given. */
  readonly atMs: number;
  readonly p95Ms: number;
  readonly answers: number;
}

/** p95 of client latency over sliding windows of SLIDING_WINDOW_MS (by answer time), every
 * SLIDING_STEP_MS from `fromMs` + one window to `toMs`; times relative to `originMs`. */
export function slidingP95(answers: readonly Answer[], fromMs: number, toMs: number, originMs: number): P95Point[] {
  const sorted = [...answers].sort((a, b) => a.answeredAtMs - b.answeredAtMs);
  const points: P95Point[] = [];
  for (let end = fromMs + SLIDING_WINDOW_MS; end <= toMs; end += SLIDING_STEP_MS) {
    const latencies = sorted.filter((a) => a.answeredAtMs >= end - SLIDING_WINDOW_MS && a.answeredAtMs < end).map((a) => a.answeredAtMs - a.sentAtMs);
    if (latencies.length === 0) continue;
    latencies.sort((a, b) => a - b);
    points.push({ atMs: end - originMs, p95Ms: percentile(latencies, 95), answers: latencies.length });
  }
  return points;
}

/** After the step (points at atMs >= 0): the end of the last window over `targetMs` (from then on
 * every window is under it), 0 when none was over; and the highest p95. */
export function p95Recovery(points: readonly P95Point[], targetMs: number): { recoveredMs: number; exceeded: boolean; peakMs: number } {
  let recoveredMs = 0;
  let exceeded = false;
  let peakMs = Number.NaN;
  for (const p of points) {
    if (p.atMs < 0) continue;
    if (!(p.p95Ms <= peakMs)) peakMs = p.p95Ms;
    if (p.p95Ms >= targetMs) {
      exceeded = true;
      recoveredMs = p.atMs;
    }
  }
  return { recoveredMs, exceeded, peakMs };
}

export interface AutoscaleRound {
  readonly round: number;
  /** Step -> first answer from a new replica (answer time); NaN when none. */
  readonly firstExtraMs: number;
  /** The same request's send time from the step (the replica got it between the two). */
  readonly firstExtraSentMs: number;
  /** Step -> first autoscale.scaled up event. */
  readonly firstScaleUpMs: number;
  /** Step -> the stepped demand's replicas all ready; NaN when not reached. */
  readonly allReadyMs: number;
  readonly baselineP95Ms: number;
  readonly peakP95Ms: number;
  readonly p95RecoveredMs: number;
  readonly p95Exceeded: boolean;
  /** autoscale.scaled events of the stepped service in the reaction (step -> steady start) and the steady stretch. */
  readonly reactionEvents: number;
  readonly steadyEvents: number;
  /** Desired replicas at the start and the end of the steady stretch. */
  readonly steadyStartReplicas: number;
  readonly steadyEndReplicas: number;
  readonly steadyP95Ms: number;
  readonly failed: number;
  readonly coldFirstAnswerMs: number;
  readonly coldLastAnswerMs: number;
  readonly coldServed: number;
  readonly coldSent: number;
  /** dockmaster_proxy_held_requests_total{result="served"} delta. */
  readonly coldHeldServed: number;
  /** dockmaster_autoscale_cold_start_seconds: sum / count over this cold start, in ms. */
  readonly coldStartHistogramMs: number;
}

export interface AutoscaleSummary {
  readonly rounds: number;
  readonly firstExtraMs: number;
  readonly firstExtraSentMs: number;
  readonly firstScaleUpMs: number;
  readonly allReadyMs: number;
  readonly baselineP95Ms: number;
  readonly peakP95Ms: number;
  readonly p95RecoveredMs: number;
  readonly p95ExceededRounds: number;
  readonly reactionEvents: number;
  /** The worst round, since the target is "no more than one". */
  readonly steadyEventsMax: number;
  readonly steadyEventsMedian: number;
  readonly steadyStartReplicas: number;
  readonly steadyEndReplicas: number;
  readonly steadyP95Ms: number;
  readonly failed: number;
  readonly coldFirstAnswerMs: number;
  readonly coldLastAnswerMs: number;
  readonly coldServed: number;
  readonly coldSent: number;
  readonly coldHeldServed: number;
  readonly coldStartHistogramMs: number;
  /** The worst round's first-extra time (NaN if any round had none). */
  readonly firstExtraMaxMs: number;
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

export function summarizeAutoscale(rounds: readonly AutoscaleRound[]): AutoscaleSummary {
  const med = (pick: (r: AutoscaleRound) => number): number => median(rounds.map(pick));
  const firsts = rounds.map((r) => r.firstExtraMs);
  return {
    rounds: rounds.length,
    firstExtraMs: med((r) => r.firstExtraMs),
    firstExtraSentMs: med((r) => r.firstExtraSentMs),
    firstScaleUpMs: med((r) => r.firstScaleUpMs),
    allReadyMs: med((r) => r.allReadyMs),
    baselineP95Ms: med((r) => r.baselineP95Ms),
    peakP95Ms: med((r) => r.peakP95Ms),
    p95RecoveredMs: med((r) => r.p95RecoveredMs),
    p95ExceededRounds: rounds.filter((r) => r.p95Exceeded).length,
    reactionEvents: med((r) => r.reactionEvents),
    steadyEventsMax: Math.max(...rounds.map((r) => r.steadyEvents)),
    steadyEventsMedian: med((r) => r.steadyEvents),
    steadyStartReplicas: med((r) => r.steadyStartReplicas),
    steadyEndReplicas: med((r) => r.steadyEndReplicas),
    steadyP95Ms: med((r) => r.steadyP95Ms),
    failed: sum(rounds.map((r) => r.failed)),
    coldFirstAnswerMs: med((r) => r.coldFirstAnswerMs),
    coldLastAnswerMs: med((r) => r.coldLastAnswerMs),
    coldServed: sum(rounds.map((r) => r.coldServed)),
    coldSent: sum(rounds.map((r) => r.coldSent)),
    coldHeldServed: sum(rounds.map((r) => r.coldHeldServed)),
    coldStartHistogramMs: med((r) => r.coldStartHistogramMs),
    firstExtraMaxMs: firsts.some((f) => Number.isNaN(f)) ? Number.NaN : Math.max(...firsts),
  };
}

const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(0) : 'n/a');

export function renderAutoscaleTable(s: AutoscaleSummary, targetP95Ms: number): string {
  const rows: [string, string][] = [
    ['step -> first autoscale.scaled (up)', `${ms(s.firstScaleUpMs)} ms`],
    ['step -> first answer from a new replica', `${ms(s.firstExtraMs)} ms (request sent at +${ms(s.firstExtraSentMs)} ms)`],
    ['step -> all replicas the step asks for ready', `${ms(s.allReadyMs)} ms`],
    [`client p95 (1 s windows): before / peak after step`, `${ms(s.baselineP95Ms)} / ${ms(s.peakP95Ms)} ms`],
    [`step -> p95 back under ${targetP95Ms} ms`, s.p95ExceededRounds === 0 ? '0 ms (never over)' : `${ms(s.p95RecoveredMs)} ms (over in ${s.p95ExceededRounds} of ${s.rounds} rounds)`],
    ['autoscale.scaled events: reaction / steady stretch', `${ms(s.reactionEvents)} / ${ms(s.steadyEventsMedian)} (worst round ${s.steadyEventsMax})`],
    ['steady stretch: desired replicas at start -> end, client p95', `${ms(s.steadyStartReplicas)} -> ${ms(s.steadyEndReplicas)}, ${s.steadyP95Ms.toFixed(1)} ms`],
    ['failed requests under load (all rounds)', String(s.failed)],
    ['cold start: first / last answer of the burst', `${ms(s.coldFirstAnswerMs)} / ${ms(s.coldLastAnswerMs)} ms`],
    ['cold start: served 200 / sent, all rounds (held and served)', `${s.coldServed} / ${s.coldSent} (${s.coldHeldServed})`],
    ['cold start: dockmaster_autoscale_cold_start_seconds', `${ms(s.coldStartHistogramMs)} ms`],
  ];
  return ['| measure (median of rounds) | value |', '| --- | ---: |', ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join('\n');
}

export function autoscaleVerdicts(s: AutoscaleSummary): string[] {
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  return [
    `${verdict(s.firstExtraMaxMs <= TARGET_FIRST_EXTRA_MS)}  first extra replica serving within ${TARGET_FIRST_EXTRA_MS} ms of the step: worst round ${ms(s.firstExtraMaxMs)} ms, median ${ms(s.firstExtraMs)} ms`,
    `${verdict(s.steadyEventsMax <= TARGET_STEADY_EVENTS)}  at most ${TARGET_STEADY_EVENTS} scaling event in the steady minute: worst round ${s.steadyEventsMax}`,
    `${verdict(s.coldSent > 0 && s.coldServed === s.coldSent)}  every held request served: ${s.coldServed} of ${s.coldSent} answered 200 (gateway counted ${s.coldHeldServed} held and served)`,
  ];
}
