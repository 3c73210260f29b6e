// Per-revision request cells (src/observability/request-stats.ts): what a request records, the
// totals the canary analysis reads, the scraped counter and histogram, and how cells of past
// revisions are dropped. No sockets.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createMetrics, DURATION_BUCKETS_SECONDS } from '../../../src/observability/metrics.js';
import { METRIC } from '../../../src/observability/metric-names.js';
import { RevisionStats } from '../../../src/observability/request-stats.js';
import { emptyLatencyBuckets, latencyBucketIndex } from '../../../src/observability/latency-histogram.js';

async function series(registry: Registry, name: string): Promise<Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.map((v) => ({ labels: { ...v.labels }, value: v.value, metricName: (v as { metricName?: string }).metricName }));
}

describe('RevisionStats', () => {
  it('counts requests, 5xx answers and latency per service and revision', () => {
    const stats = new RevisionStats();
    stats.cell('api', 'r1').observe(200, 3);
    stats.cell('api', 'r1').observe(503, 40);
    stats.cell('api', 'r1').observe(502, 40);
    stats.cell('api', 'r2').observe(404, 1);
    const t = stats.totals('api', 'r1');
    expect(t.requests).toBe(3);
    expect(t.errors5xx).toBe(2);
    const expected = emptyLatencyBuckets();
    expected[latencyBucketIndex(3)] = 1;
    expected[latencyBucketIndex(40)] = 2;
    expect(t.latencyBuckets).toEqual(expected);
    expect(stats.totals('api', 'r2')).toMatchObject({ requests: 1, errors5xx: 0 });
  });

  it('gives zeros for a revision never measured, and copies that later requests do not change', () => {
    const stats = new RevisionStats();
    expect(stats.totals('api', 'nope')).toEqual({ requests: 0, errors5xx: 0, latencyBuckets: emptyLatencyBuckets() });
    stats.cell('api', 'r1').observe(200, 1);
    const before = stats.totals('api', 'r1');
    stats.cell('api', 'r1').observe(200, 1);
    expect(before.requests).toBe(1);
    expect(before.latencyBuckets.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('keeps one map per service for the process lifetime, so the proxy may hold on to it', () => {
    const stats = new RevisionStats();
    const cells = stats.forService('api');
    stats.cell('api', 'r1').observe(200, 1);
    expect(cells.get('r1')?.requests).toBe(1);
    stats.sweep(new Map(), 0, 10);
    stats.sweep(new Map(), 100, 10);
    expect(stats.forService('api')).toBe(cells);
  });

  it('drops a revision no table has held for the retention time, and keeps the others', () => {
    const stats = new RevisionStats();
    stats.cell('api', 'old').observe(200, 1);
    stats.cell('api', 'new').observe(200, 1);
    const present = new Map([['api', new Set(['new'])]]);
    stats.sweep(present, 1_000, 600_000); // old's clock starts now
    stats.sweep(present, 600_999, 600_000);
    expect(stats.totals('api', 'old').requests).toBe(1);
    stats.sweep(present, 601_000, 600_000);
    expect(stats.totals('api', 'old').requests).toBe(0);
    expect(stats.totals('api', 'new').requests).toBe(1);
  });

  it('keeps a revision that comes back into the table before its time is up', () => {
    const stats = new RevisionStats();
    stats.cell('api', 'r1').observe(200, 1);
    stats.sweep(new Map(), 0, 100);
    stats.sweep(new Map([['api', new Set(['r1'])]]), 99, 100);
    stats.sweep(new Map(), 150, 100);
    expect(stats.totals('api', 'r1').requests).toBe(1);
  });
});

describe('revision metrics', () => {
  it('scrape dockmaster_revision_requests_total by service, revision and status class', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    metrics.revisions.cell('api', 'r1').observe(200, 1);
    metrics.revisions.cell('api', 'r1').observe(201, 1);
    metrics.revisions.cell('api', 'r1').observe(504, 1);
    metrics.revisions.cell('api', 'r2').observe(302, 1);
    const values = await series(registry, METRIC.revisionRequestsTotal);
    expect(values.map((v) => [v.labels, v.value])).toEqual([
      [{ service: 'api', revision: 'r1', status_class: '2xx' }, 2],
      [{ service: 'api', revision: 'r1', status_class: '5xx' }, 1],
      [{ service: 'api', revision: 'r2', status_class: '3xx' }, 1],
    ]);
    const text = await registry.metrics();
    expect(text).toContain('# HELP dockmaster_revision_requests_total ');
    expect(text).toContain('# TYPE dockmaster_revision_requests_total counter');
    expect(text).toContain('dockmaster_revision_requests_total{service="api",revision="r1",status_class="2xx"} 2');
  });

  it('scrape dockmaster_revision_request_duration_seconds in the coarse buckets, exactly', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    const samplesMs = [0.2, 0.5, 0.7, 1, 2.4, 2.5, 2.6, 10, 99, 100, 101, 30_000, 60_000, 60_001, 500_000];
    for (const ms of samplesMs) metrics.revisions.cell('api', 'r1').observe(200, ms);
    const values = await series(registry, METRIC.revisionRequestDurationSeconds);
    const buckets = values.filter((v) => v.metricName === `${METRIC.revisionRequestDurationSeconds}_bucket`);
    expect(buckets.map((b) => b.labels['le'])).toEqual([...DURATION_BUCKETS_SECONDS, '+Inf']);
    for (const b of buckets) {
      const le = b.labels['le'];
      const expected = le === '+Inf' ? samplesMs.length : samplesMs.filter((ms) => ms <= (le as number) * 1000).length;
      expect(b.value, `le ${String(le)}`).toBe(expected);
    }
    const sum = values.find((v) => v.metricName === `${METRIC.revisionRequestDurationSeconds}_sum`);
    expect(sum?.value).toBeCloseTo(samplesMs.reduce((a, b) => a + b, 0) / 1000, 9);
    expect(values.find((v) => v.metricName === `${METRIC.revisionRequestDurationSeconds}_count`)?.value).toBe(samplesMs.length);
    expect(await registry.metrics()).toContain('# TYPE dockmaster_revision_request_duration_seconds histogram');
  });
});
