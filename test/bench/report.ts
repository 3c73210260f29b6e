// Bench report (pure): per-round samples -> medians per target and the markdown table; CPU ratios
// are taken round by round against the baseline measured in the same round, then the median.
import type { LoadResult } from './load.js';

export interface RunSample {
  round: number;
  target: string;
  load: LoadResult;
  /** CPU time of the target's process tree during the measured run, per response. */
  cpuUsPerRequest: number;
}

export interface TargetSummary {
  target: string;
  rounds: number;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  /** Median over rounds of (this target's CPU per request / the baseline's in the same round). */
  cpuRatio: number | undefined;
  non2xx: number;
  errors: number;
  cpuUsPerRequestByRound: number[];
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  const lower = sorted[middle - 1] ?? upper;
  return sorted.length % 2 === 1 ? upper : (lower + upper) / 2;
}

export function summarize(samples: RunSample[], targets: string[], baseline: string): TargetSummary[] {
  const baselineByRound = new Map<number, number>();
  for (const sample of samples) {
    if (sample.target === baseline) baselineByRound.set(sample.round, sample.cpuUsPerRequest);
  }
  const summaries: TargetSummary[] = [];
  for (const target of targets) {
    const own = samples.filter((sample) => sample.target === target).sort((a, b) => a.round - b.round);
    if (own.length === 0) continue;
    const ratios: number[] = [];
    for (const sample of own) {
      const base = baselineByRound.get(sample.round);
      if (base !== undefined && base > 0) ratios.push(sample.cpuUsPerRequest / base);
    }
    summaries.push({
      target,
      rounds: own.length,
      requestsPerS: median(own.map((sample) => sample.load.requestsPerS)),
      p50Ms: median(own.map((sample) => sample.load.p50Ms)),
      p99Ms: median(own.map((sample) => sample.load.p99Ms)),
      cpuUsPerRequest: median(own.map((sample) => sample.cpuUsPerRequest)),
      cpuRatio: ratios.length > 0 ? median(ratios) : undefined,
      non2xx: own.reduce((sum, sample) => sum + sample.load.non2xx, 0),
      errors: own.reduce((sum, sample) => sum + sample.load.errors, 0),
      cpuUsPerRequestByRound: own.map((sample) => sample.cpuUsPerRequest),
    });
  }
  return summaries;
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function renderTable(summaries: TargetSummary[], baseline: string): string {
  const header = ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', `CPU vs ${baseline}`, 'non-2xx', 'errors'];
  const rows = summaries.map((s) => [
    s.target,
    fixed(s.requestsPerS, 0),
    fixed(s.p50Ms, 2),
    fixed(s.p99Ms, 2),
    fixed(s.cpuUsPerRequest, 1),
    s.cpuRatio === undefined ? 'n/a' : `${s.cpuRatio.toFixed(2)}x`,
    String(s.non2xx),
    String(s.errors),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? `-${'-'.repeat(width)}-` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
