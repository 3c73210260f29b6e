import { describe, expect, it } from 'vitest';
import { buildChartData } from '../../../test/load/chart-data.js';
import { formatSummary } from '../../../test/load/format-summary.js';
import { describeObserved, formatValue, renderReport, type ReportInput, type RunStats } from '../../../test/load/html-report.js';
import type { RequestRecord } from '../../../test/load/load-records.js';
import { summarize } from '../../../test/load/quantile.js';

const START = 9_000_000;
const requests: RequestRecord[] = Array.from({ length: 40 }, (_, i) => ({ atMs: START + i * 50, latencyMs: 2 + (i % 5), status: 200, revision: i < 20 ? 'aaaaaaaaaa' : 'bbbbbbbbbb', replica: 'r', version: i < 20 ? '1' : '2' }));
const stats: RunStats = { requests: 40, failed: 0, dropped: 0, ratePerSecond: 20, latencyMs: summarize([2, 3, 4, 5, 6]) };

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    scenario: 'rollout',
    question: 'Do <updates> go through?',
    startedAtIso: '2026-01-01T00:00:00.000Z',
    settings: [['proxy', 'http://127.0.0.1:8080/hello']],
    results: [
      { metric: 'http_req_failed', expression: 'rate==0', observed: 0, ok: true },
      { metric: 'rollouts_succeeded', expression: 'count>=2', observed: 2, ok: true },
    ],
    stats,
    chart: buildChartData({
      requests,
      services: [{ atMs: START, replicas: [{ revision: 'aaaaaaaaaa', ready: 2, active: 2 }], weights: [] }],
      events: [{ atMs: START + 1_000, type: 'rollout.started', message: 'demo#1 aaaaaaaaaa -> bbbbbbbbbb (rolling)', data: { rollout: 'demo#1', strategy: 'rolling' } }],
      startMs: START,
      endMs: START + 2_000,
    }),
    problems: [],
    remarks: [],
    ...overrides,
  };
}

describe('renderReport', () => {
  const html = renderReport(input());

  it('is one self-contained page: no script, no external style, font or image', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(|src=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg|127\.0\.0\.1)/);
  });

  it('holds the five charts over time, each with its series', () => {
    for (const id of ['requests', 'errors', 'latency', 'replicas', 'share']) expect(html).toContain(`data-chart="${id}"`);
    expect(html).toContain('data-series="requests/s (sent on schedule)"');
    expect(html).toContain('data-series="failed requests/s"');
    expect(html).toContain('data-series="p95 latency (ms)"');
    expect(html).toContain('data-band="aaaaaaaa (version 1) ready"');
    expect(html).toContain('data-band="aaaaaaaa (version 1)"');
    expect(html).toContain('data-band="bbbbbbbb (version 2)"');
  });

  it('marks the rollout on every chart and lists it under the charts', () => {
    expect(html.match(/data-marker="rollout.started"/g)).toHaveLength(5);
    expect(html).toContain('<td>demo#1 aaaaaaaaaa -&gt; bbbbbbbbbb (rolling)</td>');
  });

  it('says PASSED and shows each threshold with its observed value; escapes text', () => {
    expect(html).toContain('data-verdict="passed"');
    expect(html).toContain('<tr data-threshold="rollouts_succeeded count&gt;=2">');
    expect(html).toContain('Do &lt;updates&gt; go through?');
  });

  it('says FAILED with the number of failed thresholds, or with a problem', () => {
    const failedThreshold = renderReport(input({ results: [{ metric: 'http_req_failed', expression: 'rate==0', observed: 0.01, ok: false }] }));
    expect(failedThreshold).toContain('data-verdict="failed"');
    expect(failedThreshold).toContain('FAILED: 1 threshold(s)');
    const problem = renderReport(input({ problems: ['rollout: ended Aborted'] }));
    expect(problem).toContain('data-verdict="failed"');
    expect(problem).toContain('<li>rollout: ended Aborted</li>');
  });
});

describe('formatValue and describeObserved', () => {
  it('rounds to 3 decimals and names missing data', () => {
    expect(formatValue(1.23456)).toBe('1.235');
    expect(formatValue(Number.NaN)).toBe('no data');
  });

  it('shows rates as a share too, and the note of an unmeasured threshold', () => {
    expect(describeObserved({ metric: 'm', expression: 'rate<0.01', observed: 0.25, ok: false })).toBe('0.25 (25%)');
    expect(describeObserved({ metric: 'm', expression: 'rate<0.01', observed: Number.NaN, ok: false, note: 'not measured' })).toBe('not measured');
  });
});

describe('formatSummary', () => {
  it('names the failed thresholds in its first line and lists every threshold', () => {
    const text = formatSummary(
      'smoke',
      [
        { metric: 'http_req_failed', expression: 'rate<0.01', observed: 0.2, ok: false },
        { metric: 'checks', expression: 'rate==1', observed: 0.9, ok: false },
        { metric: 'http_req_duration', expression: 'p(95)<200', observed: 3, ok: true },
      ],
      { ...stats, failed: 8 },
      [],
      ['2 admin API poll(s) failed'],
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('load smoke: FAILED: http_req_failed rate<0.01, checks rate==1');
    expect(lines[1]).toMatch(/^requests 40, failed 8 \(20%\), dropped 0, 20 req\/s; latency p50 4 ms, p95 5.8 ms/);
    expect(text).toMatch(/http_req_failed\s+rate<0.01\s+0.2 \(20%\)\s+FAILED/);
    expect(text).toMatch(/http_req_duration\s+p\(95\)<200\s+3\s+ok/);
    expect(lines[lines.length - 1]).toBe('note: 2 admin API poll(s) failed');
  });

  it('says PASSED when every threshold passed and nothing went wrong', () => {
    expect(formatSummary('steady', [{ metric: 'checks', expression: 'rate>0.99', observed: 1, ok: true }], stats, [], []).split('\n')[0]).toBe('load steady: PASSED');
  });
});
