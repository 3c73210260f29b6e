// The load run's report as one self-contained HTML page (no script, no external font, style or
// image): verdict, settings, thresholds, latency, five SVG charts over time with the rollout and
// scaling events marked, and the event list. Pure.
import type { ChartData } from './chart-data.js';
import type { ThresholdResult } from './evaluate-thresholds.js';
import type { Summary } from './quantile.js';
import { escapeXml, renderChart } from './svg-chart.js';

export interface RunStats {
  readonly requests: number;
  readonly failed: number;
  readonly dropped: number;
  /** Requests per second over the whole run. */
  readonly ratePerSecond: number;
  readonly latencyMs: Summary;
}

export interface ReportInput {
  readonly scenario: string;
  /** The question the scenario answers. */
  readonly question: string;
  readonly startedAtIso: string;
  /** Name -> value lines: target URLs, service, rate, duration, ... */
  readonly settings: ReadonlyArray<readonly [string, string]>;
  readonly results: readonly ThresholdResult[];
  readonly stats: RunStats;
  readonly chart: ChartData;
  /** What went wrong besides thresholds (a rollout that did not succeed, a restore that failed):
   * the run fails. */
  readonly problems: readonly string[];
  /** Worth knowing, not a failure (failed admin polls, a service with its own autoscale). */
  readonly remarks: readonly string[];
}

/** A number as the report shows it: NaN as "no data", otherwise at most 3 decimals. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'no data';
  if (!Number.isFinite(value)) return String(value);
  return String(Math.round(value * 1000) / 1000);
}

/** A threshold's observed value next to its expression: rates also as a percentage. */
export function describeObserved(result: ThresholdResult): string {
  if (result.note !== undefined) return result.note;
  const value = formatValue(result.observed);
  return result.expression.startsWith('rate') ? `${value} (${formatValue(result.observed * 100)}%)` : value;
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1000px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 6px; }
p.question { margin: 0 0 12px; color: #444; }
.verdict { display: inline-block; padding: 3px 10px; border-radius: 4px; font-weight: 600; color: #fff; }
.pass { background: #2e7d32; } .fail { background: #c62828; }
table { border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid #eee; vertical-align: top; }
td.ok { color: #2e7d32; font-weight: 600; } td.bad { color: #c62828; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 4px 0 0; }
.problems li { color: #c62828; } .remarks li { color: #555; }
`;

function row(cells: readonly string[], tag: 'td' | 'th' = 'td'): string {
  return `<tr>${cells.map((cell) => `<${tag}>${cell}</${tag}>`).join('')}</tr>`;
}

export function renderReport(input: ReportInput): string {
  const passed = input.results.every((r) => r.ok) && input.problems.length === 0;
  const thresholdsFailed = input.results.filter((r) => !r.ok).length;
  const { chart, stats } = input;
  const charts = [
    renderChart({ id: 'requests', title: 'Requests per second', yLabel: 'req/s', durationSeconds: chart.durationSeconds, series: chart.requests, markers: chart.markers }),
    renderChart({ id: 'errors', title: 'Failed requests per second', yLabel: 'failed/s', durationSeconds: chart.durationSeconds, series: chart.errors, markers: chart.markers, markerLabels: 'number' }),
    renderChart({ id: 'latency', title: 'p95 latency', yLabel: 'ms', durationSeconds: chart.durationSeconds, series: chart.latency, markers: chart.markers, markerLabels: 'number' }),
    renderChart({ id: 'replicas', title: 'Ready replicas per revision', yLabel: 'replicas', durationSeconds: chart.durationSeconds, series: chart.replicas, bands: chart.replicaBands, markers: chart.markers, integerTicks: true, markerLabels: 'number' }),
    renderChart({ id: 'share', title: 'Traffic share per revision', yLabel: '% of answers', durationSeconds: chart.durationSeconds, series: chart.weights, bands: chart.share, markers: chart.markers, yMax: 100, markerLabels: 'number' }),
  ];
  const titles = ['Requests per second (by scheduled send time)', 'Failed requests per second', `p95 latency per ${chart.bucketMs} ms bucket`, 'Ready replicas per revision, stacked (admin API polls)', 'Traffic share per revision (from the answers; dashed: the weights the gateway set)'];
  const latency = stats.latencyMs;
  const verdictText = passed ? 'PASSED' : thresholdsFailed > 0 ? `FAILED: ${thresholdsFailed} threshold(s)` : 'FAILED';

  const html: string[] = [];
  html.push('<!doctype html>');
  html.push('<html lang="en">');
  html.push('<head>');
  html.push('<meta charset="utf-8">');
  html.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  html.push(`<title>dockmaster load: ${escapeXml(input.scenario)} — ${passed ? 'passed' : 'failed'}</title>`);
  html.push(`<style>${STYLE}</style>`);
  html.push('</head>');
  html.push('<body>');
  html.push(`<h1>dockmaster load report: ${escapeXml(input.scenario)} <span class="verdict ${passed ? 'pass' : 'fail'}" data-verdict="${passed ? 'passed' : 'failed'}">${escapeXml(verdictText)}</span></h1>`);
  html.push(`<p class="question">${escapeXml(input.question)}</p>`);
  html.push('<table class="settings">');
  html.push(row(['started', escapeXml(input.startedAtIso)]));
  for (const [name, value] of input.settings) html.push(row([escapeXml(name), escapeXml(value)]));
  html.push('</table>');

  html.push('<h2>Thresholds</h2>');
  html.push('<table class="thresholds">');
  html.push(row(['metric', 'threshold', 'observed', 'result'], 'th'));
  for (const r of input.results) {
    html.push(`<tr data-threshold="${escapeXml(`${r.metric} ${r.expression}`)}"><td>${escapeXml(r.metric)}</td><td><code>${escapeXml(r.expression)}</code></td><td class="num">${escapeXml(describeObserved(r))}</td><td class="${r.ok ? 'ok' : 'bad'}">${r.ok ? 'ok' : 'FAILED'}</td></tr>`);
  }
  html.push('</table>');
  if (input.problems.length > 0) {
    html.push('<ul class="problems">');
    for (const problem of input.problems) html.push(`<li>${escapeXml(problem)}</li>`);
    html.push('</ul>');
  }
  if (input.remarks.length > 0) {
    html.push('<ul class="remarks">');
    for (const remark of input.remarks) html.push(`<li>${escapeXml(remark)}</li>`);
    html.push('</ul>');
  }

  html.push('<h2>Requests</h2>');
  html.push('<table class="stats">');
  html.push(row(['requests', 'failed', 'dropped', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], 'th'));
  html.push(
    `<tr>${[stats.requests, stats.failed, stats.dropped, stats.ratePerSecond, latency.med, latency.p95, latency.p99, latency.max].map((v) => `<td class="num">${escapeXml(formatValue(v))}</td>`).join('')}</tr>`,
  );
  html.push('</table>');

  charts.forEach((svg, i) => {
    html.push(`<h2>${escapeXml(titles[i] ?? '')}</h2>`);
    html.push(`<div class="chart">${svg}</div>`);
  });

  html.push('<h2>Events</h2>');
  if (chart.markers.length === 0) {
    html.push('<p>No rollout or scaling event during the run.</p>');
  } else {
    html.push('<table class="events">');
    html.push(row(['#', 'at', 'type', 'message'], 'th'));
    chart.markers.forEach((m, i) => html.push(row([String(i + 1), `${formatValue(m.xSeconds)} s`, escapeXml(m.type), escapeXml(m.message)])));
    html.push('</table>');
  }
  html.push('</body>');
  html.push('</html>');
  return `${html.join('\n')}\n`;
}
