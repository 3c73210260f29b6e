// Report of `npm run bench:hosts` (pure): what one host-kill round measured, from its samples and
// timeline, and the markdown table with each round, the median, and the ratio of the time to
// replacement against the target (hostDownAfterMs + 2 s).
import type { HostsSample } from './hosts-load.js';
import { median } from './report.js';

/** Slack of the issue's target over hostDownAfterMs. */
export const TARGET_SLACK_MS = 2_000;

export interface LostReplica {
  readonly id: string;
  /** The port the replica answered on before its host died. */
  readonly oldPort: number | undefined;
  /** When the admin API first showed it ready on another host (epoch ms). */
  readonly readyAtMs: number | undefined;
}

export interface RoundResult {
  readonly round: number;
  readonly host: string;
  readonly lost: number;
  readonly targetMs: number;
  /** host.lost event - kill. */
  readonly killToLostMs: number;
  /** The last replacement ready in the admin API - kill. */
  readonly killToReadyMs: number;
  /** The last replacement's first answer to the load - kill. */
  readonly killToAnsweredMs: number;
  /** Requests sent between the kill and the last replacement ready or answering. */
  readonly requestsDuring: number;
  /** Non-200 answers and transport errors among them. */
  readonly failedDuring: number;
  /** Over the whole load of the round. */
  readonly failedTotal: number;
  readonly requestsTotal: number;
  /** Proxy attempts cut on the dead host (upstream errors of kind reset): requests in flight there. */
  readonly cutInFlight: number;
  /** Proxy attempts refused by the dead host's ports (sent after it died, before it left the table). */
  readonly refused: number;
  readonly retries: number;
  /** Retries the proxy's retry budget refused (each one a failed request). */
  readonly budgetExhausted: number;
  /** Client requests sent and not answered at the kill, over all hosts (an upper bound). */
  readonly clientInFlightAtKill: number;
  readonly skipped: number;
}

/** The first answer from each replacement: the same replica id on another port, after the kill. */
export function firstAnswers(samples: readonly HostsSample[], lost: readonly LostReplica[], killedAtMs: number): Map<string, number> {
  const first = new Map<string, number>();
  for (const s of samples) {
    if (s.status !== 200 || s.endMs < killedAtMs) continue;
    const replica = lost.find((l) => l.id === s.replica);
    if (replica === undefined || s.port === replica.oldPort) continue;
    const seen = first.get(replica.id);
    if (seen === undefined || s.endMs < seen) first.set(replica.id, s.endMs);
  }
  return first;
}

export interface WindowCounts {
  readonly requests: number;
  readonly failed: number;
}

/** Requests sent in [fromMs, toMs) and how many of them failed. */
export function windowCounts(samples: readonly HostsSample[], fromMs: number, toMs: number): WindowCounts {
  let requests = 0;
  let failed = 0;
  for (const s of samples) {
    if (s.atMs < fromMs || s.atMs >= toMs) continue;
    requests++;
    if (s.status !== 200) failed++;
  }
  return { requests, failed };
}

/** Requests sent before `atMs` and answered after it. */
export function inFlightAt(samples: readonly HostsSample[], atMs: number): number {
  return samples.filter((s) => s.atMs <= atMs && s.endMs > atMs).length;
}

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');
const ratio = (v: number, target: number): string => (Number.isFinite(v) ? `${(v / target).toFixed(2)}x` : 'n/a');

export function renderHostsTable(rounds: readonly RoundResult[]): string {
  const lines = [
    '| round | host killed | replicas lost | kill → host lost ms | kill → all replacements ready ms | kill → first answer from each replacement ms | target ms | ready / target | requests during | failed during | cut in flight on the dead host | refused there | retries | retries refused by the budget |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rounds) {
    lines.push(
      `| ${r.round} | ${r.host} | ${r.lost} | ${ms(r.killToLostMs)} | ${ms(r.killToReadyMs)} | ${ms(r.killToAnsweredMs)} | ${r.targetMs} | ${ratio(Math.max(r.killToReadyMs, r.killToAnsweredMs), r.targetMs)} | ${r.requestsDuring} | ${r.failedDuring} | ${r.cutInFlight} | ${r.refused} | ${r.retries} | ${r.budgetExhausted} |`,
    );
  }
  if (rounds.length > 1) {
    const m = (f: (r: RoundResult) => number): number => median(rounds.map(f));
    const sum = (f: (r: RoundResult) => number): number => rounds.reduce((a, r) => a + f(r), 0);
    const target = rounds[0]?.targetMs ?? NaN;
    lines.push(
      `| median (counts: totals) | | ${sum((r) => r.lost)} | ${ms(m((r) => r.killToLostMs))} | ${ms(m((r) => r.killToReadyMs))} | ${ms(m((r) => r.killToAnsweredMs))} | ${target} | ${ratio(m((r) => Math.max(r.killToReadyMs, r.killToAnsweredMs)), target)} | ${sum((r) => r.requestsDuring)} | ${sum((r) => r.failedDuring)} | ${sum((r) => r.cutInFlight)} | ${sum((r) => r.refused)} | ${sum((r) => r.retries)} | ${sum((r) => r.budgetExhausted)} |`,
    );
  }
  return lines.join('\n');
}

/** One line per target: met or not, with the figures. */
export function hostsVerdicts(rounds: readonly RoundResult[]): string[] {
  if (rounds.length === 0) return ['no round completed'];
  const worst = Math.max(...rounds.map((r) => Math.max(r.killToReadyMs, r.killToAnsweredMs) / r.targetMs));
  const target = rounds[0]?.targetMs ?? NaN;
  // Every failure of a round's load counts (one sent just before the kill was in flight then).
  const overBound = rounds.filter((r) => r.failedTotal > r.cutInFlight);
  const failed = rounds.reduce((a, r) => a + r.failedTotal, 0);
  const budget = rounds.reduce((a, r) => a + r.budgetExhausted, 0);
  return [
    `replacements serving within hostDownAfterMs + 2 s (${target} ms): ${worst <= 1 ? 'met' : 'NOT met'} (worst round ${worst.toFixed(2)}x of the target)`,
    `failed requests at most those in flight on the dead host (attempts cut there), per round: ${overBound.length === 0 ? 'met' : `NOT met in round(s) ${overBound.map((r) => r.round).join(', ')}`}` +
      ` (failed / cut in flight: ${rounds.map((r) => `${r.failedTotal}/${r.cutInFlight}`).join(', ')})`,
    `no failed GET (retries): ${failed === 0 ? 'met' : `NOT met: ${failed} failed, ${budget} retries refused by the proxy's retry budget (dockmaster_proxy_retry_budget_exhausted_total)`}`,
  ];
}
