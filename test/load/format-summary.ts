// The summary the runner prints at the end: verdict, request counts and latency, and a table of
// every threshold with its observed value. Pure.
import { table } from '../../src/cli/text-table.js';
import type { ThresholdResult } from './evaluate-thresholds.js';
import { describeObserved, formatValue, type RunStats } from './html-report.js';

export function formatSummary(scenario: string, results: readonly ThresholdResult[], stats: RunStats, problems: readonly string[], remarks: readonly string[]): string {
  const failed = results.filter((r) => !r.ok);
  const verdict = failed.length === 0 && problems.length === 0 ? 'PASSED' : failed.length > 0 ? `FAILED: ${failed.map((r) => `${r.metric} ${r.expression}`).join(', ')}` : 'FAILED';
  const l = stats.latencyMs;
  const failedPercent = stats.requests === 0 ? 0 : (stats.failed * 100) / stats.requests;
  const lines = [
    `load ${scenario}: ${verdict}`,
    `requests ${stats.requests}, failed ${stats.failed} (${formatValue(failedPercent)}%), dropped ${stats.dropped}, ${formatValue(stats.ratePerSecond)} req/s; ` +
      `latency p50 ${formatValue(l.med)} ms, p95 ${formatValue(l.p95)} ms, p99 ${formatValue(l.p99)} ms, max ${formatValue(l.max)} ms`,
    '',
    table([['METRIC', 'THRESHOLD', 'OBSERVED', 'RESULT'], ...results.map((r) => [r.metric, r.expression, describeObserved(r), r.ok ? 'ok' : 'FAILED'])]),
  ];
  for (const problem of problems) lines.push(`problem: ${problem}`);
  for (const remark of remarks) lines.push(`note: ${remark}`);
  return lines.join('\n');
}
